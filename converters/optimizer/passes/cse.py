"""Common-subexpression elimination."""
from __future__ import annotations

from ..graph import Graph, subgraph_attrs
from . import optimizer_pass

NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                    "Multinomial", "Bernoulli", "Dropout"}


@optimizer_pass("cse", "pre")
def common_subexpression_elimination(g: Graph) -> None:
    """Merge nodes with the same op, domain, inputs and attributes into the first of them."""
    changed = True
    while changed:
        changed = False
        seen: dict[tuple, object] = {}
        for node in list(g.nodes):
            if node.op_type in NONDETERMINISTIC or subgraph_attrs(node):
                continue
            attrs = tuple(sorted(a.SerializeToString(deterministic=True) for a in node.attribute))
            key = (node.domain, node.op_type, tuple(node.input), attrs, len(node.output))
            other = seen.get(key)
            if other is None:
                seen[key] = node
                continue
            ok = True
            for mine, theirs in zip(node.output, other.output):
                if mine and not theirs:
                    ok = False
            if not ok or any(o in g.protected for o in node.output if o) and \
                    any(o in g.protected for o in other.output if o):
                continue
            # replace node's outputs by other's; if node's are protected, rename other's into them
            done = True
            for mine, theirs in zip(node.output, other.output):
                if mine and not g.replace_output(mine, theirs):
                    done = False
            if done:
                g.remove_nodes([node])
                changed = True
                break
