"""Transpose sinking: move a Transpose below the op that reads it so that it meets another
Transpose (merged and, when inverse, cancelled by ``simplify``) or vanishes into the op
(reductions, MatMul batch axes). ``simplify`` runs after it, as part of it, to collapse the pairs
it creates. One function per op family, registered in ``SINKS`` by op type."""
from __future__ import annotations

from typing import Callable

import numpy as np
import onnx
from onnx import helper

from ..graph import DEFAULT_DOMAINS, Graph, get_attr, set_attr
from . import op_rule_registrar, rewrite_pass

UNARY = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Log", "Abs", "Neg", "Sqrt", "Reciprocal", "Erf",
         "Cast", "Clip", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Elu", "Selu", "Celu", "Gelu",
         "Not", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Mish", "ThresholdedRelu", "IsNaN", "IsInf"}
BINARY = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual",
          "GreaterOrEqual", "And", "Or", "Xor", "Mod", "PRelu", "BitShift"}
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}
#: reductions whose axes moved from attribute to input, and the opset that did it
AXES_AS_INPUT = {"ReduceSum": 13}
#: the most sinking steps in one run (a guard against rewrites that undo each other)
MAX_SINKS = 1000

#: op type -> ``sink(graph, node) -> bool`` that moves the Transpose(s) ``node`` reads below it
SINKS: dict[str, Callable[[Graph, onnx.NodeProto], bool]] = {}

sinks = op_rule_registrar(SINKS)


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def _transpose_input(g: Graph, name: str):
    """(x, perm) if ``name`` comes from a Transpose that nothing else reads."""
    prod = g.producer.get(name)
    if not prod or prod[0].op_type != "Transpose" or prod[0].domain not in DEFAULT_DOMAINS:
        return None
    perm = get_attr(prod[0], "perm")
    if perm is None or name in g.protected:
        return None
    return prod[0], list(perm)


def _sink(g: Graph, t: onnx.NodeProto, node: onnx.NodeProto, perm, new_inputs, out_index: int = 0) -> None:
    """Rewrite ``t -> node`` as ``node' -> t``: node reads ``new_inputs``, t transposes node's output."""
    out = node.output[out_index]
    inner = g.fresh(out + "_pre_transpose")
    src = g.shapes.get(out)
    if src is not None:
        g.shapes[inner] = tuple(src[i] for i in _inverse(perm))
    if out in g.types:
        g.types[inner] = g.types[out]
    new_t = helper.make_node("Transpose", [inner], [out], perm=list(perm), name=g.fresh_node_name((t.name or "t") + "_sunk"))
    with g.batch():
        g.set_inputs(node, new_inputs)
        g.set_output(node, out_index, inner)
        g.insert_after(node, [new_t])
    g.drop_if_dead(t)


def _reduce_axes(g: Graph, node):
    if g.opset >= AXES_AS_INPUT.get(node.op_type, 18):
        if len(node.input) < 2 or not node.input[1]:
            return None
        a = g.const(node.input[1])
        return None if a is None else [int(v) for v in a.reshape(-1)]
    a = get_attr(node, "axes")
    return None if a is None else list(a)


def _group_dims(ys, zs):
    """Pair contiguous runs of ``ys`` and ``zs`` with equal products: [(y_indices, z_indices)]."""
    groups, i, j = [], 0, 0
    while i < len(ys) or j < len(zs):
        if i < len(ys) and ys[i] == 1:          # size-1 dims pair with nothing
            groups.append(([i], [])); i += 1
            continue
        if j < len(zs) and zs[j] == 1:
            groups.append(([], [j])); j += 1
            continue
        if i >= len(ys) or j >= len(zs):
            return None
        yi, zj = [i], [j]
        py, pz = ys[i], zs[j]
        i, j = i + 1, j + 1
        while py != pz:
            if py < pz:
                if i >= len(ys):
                    return None
                py *= ys[i]; yi.append(i); i += 1
            else:
                if j >= len(zs):
                    return None
                pz *= zs[j]; zj.append(j); j += 1
        groups.append((yi, zj))
    return groups


