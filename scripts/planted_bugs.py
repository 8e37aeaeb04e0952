"""Small planted bugs of the kinds converters make, for the sensitivity half of
``scripts/false_alarms.py``: each mutation takes a model (and its tensors' values, to find
same-shaped tensors and changes that change something) and returns a changed copy, or None when
the model has nothing it applies to. One function per kind, registered in ``MUTATIONS``.

Where a kind has several candidate nodes it takes a deterministic one away from the input (the
middle or the last), so that the change is not amplified by every layer after it."""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import onnx
from onnx import helper, numpy_helper

Mutation = Callable[[onnx.ModelProto, dict], "onnx.ModelProto | None"]
MUTATIONS: dict[str, Mutation] = {}


def mutation(name: str):
    def register(fn: Mutation) -> Mutation:
        MUTATIONS[name] = fn
        return fn
    return register


def _attr(node, name):
    for a in node.attribute:
        if a.name == name:
            return a
    return None


def _set_attr(node, name, value):
    old = _attr(node, name)
    if old is not None:
        node.attribute.remove(old)
    node.attribute.append(helper.make_attribute(name, value))


def _graph_outputs(model):
    return {o.name for o in model.graph.output}


@mutation("attribute off by one")
def attribute_off_by_one(model, values):
    """A pad moved from the start to the end of an axis (SAME_UPPER for SAME_LOWER), Softmax
    over the wrong axis, or GRU's linear_before_reset flipped: the last node it applies to."""
    m = copy.deepcopy(model)
    for node in reversed(m.graph.node):
        pads = _attr(node, "pads")
        if node.op_type in ("Conv", "MaxPool", "AveragePool") and pads is not None:
            p = list(pads.ints)
            half = len(p) // 2
            for axis in range(half):
                if p[axis] > 0:
                    p[axis] -= 1
                    p[axis + half] += 1
                    _set_attr(node, "pads", p)
                    return m
        if node.op_type == "Softmax" and values[node.output[0]].ndim >= 2:
            shape = values[node.output[0]].shape
            if shape[-1] == shape[-2]:          # -2 keeps the shape: only the values change
                _set_attr(node, "axis", -2)
                return m
        if node.op_type == "GRU":
            lbr = _attr(node, "linear_before_reset")
            _set_attr(node, "linear_before_reset", 1 - (lbr.i if lbr is not None else 0))
            return m
    return None


_WRONG_OP = {"Relu": "LeakyRelu", "Sigmoid": "HardSigmoid", "Tanh": "Softsign", "Softmax": "LogSoftmax"}


@mutation("wrong op type")
def wrong_op_type(model, values):
    """The last activation mapped to a near relative (Relu -> LeakyRelu, Clip(0, 6) -> Relu,
    Sigmoid -> HardSigmoid ...), or an RNN's gate activation so replaced; in a model with none
    that changes anything on these inputs, the last Add made a Sub."""
    m = copy.deepcopy(model)
    for node in reversed(m.graph.node):
        if node.op_type in ("Relu", "Clip") and not _acts_on(values, node, node.op_type == "Clip"):
            continue                            # nothing to clip here: the swap would change nothing
        if node.op_type in _WRONG_OP:
            node.op_type = _WRONG_OP[node.op_type]     # their attributes (Softmax's axis) carry over
            return m
        if node.op_type == "Clip":
            node.op_type, node.input[:] = "Relu", [node.input[0]]
            return m
        if node.op_type in ("LSTM", "GRU"):
            acts = _attr(node, "activations")
            direction = _attr(node, "direction")
            per_direction = ["Sigmoid", "Tanh", "Tanh"] if node.op_type == "LSTM" else ["Sigmoid", "Tanh"]
            current = [s.decode() for s in acts.strings] if acts is not None else \
                per_direction * (2 if direction is not None and direction.s == b"bidirectional" else 1)
            current[0] = "HardSigmoid"
            _set_attr(node, "activations", current)
            return m
    for node in reversed(m.graph.node):        # no activation to swap: a residual Add made a Sub
        if node.op_type == "Add" and np.any(values.get(node.input[1], 0) != 0):
            node.op_type = "Sub"
            return m
    return None


