"""Algebraic simplification: drop nodes that do nothing and collapse chains."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from ..graph import DEFAULT_DOMAINS, Graph, get_attr, set_attr
from . import optimizer_pass


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


def _try_simplify(g: Graph, node: onnx.NodeProto) -> bool:
    op = node.op_type
    if op == "Identity":
        return bypass(g, node, node.input[0])
    if op == "Dropout":
        extra_used = len(node.output) > 1 and node.output[1] and g.uses(node.output[1])
        training = None
        if len(node.input) > 2 and node.input[2]:
            t = g.const(node.input[2])
            training = True if t is None else bool(t)
        if not extra_used and not training:
            return bypass(g, node, node.input[0])
        return False
    if op == "Cast":
        t = g.types.get(node.input[0])
        if t is not None and t == get_attr(node, "to"):
            return bypass(g, node, node.input[0])
        return False
    if op in ("Reshape", "Squeeze", "Unsqueeze", "Flatten"):
        si, so = g.static_shape(node.input[0]), g.static_shape(node.output[0])
        if si is not None and si == so:
            return bypass(g, node, node.input[0])
        prod = g.producer.get(node.input[0])
        if op != "Reshape" and so is not None and prod and prod[0].domain in DEFAULT_DOMAINS \
                and prod[0].op_type in ("Reshape", "Squeeze", "Unsqueeze", "Flatten"):
            # a chain of shape-only ops with a static result is one Reshape of the chain's input
            shape = g.add_init(np.array(so, dtype=np.int64), node.output[0] + "_shape")
            new = helper.make_node("Reshape", [prod[0].input[0], shape], list(node.output), name=node.name)
            g.nodes[g.nodes.index(node)] = new
            g.refresh()
            g.drop_if_dead(prod[0])
            return True
        if op == "Reshape":
            shape = g.const(node.input[1]) if len(node.input) > 1 else None
            if prod and prod[0].op_type in ("Reshape", "Squeeze", "Unsqueeze", "Flatten") \
                    and prod[0].domain in DEFAULT_DOMAINS and shape is not None \
                    and (get_attr(node, "allowzero", 0) or not (shape == 0).any()):
                node.input[0] = prod[0].input[0]
                g.refresh()
                g.drop_if_dead(prod[0])
                return True
        return False
    if op == "Transpose":
        perm = get_attr(node, "perm")
        if perm is not None and _identity_perm(perm):
            return bypass(g, node, node.input[0])
        prod = g.producer.get(node.input[0])
        if perm is not None and prod and prod[0].op_type == "Transpose" and prod[0].domain in DEFAULT_DOMAINS:
            inner = get_attr(prod[0], "perm")
            if inner is not None:
                composed = [inner[p] for p in perm]
                node.input[0] = prod[0].input[0]
                set_attr(node, "perm", composed)
                g.refresh()
                g.drop_if_dead(prod[0])
                return True
        # a transpose that only moves size-1 axes is a reshape
        si, so = g.static_shape(node.input[0]), g.static_shape(node.output[0])
        if perm is not None and si is not None and so is not None:
            order = [p for p in perm if si[p] != 1]
            if order == sorted(order):
                shape = g.add_init(np.array(so, dtype=np.int64), node.output[0] + "_shape")
                new = helper.make_node("Reshape", [node.input[0], shape], list(node.output), name=node.name)
                g.nodes[g.nodes.index(node)] = new
                g.refresh()
                return True
        return False
    if op == "Pad":
        pads = _pads_of(g, node)
        if pads is not None and not any(pads):
            return bypass(g, node, node.input[0])
        return False
    if op == "Concat" and len([i for i in node.input if i]) == 1:
        return bypass(g, node, next(i for i in node.input if i))
    if op == "Expand":
        shape = g.const(node.input[1])
        si = g.shapes.get(node.input[0])
        if shape is not None and si is not None and shape.size <= len(si) and (shape.reshape(-1) == 1).all():
            return bypass(g, node, node.input[0])
        return False
    if op == "Slice" and g.opset >= 10:
        si, so = g.static_shape(node.input[0]), g.static_shape(node.output[0])
        steps = g.const(node.input[4]) if len(node.input) > 4 and node.input[4] else np.ones(1)
        # same shape and unit steps: it takes everything in order
        if si is not None and si == so and steps is not None and (steps == 1).all():
            return bypass(g, node, node.input[0])
        return False
    if op in NEUTRAL and len(node.input) == 2:
        value, positions = NEUTRAL[op]
        for pos in positions:
            c = g.const(node.input[pos])
            x = node.input[1 - pos]
            if c is not None and c.dtype != object and c.size <= 1 << 16 and (c == value).all() \
                    and _broadcast_is_noop(g, x, c) and _same_type(g, x, c):
                return bypass(g, node, x)
    return False


@optimizer_pass("simplify", "pre")
def algebraic_simplification(g: Graph) -> None:
    """Remove Identity, no-op Cast/Reshape/Transpose/Pad/Slice/Expand/Dropout, x*1, x+0, x-0, x/1;
    merge Transpose pairs and Reshape chains."""
    if not g.types:
        g.infer()
    changed = True
    while changed:
        changed = False
        for node in list(g.nodes):
            if node.domain not in DEFAULT_DOMAINS or not node.input or not node.input[0]:
                continue
            if _try_simplify(g, node):
                changed = True
                break