@sinks("Reshape")
def _sink_through_reshape(g: Graph, node: onnx.NodeProto) -> bool:
    """Transpose(p) -> Reshape(Z) becomes Reshape(X') -> Transpose(q) when the reshape only splits
    dims or merges dims that are also adjacent, in order, before the transpose."""
    got = _transpose_input(g, node.input[0])
    if got is None or len(g.consumers[node.input[0]]) != 1:
        return False
    t, perm = got
    xs = g.static_shape(t.input[0])
    zs = g.static_shape(node.output[0])
    if xs is None or zs is None or 0 in xs or 0 in zs:
        return False
    ys = [xs[p] for p in perm]
    groups = _group_dims(ys, list(zs))
    if groups is None:
        return False
    # for each source dim (in x order): the output dims it becomes
    parts: dict[int, list[int]] = {}
    loose = []
    for yi, zj in groups:
        if not yi:
            loose.extend(zj)
        elif len(yi) == 1:
            parts[perm[yi[0]]] = zj
        elif len(zj) == 1:
            src = [perm[k] for k in yi]
            if src != list(range(src[0], src[0] + len(src))):
                return False
            parts[src[0]] = zj
            for k in src[1:]:
                parts[k] = []
        else:
            return False
    new_shape, order = [], []
    for k in range(len(xs)):
        for z in parts[k]:
            new_shape.append(zs[z])
            order.append(z)
    for z in loose:
        new_shape.append(1)
        order.append(z)
    q = [order.index(z) for z in range(len(zs))]
    shape_name = g.add_init(np.array(new_shape, dtype=np.int64), node.input[1])
    out = node.output[0]
    inner = g.fresh(out + "_pre_transpose")
    g.shapes[inner] = tuple(new_shape)
    if out in g.types:
        g.types[inner] = g.types[out]
    new_t = helper.make_node("Transpose", [inner], [out], perm=q, name=g.fresh_node_name((t.name or "t") + "_sunk"))
    with g.batch():
        g.set_inputs(node, [t.input[0], shape_name] + list(node.input[2:]))
        g.set_output(node, 0, inner)
        g.insert_after(node, [new_t])
    g.drop_if_dead(t)
    return True


def _sole_transpose_input(g: Graph, node: onnx.NodeProto):
    """(t, perm) when ``node``'s first input comes from a Transpose read by ``node`` only."""
    got = _transpose_input(g, node.input[0])
    if got is None or len(g.consumers[node.input[0]]) != 1:
        return None
    return got


def _keep_or_sink_smaller(g: Graph, t, node, remaining, new_inputs) -> None:
    """``node`` (reading ``t``'s input now) dropped axes: the axes ``remaining`` of ``t``'s output
    are either in order (no Transpose needed) or need a smaller Transpose after ``node``."""
    order = sorted(remaining)
    small = [order.index(r) for r in remaining]
    if small == list(range(len(small))):
        g.set_input(node, 0, t.input[0])
        g.drop_if_dead(t)
    else:
        _sink(g, t, node, small, new_inputs)


@sinks(*UNARY)
def _sink_unary(g: Graph, node: onnx.NodeProto) -> bool:
    got = _sole_transpose_input(g, node)
    if got is None:
        return False
    t, perm = got
    _sink(g, t, node, perm, [t.input[0]] + list(node.input[1:]))
    return True


@sinks(*BINARY)
def _sink_binary(g: Graph, node: onnx.NodeProto) -> bool:
    """Both inputs transposed alike, or one transposed and the other a constant (transposed back)."""
    if len(node.input) != 2:
        return False
    a, b = node.input
    ta, tb = _transpose_input(g, a), _transpose_input(g, b)
    if ta and tb and ta[1] == tb[1] and (a == b or (len(g.consumers[a]) == 1 and len(g.consumers[b]) == 1)):
        _sink(g, ta[0], node, ta[1], [ta[0].input[0], tb[0].input[0]])
        if tb[0] is not ta[0]:
            g.drop_if_dead(tb[0])
        return True
    for pos, got in ((0, ta), (1, tb)):
        if not got or len(g.consumers[node.input[pos]]) != 1:
            continue
        c = g.const(node.input[1 - pos])
        t, perm = got
        if c is None or c.ndim > len(perm) or (node.op_type == "PRelu" and pos == 1):
            continue
        full = c.reshape((1,) * (len(perm) - c.ndim) + c.shape)
        cname = g.add_init(np.ascontiguousarray(full.transpose(_inverse(perm))), node.input[1 - pos])
        ins = [t.input[0], cname] if pos == 0 else [cname, t.input[0]]
        _sink(g, t, node, perm, ins)
        return True
    return False


