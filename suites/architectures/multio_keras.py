"""TensorFlow / Keras multi-input/multi-output and control-flow builders (run in the
TensorFlow worker). Imports TensorFlow and Keras only.

Multi-IO: a functional Keras model with an int64 token input next to a float mask (embedding
lookup, masked mean) and dict or list outputs. Control flow: plain ``tf.function``-able
callables with ``tf.cond`` (both branches return several tensors) and ``tf.while_loop`` (a
data-dependent trip count, a loop-carried int counter and an int64 trip limit input) that
tf2onnx turns into ONNX ``If`` / ``Loop``.
"""
from __future__ import annotations

import numpy as np
import keras
import tensorflow as tf

from conformance.cases import Built
from suites.architectures.common import VOCAB, token_inputs


def token_mask_model(outputs: str = "dict", dim: int = 8, classes: int = 5) -> keras.Model:
    """``outputs``: "dict" -> {"logits", "pooled"} whose insertion order is NOT the sorted order
    (TensorFlow flattens dicts by sorted key); "list" -> [pooled, probs, logits]; "passthrough"
    -> [logits, mask, logits, tokens]: inputs as outputs, one output twice."""
    tokens = keras.Input((None,), dtype="int64", name="tokens")
    mask = keras.Input((None,), dtype="float32", name="mask")
    embedded = keras.layers.Embedding(VOCAB, dim, name="embed")(tokens)
    # masked mean from keras.ops on symbolic tensors, no custom layer: a saved .keras file then
    # loads with safe_mode=True in a process that never imports this module
    weights = keras.ops.expand_dims(mask, -1)
    pooled = keras.ops.sum(embedded * weights, axis=1) / keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)
    logits = keras.layers.Dense(classes, name="logits")(pooled)
    if outputs == "dict":
        return keras.Model([tokens, mask], {"pooled": pooled, "logits": logits})
    if outputs == "passthrough":
        # inputs returned as they are, and one tensor returned twice
        return keras.Model([tokens, mask], [logits, mask, logits, tokens])
    probs = keras.layers.Softmax(name="probs")(logits)
    return keras.Model([tokens, mask], [pooled, probs, logits])


def run_in_tf_order(model, inputs) -> list[np.ndarray]:
    """Source outputs in TensorFlow's own flattening order (``tf.nest.flatten``: dict keys
    sorted), the order of a tf.function's outputs and so of tf2onnx's graph outputs, which it
    names by key. The harness's default flattens a dict in insertion order (Keras returns
    {"pooled", "logits"} as built), which would compare "pooled" against "logits"."""
    tensors = [tf.convert_to_tensor(x) for x in inputs]
    out = model(tensors, training=False) if isinstance(model, keras.Model) else model(*tensors)
    return [t.numpy() for t in tf.nest.flatten(out)]


def build_token_mask(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    outputs = params.get("outputs", "dict")
    model = token_mask_model(outputs)
    return Built(model=model, inputs=token_inputs(rng, 2, 6), input_names=["tokens", "mask"],
                 run=run_in_tf_order if outputs == "dict" else None,
                 dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "mask": {0: "batch", 1: "seq"}},
                 extra_inputs=[token_inputs(rng, 3, 9)])


# ------------------------------------------------------------------------------ tf.cond
class CondBranches(tf.Module):
    """``tf.cond`` on a data-dependent predicate; each branch returns a dense projection and a
    row reduction, so swapped If outputs are caught by their shapes and values."""

    def __init__(self, rng, dim: int = 6):
        super().__init__()
        self.kernel = tf.Variable((rng.standard_normal((dim, dim)) / np.sqrt(dim)).astype(np.float32))

    def __call__(self, x, bias):
        h = tf.matmul(x, self.kernel)
        return tf.cond(tf.reduce_mean(h) + tf.reduce_sum(bias) > 0.0,
                       lambda: (tf.nn.relu(h) * 2.0 + bias, tf.reduce_sum(h, axis=-1)),
                       lambda: (tf.tanh(h) - bias, tf.reduce_max(h, axis=-1)))


