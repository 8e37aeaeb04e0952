"""Folds into Conv: BatchNormalization, per-channel Mul/Add/Sub/Div, and Pad (also into pools)."""
from __future__ import annotations

import numpy as np
import onnx

from ..graph import DEFAULT_DOMAINS, Graph, del_attr, get_attr, set_attr
from . import UNTIL_STABLE, rewrite_pass

FLOATS = (np.float16, np.float32, np.float64)


def _conv_params(g: Graph, conv: onnx.NodeProto):
    """(W, B or None) of a Conv with constant weights, else None."""
    if conv.op_type != "Conv" or conv.domain not in DEFAULT_DOMAINS:
        return None
    w = g.const(conv.input[1])
    if w is None or w.dtype.type not in FLOATS:
        return None
    b = None
    if len(conv.input) > 2 and conv.input[2]:
        b = g.const(conv.input[2])
        if b is None:
            return None
    return w, b


def _rewrite_conv(g: Graph, conv: onnx.NodeProto, w: np.ndarray, b: np.ndarray, out_name: str, absorbed) -> None:
    dtype = g.const(conv.input[1]).dtype
    x = conv.input[0]
    wname = g.add_init(w.astype(dtype), conv.input[1])
    bname = g.add_init(b.astype(dtype), conv.input[1] + "_bias")
    with g.batch():
        g.set_inputs(conv, [x, wname, bname])
        g.set_output(conv, 0, out_name)
        g.remove_nodes([absorbed])


def _single_reader(g: Graph, conv: onnx.NodeProto, op_types):
    nxt = g.only_consumer(conv.output[0])
    if nxt is None or nxt.op_type not in op_types or nxt.domain not in DEFAULT_DOMAINS:
        return None
    return nxt


@rewrite_pass("fuse-bn", at={"core": 30})
def fuse_conv_batchnorm(g: Graph) -> bool:
    """Conv followed by BatchNormalization (inference form) becomes one Conv."""
    changed = False
    for conv in list(g.nodes):
        params = _conv_params(g, conv)
        if params is None:
            continue
        bn = _single_reader(g, conv, ("BatchNormalization",))
        if bn is None or bn.input[0] != conv.output[0] or get_attr(bn, "training_mode", 0):
            continue
        if any(o and g.uses(o) for o in bn.output[1:]):
            continue
        consts = [g.const(i) for i in bn.input[1:5]]
        if any(c is None for c in consts):
            continue
        w, b = params
        scale, bias, mean, var = (c.astype(np.float64).reshape(-1) for c in consts)
        if scale.size != w.shape[0]:
            continue
        s = scale / np.sqrt(var + get_attr(bn, "epsilon", 1e-5))
        w2 = w.astype(np.float64) * s.reshape((-1,) + (1,) * (w.ndim - 1))
        b0 = np.zeros(w.shape[0]) if b is None else b.astype(np.float64)
        _rewrite_conv(g, conv, w2, (b0 - mean) * s + bias, bn.output[0], bn)
        changed = True
    return changed


def _per_channel(c: np.ndarray, out_rank: int, channels: int):
    """``c`` as a vector over output channels if it broadcasts only along axis 1 of the output."""
    if c.ndim > out_rank or c.dtype.type not in FLOATS:
        return None
    full = c.reshape((1,) * (out_rank - c.ndim) + c.shape)
    if full.shape[0] != 1 or any(d != 1 for d in full.shape[2:]) or full.shape[1] not in (1, channels):
        return None
    return np.broadcast_to(full.reshape(-1).astype(np.float64), (channels,))


def _affine_into(w: np.ndarray, b, op_type: str, vec: np.ndarray):
    """(W', B') in float64 of the Conv (W, B) followed by ``op_type`` with the per-channel ``vec``;
    None when it cannot fold (division by zero)."""
    w64 = w.astype(np.float64)
    b64 = np.zeros(w.shape[0]) if b is None else b.astype(np.float64)
    shape = (-1,) + (1,) * (w.ndim - 1)
    if op_type == "Mul":
        return w64 * vec.reshape(shape), b64 * vec
    if op_type == "Div":
        if (vec == 0).any():
            return None
        return w64 / vec.reshape(shape), b64 / vec
    if op_type == "Add":
        return w64, b64 + vec
    return w64, b64 - vec


@rewrite_pass("fuse-conv-affine", at={"core": 40}, max_sweeps=UNTIL_STABLE)
def fuse_conv_affine(g: Graph) -> bool:
    """Conv followed by Mul/Div/Add/Sub with a per-channel constant folds into the Conv."""
    for conv in list(g.nodes):
        params = _conv_params(g, conv)
        if params is None:
            continue
        nxt = _single_reader(g, conv, ("Mul", "Div", "Add", "Sub"))
        if nxt is None or len(nxt.input) != 2:
            continue
        pos = 0 if nxt.input[0] == conv.output[0] else 1
        if nxt.input[1 - pos] == conv.output[0] or (pos == 1 and nxt.op_type in ("Div", "Sub")):
            continue
        c = g.const(nxt.input[1 - pos])
        w, b = params
        if c is None or c.dtype != w.dtype:
            continue
        vec = _per_channel(c, w.ndim, w.shape[0])
        folded = None if vec is None else _affine_into(w, b, nxt.op_type, vec)
        if folded is None:
            continue
        _rewrite_conv(g, conv, folded[0], folded[1], nxt.output[0], nxt)
        return True
    return False