@sinks(*REDUCE)
def _sink_reduce(g: Graph, node: onnx.NodeProto) -> bool:
    got = _transpose_input(g, node.input[0])
    axes = _reduce_axes(g, node)
    if got is None or axes is None or not axes or len(g.consumers[node.input[0]]) != 1:
        return False
    t, perm = got
    rank = len(perm)
    axes = sorted(a % rank for a in axes)
    new_axes = sorted(perm[a] for a in axes)
    x = t.input[0]
    if g.opset >= AXES_AS_INPUT.get(node.op_type, 18):
        g.set_input(node, 1, g.add_init(np.array(new_axes, dtype=np.int64), node.input[1]))
    else:
        set_attr(node, "axes", new_axes)
    if get_attr(node, "keepdims", 1):
        _sink(g, t, node, perm, [x] + list(node.input[1:]))
    else:
        _keep_or_sink_smaller(g, t, node, [perm[i] for i in range(rank) if i not in axes], [x] + list(node.input[1:]))
    return True


@sinks("Gather")
def _sink_gather(g: Graph, node: onnx.NodeProto) -> bool:
    """A scalar-index Gather drops one axis: it reads the untransposed input along that axis."""
    got = _transpose_input(g, node.input[0])
    idx = g.const(node.input[1])
    if got is None or idx is None or idx.ndim != 0 or len(g.consumers[node.input[0]]) != 1:
        return False
    t, perm = got
    rank = len(perm)
    axis = get_attr(node, "axis", 0) % rank
    set_attr(node, "axis", perm[axis])
    _keep_or_sink_smaller(g, t, node, [perm[i] for i in range(rank) if i != axis], [t.input[0], node.input[1]])
    return True


@sinks("Softmax", "LogSoftmax")
def _sink_softmax(g: Graph, node: onnx.NodeProto) -> bool:
    if g.opset < 13:
        return False
    got = _sole_transpose_input(g, node)
    if got is None:
        return False
    t, perm = got
    axis = get_attr(node, "axis", -1) % len(perm)
    set_attr(node, "axis", perm[axis])
    _sink(g, t, node, perm, [t.input[0]])
    return True


@sinks("MatMul")
def _sink_matmul(g: Graph, node: onnx.NodeProto) -> bool:
    """Both inputs transposed alike, leaving the last two axes alone: a transposed batched MatMul."""
    a, b = node.input
    ta, tb = _transpose_input(g, a), _transpose_input(g, b)
    if not (ta and tb) or ta[1] != tb[1] or ta[0] is tb[0]:
        return False
    perm = ta[1]
    r = len(perm)
    if r < 3 or perm[-2:] != [r - 2, r - 1] or len(g.consumers[a]) != 1 or len(g.consumers[b]) != 1:
        return False
    _sink(g, ta[0], node, perm, [ta[0].input[0], tb[0].input[0]])
    g.drop_if_dead(tb[0])
    return True


@rewrite_pass("transpose", at={"core": 80}, max_sweeps=MAX_SINKS, prepare=Graph.ensure_shapes, then=("simplify",))
def sink_transposes(g: Graph) -> bool:
    """Push Transposes below elementwise ops, reductions, Softmax and batched MatMul; merge and
    cancel the pairs that meet."""
    for node in list(g.nodes):
        if node.domain not in DEFAULT_DOMAINS or not node.input:
            continue
        sink = SINKS.get(node.op_type)
        if sink is not None and sink(g, node):
            return True
    return False
