"""Today's model families in torch as cases (issue 19): see suites/architectures/test_families.py.
Imports no framework; the builders (suites/architectures/families_torch.py) run in the torch worker.

Ids read ``arch/<family>/torch/<converter>/opset<N>/<target>/<variant>``. Every case runs on both
torch exporters (torch-script at opset 17, torch-dynamo at 18) and at three input sets from one
conversion: the traced sample at batch 2, batch 1 at the sample's size, batch 4 at a sequence
length / spatial size the exporters never saw (sizes in each builder's docstring).
"""
from __future__ import annotations

from conformance.cases import CaseSpec

FAMILIES = "suites.architectures.families_torch"


def _case(family: str, builder: str, variant: str, arch: str, params: dict | None = None,
          tolerance: dict | None = None) -> CaseSpec:
    return CaseSpec(kind="arch", name=family, framework="torch", builder=f"{FAMILIES}:{builder}",
                    params=params or {}, variant=variant, arch=arch, tolerance=tolerance or {})


CASES: list[CaseSpec] = [
    _case("vit", "build_vit", "vit-p8-d32-l2-attn", "vit", {"attention": "manual"}),
    _case("vit", "build_vit", "vit-p8-d32-l2-mha", "vit", {"attention": "mha"}),
    _case("detection", "build_detector", "ssd-w16-a3-top12", "single_stage_detector"),
    _case("unet", "build_unet", "unet2d-bn-w8", "unet2d", {"dims": 2, "norm": "batch"}),
    _case("unet", "build_unet", "unet2d-gn-w8", "unet2d", {"dims": 2, "norm": "group"}),
    _case("unet", "build_unet", "unet3d-in-w4", "unet3d", {"dims": 3, "norm": "instance"}),
    _case("recommendation", "build_dlrm", "dlrm-sum-mean-sum", "dlrm", {"modes": ["sum", "mean", "sum"]}),
    # bags of 0..4 indices: empty bags reduce to 0 in torch for sum and mean alike
    _case("recommendation", "build_dlrm", "dlrm-mean-sum-mean-emptybags", "dlrm",
          {"modes": ["mean", "sum", "mean"], "min_len": 0, "max_len": 4}),
    _case("speech", "build_speech_encoder", "conformer-d32-l2", "conformer_encoder"),
    # ragged utterances: a lengths input masks attention keys, the conv module and the output
    _case("speech", "build_speech_encoder", "conformer-d32-l2-lengths", "conformer_encoder", {"lengths": True}),
    _case("diffusion", "build_diffusion_block", "unet-block-ch16-xattn", "diffusion_unet_block"),
]
