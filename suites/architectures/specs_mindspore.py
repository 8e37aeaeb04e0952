"""MindSpore architecture cases (opt-in: conformance.selection.Asked): a small CNN, an LSTM and a
transformer-style encoder block, built in ``mindspore_models`` (imports no framework here).

Each runs on both MindSpore converters: ``mindspore-onnx`` (on the ONNX targets) and
``mindspore-mindir`` (on the ``mindspore`` target). Shapes are static.
"""
from __future__ import annotations

from conformance.cases import CaseSpec

from .specs import CNN_TOL

MINDSPORE = "suites.architectures.mindspore_models"


def _spec(family: str, builder: str, params: dict, variant: str, arch: str, tolerance=None) -> CaseSpec:
    return CaseSpec(kind="arch", name=family, framework="mindspore", builder=f"{MINDSPORE}:{builder}",
                    params=params, variant=variant, arch=arch, tolerance=tolerance or {})


MINDSPORE_CASES: list[CaseSpec] = [
    _spec("cnn", "build_cnn", {}, "conv-bn-relu-pool-dense-32", "small_cnn", CNN_TOL),
    _spec("rnn", "build_lstm", {}, "lstm-l1-uni-bf-noinit", "lstm"),
    _spec("rnn", "build_lstm", {"layers": 2, "bidirectional": True}, "lstm-l2-bi-bf-noinit", "lstm"),
    _spec("transformer", "build_encoder_block", {}, "encoder-block-postnorm-gelu", "encoder_block"),
]
