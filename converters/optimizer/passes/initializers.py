"""Initializer housekeeping: duplicate merging and unused removal."""
from __future__ import annotations

import hashlib

from ..graph import Graph, outer_names_used, subgraph_attrs
from . import optimizer_pass


@optimizer_pass("dedupe-init", "post")
def merge_duplicate_initializers(g: Graph) -> None:
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
        return
    for node in g.nodes:
        if subgraph_attrs(node):
            inner = set().union(*(outer_names_used(s) for s in subgraph_attrs(node)))
            if inner & set(renames):     # a subgraph reads it by name: keep both
                for n in inner & set(renames):
                    renames.pop(n, None)
    for node in g.nodes:
        for k, i in enumerate(node.input):
            if i in renames:
                node.input[k] = renames[i]
    for name in renames:
        g.remove_init(name)
    g.refresh()


@optimizer_pass("prune-init", "post")
def remove_unused_initializers(g: Graph) -> None:
    """Drop initializers nothing reads (graph inputs are never touched)."""
    used = set(g.output_names) | {i for n in g.nodes for i in n.input}
    for node in g.nodes:
        for sub in subgraph_attrs(node):
            used |= outer_names_used(sub)
    dead = [n for n in g.init_names() if n not in used and n not in g.input_names]
    for name in dead:
        g.remove_init(name)
    if dead:
        g.refresh()
