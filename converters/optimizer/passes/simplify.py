"""Algebraic simplification: drop nodes that do nothing and collapse chains."""
from __future__ import annotations

from typing import Callable

import numpy as np
import onnx
from onnx import helper

from ..graph import DEFAULT_DOMAINS, Graph, get_attr, set_attr
from . import UNTIL_STABLE, op_rule_registrar, rewrite_pass

#: op type -> ``rule(graph, node) -> bool`` that rewrites one node of that type (True: it did)
SIMPLIFICATIONS: dict[str, Callable[[Graph, onnx.NodeProto], bool]] = {}
SHAPE_OPS = ("Reshape", "Squeeze", "Unsqueeze", "Flatten")

simplifies = op_rule_registrar(SIMPLIFICATIONS)


def bypass(g: Graph, node: onnx.NodeProto, src: str) -> bool:
    """Remove ``node`` (single meaningful output) and let its readers read ``src``."""
    if g.replace_output(node.output[0], src):
        g.remove_nodes([node])
        return True
    return False


def _broadcast_is_noop(g: Graph, x: str, c: np.ndarray) -> bool:
    """True when broadcasting ``c`` against ``x`` leaves x's shape unchanged."""
    shape = g.shapes.get(x) if not g.is_init(x) else g.array(x).shape
    if shape is None or c.ndim > len(shape):
        return False
    for cd, xd in zip(c.shape[::-1], shape[::-1]):
        if cd != 1 and cd != xd:
            return False
    return True


def _same_type(g: Graph, x: str, c: np.ndarray) -> bool:
    t = g.types.get(x)
    return t is not None and t == helper.np_dtype_to_tensor_dtype(c.dtype)


NEUTRAL = {  # op: (neutral value, positions of the constant that make it a no-op)
    "Add": (0, (0, 1)), "Sub": (0, (1,)), "Mul": (1, (0, 1)), "Div": (1, (1,)), "Pow": (1, (1,)),
}


def _identity_perm(perm) -> bool:
    return list(perm) == list(range(len(perm)))


def _pads_of(g: Graph, node):
    if g.opset < 11:
        return get_attr(node, "pads")
    if len(node.input) < 2 or not node.input[1]:
        return None
    p = g.const(node.input[1])
    return None if p is None else [int(v) for v in p.reshape(-1)]


@simplifies("Identity")
def _identity(g: Graph, node: onnx.NodeProto) -> bool:
    return bypass(g, node, node.input[0])


@simplifies("Dropout")
def _inference_dropout(g: Graph, node: onnx.NodeProto) -> bool:
    extra_used = len(node.output) > 1 and node.output[1] and g.uses(node.output[1])
    training = None
    if len(node.input) > 2 and node.input[2]:
        t = g.const(node.input[2])
        training = True if t is None else bool(t)
    if not extra_used and not training:
        return bypass(g, node, node.input[0])
    return False


@simplifies("Cast")
def _noop_cast(g: Graph, node: onnx.NodeProto) -> bool:
    t = g.types.get(node.input[0])
    if t is not None and t == get_attr(node, "to"):
        return bypass(g, node, node.input[0])
    return False


@simplifies(*SHAPE_OPS)
def _shape_op(g: Graph, node: onnx.NodeProto) -> bool:
    """A no-op shape op goes; a chain of them collapses into one Reshape."""
    si, so = g.static_shape(node.input[0]), g.static_shape(node.output[0])
    if si is not None and si == so:
        return bypass(g, node, node.input[0])
    prod = g.producer.get(node.input[0])
    chained = prod is not None and prod[0].domain in DEFAULT_DOMAINS and prod[0].op_type in SHAPE_OPS
    if node.op_type != "Reshape" and so is not None and chained:
        # a chain of shape-only ops with a static result is one Reshape of the chain's input
        shape = g.add_init(np.array(so, dtype=np.int64), node.output[0] + "_shape")
        g.replace_node(node, helper.make_node("Reshape", [prod[0].input[0], shape], list(node.output), name=node.name))
        g.drop_if_dead(prod[0])
        return True
    if node.op_type == "Reshape":
        shape = g.const(node.input[1]) if len(node.input) > 1 else None
        if chained and shape is not None and (get_attr(node, "allowzero", 0) or not (shape == 0).any()):
            g.set_input(node, 0, prod[0].input[0])
            g.drop_if_dead(prod[0])
            return True
    return False


