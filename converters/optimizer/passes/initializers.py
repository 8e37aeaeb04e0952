"""Initializer housekeeping: duplicate merging and unused removal."""
from __future__ import annotations

import hashlib

from ..graph import Graph, outer_names_used, subgraph_attrs
from . import rewrite_pass


@rewrite_pass("dedupe-init", at={"post": 10})
def merge_duplicate_initializers(g: Graph) -> bool:
    """Point every reader of an initializer at the first one of equal dtype, shape and bytes."""
    first: dict[tuple, str] = {}
    renames: dict[str, str] = {}
    for name in g.init_names():
        if not g.is_init(name) or name in g.protected:
            continue
        try:
            a = g.array(name)
        except Exception:
            continue
        if a.dtype == object:
            continue
        key = (a.dtype.str, a.shape, hashlib.sha1(a.tobytes()).hexdigest())
        if key in first:
            renames[name] = first[key]
        else:
            first[key] = name
    if not renames:
        return False
    for node in g.nodes:
        if subgraph_attrs(node):
            inner = set().union(*(outer_names_used(s) for s in subgraph_attrs(node)))
            if inner & set(renames):     # a subgraph reads it by name: keep both
                for n in inner & set(renames):
                    renames.pop(n, None)
    g.rename_inputs(renames)
    g.remove_inits(renames)
    return bool(renames)


@rewrite_pass("prune-init", at={"post": 20})
def remove_unused_initializers(g: Graph) -> bool:
    """Drop initializers nothing reads (graph inputs are never touched)."""
    used = set(g.output_names) | {i for n in g.nodes for i in n.input}
    for node in g.nodes:
        for sub in subgraph_attrs(node):
            used |= outer_names_used(sub)
    dead = [n for n in g.init_names() if n not in used and n not in g.input_names]
    g.remove_inits(dead)
    return bool(dead)
