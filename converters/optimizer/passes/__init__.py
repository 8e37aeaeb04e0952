"""The optimizer's rewrite passes, registered by name in ``REWRITE_PASSES`` with ``@rewrite_pass``.

(Not to be confused with the *chain steps* of ``converters/passes.py``, ONNX -> ONNX steps chained
after a converter as ``tf2onnx+optimize``: one of those runs this optimizer.)

A rewrite pass is a function ``run(graph) -> bool`` that makes one sweep over a
``converters.optimizer.graph.Graph``, edits it in place through the graph's edit methods, and
returns whether it changed anything. A sweep may stop at its first rewrite (the node list it
walks is stale after an edit): the pipeline repeats a pass that declares ``max_sweeps`` until a
sweep changes nothing. Where the pass runs in the default pipeline is declared here too
(``at={"core": 40}``: stage and order within the stage), so a new pass is one function in one
module of this package; every module here is imported.

A pass leaves alone any node it cannot handle (other domains, unknown shapes, subgraphs)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from typing import Callable

from ..graph import Graph

#: the default pipeline's stages, in the order they run; a pass placed in none is "extra"
STAGES = ("pre", "core", "post")
#: ``max_sweeps`` for a pass that the pipeline repeats until a sweep changes nothing
UNTIL_STABLE = sys.maxsize


@dataclass(frozen=True)
class RewritePass:
    name: str
    run: Callable[[Graph], bool]
    doc: str
    #: stage -> order within that stage, for every place the default pipeline runs this pass
    at: dict[str, int] = field(default_factory=dict)
    #: sweeps per run: 1 = one sweep; more = repeated until a sweep changes nothing
    max_sweeps: int = 1
    #: run before the sweeps (shape inference the pass relies on)
    prepare: Callable[[Graph], None] | None = None
    #: the pass is skipped for graphs of a lower default-domain opset
    min_opset: int = 0
    #: passes run right after this one, as part of it (same record, same error handling)
    then: tuple[str, ...] = ()

    @property
    def stage(self) -> str:
        return "+".join(self.at) or "extra"


REWRITE_PASSES: dict[str, RewritePass] = {}


def rewrite_pass(name: str, at: dict[str, int] | None = None, *, max_sweeps: int = 1,
                 prepare: Callable[[Graph], None] | None = None, min_opset: int = 0, then: tuple[str, ...] = ()):
    """Register the decorated ``run(graph) -> bool`` as the rewrite pass ``name``."""
    unknown = set(at or ()) - set(STAGES)
    if unknown:
        raise ValueError(f"rewrite pass {name!r}: unknown stage(s) {sorted(unknown)}; stages are {STAGES}")

    def deco(fn):
        doc = " ".join((fn.__doc__ or "").split("\n\n")[0].split())
        REWRITE_PASSES[name] = RewritePass(name, fn, doc, dict(at or {}), max_sweeps, prepare, min_opset, tuple(then))
        return fn
    return deco


def op_rule_registrar(table: dict[str, Callable]):
    """``@register("Op", ...)`` decorators that file a per-op rule of a pass in ``table``."""
    def register(*op_types: str):
        def deco(fn):
            for op in op_types:
                table[op] = fn
            return fn
        return deco
    return register


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
