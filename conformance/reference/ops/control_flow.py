"""Control flow: If, Loop, Scan. Subgraphs read outer-scope names through ctx.run_subgraph."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..registry import op


def _scalar_condition(value, what: str) -> bool:
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(f"{what} condition must hold one element, got shape {value.shape}")
    return bool(value.reshape(-1)[0])


@op("If")
def if_(ctx, cond):
    branch = "then_branch" if _scalar_condition(cond, "If") else "else_branch"
    return tuple(ctx.run_subgraph(branch, {}))


def _empty_like_output(ctx, attr_name, index):
    """An empty scan output of the body's declared element type (zero iterations)."""
    graph = ctx.attr(attr_name).graph
    tensor_type = graph.output[index].type.tensor_type
    dtype = dtypes.to_dtype(tensor_type.elem_type) if tensor_type.elem_type else np.float32
    dims = [d.dim_value if d.HasField("dim_value") else 0 for d in tensor_type.shape.dim]
    return np.zeros([0] + dims, dtype=ctx.float_dtype(dtype))


@op("Loop")
def loop(ctx, trip_count=None, cond=None, *carried):
    names = ctx.subgraph_input_names("body")
    n_carried = len(carried)
    n_outputs = len(ctx.subgraph_output_names("body"))
    n_scan = n_outputs - 1 - n_carried
    max_trips = None if trip_count is None else int(np.asarray(trip_count).reshape(-1)[0])
    keep_going = True if cond is None else _scalar_condition(cond, "Loop")
    state = list(carried)
    scans: list[list] = [[] for _ in range(n_scan)]
    i = 0
    while keep_going and (max_trips is None or i < max_trips):
        feeds = {names[0]: np.array(i, dtype=np.int64), names[1]: np.array(keep_going, dtype=bool)}
        feeds.update(zip(names[2:], state))
        outputs = ctx.run_subgraph("body", feeds)
        keep_going = _scalar_condition(outputs[0], "Loop body") if outputs[0] is not None else keep_going
        state = list(outputs[1:1 + n_carried])
        for k in range(n_scan):
            scans[k].append(outputs[1 + n_carried + k])
        i += 1
    stacked = []
    for k in range(n_scan):
        if scans[k]:
            stacked.append(np.stack([np.asarray(v) for v in scans[k]]))
        else:
            stacked.append(_empty_like_output(ctx, "body", 1 + n_carried + k))
    return tuple(state + stacked)


def _scan_run(ctx, states, scan_inputs):
    """One Scan over scan_inputs (lists of arrays, without a batch axis)."""
    n_scan_in = len(scan_inputs)
    in_dirs = ctx.attr("scan_input_directions") or [0] * n_scan_in
    in_axes = ctx.attr("scan_input_axes") or [0] * n_scan_in
    names = ctx.subgraph_input_names("body")
    n_state = len(states)
    n_scan_out = len(ctx.subgraph_output_names("body")) - n_state
    out_dirs = ctx.attr("scan_output_directions") or [0] * n_scan_out
    out_axes = ctx.attr("scan_output_axes") or [0] * n_scan_out
    moved = []
    for x, axis, direction in zip(scan_inputs, in_axes, in_dirs):
        x = np.moveaxis(x, axis + x.ndim if axis < 0 else axis, 0)
        moved.append(x[::-1] if direction else x)
    steps = moved[0].shape[0] if moved else 0
    collected: list[list] = [[] for _ in range(n_scan_out)]
    for t in range(steps):
        feeds = dict(zip(names[:n_state], states))
        feeds.update({name: x[t] for name, x in zip(names[n_state:], moved)})
        outputs = ctx.run_subgraph("body", feeds)
        states = outputs[:n_state]
        for k in range(n_scan_out):
            collected[k].append(outputs[n_state + k])
    results = []
    for k in range(n_scan_out):
        if collected[k]:
            y = np.stack(collected[k])
        else:
            y = _empty_like_output(ctx, "body", n_state + k)
        if out_dirs[k]:
            y = y[::-1]
        axis = out_axes[k]
        axis = axis + y.ndim if axis < 0 else axis
        results.append(np.moveaxis(y, 0, axis))
    return list(states), results


@op("Scan", since=9)
def scan(ctx, *inputs):
    n_scan_in = ctx.attr("num_scan_inputs")
    states, scan_inputs = list(inputs[: len(inputs) - n_scan_in]), list(inputs[len(inputs) - n_scan_in:])
    states, results = _scan_run(ctx, states, scan_inputs)
    return tuple(states + results)


@op("Scan", since=8)
def scan_8(ctx, sequence_lens, *inputs):
    """Opset 8: a leading batch axis on every input and output, scan axis 1."""
    n_scan_in = ctx.attr("num_scan_inputs")
    n_state = len(inputs) - n_scan_in
    batch = inputs[0].shape[0]
    per_batch_states, per_batch_scans = [], []
    for b in range(batch):
        states = [x[b] for x in inputs[:n_state]]
        scans = [x[b] for x in inputs[n_state:]]
        if sequence_lens is not None:
            scans = [x[: int(sequence_lens[b])] for x in scans]
        s, r = _scan_run(ctx, states, scans)
        per_batch_states.append(s)
        per_batch_scans.append(r)
    states = [np.stack([s[k] for s in per_batch_states]) for k in range(n_state)]
    scans = [np.stack([r[k] for r in per_batch_scans]) for k in range(len(per_batch_scans[0]))]
    return tuple(states + scans)