NONNEGATIVE_PRODUCERS = {"Relu", "Sigmoid", "Abs", "Softplus", "Softmax", "Exp"}


def _nonnegative(g: Graph, name: str) -> bool:
    prod = g.producer.get(name)
    if not prod or prod[0].domain not in DEFAULT_DOMAINS:
        return False
    node = prod[0]
    if node.op_type in NONNEGATIVE_PRODUCERS:
        return True
    if node.op_type == "Clip":
        lo = get_attr(node, "min") if g.opset < 11 else (
            g.const(node.input[1]) if len(node.input) > 1 and node.input[1] else None)
        return lo is not None and float(np.min(lo)) >= 0
    return False


def _spatial_zero_pads(g: Graph, pad: onnx.NodeProto):
    """The pads of a constant-zero Pad that pads only spatial axes (rank >= 3), else None."""
    if (get_attr(pad, "mode", b"constant") or b"constant") not in (b"constant", "constant"):
        return None
    if g.opset < 11:
        pads, value = get_attr(pad, "pads"), get_attr(pad, "value", 0.0)
    else:
        pads = g.const(pad.input[1]) if len(pad.input) > 1 else None
        value = 0.0
        if len(pad.input) > 2 and pad.input[2]:
            value = g.const(pad.input[2])
        if len(pad.input) > 3 and pad.input[3]:
            return None          # axes input (opset 18): keep it simple
    if pads is None or value is None or float(np.max(np.abs(value))) != 0.0:
        return None
    pads = [int(p) for p in np.asarray(pads).reshape(-1)]
    rank = len(pads) // 2
    if rank < 3 or any(p < 0 for p in pads) or pads[0] or pads[1] or pads[rank] or pads[rank + 1]:
        return None
    return pads


def _can_absorb_pad(g: Graph, pad: onnx.NodeProto, nxt: onnx.NodeProto) -> bool:
    """Whether ``nxt`` (the only reader of ``pad``) can take the padding into its own pads."""
    if nxt.op_type in ("MaxPool", "AveragePool") and get_attr(nxt, "ceil_mode", 0):
        return False
    if nxt.op_type == "MaxPool":
        if not _nonnegative(g, pad.input[0]) or len([o for o in nxt.output if o]) > 1:
            return False
    elif nxt.op_type == "AveragePool":
        old = get_attr(nxt, "pads")
        if not get_attr(nxt, "count_include_pad", 0) and old is not None and any(old):
            return False
    elif nxt.op_type != "Conv":
        return False
    return (get_attr(nxt, "auto_pad", b"NOTSET") or b"NOTSET") in (b"NOTSET", "NOTSET")


def _merged_pads(nxt: onnx.NodeProto, pads: list[int]):
    """``nxt``'s pads plus the spatial part of ``pads``; None where a pool's kernel forbids them."""
    rank = len(pads) // 2
    spatial = rank - 2
    old = list(get_attr(nxt, "pads", [0] * (2 * spatial)))
    new = [old[i] + pads[2 + i] for i in range(spatial)] + \
          [old[spatial + i] + pads[rank + 2 + i] for i in range(spatial)]
    if nxt.op_type in ("MaxPool", "AveragePool"):
        kernel = get_attr(nxt, "kernel_shape")
        # pools require pads smaller than the kernel
        if kernel is None or any(new[i] >= kernel[i] or new[spatial + i] >= kernel[i] for i in range(spatial)):
            return None
    return new


@rewrite_pass("fuse-pad", at={"core": 50}, max_sweeps=UNTIL_STABLE)
def fuse_pad(g: Graph) -> bool:
    """A zero constant Pad of spatial axes folds into the pads of the Conv/AveragePool (or MaxPool
    over a non-negative input) that reads it."""
    for pad in list(g.nodes):
        if pad.op_type != "Pad" or pad.domain not in DEFAULT_DOMAINS:
            continue
        pads = _spatial_zero_pads(g, pad)
        if pads is None:
            continue
        nxt = g.only_consumer(pad.output[0])
        if nxt is None or nxt.domain not in DEFAULT_DOMAINS or nxt.input[0] != pad.output[0]:
            continue
        new = _merged_pads(nxt, pads) if _can_absorb_pad(g, pad, nxt) else None
        if new is None:
            continue
        if nxt.op_type == "AveragePool":
            set_attr(nxt, "count_include_pad", 1)
        set_attr(nxt, "pads", new)
        del_attr(nxt, "auto_pad")
        with g.batch():
            g.set_input(nxt, 0, pad.input[0])
            g.remove_nodes([pad])
        return True
    return False
