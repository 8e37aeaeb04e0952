"""TorchScript running ``torchscript`` packages (``torch.jit.save``) with ``torch.jit.load``.

Runs in the process that asks (torch is imported on first prepare, never at import). Feeds go
in the package's declared input order; nested outputs (tuples, lists, dicts) are flattened in
the order the source's outputs are (dicts in insertion order, as for torch).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..formats import Package
from . import register_target
from .base import Target, TargetOptions, feeds_in_order


@dataclass
class TorchSession:
    module: object
    inputs: list[str]
    outputs: list[str]


def flatten_torch(out) -> list[np.ndarray]:
    """Nested torch outputs to a flat list of arrays, as the torch source's are flattened."""
    if isinstance(out, dict):
        return [a for value in out.values() for a in flatten_torch(value)]
    if isinstance(out, (list, tuple)):
        return [a for item in out for a in flatten_torch(item)]
    return [out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)]


class TorchProcessTarget(Target):
    """A torch runtime in this process: precision is torch's float32 on CPU."""

    precision = "fp32"
    requires = distribution = "torch"
    install = "pip install -e '.[torch]'"

    def prepare(self, model, options: TargetOptions | None = None):
        """A bare saved file (no declared names): fed in the order the feeds come."""
        return self.prepare_file(model, options)

    def prepare_package(self, package: Package, options: TargetOptions | None = None):
        self.check_precision(options, {"fp32": "fp32"})
        return TorchSession(self.load(package.only_file()), list(package.inputs), list(package.outputs))

    def load(self, data: bytes):
        raise NotImplementedError

    def run(self, session: TorchSession, feeds):
        import torch
        values = feeds_in_order(session.inputs, feeds) if session.inputs else list(feeds.values())
        tensors = [torch.from_numpy(np.require(v, requirements="C")) for v in values]
        with torch.no_grad():
            return flatten_torch(session.module(*tensors))


@register_target("torchscript")
class TorchScriptTarget(TorchProcessTarget):
    formats = ("torchscript",)
    description = "TorchScript interpreter (torch.jit.load), CPU, float32"

    def load(self, data: bytes):
        import torch
        module = torch.jit.load(io.BytesIO(data), map_location="cpu")
        module.eval()
        return module
