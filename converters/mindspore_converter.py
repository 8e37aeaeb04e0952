"""MindSpore cells -> ONNX (``mindspore.onnx.export``) and -> MINDIR (``mindspore.export``).

Both run in the MindSpore worker (the ``mindspore`` environment). Each compiles the cell in
MindSpore's graph mode (the source of ``construct`` is parsed), so a cell that runs eagerly may
still fail to export: that is the exporter's answer and goes in the record.

``mindspore-onnx`` writes ONNX opset 11 (the exporter takes no opset): other opsets are reached
with onnx's version converter, and said so in the error when it cannot. ``mindspore-mindir``
writes a ``formats.Package`` of ``model.mindir`` with the source's input names and one output
name per flat output; MindSpore's own runtime (``mindspore.load`` + ``nn.GraphCell``, the
``mindspore`` target) runs it. Its second path, for attribution, is the ONNX export of the same
cell (``mindir_as_onnx``).
"""
from __future__ import annotations

import re
from pathlib import Path

from conformance.cases import Built
from conformance.errors import ConversionError, UnsupportedOperator
from conformance.formats import Package

from . import register_converter
from ._common import check_standard_ops, conversion_failure, output_names, short
from .base import Converter
from .frameworks import flatten

#: the opset ``mindspore.onnx.export`` writes (2.10: fixed, no argument chooses another)
MINDSPORE_ONNX_OPSET = 11
#: the exporter's words for a primitive it has no ONNX mapping for ("Can not find key Erfinv in
#: convert map. Exporting Erfinv operator is not yet supported.")
_NO_ONNX_MAPPING = re.compile(r"Exporting (\w+) operator is not yet supported|Can not find key (\w+) in convert map")


def sample_tensors(built: Built) -> list:
    """The sample inputs as MindSpore tensors; an axis ``built.dynamic_axes`` declares is left
    open (``None``) in a placeholder tensor of the input's dtype, which export traces symbolically."""
    import mindspore
    dynamic = built.dynamic_axes or {}
    tensors = []
    for name, x in zip(built.names(), built.inputs):
        axes = {int(a) for a in dynamic.get(name, {})}
        if axes:
            shape = [None if i in axes else int(d) for i, d in enumerate(x.shape)]
            tensors.append(mindspore.Tensor(shape=shape, dtype=mindspore.Tensor(x).dtype))
        else:
            tensors.append(mindspore.Tensor(x))
    return tensors


def output_count(built: Built) -> int:
    """How many flat outputs the cell returns on the sample (what MINDIR's outputs are named by)."""
    import mindspore
    built.model.set_train(False)
    return len(flatten(built.model(*[mindspore.Tensor(x) for x in built.inputs]), lambda t: t))


def _export_failure(exc: Exception, what: str) -> Exception:
    said = short(exc, 1200)
    missing = _NO_ONNX_MAPPING.search(f"{exc}")
    if missing:
        op = next(g for g in missing.groups() if g)
        return UnsupportedOperator(f"{what} has no mapping for MindSpore primitive {op}: {said}")
    return conversion_failure(f"{what}: {said}")


def export_onnx(built: Built, workdir: Path):
    """The cell through ``mindspore.onnx.export`` at opset 11, loaded as a ModelProto."""
    import mindspore
    import onnx

    path = workdir / "model.onnx"
    built.model.set_train(False)
    try:
        mindspore.onnx.export(built.model, *sample_tensors(built), file_name=str(path), input_names=built.names(),
                              dynamic_axes=built.dynamic_axes or None)
    except Exception as exc:
        raise _export_failure(exc, "mindspore.onnx.export") from exc
    if not path.exists():
        raise ConversionError(f"mindspore.onnx.export wrote no model at {path}")
    return onnx.load(str(path))


def at_opset(model, opset: int):
    """``model`` (written at opset 11) at ``opset``: as it is, or through onnx's version converter."""
    import onnx
    from onnx import version_converter

    if opset == MINDSPORE_ONNX_OPSET:
        return model
    if opset < MINDSPORE_ONNX_OPSET:
        raise ConversionError(f"mindspore.onnx.export writes opset {MINDSPORE_ONNX_OPSET}; opset {opset} is lower")
    try:
        converted = version_converter.convert_version(model, opset)
        onnx.checker.check_model(converted)
        return converted
    except Exception as exc:
        raise ConversionError(f"mindspore.onnx.export writes opset {MINDSPORE_ONNX_OPSET}; onnx's version "
                              f"converter could not take it to {opset}: {short(exc, 400)}") from exc


@register_converter("mindspore-onnx")
class MindSporeOnnxConverter(Converter):
    framework = "mindspore"
    requires = ("mindspore", "onnx")
    distribution = "mindspore"
    default_opset = MINDSPORE_ONNX_OPSET

    def convert(self, built: Built, opset: int, workdir: Path):
        model = at_opset(export_onnx(built, workdir), opset)
        check_standard_ops(model, "mindspore.onnx.export")
        return model


@register_converter("mindspore-mindir")
class MindSporeMindirConverter(Converter):
    framework = "mindspore"
    format = "mindir"
    requires = ("mindspore",)
    distribution = "mindspore"

    def convert(self, built: Built, opset: int, workdir: Path):
        import mindspore

        path = workdir / "model.mindir"
        count = output_count(built)
        try:
            mindspore.export(built.model, *sample_tensors(built), file_name=str(workdir / "model"),
                             file_format="MINDIR")
        except Exception as exc:
            raise _export_failure(exc, "mindspore.export (MINDIR)") from exc
        if not path.exists():
            raise ConversionError(f"mindspore.export wrote no MINDIR at {path}")
        return Package(self.format, {"model.mindir": path.read_bytes()}, built.names(), output_names(built, count),
                       {"dynamic_axes": {k: {str(a): v for a, v in axes.items()}
                                         for k, axes in (built.dynamic_axes or {}).items()}})


def mindir_as_onnx(built: Built, artifact: bytes) -> dict:
    """The second path for a MINDIR (MindSpore's runtime is the only one of the format here): the
    same cell exported to ONNX by ``mindspore.onnx.export``. It agreeing with the source while the
    MINDIR does not puts the fault in the MINDIR export or MindSpore's graph runtime."""
    import tempfile

    package = Package.from_bytes(artifact)
    with tempfile.TemporaryDirectory(prefix="mindir-as-onnx-") as workdir:
        proto = export_onnx(built, Path(workdir))
    return {"onnx": proto.SerializeToString(), "inputs": package.inputs,
            "outputs": [o.name for o in proto.graph.output]}
