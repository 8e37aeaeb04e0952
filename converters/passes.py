"""ONNX -> ONNX chain steps (``tf2onnx+optimize``, ``torch_script+fp16``): our optimizer and the
reduced-precision conversions, registered in ``converters.PASSES``."""
from __future__ import annotations

import importlib.util
from importlib import metadata

from . import ModelPass, register_pass


def _repo_version() -> str:
    try:
        return metadata.version("onnx-conformance")
    except metadata.PackageNotFoundError:
        return ""


@register_pass("optimize")
class OptimizePass(ModelPass):
    """The default optimizer pipeline (converters/optimizer)."""

    name = "optimize"

    def version(self) -> str:
        from .optimizer.pipeline import DEFAULT_PIPELINE
        return f"{_repo_version()}:{','.join(DEFAULT_PIPELINE)}"

    def apply(self, model):
        from .optimizer import optimize
        optimized, self.last_report = optimize(model)
        return optimized


@register_pass("fp16")
class Float16Pass(ModelPass):
    """float32 -> float16 with float32 inputs/outputs and sensitive ops kept in float32."""

    name = "fp16"
    keep_io_types = True

    def version(self) -> str:
        return _repo_version()

    def apply(self, model):
        from .optimizer.precision import convert_float16
        return convert_float16(model, keep_io_types=self.keep_io_types)


@register_pass("int8")
class Int8Pass(ModelPass):
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
        from .optimizer.precision import quantize_int8
        return quantize_int8(model)
