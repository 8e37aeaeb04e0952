"""Two cheap metamorphic oracles on a converted model, besides the source framework's outputs.

* ``optimization_difference``: onnxruntime with all graph optimizations against none
  (``onnxruntime`` vs ``onnxruntime-basic``) on the same inputs: a difference is onnxruntime's
  optimizer's.
* ``split_difference``: one run at batch ``SPLIT_BATCH`` against ``SPLIT_BATCH`` runs at batch 1,
  row by row, where ``batch_independent(graph)`` says row i of every output depends on row i of
  the inputs only. Run on the target under test and on the reference executor: a target that
  breaks the relation where the reference keeps it is wrong.

Both take a ``run(input_sets) -> outputs per set`` callable (the target's prepared session), so
they run on any target and a planted bug can be fed in.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from conformance.comparator import compare_outputs
from conformance.tolerance import resolve_tolerance

from . import program

SPLIT_BATCH = 3
# attributes naming axes: a batch-independent graph never operates along axis 0
AXIS_KEYS = ("axis", "axes", "dim", "dims", "start", "end")
CONTROL = ("loop", "cond")         # structure nodes (suites/fuzz/control.py): their bodies hold more nodes

Run = Callable[[list], list]


def _free(t: dict) -> tuple:
    return tuple(t.get("free") or ())


def _axis_values(attrs: dict) -> Iterable:
    for key in AXIS_KEYS:
        if key not in attrs:
            continue
        value = attrs[key]
        yield from (value if isinstance(value, (list, tuple)) else [value])


def _touches_axis0(attrs: dict, rank: int) -> bool:
    """Does an axis attribute name axis 0 (None: every axis)?"""
    return any(a is None or (isinstance(a, int) and a % max(rank, 1) == 0) for a in _axis_values(attrs))


def batch_independent(graph: dict) -> bool:
    """Row i of every output depends on row i of the free inputs alone: the batch is axis 0 of
    every free value, no node reads a free value along axis 0 (reductions, softmax, cumsum, flip,
    roll, gather, concat ...) or moves the batch off axis 0, and a value without the batch stays
    without it. Conservative: a graph it cannot vouch for is left out."""
    if not program.has_free(graph):
        return False
    types = [{"shape": s["shape"], "free": s.get("free") or []} for s in graph["inputs"]]
    if any(_free(t) not in ((), (0,)) for t in types):
        return False
    for node in graph["nodes"]:
        out = node.get("out")
        if out is None or node["op"] in CONTROL:      # a loop or cond body: not looked into
            return False
        args = [types[a] for a in node["args"]]
        batched = any(_free(t) for t in args)
        if batched and (_free(out) != (0,) or any(_free(t) not in ((), (0,)) for t in args)
                        or _touches_axis0(node.get("attrs") or {}, len(args[0]["shape"]))):
            return False
        if not batched and _free(out):
            return False
        types.append(out)
    return True


def split_inputs(graph: dict, seed: int) -> list[list[np.ndarray]]:
    """[the inputs at batch SPLIT_BATCH, then row i of them for each i] (inputs without the
    batch are the same in every set)."""
    whole = program.arrays([program.at_batch(s, SPLIT_BATCH) for s in graph["inputs"]], seed)
    rows = [[x[i:i + 1] if s.get("free") else x for s, x in zip(graph["inputs"], whole)]
            for i in range(SPLIT_BATCH)]
    return [whole] + rows


def _tolerances(arrays, tolerance: dict) -> list:
    return [resolve_tolerance(np.asarray(a).dtype, None, tolerance) for a in arrays]


def first_difference(got: list, want: list, tolerance: dict) -> tuple[int, str] | None:
    """(the index of the first output that differs, the comparison's message), or None."""
    for k, (g, w) in enumerate(zip(got, want)):
        cmp = compare_outputs([g], [w], _tolerances([w], tolerance))
        if not cmp.passed:
            return k, cmp.message.split("\n")[0]
    if len(got) != len(want):
        return min(len(got), len(want)), f"output count {len(got)} != {len(want)}"
    return None


def split_difference(run: Run, graph: dict, seed: int, tolerance: dict) -> tuple[int, str] | None:
    """(output index, message) where the batch run differs from the row runs, or None."""
    sets = split_inputs(graph, seed)
    outs = run(sets)
    n_in = len(graph["inputs"])
    frees = [_free(graph["nodes"][o - n_in]["out"]) for o in graph["outputs"]]
    for i in range(SPLIT_BATCH):
        whole_row = [np.asarray(y)[i:i + 1] if f else np.asarray(y) for y, f in zip(outs[0], frees)]
        diff = first_difference(outs[1 + i], whole_row, tolerance)
        if diff is not None:
            return diff[0], (f"batch-{SPLIT_BATCH} run differs from {SPLIT_BATCH} batch-1 runs at row {i} of output "
                             f"{diff[0]}: {diff[1]}")
    return None


def optimization_difference(run_all: Run, run_none: Run, sets: list, tolerance: dict) -> tuple[int, str] | None:
    """(output index, message) where onnxruntime with all graph optimizations differs from
    onnxruntime with none on the same input sets, or None."""
    for i, (opt, plain) in enumerate(zip(run_all(sets), run_none(sets))):
        diff = first_difference(opt, plain, tolerance)
        if diff is not None:
            return diff[0], (f"onnxruntime with all graph optimizations differs from none on input set {i}, "
                             f"output {diff[0]}: {diff[1]}")
    return None


def producer(onnx_bytes: bytes, output: int) -> str:
    """The op type of the node writing the model's ``output``-th output ('' if an input)."""
    import onnx
    graph = onnx.load_from_string(onnx_bytes).graph
    if output >= len(graph.output):
        return ""
    name = graph.output[output].name
    return next((n.op_type for n in graph.node if name in n.output), "")
