"""Today's model families in keras as cases (issue 19): see suites/architectures/test_families.py.
Imports no framework; the builders (``suites.architectures.families_keras``) run in the
tensorflow worker.

Ids read ``arch/<family>/tensorflow/tf2onnx/opset<N>/<target>/<variant>``, family one of vit,
detection, unet, recommendation, speech, diffusion. Every case is converted once with batch and
spatial/sequence axes dynamic and runs three input sets: the traced sample at batch 2, batch 1 at
the same size, and batch 4 at a size the export never saw (ViT / U-Net 2D 48x40, U-Net 3D
8x16x24, detector 48x80, DLRM bag length 9 instead of 5, speech 61 frames instead of 40,
diffusion 12x20 latents with 11 context tokens instead of 16x16 and 7). Tolerances are the runner's float32 defaults.

Detection: non-maximum suppression has data-dependent output sizes. Both variants give
fixed-shape outputs so the indices compare exactly and boxes/scores element-wise:
``combined_non_max_suppression`` pads its outputs to ``max_total`` itself (zeros), and the
class-agnostic ``non_max_suppression`` variant pads the selected indices with -1 to
``max_total`` in the graph (concat + slice) and zeroes the boxes/scores of padded slots. The
score threshold is a model input, calibrated on the sample (a quantile of its scores) so the
sets select some but not all of ``max_total`` (combined: 13+9, 9, 11+11+10+10 of 16 per image;
single: 26, 12 and 32 of 32), plus a fourth set at threshold 1.0 that selects nothing.
"""
from __future__ import annotations

from conformance.cases import CaseSpec

FAMILIES = "suites.architectures.families_keras"


def _case(family: str, builder: str, params: dict, variant: str, arch: str, tolerance=None) -> CaseSpec:
    return CaseSpec(kind="arch", name=family, framework="tensorflow", builder=f"{FAMILIES}:{builder}",
                    params=params, variant=variant, arch=arch, converters=("tf2onnx",), tolerance=tolerance or {})


CASES: list[CaseSpec] = [
    _case("vit", "build_vit", {"patch": 8, "dim": 32, "heads": 4, "depth": 2}, "vit-p8-d32-l2-interp-pos", "vit"),
    _case("detection", "build_detector", {"nms": "combined", "classes": 3, "max_per_class": 8, "max_total": 16,
                             "score_quantile": 0.97},
          "ssd-combined-nms-c3", "ssd_detector"),
    _case("detection", "build_detector",
          {"nms": "single", "classes": 3, "max_total": 32, "score_quantile": 0.9},
          "ssd-nms-batched-offsets", "ssd_detector"),
    _case("unet", "build_unet", {"dims": 2, "base": 8, "depth": 2}, "unet2d-b8-d2-batchnorm", "unet2d"),
    _case("unet", "build_unet", {"dims": 3, "base": 4, "depth": 2, "in_channels": 1},
          "unet3d-b4-d2-groupnorm", "unet3d"),
    _case("recommendation", "build_dlrm", {"vocab": [20, 30, 50], "modes": ["sum", "mean", "sum"]},
          "dlrm-bags-sum-mean", "dlrm"),
    _case("speech", "build_speech_encoder", {}, "conformer-d32-l2", "conformer_encoder"),
    # ragged utterances: a lengths input masks attention keys, the conv module and the output
    _case("speech", "build_speech_encoder", {"lengths": True}, "conformer-d32-l2-lengths", "conformer_encoder"),
    _case("diffusion", "build_diffusion_block", {}, "unet-block-ch16-xattn", "diffusion_unet_block"),
]
