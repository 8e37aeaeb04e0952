"""Pruning: structured L1 channel pruning and unstructured magnitude pruning.

Unlike the rewrite passes beside them these change what the model computes, so they are not
registered as rewrite passes (every one of those must keep the outputs: the optimizer's tests
hold them to it, and ``optimize`` may run any of them): they run as the chain steps ``+prune:R``
and ``+sparsify:S`` (``converters/passes.py``), and the accuracy suite holds the result to its
original.

*Channels* (``prune_channels``): a layer (Conv with group 1, Gemm, MatMul) whose output reaches
exactly one next layer through channel-wise ops only (an activation, pooling, BatchNormalization,
a bias Add, a flatten: Flatten or a Reshape to (N, features), after a transpose to channels-last
as tf2onnx writes it) loses the ``ratio`` of its output channels with the smallest L1 norm; the
next layer loses the matching input channels (after a flatten: each channel's features). The model really shrinks. A layer whose output is a graph output or is read by
anything else is left alone.

*Magnitude* (``sparsify``): in every Conv/Gemm/MatMul weight, the ``sparsity`` share of
smallest-magnitude entries becomes 0 (the dense size stays; the zeros are what a sparse
runtime or a compressor exploits).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx

from ..graph import DEFAULT_DOMAINS, Graph, get_attr

DEFAULT_RATIO = 0.5
#: ops that act on each channel alone: a pruned channel's values never reach another channel
CHANNEL_WISE = frozenset({"Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "HardSigmoid",
                          "HardSwish", "Softplus", "Gelu", "Identity", "Dropout", "MaxPool", "AveragePool",
                          "BatchNormalization"})
WEIGHTED = ("Conv", "Gemm", "MatMul")


@dataclass
class Layer:
    """A weighted node and the axes of its weight that are its output and input channels."""
    node: onnx.NodeProto
    weight: str
    out_axis: int
    in_axis: int
    bias: str | None = None           # a per-output-channel bias initializer (Conv/Gemm input 2)


def as_layer(g: Graph, node: onnx.NodeProto) -> Layer | None:
    if node.domain not in DEFAULT_DOMAINS or node.op_type not in WEIGHTED or len(node.input) < 2:
        return None
    w = node.input[1]
    if not g.is_init(w) or g.uses(w) != 1 or g.array(w).dtype.kind != "f":
        return None
    bias = node.input[2] if len(node.input) > 2 and node.input[2] and g.is_init(node.input[2]) else None
    if node.op_type == "Conv":
        if (get_attr(node, "group") or 1) != 1 or g.array(w).ndim < 3:
            return None
        return Layer(node, w, 0, 1, bias)
    if g.array(w).ndim != 2:
        return None
    if node.op_type == "Gemm":
        if get_attr(node, "transA"):
            return None
        trans_b = bool(get_attr(node, "transB"))
        return Layer(node, w, 0 if trans_b else 1, 1 if trans_b else 0, bias)
    return Layer(node, w, 1, 0)                         # MatMul: (in, out)


@dataclass
class Path:
    """From a layer's output to the next layer: the channel-wise nodes between (bias Adds
    included) and, after a flatten, the number of features each channel becomes and whether
    they are interleaved (a transpose to channels-last before the flatten: feature s*C + c)."""
    nodes: list = field(default_factory=list)
    consumer: Layer | None = None
    features_per_channel: int = 1
    channels_last: bool = False

    def rows(self, keep: np.ndarray, channels: int) -> np.ndarray:
        """The next layer's input rows that belong to the kept channels."""
        if self.features_per_channel == 1:
            return keep
        spatial = np.arange(self.features_per_channel)
        if self.channels_last:
            return (spatial[:, None] * channels + keep[None, :]).reshape(-1)
        return (keep[:, None] * self.features_per_channel + spatial[None, :]).reshape(-1)


def _channel_axis_shape(shape: tuple, channels: int) -> bool:
    """A constant that holds one value per channel, broadcast along axis 1 of NC... or the last
    axis of (batch, features): (C,), (C, 1, 1), (1, C, 1, 1)."""
    squeezed = [d for d in shape if d != 1]
    return squeezed == [channels] and (len(shape) == 1 or shape[-1] == 1 or len(shape) == 4)


def _per_channel_inputs(g: Graph, node: onnx.NodeProto, channels: int) -> list[str] | None:
    """The per-channel constant inputs of a channel-wise node (BN's statistics, a bias, PRelu's
    slope), or None when one of its inputs is not per-channel."""
    if node.op_type in ("BatchNormalization", "PRelu", "Add"):
        consts = [i for i in node.input[1:] if i]
        if not all(g.is_init(i) and g.uses(i) == 1 and _channel_axis_shape(g.array(i).shape, channels)
                   for i in consts):
            return None
        return consts
    return []


def _flattened(g: Graph, node: onnx.NodeProto, value: str) -> int | None:
    """Features per channel when ``node`` flattens (N, C, ...) to (N, C*...): a Flatten at axis
    1 or a Reshape to rank 2 that keeps the batch; None otherwise."""
    shape = g.shapes.get(value)
    if not shape or len(shape) < 2 or any(not isinstance(d, int) for d in shape[1:]):
        return None
    features = int(np.prod(shape[1:]))
    if node.op_type == "Flatten" and (get_attr(node, "axis") or 1) == 1:
        return features // shape[1]
    out = g.shapes.get(node.output[0])
    if node.op_type == "Reshape" and out and len(out) == 2 and out[1] == features and _rewritable_shape(g, node):
        return features // shape[1]
    return None


