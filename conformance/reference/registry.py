"""Registry of reference op implementations keyed by (domain, op type, since-version).

An implementation is a function ``impl(ctx, *inputs)`` returning one array or a tuple of
outputs. ``ctx`` is a ``NodeContext`` (see executor.py): ``ctx.attr(name, default)`` reads an
attribute with its ONNX default, ``ctx.opset`` is the model's opset for the node's domain,
``ctx.node`` is the NodeProto, ``ctx.run_subgraph(attr_name, feeds)`` runs a graph attribute.
Omitted optional inputs arrive as ``None``. Register with::

    @op("Relu")                 # since version 1, default domain
    @op("Clip", since=11)       # a newer signature: chosen when the model's opset >= 11
    def clip(ctx, x, lo=None, hi=None): ...

    @op(("Sin", "Cos"))         # one implementation for several op types (ctx.node.op_type tells which)
"""
from __future__ import annotations

from typing import Callable, Iterable

OPS: dict[tuple[str, str], list[tuple[int, Callable]]] = {}


def op(op_type: str | Iterable[str], since: int = 1, domain: str = ""):
    op_types = (op_type,) if isinstance(op_type, str) else tuple(op_type)
    domain = "" if domain == "ai.onnx" else domain

    def deco(fn):
        for name in op_types:
            versions = OPS.setdefault((domain, name), [])
            versions.append((since, fn))
            versions.sort(key=lambda pair: pair[0])
        return fn
    return deco


def lookup(domain: str, op_type: str, opset: int) -> Callable | None:
    """The implementation with the greatest since-version <= opset (None if unknown)."""
    domain = "" if domain == "ai.onnx" else domain
    best = None
    for since, fn in OPS.get((domain, op_type), ()):
        if since <= opset:
            best = fn
    return best


def known_ops() -> list[tuple[str, str]]:
    return sorted(OPS)
