"""A Hypothesis strategy of random graphs, valid by construction: the batch sizes and the node
count are drawn first, then per node an op and its ``Drawn`` (which reuses a graph value or
takes a fresh input); nothing is filtered, so every shrunk draw is a valid graph too.

A graph is plain JSON-able data::

    {"inputs": [{"shape", "dtype", "domain", "free": [axes], "corner": bool, "corners": [...], ...}],
     "nodes": [{"op", "args": [value ids], "attrs", "out": {"shape", "dtype", "free"}, "item"?}],
     "outputs": [value ids],
     "batch": [B, B2]}                    # the free axes' size at export and at the second run

Values are numbered inputs first, then node outputs, each in creation order.
"""
from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import strategies as st

from . import ops, ops_more, ops_nn  # noqa: F401 - register the abstract ops (simple ones first)
from . import control  # noqa: F401,I001 - control-flow structures last (the most complex)
from .abstract import REGISTRY, Context, Fresh, TensorType

CORNER_SHARE = Fraction(1, 3)
# The ops are drawn uniformly by a Random seeded with one drawn integer per graph:
# ``sampled_from`` and any ``integers`` over-draw the first choice and boundary values (neg was
# 22-37% of all nodes). The seed replays; shrinking moves it towards 0, where every node takes
# the first registered (plain unary) op, and removes nodes, so a shrunk graph is still simple.
OP_SEED = st.integers(0, 2 ** 32 - 1)


def available(framework: str, only: list[str] | None = None, exclude: list[str] | None = None) -> list[str]:
    """The abstract ops drawn for ``framework``: those whose table entry has a call for it."""
    for names in (only or [], exclude or []):
        unknown = sorted(set(names) - set(REGISTRY))
        if unknown:
            raise KeyError(f"unknown fuzz op(s): {', '.join(unknown)}")
    names = [n for n, a in REGISTRY.items() if framework in a.frameworks()]
    if only:
        names = [n for n in names if n in only]
    return [n for n in names if n not in (exclude or [])]


def corner_choices(share) -> tuple:
    """A tuple whose share of True is ``share`` (False first: shrinking prefers plain values)."""
    share = Fraction(share).limit_denominator(100)
    return (False,) * (share.denominator - share.numerator) + (True,) * share.numerator


def _type_dict(t: TensorType) -> dict:
    return {"shape": list(t.shape), "dtype": t.dtype, "free": list(t.free)}


def _input_spec(f: Fresh) -> dict:
    spec = {"shape": list(f.type.shape), "dtype": f.type.dtype, "domain": "normal", "free": list(f.type.free)}
    spec.update(f.domain)
    spec["corner"] = bool(f.corner)
    return spec


def _node_dict(op: str, args: list, attrs: dict, out: TensorType, item: int | None) -> dict:
    node = {"op": op, "args": args, "attrs": attrs, "out": _type_dict(out)}
    if item is not None:
        node["item"] = item
    return node


def assemble(steps: list, batch: tuple | None = None) -> dict:
    """``[(op, Drawn)]`` whose args index the growing list of values (Fresh arguments are
    appended as they come) -> the graph dict, inputs renumbered first."""
    inputs, kinds = [], []              # kinds[v] = ("in", k) | ("node", j)
    nodes = []
    for op, d in steps:
        args = []
        for a in d.args:
            if isinstance(a, Fresh):
                kinds.append(("in", len(inputs)))
                inputs.append(_input_spec(a))
                a = len(kinds) - 1
            args.append(a)
        nodes.append((op, args, d.attrs, d.output, d.item))
        kinds.append(("node", len(nodes) - 1))
    n_in = len(inputs)
    ids = [k if kind == "in" else n_in + k for kind, k in kinds]
    read = {ids[a] for _, args, _, _, _ in nodes for a in args}
    out_nodes = [_node_dict(op, [ids[a] for a in args], attrs, out, item) for op, args, attrs, out, item in nodes]
    outputs = [n_in + j for j in range(len(nodes)) if n_in + j not in read]
    graph = {"inputs": inputs, "nodes": out_nodes, "outputs": outputs}
    if batch is not None:
        graph["batch"] = list(batch)
    return graph


def types(graph: dict, declared: list[TensorType]) -> list[TensorType]:
    """The value types of a graph: its inputs' then the ``declared`` node outputs'."""
    return [TensorType(tuple(s["shape"]), s["dtype"], tuple(s.get("free", ()))) for s in graph["inputs"]] + list(declared)


@st.composite
def contexts(draw, framework: str = "torch", corner_share=CORNER_SHARE):
    batch = draw(st.integers(2, 4))
    batch2 = draw(st.sampled_from([batch + 1, 1, batch + 3, batch - 1]))
    return Context(framework, batch, batch2, corner_choices(corner_share))


@st.composite
def graphs_with_types(draw, framework: str = "torch", max_nodes: int = 8, only: list[str] | None = None,
                      corner_share=CORNER_SHARE, exclude: list[str] | None = None):
    """(graph, declared output type per node)."""
    names = available(framework, only, exclude)
    ctx = draw(contexts(framework, corner_share))
    count = draw(st.integers(1, max_nodes))
    op_seed = draw(OP_SEED)
    pick_op = random.Random(op_seed)
    values: list[TensorType] = []
    steps = []
    for _ in range(count):
        op = names[pick_op.randrange(len(names))] if op_seed else names[0]
        d = REGISTRY[op].draw(draw, values, ctx)
        for a in d.args:
            if isinstance(a, Fresh):
                values.append(a.type)
        values.append(d.output)
        steps.append((op, d))
    # Fresh args were appended to ``values`` in the same order ``assemble`` numbers them
    return assemble(steps, (ctx.batch, ctx.batch2)), [d.output for _, d in steps]


def graphs(framework: str = "torch", max_nodes: int = 8, only: list[str] | None = None, corner_share=CORNER_SHARE,
           exclude: list[str] | None = None):
    return graphs_with_types(framework, max_nodes, only, corner_share, exclude).map(lambda pair: pair[0])


def without_node(graph: dict, j: int) -> dict | None:
    """The graph with node ``j`` removed, or None when another node reads its output; inputs
    no node reads any more are removed too, and values renumbered (still valid by construction)."""
    n_in = len(graph["inputs"])
    if any(n_in + j in node["args"] for node in graph["nodes"]):
        return None
    nodes = [n for k, n in enumerate(graph["nodes"]) if k != j]
    used = sorted({a for n in nodes for a in n["args"] if a < n_in})
    new_id = {old: new for new, old in enumerate(used)}
    for k in range(len(graph["nodes"])):
        if k != j:
            new_id[n_in + k] = len(used) + k - (k > j)
    nodes = [{**n, "args": [new_id[a] for a in n["args"]]} for n in nodes]
    read = {a for n in nodes for a in n["args"]}
    outputs = [len(used) + k for k in range(len(nodes)) if len(used) + k not in read]
    return {**graph, "inputs": [graph["inputs"][i] for i in used], "nodes": nodes, "outputs": outputs}