def _acts_on(values, node, from_above: bool) -> bool:
    """Whether a Relu/Clip changes any of its input values on these inputs (a Clip swapped for
    a Relu: whether it clips any from above)."""
    before, after = values.get(node.input[0]), values.get(node.output[0])
    if not isinstance(before, np.ndarray):
        return False
    return bool(np.any(before > after)) if from_above else not np.array_equal(before, after)


def _weights(model):
    """(node, input index, initializer) of every float weight of ndim >= 2, in graph order."""
    inits = {i.name: i for i in model.graph.initializer}
    found = []
    for node in model.graph.node:
        for k, name in enumerate(node.input):
            if name in inits and inits[name].data_type == onnx.TensorProto.FLOAT and len(inits[name].dims) >= 2:
                found.append((node, k, inits[name]))
    return found


def _replace_initializer(model, init, array):
    init.CopyFrom(numpy_helper.from_array(array.astype(np.float32), init.name))
    return model


@mutation("weight off by 1%")
def weight_off_by_one_percent(model, values):
    """The first weight tensor of the model scaled by 1.01 (a scale folded twice, a BatchNorm
    epsilon applied to the weights): the first, since every path of the model goes through it
    (a middle one may sit on a branch whose share of the output is tiny)."""
    m = copy.deepcopy(model)
    weights = _weights(m)
    if not weights:
        return None
    _, _, init = weights[0]
    return _replace_initializer(m, init, numpy_helper.to_array(init) * 1.01)


@mutation("weights in the wrong layout")
def wrong_layout(model, values):
    """The first weight in another layout: a square MatMul/Gemm weight transposed, a conv
    kernel flipped (correlation for convolution), an RNN's gate blocks in another order."""
    m = copy.deepcopy(model)
    candidates = []
    for node, k, init in _weights(m):
        w = numpy_helper.to_array(init)
        if node.op_type in ("LSTM", "GRU") and k in (1, 2):
            gates = 4 if node.op_type == "LSTM" else 3
            blocks = np.split(w, gates, axis=1)           # W/R: [directions, gates*hidden, in]
            candidates.append((init, np.concatenate([blocks[1], blocks[0], *blocks[2:]], axis=1)))
        elif node.op_type in ("MatMul", "Gemm") and w.ndim == 2 and w.shape[0] == w.shape[1]:
            candidates.append((init, w.T))
        elif node.op_type == "Conv" and w.ndim == 4 and w.shape[2] > 1:
            candidates.append((init, w[:, :, ::-1, ::-1]))
    if not candidates:
        return None
    init, array = candidates[0]
    return _replace_initializer(m, init, np.ascontiguousarray(array))


def _producers(model):
    order = {}
    for i, node in enumerate(model.graph.node):
        for out in node.output:
            order[out] = i
    return order


def _same_kind(a, b) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype


@mutation("miswired input")
def miswired_input(model, values):
    """The last node that can be so changed reads another tensor of the same shape and dtype,
    computed earlier, instead of its own (a skip connection taken from the wrong layer)."""
    m = copy.deepcopy(model)
    made_at = _producers(m)
    inits = {i.name for i in m.graph.initializer}
    for index in range(len(m.graph.node) - 1, -1, -1):
        node = m.graph.node[index]
        for k, name in enumerate(node.input):
            if name not in made_at or name in inits or not isinstance(values[name], np.ndarray) \
                    or values[name].size < 2:
                continue
            for other, at in sorted(made_at.items(), key=lambda item: -item[1]):
                if at < made_at[name] and _same_kind(values[other], values[name]) \
                        and not np.array_equal(values[other], values[name]):
                    node.input[k] = other
                    return m
    return None


@mutation("dropped node")
def dropped_node(model, values):
    """The last node whose output has its first input's shape and dtype and other values
    (an activation, a BatchNorm, a residual Add) left out: its readers read its input."""
    m = copy.deepcopy(model)
    outputs = _graph_outputs(m)
    for index in range(len(m.graph.node) - 1, -1, -1):
        node = m.graph.node[index]
        if not node.input or not node.output or node.output[0] in outputs or node.input[0] not in values:
            continue
        before, after = values[node.input[0]], values.get(node.output[0])
        if _same_kind(before, after) and not np.array_equal(before, after):
            for reader in m.graph.node:
                reader.input[:] = [node.input[0] if i == node.output[0] else i for i in reader.input]
            m.graph.node.remove(node)
            return m
    return None
