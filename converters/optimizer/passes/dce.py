"""Dead-code elimination."""
from __future__ import annotations

from ..graph import Graph, outer_names_used, subgraph_attrs
from . import rewrite_pass


@rewrite_pass("dce", at={"pre": 10, "core": 100})
def dead_code_elimination(g: Graph) -> bool:
    """Remove nodes none of whose outputs reach a graph output."""
    needed = set(g.output_names)
    keep = []
    for node in reversed(g.nodes):
        if any(o in needed for o in node.output if o):
            keep.append(node)
            needed.update(i for i in node.input if i)
            for sub in subgraph_attrs(node):
                needed |= outer_names_used(sub)
    if len(keep) == len(g.nodes):
        return False
    g.set_nodes(keep[::-1])
    return True
