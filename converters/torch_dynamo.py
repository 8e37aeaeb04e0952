"""torch.onnx.export with the torch.export-based exporter (dynamo=True)."""
from __future__ import annotations

import ast

from conformance.cases import Built

from . import register_converter
from .torch_script import TorchScriptExporter


@register_converter("torch-dynamo")
class TorchDynamoExporter(TorchScriptExporter):
    requires = ("torch", "onnx", "onnxscript")
    dynamo = True
    # torch.export keeps state between exports in one process: exporting a second nn.GRU/LSTM
    # fails with "tracing inferred a static shape" (torch._dynamo.reset() does not clear it)
    fresh_process = True
    # torch.onnx's dynamo exporter writes opset 18 natively; asked for 17 it runs onnx's version
    # converter, which refuses some models ("produced opset 18 when asked for opset 17")
    default_opset = 18

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
