"""torch.onnx.export with the TorchScript-based exporter (dynamo=False)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from conformance.cases import Built
from conformance.errors import UnsupportedOperator

from . import register_converter
from ._common import check_standard_ops, conversion_failure, short
from .base import Converter, scope_path_candidates


@register_converter("torch-script")
class TorchScriptExporter(Converter):
    framework = "torch"
    requires = ("torch", "onnx")
    distribution = "torch"
    dynamo = False

    def source_scopes(self, node) -> list[str]:
        """Node names are scope paths, ``/layer1/layer1.0/conv1/Conv``; a module called twice
        gets ``relu_1`` for its second call (the core strips that suffix)."""
        return scope_path_candidates(node.name)

    def export_kwargs(self, built: Built, opset: int) -> dict:
        kwargs = dict(input_names=built.names(), opset_version=opset, dynamo=self.dynamo)
        if built.output_names:
            kwargs["output_names"] = list(built.output_names)
        if built.dynamic_axes:
            kwargs["dynamic_axes"] = {k: {int(a): n for a, n in v.items()} for k, v in built.dynamic_axes.items()}
        return kwargs

    def convert(self, built: Built, opset: int, workdir: Path):
        import torch

        model = built.model
        if isinstance(model, torch.export.ExportedProgram) and not self.dynamo:
            model = model.module()          # the TorchScript exporter takes modules only
        if hasattr(model, "eval"):
            model.eval()
        args = tuple(torch.from_numpy(np.require(x, requirements="C")) for x in built.inputs)
        path = Path(workdir) / "model.onnx"
        try:
            # Not under no_grad: there nn.TransformerEncoder takes its fused fast path
            # (aten::_transformer_encoder_layer_fwd), which has no ONNX export.
            torch.onnx.export(model, args, str(path), **self.export_kwargs(built, opset))
        except Exception as exc:
            raise conversion_failure(short(exc)) from exc
        proto = onnx.load(str(path))
        check_standard_ops(proto, self.name)
        got = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
        if got is not None and got != opset:
            # the dynamo exporter builds at its lowest supported opset (18) and down-converts;
            # when that fails it silently keeps 18: such a case did not test the asked opset
            raise UnsupportedOperator(f"{self.name} produced opset {got} when asked for opset {opset} "
                                      f"(its version conversion failed)")
        return proto
