"""torch eager -> TorchScript, run by TorchScript itself (the ``torchscript`` target).

* ``torchscript-trace``: ``torch.jit.trace`` on the case's sample inputs. Tracing records the
  ops one call executed: Python control flow and the shapes it read are baked in, a classic
  source of silent errors that the cases' extra input sets (other shapes) reveal.
* ``torchscript-script``: ``torch.jit.script``, which compiles the module's Python source; a
  construct outside TorchScript's language subset (``*args`` forwards, closures, arbitrary
  Python objects) is refused at conversion, which the record says as ``unsupported``.

The artifact is a formats.Package of ``model.pt`` (``torch.jit.save``), the source's input
names and its output names (the case's, else ``output_N`` per flattened output).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from conformance.cases import Built
from conformance.errors import UnsupportedOperator
from conformance.formats import Package

from . import register_converter
from ._common import conversion_failure, output_names, short
from .base import Converter


def eager_module(built: Built):
    """The eager module to convert, in eval mode (an ExportedProgram's ``module()``)."""
    import torch
    model = built.model
    if isinstance(model, torch.export.ExportedProgram):
        model = model.module()
    if hasattr(model, "eval"):
        model.eval()
    return model


def sample_tensors(built: Built) -> tuple:
    import torch
    return tuple(torch.from_numpy(np.require(x, requirements="C")) for x in built.inputs)


def flat_count(out) -> int:
    """How many arrays the source's flattening (converters.frameworks.flatten) makes of ``out``."""
    if isinstance(out, dict):
        return sum(flat_count(v) for v in out.values())
    if isinstance(out, (list, tuple)):
        return sum(flat_count(v) for v in out)
    return 1


@register_converter("torchscript-trace")
class TorchScriptTrace(Converter):
    framework = "torch"
    format = "torchscript"
    requires = ("torch",)
    distribution = "torch"

    def compile(self, model, args):
        import torch
        # strict=False: list and dict outputs are traced as they are (the source flattens them);
        # check_trace=False: the harness judges the trace against the source, on every input set
        return torch.jit.trace(model, args, strict=False, check_trace=False)

    def convert(self, built: Built, opset: int, workdir: Path):
        import torch

        model = eager_module(built)
        args = sample_tensors(built)
        # under no_grad, as the golden runs (nn.TransformerEncoder's fast path, for one)
        with torch.no_grad():
            try:
                compiled = self.compile(model, args)
            except Exception as exc:
                raise self.failure(exc) from exc
            try:
                count = flat_count(compiled(*args))
                buffer = io.BytesIO()
                torch.jit.save(compiled, buffer)
            except Exception as exc:
                raise conversion_failure(f"{self.name}: the compiled module failed to run or save: "
                                         f"{short(exc, 1200)}") from exc
        return Package(self.format, {"model.pt": buffer.getvalue()}, built.names(), output_names(built, count),
                       {"method": self.name.rpartition("-")[2]})

    def failure(self, exc: BaseException):
        return conversion_failure(f"torch.jit.trace: {short(exc, 1200)}")


@register_converter("torchscript-script")
class TorchScriptScript(TorchScriptTrace):
    def compile(self, model, args):
        import torch
        return torch.jit.script(model)

    def failure(self, exc: BaseException):
        # scripting compiles the module's Python, which must be within TorchScript's typed
        # subset (no ``*args`` forwards, closures, untyped Optional tuples...): a model outside
        # it is one scripting does not take, as an op a converter lacks, not a compiler defect
        return UnsupportedOperator(f"torch.jit.script cannot compile the module: {short(exc, 1200)}")

def torchscript_as_onnx(built: Built, artifact: bytes) -> dict:
    """A TorchScript package translated to ONNX by torch.onnx's TorchScript exporter (run in the
    torch worker): a second path that judges a TorchScript model where TorchScript is the only
    runtime of the format here."""
    import tempfile

    import onnx
    import torch

    package = Package.from_bytes(artifact)
    module = torch.jit.load(io.BytesIO(package.only_file()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(module, sample_tensors(built), str(path), input_names=package.inputs,
                          output_names=package.outputs, dynamo=False)
        proto = onnx.load(str(path))
    return {"onnx": proto.SerializeToString(), "inputs": package.inputs,
            "outputs": [o.name for o in proto.graph.output]}
