"""Dead-code elimination."""
from __future__ import annotations

from ..graph import Graph, outer_names_used, subgraph_attrs
from . import optimizer_pass


@optimizer_pass("dce", "pre")
def dead_code_elimination(g: Graph) -> None:
    """Remove nodes none of whose outputs reach a graph output."""
    needed = set(g.output_names)
    keep = []
    for node in reversed(g.nodes):
        if any(o in needed for o in node.output if o):
            keep.append(node)
            needed.update(i for i in node.input if i)
            for sub in subgraph_attrs(node):
                needed |= outer_names_used(sub)
    if len(keep) != len(g.nodes):
        g.nodes = keep[::-1]
        g.refresh()
