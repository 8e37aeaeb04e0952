"""TensorFlow / Keras builders for operator specs. Imported only inside the tensorflow worker.

Functional ops are plain Python callables over tf tensors (the tf2onnx converter wraps them in
a tf.function); layers are built into a functional ``keras.Model`` whose weights are then
randomized from the case seed. Channels-first sample shapes arrive channels-last (NHWC).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from . import builder as base

_ROOTS = {"tf": tf, "keras": keras}


def resolve(dotted: str):
    return base.resolve(dotted, _ROOTS)


def make_call(call: dict):
    kwargs = dict(call["kwargs"])
    if call["kind"] == "getitem":
        sl = base.slices(kwargs["slices"])
        return lambda x: x[sl]
    f = resolve(call["target"])
    return lambda *xs: base.invoke(f, call, xs, kwargs)


def randomize(model, seed: int, scale: float = 0.5):
    base.randomize_tensors([(w.path, w) for w in model.weights], seed,
                           lambda w, values: w.assign(values.astype(w.dtype)), positive="variance", scale=scale)
    return model


def keras_input(x: np.ndarray, dynamic=()):
    """A Keras input of ``x``'s shape and dtype, left open (None) on the axes ``dynamic``."""
    shape = [None if axis in dynamic else int(d) for axis, d in enumerate(x.shape)]
    return keras.Input(shape=shape[1:], batch_size=shape[0] if shape else None, dtype=str(x.dtype))


def functional(inputs: list[np.ndarray], f, seed: int, dynamic=None):
    """A keras.Model over the inputs' shapes (open on each input's ``dynamic`` axes) whose body
    is ``f(*symbolic_inputs)``."""
    sym = [keras_input(x, axes) for x, axes in zip(inputs, dynamic or [() for _ in inputs])]
    out = f(*sym)
    return randomize(keras.Model(sym if len(sym) > 1 else sym[0], out), seed)


def _zero_pad(nd, pad):
    pad = base.per_dim(pad, nd)
    return getattr(keras.layers, f"ZeroPadding{nd}D")(pad if nd > 1 else pad[0])


# ---------------------------------------------------------------- custom builders (return layer callables)
def conv(a):
    nd, pad = a["nd"], a.get("pad", 0)
    layer = getattr(keras.layers, f"Conv{nd}D")(
        a["out"], base.per_dim(a["kernel"], nd), strides=a.get("stride", 1), padding="same" if pad == "same" else "valid",
        dilation_rate=a.get("dilation", 1), groups=a.get("groups", 1), use_bias=a.get("bias", True))
    if pad not in (0, "same") and any(base.per_dim(pad, nd)):
        padding = _zero_pad(nd, pad)
        return lambda x: layer(padding(x))
    return layer


def depthwise_conv(a):
    pad = a.get("pad", 0)
    layer = keras.layers.DepthwiseConv2D(a["kernel"], strides=a.get("stride", 1), depth_multiplier=a["out"] // a["in"],
                                         padding="same" if pad == "same" else "valid", use_bias=a.get("bias", True))
    if pad not in (0, "same"):
        padding = _zero_pad(2, pad)
        return lambda x: layer(padding(x))
    return layer


def conv_transpose(a):
    nd, pad = a["nd"], a.get("pad", 0)
    # torch's padding p crops p from both ends of the full ("valid") transposed convolution
    layer = getattr(keras.layers, f"Conv{nd}DTranspose")(
        a["out"], a["kernel"], strides=a.get("stride", 1), padding="valid",
        output_padding=a.get("output_padding") or None, dilation_rate=a.get("dilation", 1))
    if pad:
        crop = getattr(keras.layers, f"Cropping{nd}D")(pad)
        return lambda x: crop(layer(x))
    return layer


def pool(a):
    nd, kind = a["nd"], a["type"]
    if kind == "global_avg":
        return keras.layers.GlobalAveragePooling2D(keepdims=True)
    if kind == "global_max":
        return keras.layers.GlobalMaxPooling2D(keepdims=True)
    cls = {"max": "MaxPooling", "avg": "AveragePooling"}[kind]
    pad = a.get("pad", 0)
    if pad not in (0, "same"):
        raise ValueError("keras pooling has only 'valid' and 'same' padding")
    return getattr(keras.layers, f"{cls}{nd}D")(a["kernel"], strides=a.get("stride"),
                                                padding="same" if pad == "same" else "valid")


def batch_norm(a):
    return keras.layers.BatchNormalization(axis=-1, epsilon=a["eps"])