def _rewritable_shape(g: Graph, reshape: onnx.NodeProto) -> bool:
    """A Reshape's target shape we can restate for fewer features: a 2-entry constant read by
    this Reshape alone."""
    target = reshape.input[1]
    return g.is_init(target) and g.uses(target) == 1 and g.array(target).shape == (2,)


def _restate_reshape(g: Graph, reshape: onnx.NodeProto, features: int) -> None:
    """Point a flattening Reshape at the pruned feature count (a -1 left as it is)."""
    target = g.array(reshape.input[1]).copy()
    if target[1] != -1:
        target[1] = features
        g.set_init(reshape.input[1], target)


def _nhwc(node: onnx.NodeProto) -> bool:
    return node.op_type == "Transpose" and list(get_attr(node, "perm") or []) == [0, 2, 3, 1]


def _extend(g: Graph, path: Path, node: onnx.NodeProto, channels: int) -> bool:
    """Can the path go on through ``node`` (channels kept apart)? Notes a flatten or a
    transpose to channels-last on the way."""
    if path.features_per_channel > 1:           # after the flatten: elementwise ops without constants
        return node.op_type in CHANNEL_WISE and not any(node.input[1:])
    if _nhwc(node) and not path.channels_last:
        path.channels_last = True               # a flatten must come next
        return True
    features = _flattened(g, node, path.nodes[-1].input[0] if path.channels_last else node.input[0])
    if features:
        path.features_per_channel = features
        return True
    if path.channels_last:
        return False
    return node.op_type in CHANNEL_WISE | {"Add"} and _per_channel_inputs(g, node, channels) is not None


def follow(g: Graph, layer: Layer, channels: int) -> Path | None:
    """The path from ``layer``'s output to the single next layer, or None."""
    path, value = Path(), layer.node.output[0]
    for _ in range(16):
        nxt = g.only_consumer(value)
        if nxt is None or list(nxt.input).count(value) != 1 or nxt.input[0] != value:
            return None
        consumer = as_layer(g, nxt)
        if consumer is not None:
            path.consumer = consumer
            return path
        if not _extend(g, path, nxt, channels):
            return None
        path.nodes.append(nxt)
        value = nxt.output[0]
    return None


def l1_keep(weight: np.ndarray, out_axis: int, ratio: float) -> np.ndarray:
    """Indices (sorted) of the output channels to keep: all but the ``ratio`` with the smallest L1 norm."""
    moved = np.moveaxis(np.abs(weight), out_axis, 0)
    norms = moved.reshape(moved.shape[0], -1).sum(axis=1)
    n = len(norms)
    keep = max(1, n - int(n * ratio))
    return np.sort(np.argsort(-norms, kind="stable")[:keep])


def _prune_pair(g: Graph, layer: Layer, path: Path, keep: np.ndarray, channels: int) -> None:
    g.set_init(layer.weight, np.take(g.array(layer.weight), keep, axis=layer.out_axis))
    if layer.bias is not None:
        g.set_init(layer.bias, g.array(layer.bias)[keep])
    for node in path.nodes:
        for name in _per_channel_inputs(g, node, channels) or []:
            a = g.array(name)
            g.set_init(name, np.take(a, keep, axis=[k for k, d in enumerate(a.shape) if d == channels][0]))
    rows = path.rows(keep, channels)
    for node in path.nodes:
        if node.op_type == "Reshape":
            _restate_reshape(g, node, len(rows))
    nxt = path.consumer
    g.set_init(nxt.weight, np.take(g.array(nxt.weight), rows, axis=nxt.in_axis))


def prune_channels(g: Graph, ratio: float = DEFAULT_RATIO) -> int:
    """Structured L1 pruning of every prunable layer pair; returns how many layers were pruned."""
    if not 0 <= ratio < 1:
        raise ValueError(f"pruning ratio must be in [0, 1), got {ratio}")
    g.ensure_shapes()
    pruned = 0
    for node in list(g.nodes):
        layer = as_layer(g, node)
        if layer is None:
            continue
        channels = g.array(layer.weight).shape[layer.out_axis]
        if layer.bias is not None and g.array(layer.bias).shape != (channels,):
            continue                    # a broadcast Gemm bias: not one value per channel
        path = follow(g, layer, channels)
        if path is None or channels < 2:
            continue
        keep = l1_keep(g.array(layer.weight), layer.out_axis, ratio)
        if len(keep) == channels:
            continue
        _prune_pair(g, layer, path, keep, channels)
        pruned += 1
    if pruned:
        g.shapes.clear()                # the pruned values' shapes changed
    return pruned


def sparsify(g: Graph, sparsity: float = DEFAULT_RATIO) -> int:
    """Zero the ``sparsity`` share of smallest-magnitude entries of every layer weight; returns
    how many weights were sparsified."""
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    done = 0
    for node in list(g.nodes):
        layer = as_layer(g, node)
        if layer is None:
            continue
        w = g.array(layer.weight)
        k = int(w.size * sparsity)
        if k == 0:
            continue
        threshold_index = np.argsort(np.abs(w), axis=None, kind="stable")[:k]
        flat = w.copy().reshape(-1)
        flat[threshold_index] = 0
        g.set_init(layer.weight, flat.reshape(w.shape))
        done += 1
    return done
