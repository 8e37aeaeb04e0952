"""torch.onnx.export with the torch.export-based exporter (dynamo=True)."""
from __future__ import annotations

import ast
from pathlib import Path

from conformance.cases import Built

from . import register_converter
from .torch_script import TorchScriptExporter


@register_converter("torch-dynamo")
class TorchDynamoExporter(TorchScriptExporter):
    requires = ("torch", "onnx", "onnxscript")
    dynamo = True
    # torch.export keeps state between exports in one process: exporting a second nn.GRU/LSTM
    # fails with "tracing inferred a static shape" (torch._dynamo.reset() does not clear it);
    # each conversion runs in a child forked from a worker that has torch and the exporter loaded
    fresh_process = True
    # torch.onnx's dynamo exporter writes opset 18 natively; asked for 17 it runs onnx's version
    # converter, which refuses some models ("produced opset 18 when asked for opset 17")
    default_opset = 18

    def warm_up(self) -> None:
        """One export of a two-op module in the worker that forks a child per conversion: the
        exporter's lazy imports and set-up (its op registry, dynamo's) happen once there, and
        each child starts from that same state (measured: a child's first export 2.0 s without
        it, 0.6 s with it). Every child inherits the same state, so results cannot depend on
        the order of cases."""
        import tempfile

        import torch

        class TwoOps(torch.nn.Module):
            def forward(self, x):
                return torch.relu(x) * 2.0

        with tempfile.TemporaryDirectory(prefix="warm-up-") as folder:
            torch.onnx.export(TwoOps(), (torch.ones(2, 3),), str(Path(folder) / "warm.onnx"), dynamo=True,
                              opset_version=self.default_opset, external_data=False)

    def source_scopes(self, node) -> list[str]:
        """``metadata_props["pkg.torch.onnx.name_scopes"]`` lists qualified module names,
        ``['', 'layer1', 'layer1.0', 'layer1.0.bn1', '<op>']``; a node without it may still
        carry a scope path in its name."""
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.name_scopes":
                try:
                    scopes = ast.literal_eval(prop.value)
                except (ValueError, SyntaxError):
                    break
                return [s for s in reversed(list(scopes)[:-1]) if s]
        return super().source_scopes(node)

    def export_kwargs(self, built: Built, opset: int) -> dict:
        kwargs = super().export_kwargs(built, opset)
        kwargs["external_data"] = False     # one self-contained file for the cache
        return kwargs
