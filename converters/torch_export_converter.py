"""torch eager -> ``torch.export`` ExportedProgram (format ``torch-export``), run as ``ep.module()``.

Dynamic axes come from ``Built.dynamic_axes``: one ``torch.export.Dim`` per symbolic name (a
name shared by two inputs is one dimension). The program is saved with ``torch.export.save``;
the artifact is a formats.Package of ``model.pt2``, the source's input names and its output names.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from conformance.cases import Built
from conformance.errors import UnsupportedOperator
from conformance.formats import Package

from . import register_converter
from ._common import conversion_failure, output_names, short
from .base import Converter
from .torchscript_converter import eager_module, flat_count, sample_tensors


def dynamic_shapes(built: Built, automatic: bool = False, bounded: bool = False):
    """``dynamic_shapes`` for torch.export: per positional input, ``{axis: Dim}`` on its
    dynamic axes (None where it has none); None when the case has no dynamic axes. Named dims
    (a name shared by two inputs is one dimension), or with ``automatic`` ``Dim.AUTO``: export
    infers the ranges and relations itself, and keeps static what the model specializes.
    ``bounded``: each dim's upper bound is the largest size the case's input sets give it (for
    runtimes that plan memory for an upper bound, ExecuTorch)."""
    import torch
    if not built.dynamic_axes:
        return None
    dims: dict[str, object] = {}
    upper = _largest_sizes(built) if bounded else {}

    def dim(label):
        limit = {"max": upper[label]} if bounded else {}
        if automatic:
            return torch.export.Dim.AUTO(**limit) if limit else torch.export.Dim.AUTO
        ident = re.sub(r"\W", "_", str(label)) or "d"
        if not ident[0].isalpha():
            ident = "d_" + ident
        if ident not in dims:
            dims[ident] = torch.export.Dim(ident, **limit)
        return dims[ident]

    shapes = []
    for name in built.names():
        axes = built.dynamic_axes.get(name) or {}
        shapes.append({int(axis): dim(label) for axis, label in axes.items()} or None)
    return tuple(shapes)


def _largest_sizes(built: Built) -> dict:
    """The largest size each dynamic axis label takes over the case's input sets."""
    upper: dict = {}
    for inputs in [built.inputs, *built.extra_inputs]:
        for name, x in zip(built.names(), inputs):
            for axis, label in (built.dynamic_axes.get(name) or {}).items():
                upper[label] = max(upper.get(label, 2), int(x.shape[int(axis)]))
    return upper


@register_converter("torch-export")
class TorchExportConverter(Converter):
    framework = "torch"
    format = "torch-export"
    requires = ("torch",)
    distribution = "torch"

    def convert(self, built: Built, opset: int, workdir: Path):
        import torch

        args = sample_tensors(built)
        try:
            if isinstance(built.model, torch.export.ExportedProgram):
                program, dims = built.model, "as built"
            else:
                program, dims = export(eager_module(built), args, built)
            with torch.no_grad():
                count = flat_count(program.module()(*args))
            buffer = io.BytesIO()
            torch.export.save(program, buffer)
        except Exception as exc:
            said = short(exc, 1200)
            if isinstance(exc, NotImplementedError) or "Unsupported" in type(exc).__name__:
                raise UnsupportedOperator(f"torch.export cannot capture the model: {said}") from exc
            raise conversion_failure(f"torch.export: {said}") from exc
        return Package(self.format, {"model.pt2": buffer.getvalue()}, built.names(), output_names(built, count),
                       {"dynamic_shapes": dims})


def export(model, args: tuple, built: Built, bounded: bool = False):
    """``torch.export.export`` with the case's dynamic axes as named dims; where the model's
    code constrains them (a range guard, ``H > 2`` after a stride-2 conv) or specializes one
    (an LSTM's sequence length), with ``Dim.AUTO``, which takes the ranges export infers and
    keeps a specialized axis static: the program then refuses the other sizes at run time,
    which the case's other input sets show. Returns the program and which dims it took.
    ``bounded``: dims with upper bounds (``dynamic_shapes``)."""
    import torch
    try:
        return torch.export.export(model, args, dynamic_shapes=dynamic_shapes(built, bounded=bounded)), "named"
    except Exception as exc:
        if not built.dynamic_axes or "Constraints violated" not in str(exc):
            raise
    return (torch.export.export(model, args, dynamic_shapes=dynamic_shapes(built, automatic=True, bounded=bounded)),
            "auto")


def torch_export_as_onnx(built: Built, artifact: bytes) -> dict:
    """An ExportedProgram package translated to ONNX by torch.onnx's dynamo exporter (run in the
    torch worker): a second path where ``ep.module()`` is the only runtime of the format here."""
    import torch

    package = Package.from_bytes(artifact)
    program = torch.export.load(io.BytesIO(package.only_file()))
    onnx_program = torch.onnx.export(program, (), input_names=package.inputs, output_names=package.outputs,
                                     dynamo=True)
    proto = onnx_program.model_proto
    return {"onnx": proto.SerializeToString(), "inputs": package.inputs,
            "outputs": [o.name for o in proto.graph.output]}
