"""Chain steps: ONNX -> ONNX steps chained after a converter (``tf2onnx+optimize``,
``torch_script+fp16``): our optimizer and the reduced-precision conversions, registered in
``converters.CHAIN_STEPS`` under the names users chain (``optimize``, ``fp16``, ``int8``).

Not to be confused with the optimizer's *rewrite passes* (``converters/optimizer/passes/``): the
``optimize`` chain step runs the whole pipeline of those."""
from __future__ import annotations

import importlib.util
from importlib import metadata

from . import ChainStep, register_chain_step
from .optimizer import optimize
from .optimizer.pipeline import DEFAULT_PIPELINE
from .optimizer.precision import convert_float16, quantize_int8


def _repo_version() -> str:
    try:
        return metadata.version("onnx-conformance")
    except metadata.PackageNotFoundError:
        return ""


@register_chain_step("optimize")
class OptimizeStep(ChainStep):
    """The default optimizer pipeline (converters/optimizer)."""

    name = "optimize"

    def version(self) -> str:
        return f"{_repo_version()}:{','.join(DEFAULT_PIPELINE)}"

    def apply(self, model):
        optimized, self.last_report = optimize(model)
        return optimized


@register_chain_step("fp16")
class Float16Step(ChainStep):
    """float32 -> float16 with float32 inputs/outputs and sensitive ops kept in float32."""

    name = "fp16"
    keep_io_types = True

    def version(self) -> str:
        return _repo_version()

    def apply(self, model):
        return convert_float16(model, keep_io_types=self.keep_io_types)


@register_chain_step("int8")
class Int8Step(ChainStep):
    """Static INT8 post-training quantization (QDQ) calibrated on seeded inputs."""

    name = "int8"

    def available(self) -> tuple[bool, str]:
        if importlib.util.find_spec("onnxruntime") is None:
            return False, "python module 'onnxruntime' is not installed (pip install -c constraints.txt onnxruntime)"
        return True, ""

    def version(self) -> str:
        try:
            return f"{_repo_version()}:onnxruntime-{metadata.version('onnxruntime')}"
        except metadata.PackageNotFoundError:
            return _repo_version()

    def apply(self, model):
        return quantize_int8(model)
