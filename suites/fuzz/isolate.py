"""The cheapest reduction: one node of a failing graph alone, reading fresh inputs of the types
its arguments had. Tried before Hypothesis's shrink (hundreds of checks): most findings are one
op's bug, and a node alone is found in at most two checks per node (its fresh inputs plain, then
with corner values, or the other way round when the failing inputs held NaN, Inf or extremes)."""
from __future__ import annotations

from typing import Callable, Iterator

from .abstract import default_corners


def _fresh_spec(t: dict, corner: bool) -> dict:
    """A graph input of the declared type ``t`` (shape, dtype, free axes)."""
    dtype = t["dtype"]
    corners = [] if dtype == "bool" else list(default_corners(dtype))
    return {"shape": list(t["shape"]), "dtype": dtype, "domain": "bool" if dtype == "bool" else "normal",
            "free": list(t.get("free") or []), "corners": corners, "corner": bool(corner and corners)}


def alone(graph: dict, j: int, corner: bool) -> dict:
    """Node ``j`` of ``graph`` alone: an argument that was a graph input stays that input (its
    value domain matters to the op), one that was a node output becomes a fresh input."""
    n_in, node = len(graph["inputs"]), graph["nodes"][j]
    inputs, ids = [], {}
    for a in node["args"]:
        if a not in ids:
            ids[a] = len(inputs)
            inputs.append(graph["inputs"][a] if a < n_in else _fresh_spec(graph["nodes"][a - n_in]["out"], corner))
    out = {**node, "args": [ids[a] for a in node["args"]]}
    return {**graph, "inputs": inputs, "nodes": [out], "outputs": [len(inputs)]}


def _order(graph: dict, blamed: list) -> list[int]:
    """The nodes to try: those of a blamed source op first (last first), then the rest, last first."""
    ops = {b.split(":", 1)[1] for b in blamed if b.startswith("source:")}
    last_first = list(range(len(graph["nodes"]) - 1, -1, -1))
    return [j for j in last_first if graph["nodes"][j]["op"] in ops] + \
        [j for j in last_first if graph["nodes"][j]["op"] not in ops]


def candidates(graph: dict, blamed: list, special_values: bool) -> Iterator[dict]:
    for j in _order(graph, blamed):
        for corner in ((True, False) if special_values else (False, True)):
            yield alone(graph, j, corner)


def isolate(graph: dict, failure, check: Callable, special_values: bool):
    """(a one-node graph, its failure) of the same symptom in the same component and not another
    bug the graph also had, or None. ``check(graph) -> Evaluation``."""
    if len(graph["nodes"]) <= 1:
        return None
    others = {f.signature for f in check(graph).failures} - {failure.signature}
    for small in candidates(graph, getattr(failure, "blamed", []) or [], special_values):
        same = [f for f in check(small).failures if (f.symptom, f.component) == (failure.symptom, failure.component)
                and f.signature not in others]
        if same:
            return small, next((f for f in same if f.signature == failure.signature), same[0])
    return None