def _compose_transposes(g: Graph, node: onnx.NodeProto, perm) -> bool:
    """Transpose(Transpose(x)) becomes one Transpose of x."""
    prod = g.producer.get(node.input[0])
    if not prod or prod[0].op_type != "Transpose" or prod[0].domain not in DEFAULT_DOMAINS:
        return False
    inner = get_attr(prod[0], "perm")
    if inner is None:
        return False
    g.set_input(node, 0, prod[0].input[0])
    set_attr(node, "perm", [inner[p] for p in perm])
    g.drop_if_dead(prod[0])
    return True


@simplifies("Transpose")
def _transpose(g: Graph, node: onnx.NodeProto) -> bool:
    """Identity permutations go, Transpose pairs compose, and a Transpose that only moves size-1
    axes becomes a Reshape."""
    perm = get_attr(node, "perm")
    if perm is not None and _identity_perm(perm):
        return bypass(g, node, node.input[0])
    if perm is not None and _compose_transposes(g, node, perm):
        return True
    # static_shape caches an initializer's array: called whatever perm is, as it always was
    si, so = g.static_shape(node.input[0]), g.static_shape(node.output[0])
    if perm is not None and si is not None and so is not None:
        order = [p for p in perm if si[p] != 1]
        if order == sorted(order):
            shape = g.add_init(np.array(so, dtype=np.int64), node.output[0] + "_shape")
            g.replace_node(node, helper.make_node("Reshape", [node.input[0], shape], list(node.output), name=node.name))
            return True
    return False


@simplifies("Pad")
def _zero_pad(g: Graph, node: onnx.NodeProto) -> bool:
    pads = _pads_of(g, node)
    if pads is not None and not any(pads):
        return bypass(g, node, node.input[0])
    return False


@simplifies("Concat")
def _single_input_concat(g: Graph, node: onnx.NodeProto) -> bool:
    inputs = [i for i in node.input if i]
    return len(inputs) == 1 and bypass(g, node, inputs[0])


@simplifies("Expand")
def _noop_expand(g: Graph, node: onnx.NodeProto) -> bool:
    shape = g.const(node.input[1])
    si = g.shapes.get(node.input[0])
    if shape is not None and si is not None and shape.size <= len(si) and (shape.reshape(-1) == 1).all():
        return bypass(g, node, node.input[0])
    return False


@simplifies("Slice")
def _full_slice(g: Graph, node: onnx.NodeProto) -> bool:
    if g.opset < 10:
        return False
    si, so = g.static_shape(node.input[0]), g.static_shape(node.output[0])
    steps = g.const(node.input[4]) if len(node.input) > 4 and node.input[4] else np.ones(1)
    # same shape and unit steps: it takes everything in order
    if si is not None and si == so and steps is not None and (steps == 1).all():
        return bypass(g, node, node.input[0])
    return False


@simplifies(*NEUTRAL)
def _neutral_element(g: Graph, node: onnx.NodeProto) -> bool:
    """x*1, x+0, x-0, x/1, x**1 when broadcasting changes neither x's shape nor its type."""
    if len(node.input) != 2:
        return False
    value, positions = NEUTRAL[node.op_type]
    for pos in positions:
        c = g.const(node.input[pos])
        x = node.input[1 - pos]
        if c is not None and c.dtype != object and c.size <= 1 << 16 and (c == value).all() \
                and _broadcast_is_noop(g, x, c) and _same_type(g, x, c):
            return bypass(g, node, x)
    return False


@rewrite_pass("simplify", at={"pre": 20, "core": 20}, max_sweeps=UNTIL_STABLE, prepare=Graph.ensure_types)
def algebraic_simplification(g: Graph) -> bool:
    """Remove Identity, no-op Cast/Reshape/Transpose/Pad/Slice/Expand/Dropout, x*1, x+0, x-0, x/1;
    merge Transpose pairs and Reshape chains."""
    for node in list(g.nodes):
        if node.domain not in DEFAULT_DOMAINS or not node.input or not node.input[0]:
            continue
        rule = SIMPLIFICATIONS.get(node.op_type)
        if rule is not None and rule(g, node):
            return True
    return False
