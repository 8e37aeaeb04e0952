"""Common-subexpression elimination."""
from __future__ import annotations

from ..graph import Graph, subgraph_attrs
from . import UNTIL_STABLE, rewrite_pass

NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                    "Multinomial", "Bernoulli", "Dropout"}


@rewrite_pass("cse", at={"pre": 30, "core": 90}, max_sweeps=UNTIL_STABLE)
def common_subexpression_elimination(g: Graph) -> bool:
    """Merge nodes with the same op, domain, inputs and attributes into the first of them."""
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
        if _merge_into(g, node, other):
            return True
    return False


def _merge_into(g: Graph, node, other) -> bool:
    """Replace ``node``'s outputs by ``other``'s (renaming ``other``'s into them if ``node``'s are
    protected) and drop ``node``; False when that is not possible."""
    for mine, theirs in zip(node.output, other.output):
        if mine and not theirs:
            return False
    if any(o in g.protected for o in node.output if o) and any(o in g.protected for o in other.output if o):
        return False
    done = True
    for mine, theirs in zip(node.output, other.output):
        if mine and not g.replace_output(mine, theirs):
            done = False
    if done:
        g.remove_nodes([node])
    return done
