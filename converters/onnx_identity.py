"""The identity converter of the ``onnx`` pseudo-framework: the backend corner suite's models
are ONNX already, written at the opset the op version needs, so "converting" hands the model
on untouched and the targets meet exactly the node the suite wrote."""
from __future__ import annotations

from pathlib import Path

from conformance.cases import Built
from conformance.errors import UnsupportedOperator

from . import register_converter
from .base import Converter


@register_converter("onnx")
class OnnxIdentity(Converter):
    framework = "onnx"
    requires = ("onnx",)
    distribution = "onnx"

    def convert(self, built: Built, opset: int, workdir: Path):
        """The built ModelProto itself; its own opset imports stand (the asked opset names the
        case). A data set the reference executor could not decide has no golden: unsupported."""
        undecided = built.options.get("undecided")
        if undecided:
            raise UnsupportedOperator(f"no golden: the reference executor cannot decide this data set: {undecided}")
        return built.model
