"""torch.onnx.export with the torch.export-based exporter (dynamo=True)."""
from __future__ import annotations

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

    def export_kwargs(self, built: Built, opset: int) -> dict:
        kwargs = super().export_kwargs(built, opset)
        kwargs["external_data"] = False     # one self-contained file for the cache
        return kwargs
