"""The optimizer's passes: each a function ``run(graph) -> None`` that edits a
``converters.optimizer.graph.Graph`` in place, registered by name with ``@optimizer_pass``.

A pass leaves alone any node it cannot handle (other domains, unknown shapes, subgraphs)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class PassInfo:
    name: str
    stage: str          # pre | core | post | extra
    run: Callable
    doc: str


OPTIMIZER_PASSES: dict[str, PassInfo] = {}


def optimizer_pass(name: str, stage: str):
    def deco(fn):
        OPTIMIZER_PASSES[name] = PassInfo(name, stage, fn, " ".join((fn.__doc__ or "").split("\n\n")[0].split()))
        return fn
    return deco


for _module in ("dce", "cse", "simplify", "fold", "fuse_conv", "gemm", "pooling", "transpose", "initializers"):
    importlib.import_module(f"{__name__}.{_module}")