def build_tf_cond(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = CondBranches(rng)
    x = rng.standard_normal((3, 6)).astype(np.float32)
    bias = rng.standard_normal((6,)).astype(np.float32)
    taken = float(np.mean(x @ model.kernel.numpy()) + bias.sum()) > 0
    # the extra set flips the predicate: one conversion, both branches run
    return Built(model=model, inputs=[x, bias], input_names=["x", "bias"],
                 dynamic_axes={"x": {0: "batch"}},
                 extra_inputs=[[rng.standard_normal((5, 6)).astype(np.float32),
                                np.full_like(bias, -5.0 if taken else 5.0)]])


# ------------------------------------------------------------------------------ tf.while_loop
class WhileLoop(tf.Module):
    """A recurrence over the (dynamic) time axis with ``tf.while_loop`` (trip count = sequence
    length), then a second loop halving the state until its norm is under ``threshold`` or
    ``max_steps`` (an int64 input) is reached; returns a dict in non-sorted key order with the
    float state, the int32 step counter and the last hidden state."""

    def __init__(self, rng, dim: int = 4, hidden: int = 5):
        super().__init__()
        self.w_in = tf.Variable((rng.standard_normal((dim, hidden)) / np.sqrt(dim)).astype(np.float32))
        self.w_rec = tf.Variable((rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32))

    def __call__(self, x, threshold, max_steps):
        steps_total = tf.shape(x)[1]
        h0 = tf.zeros([tf.shape(x)[0], self.w_rec.shape[0]], x.dtype)

        def step(t, h):
            return t + 1, tf.tanh(tf.matmul(x[:, t], self.w_in) + tf.matmul(h, self.w_rec))

        _, h = tf.while_loop(lambda t, h: t < steps_total, step, (tf.constant(0), h0))

        def keep_halving(i, state):
            return tf.logical_and(tf.norm(state) > threshold, tf.cast(i, tf.int64) < max_steps)

        steps, state = tf.while_loop(keep_halving, lambda i, s: (i + 1, s * 0.5), (tf.constant(0), h * 8.0))
        return {"state": state, "steps": steps, "hidden": h}


def build_tf_while(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = WhileLoop(rng)

    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    limit = np.array(20, np.int64)
    return Built(model=model, inputs=[x, np.array(1.0, np.float32), limit], run=run_in_tf_order,
                 input_names=["x", "threshold", "max_steps"], dynamic_axes={"x": {0: "batch", 1: "seq"}},
                 # another batch and length (trip count), a threshold already met (zero trips),
                 # and a trip limit that stops the second loop early
                 extra_inputs=[[rng.standard_normal((3, 8, 4)).astype(np.float32), np.array(0.3, np.float32), limit],
                               [x, np.array(100.0, np.float32), limit],
                               [x, np.array(0.01, np.float32), np.array(2, np.int64)]])


# ------------------------------------------------------------------------------ nested / TensorArray
class CollectLoop(tf.Module):
    """A ``tf.while_loop`` over the (dynamic) time axis whose body holds a ``tf.cond`` (If
    nested in Loop) and writes each state to a ``tf.TensorArray``; returns {"states", "last"}."""

    def __init__(self, rng, dim: int = 4, hidden: int = 5):
        super().__init__()
        self.w_in = tf.Variable((rng.standard_normal((dim, hidden)) / np.sqrt(dim)).astype(np.float32))
        self.w_rec = tf.Variable((rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32))

    def __call__(self, x):
        steps = tf.shape(x)[1]
        h0 = tf.zeros([tf.shape(x)[0], self.w_rec.shape[0]], x.dtype)

        def step(t, h, states):
            z = tf.matmul(x[:, t], self.w_in) + tf.matmul(h, self.w_rec)
            h = tf.cond(tf.reduce_sum(z) > 0.0, lambda: tf.tanh(z), lambda: tf.sigmoid(z) - 0.5)
            return t + 1, h, states.write(t, h)

        _, h, states = tf.while_loop(lambda t, h, s: t < steps, step,
                                     (tf.constant(0), h0, tf.TensorArray(x.dtype, size=steps)))
        return {"states": tf.transpose(states.stack(), [1, 0, 2]), "last": h}


class ScanMap(tf.Module):
    """``tf.scan`` (a running decayed sum over time: {"running"}) or ``tf.map_fn`` (a per-example
    argmax with an int32 output signature and a per-example sum: {"label", "total"}), the
    TensorArray-backed loops TensorFlow builds for them."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def __call__(self, x):
        if self.kind == "scan":
            return {"running": tf.transpose(tf.scan(lambda acc, xt: acc * 0.5 + xt, tf.transpose(x, [1, 0, 2])),
                                            [1, 0, 2])}
        label = tf.map_fn(lambda row: tf.argmax(tf.reduce_sum(row, axis=0), output_type=tf.int32), x,
                          fn_output_signature=tf.int32)
        return {"total": tf.map_fn(lambda row: tf.reduce_sum(row, axis=0), x), "label": label}


def build_tf_collect(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    kind = params.get("kind", "tensorarray")
    model = CollectLoop(rng) if kind == "tensorarray" else ScanMap(kind)
    return Built(model=model, inputs=[rng.standard_normal((2, 6, 4)).astype(np.float32)], input_names=["x"],
                 dynamic_axes={"x": {0: "batch", 1: "seq"}}, run=run_in_tf_order,
                 extra_inputs=[[rng.standard_normal((3, 9, 4)).astype(np.float32)]])
