"""Sequence and optional types. A sequence is a Python list of arrays; an empty optional is None."""
from __future__ import annotations

import numpy as np

from ..registry import op


def _position(pos, length, inserting=False):
    if pos is None:
        return length if inserting else length - 1
    pos = int(np.asarray(pos).reshape(-1)[0])
    return pos + length if pos < 0 else pos


@op("SequenceEmpty", since=11)
def sequence_empty(ctx):
    return []


@op("SequenceConstruct", since=11)
def sequence_construct(ctx, *tensors):
    return list(tensors)


@op("SequenceInsert", since=11)
def sequence_insert(ctx, seq, tensor, position=None):
    out = list(seq)
    out.insert(_position(position, len(out), inserting=True), tensor)
    return out


@op("SequenceAt", since=11)
def sequence_at(ctx, seq, position):
    return seq[_position(position, len(seq))]


@op("SequenceErase", since=11)
def sequence_erase(ctx, seq, position=None):
    out = list(seq)
    del out[_position(position, len(out))]
    return out


@op("SequenceLength", since=11)
def sequence_length(ctx, seq):
    return np.array(len(seq), dtype=np.int64)


@op("ConcatFromSequence", since=11)
def concat_from_sequence(ctx, seq):
    axis = ctx.attr("axis")
    if ctx.attr("new_axis", 0):
        return np.stack(seq, axis=axis)
    return np.concatenate(seq, axis=axis)


@op("SplitToSequence", since=11)
def split_to_sequence(ctx, x, split=None):
    axis = ctx.attr("axis", 0)
    axis = axis + x.ndim if axis < 0 else axis
    if split is None:
        parts = np.split(x, x.shape[axis], axis=axis)
        if not ctx.attr("keepdims", 1):
            parts = [np.squeeze(p, axis=axis) for p in parts]
        return parts
    sizes = np.asarray(split).reshape(-1)
    if (sizes < 0).any():
        # "'split' must contain only positive numbers" (the spec); onnxruntime refuses them too
        raise ValueError(f"SplitToSequence: negative split size in {sizes.tolist()}")
    if np.asarray(split).ndim == 0:
        size = int(sizes[0])
        sizes = [size] * (x.shape[axis] // size) + ([x.shape[axis] % size] if x.shape[axis] % size else [])
    bounds = np.cumsum(sizes)[:-1]
    return np.split(x, bounds, axis=axis)


@op("SequenceMap", since=17)
def sequence_map(ctx, seq, *others):
    names = ctx.subgraph_input_names("body")
    n_out = len(ctx.subgraph_output_names("body"))
    results: list[list] = [[] for _ in range(n_out)]
    for i in range(len(seq)):
        feeds = {names[0]: seq[i]}
        for name, other in zip(names[1:], others):
            feeds[name] = other[i] if isinstance(other, list) else other
        for k, value in enumerate(ctx.run_subgraph("body", feeds)):
            results[k].append(value)
    return tuple(results)


@op("Optional", since=15)
def optional(ctx, value=None):
    return value


@op("OptionalHasElement", since=15)
def optional_has_element(ctx, value=None):
    return np.array(value is not None)


@op("OptionalGetElement", since=15)
def optional_get_element(ctx, value):
    if value is None:
        raise ValueError("OptionalGetElement on an empty optional")
    return value
