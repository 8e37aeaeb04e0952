"""MindSpore's own runtime running MINDIR graphs: ``mindspore.load`` + ``nn.GraphCell``, CPU, float32.

MindSpore is not in the session's environment: the target runs in a worker of the ``mindspore``
environment (``environment``), which the session builds on first use. Feeds go in the package's
declared input order; outputs come back flat, in the order the source cell returns them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formats import Package
from . import register_target
from .base import Target, TargetOptions, feeds_in_order


@dataclass
class MindirSession:
    graph_cell: object
    inputs: list[str]


@register_target("mindspore")
class MindSporeTarget(Target):
    precision = "fp32"
    formats = ("mindir",)
    description = "MindSpore runtime (mindspore.load + nn.GraphCell), CPU, float32"
    requires = "mindspore"
    distribution = "mindspore"
    install = "conformance env build mindspore (the target runs in that environment)"
    environment = "mindspore"
    isolated = True

    def prepare_package(self, package: Package, options: TargetOptions | None = None):
        import tempfile
        from pathlib import Path

        import mindspore
        from mindspore import nn

        self.check_precision(options, {"fp32": "fp32"})
        with tempfile.TemporaryDirectory(prefix="mindir-") as folder:
            path = Path(folder) / "model.mindir"
            path.write_bytes(package.only_file())
            graph = mindspore.load(str(path))        # reads the file whole: the folder may go
        return MindirSession(nn.GraphCell(graph), list(package.inputs))

    def run(self, session: MindirSession, feeds):
        import mindspore

        values = feeds_in_order(session.inputs, feeds) if session.inputs else list(feeds.values())
        return _flat(session.graph_cell(*[mindspore.Tensor(np.require(v, requirements="C")) for v in values]))


def _flat(out) -> list[np.ndarray]:
    """A GraphCell's output (a tensor, or nested tuples of them for several) as a flat list."""
    if isinstance(out, (list, tuple)):
        return [a for item in out for a in _flat(item)]
    return [np.array(out.asnumpy()) if hasattr(out, "asnumpy") else np.asarray(out)]