def layer_norm(a):
    return keras.layers.LayerNormalization(axis=list(range(-len(a["shape"]), 0)), epsilon=a["eps"])


def instance_norm(a):
    return keras.layers.GroupNormalization(groups=a["channels"], axis=-1, epsilon=a["eps"])


def group_norm(a):
    return keras.layers.GroupNormalization(groups=a["groups"], axis=-1, epsilon=a["eps"])


def rms_norm(a):
    return keras.layers.RMSNormalization(axis=-1, epsilon=a["eps"])


def prelu(a):
    return keras.layers.PReLU(shared_axes=[1, 2])          # one slope per channel (NHWC)


def linear(a):
    return keras.layers.Dense(a["out"], use_bias=a["bias"])


def embedding(a):
    return keras.layers.Embedding(a["num"], a["dim"])


def pad(a):
    mode = {"constant": "CONSTANT", "reflect": "REFLECT"}[a["mode"]]
    return lambda x: tf.pad(x, a["pads"], mode=mode, constant_values=a.get("value", 0.0))


def resize(a):
    mode, align = a["mode"], a.get("align_corners", False)

    def f(x):
        size = a["size"] if "size" in a else [int(d) * int(a["scale"]) for d in x.shape[1:3]]
        if align:
            op = {"linear": tf.raw_ops.ResizeBilinear, "cubic": tf.raw_ops.ResizeBicubic,
                  "nearest": tf.raw_ops.ResizeNearestNeighbor}[mode]
            return op(images=x, size=size, align_corners=True, half_pixel_centers=False)
        method = {"nearest": "nearest", "linear": "bilinear", "cubic": "bicubic", "area": "area"}[mode]
        return tf.image.resize(x, size, method=method)
    return f


def rnn(a):
    cls = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[a["cell"]]
    layers = []
    for _ in range(a.get("layers", 1)):
        layer = cls(a["hidden"], return_sequences=True)
        layers.append(keras.layers.Bidirectional(layer) if a.get("bidirectional") else layer)

    def f(x):
        for layer in layers:
            x = layer(x)
        return x
    return f


def multihead_attention(a):
    mha = keras.layers.MultiHeadAttention(num_heads=a["heads"], key_dim=a["embed"] // a["heads"])
    if a["self"]:
        return lambda x: mha(x, x)
    return lambda q, kv: mha(q, kv)


def spectrum(a):
    """|tf.signal.<fn>(x)|: ONNX has no complex outputs, so a spectrum is judged by its magnitude."""
    kwargs = {k: v for k, v in a.items() if k != "fn"}
    transform = getattr(tf.signal, a["fn"])
    return lambda x: tf.abs(transform(x, **kwargs))


def dynamic_stitch(a):
    """tf.dynamic_stitch with constant index lists (attrs) over the data inputs."""
    return lambda *data: tf.dynamic_stitch(a["indices"], list(data))


def ctc_greedy_decoder(a):
    """tf.nn.ctc_greedy_decoder's sparse result densified (ONNX has no sparse outputs), with its
    log-probabilities; the sequence lengths are constants of the graph."""
    def f(logits):
        decoded, log_probs = tf.nn.ctc_greedy_decoder(logits, a["sequence_length"], **a.get("kw", {}))
        return tf.sparse.to_dense(decoded[0], default_value=-1), log_probs
    return f


def merge(a):
    """A Keras merge layer (Add, Concatenate, Dot ...), which takes its inputs as one list."""
    kwargs = {k: v for k, v in a.items() if k != "layer"}
    merge_layer = getattr(keras.layers, a["layer"])(**kwargs)
    return lambda *xs: merge_layer(list(xs))


PLAIN_TF = {"pad", "resize", "spectrum", "dynamic_stitch", "ctc_greedy_decoder"}


# ---------------------------------------------------------------- entry point
class TensorFlowOps(base.OpBuilder):
    channels_last = True

    def seed(self, seed):
        keras.utils.set_random_seed(seed % (2**31))

    def custom(self, name, attrs, inputs, seed):
        body = globals()[name](attrs)
        # tf.* functions cannot take KerasTensors: those bodies run as plain callables
        return body if name in PLAIN_TF else functional(inputs, body, seed, self.dynamic)

    def module(self, call, inputs, seed):
        return functional(inputs, resolve(call["target"])(**call["kwargs"]), seed, self.dynamic)

    def call_op(self, call, inputs):
        return make_call(call)


build = TensorFlowOps().build
