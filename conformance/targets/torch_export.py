"""torch.export ``ExportedProgram`` packages (``torch.export.save``) run as ``ep.module()``.

Runs in the process that asks (torch is imported on first prepare, never at import); feeds in
the declared order, outputs flattened as the torch source's are (targets.torchscript).
"""
from __future__ import annotations

import io

from . import register_target
from .torchscript import TorchProcessTarget


@register_target("torch-export")
class TorchExportTarget(TorchProcessTarget):
    formats = ("torch-export",)
    description = "torch.export ExportedProgram run as ep.module(), CPU, float32"

    def load(self, data: bytes):
        import torch
        return torch.export.load(io.BytesIO(data)).module()
