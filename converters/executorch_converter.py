"""torch eager -> ``torch.export`` -> ExecuTorch ``.pte`` with the XNNPACK delegate (format ``pte``).

The pipeline is ExecuTorch's own for CPU: ``torch.export.export``, then
``to_edge_transform_and_lower`` with the ``XnnpackPartitioner`` (the subgraphs XNNPACK takes are
delegated to it; the other ops stay on ExecuTorch's portable kernels), then ``to_executorch``.
ExecuTorch plans every tensor's memory ahead of time for an upper bound of each dynamic
dimension: a dimension left unbounded is planned at the sample's size and a larger input is
refused at run time, so each dynamic axis is bounded by the largest size the case's input sets
give it (``torch_export_converter.dynamic_shapes(bounded=True)``).

The artifact is a formats.Package of ``model.pte``, the source's input names and its output
names; its details name the ops left to the portable kernels (not delegated to XNNPACK).
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
from .torch_export_converter import export, torch_export_as_onnx
from .torchscript_converter import eager_module, flat_count, sample_tensors

#: ExecuTorch's words for an op it cannot lower: an op outside the core ATen set with no
#: decomposition ("Operator torch._ops.aten.adaptive_max_pool2d.default is not in Core ATen
#: opset"), no out-variant kernel to emit it with, or an XNNPACK node refusing the dynamic
#: dims it was given (a view over batch and sequence: "XNNPACK reshape only supports 1 dynamic
#: dimension", ExecuTorch 1.5.1)
_UNSUPPORTED = re.compile(r"([\w.:]+) is not (?:an )?Aten Canonical|Missing out variants: \{?'?([\w.:]+)"
                          r"|[Oo]perator ([\w.:]+) is not (?:supported|in Core ATen opset)"
                          r"|XNNPACK (reshape) only supports 1 dynamic dimension")


@register_converter("executorch")
class ExecuTorchConverter(Converter):
    framework = "torch"
    format = "pte"
    requires = ("torch", "executorch")
    distribution = "executorch"
    extra = "executorch"

    def convert(self, built: Built, opset: int, workdir: Path):
        import torch

        args = sample_tensors(built)
        try:
            program, dims = exported_program(built, args)
            with torch.no_grad():
                count = flat_count(program.module()(*args))
        except Exception as exc:
            if isinstance(exc, NotImplementedError) or "Unsupported" in type(exc).__name__:
                raise UnsupportedOperator(f"torch.export cannot capture the model: {short(exc, 1200)}") from exc
            raise conversion_failure(f"torch.export: {short(exc, 1200)}") from exc
        data, portable = lower(program)
        return Package(self.format, {"model.pte": data}, built.names(), output_names(built, count),
                       {"dynamic_shapes": dims, "delegate": "xnnpack", "portable_ops": portable})


def exported_program(built: Built, args: tuple):
    """The program to lower and how its dims were taken: the case's own ExportedProgram, else
    the eager model exported with every dynamic dimension bounded."""
    import torch
    if isinstance(built.model, torch.export.ExportedProgram):
        return built.model, "as built"
    return export(eager_module(built), args, built, bounded=True)


def lower(program) -> tuple[bytes, list[str]]:
    """The ExportedProgram lowered to a ``.pte`` (XNNPACK where it takes a subgraph) and the
    ops left outside the delegate; an op ExecuTorch cannot lower is ``unsupported``, by name."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    try:
        edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
        portable = sorted({str(node.target) for node in edge.exported_program().graph.nodes
                           if node.op == "call_function" and "call_delegate" not in str(node.target)
                           and "getitem" not in str(node.target)})
        data = edge.to_executorch().buffer
    except Exception as exc:
        said = short(exc, 1200)
        found = _UNSUPPORTED.search(f"{type(exc).__name__}: {exc}")
        if found:
            op = next(g for g in found.groups() if g)
            raise UnsupportedOperator(f"ExecuTorch cannot lower {op}: {said}") from exc
        raise conversion_failure(f"ExecuTorch (to_edge / XNNPACK / to_executorch): {said}") from exc
    return bytes(data), portable


def executorch_as_onnx(built: Built, artifact: bytes) -> dict:
    """The second path for a ``.pte`` (no other runtime of the format is here, and a ``.pte``
    cannot be read back into a graph): the same bounded ``torch.export`` program the ``.pte``
    was lowered from, translated to ONNX by torch.onnx's dynamo exporter. It agreeing with the
    source while the ``.pte`` does not puts the fault in the lowering or the runtime."""
    import torch

    package = Package.from_bytes(artifact)
    program, _ = exported_program(built, sample_tensors(built))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    exported = Package("torch-export", {"model.pt2": buffer.getvalue()}, package.inputs, package.outputs)
    return torch_export_as_onnx(built, exported.to_bytes())
