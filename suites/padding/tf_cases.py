"""TensorFlow/Keras builders for the padding and semantics cases (run in the TF worker; imports
TensorFlow only). TF is channels-last: params' shapes are logical NCHW and the builder feeds
NHWC; expected values come from ``suites.padding.handcalc`` in NCHW, moved to NHWC.

``build(params, seed)`` dispatches on ``params["op"]``. The model is a python callable taking
tf tensors (a Keras layer where ``keras=True``), wrapped in a tf.function by the converter.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from suites.padding import common as cm
from suites.padding import handcalc as hc

keras = tf.keras
CASES = hc.BuilderTable()
builder, build = CASES.register, CASES.build


def _to_tf_filter(w):
    """(O, I, *K) -> (*K, I, O)."""
    nd = w.ndim - 2
    return np.ascontiguousarray(np.transpose(w, list(range(2, 2 + nd)) + [1, 0]))


def _pads(p, sizes, kernel, stride, dilation):
    padding = p["padding"]
    if padding == "SAME":
        return [hc.same_pads(s, k, st, d) for s, k, st, d in zip(sizes, kernel, stride, dilation)]
    if padding == "VALID":
        return [(0, 0)] * len(sizes)
    if padding == "CAUSAL":      # Keras Conv1D: everything on the left
        return [((k - 1) * d, 0) for k, d in zip(kernel, dilation)]
    return [tuple(q) for q in padding]


def _conv_case(p, model, x, w, b, stride, dilation, groups=1):
    """A convolution case: the NCHW input ``x``, weights ``w`` (O, I/groups, *K) and bias ``b``,
    expected under the case's padding rule; fed and expected NHWC."""
    pads = _pads(p, x.shape[2:], w.shape[2:], stride, dilation)
    y = hc.conv(x, w, b, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return cm.done(model, [hc.nhwc(x)], [hc.nhwc(y)])


# --------------------------------------------------------------------------------------------- padding
@builder("conv")
def conv(p, seed):
    shape, kernel = p["shape"], p["kernel"]
    nd = len(kernel)
    stride, dilation = [p.get("stride", 1)] * nd, [p.get("dilation", 1)] * nd
    w, b = cm.conv_weights((p["out"], shape[1], *kernel), p["out"], seed)
    x = cm.mixed(shape)
    if p.get("keras"):
        cls = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}[nd]
        layer = cls(p["out"], kernel, strides=stride, padding=p["padding"].lower(), dilation_rate=dilation)
        layer.build((None, *shape[2:], shape[1]))
        layer.set_weights([_to_tf_filter(w), b])
        model = layer
    else:
        wt, bt = _to_tf_filter(w), b     # numpy: constants inside the traced graph, not captures
        padding = p["padding"]
        if isinstance(padding, list):   # explicit pairs per spatial dim (NHWC: N and C zero)
            explicit = [[0, 0], *padding, [0, 0]]
            model = lambda t: tf.nn.conv2d(t, wt, strides=stride, padding=explicit, dilations=dilation) + bt
        else:
            model = lambda t: tf.nn.convolution(t, wt, strides=stride, padding=padding, dilations=dilation) + bt
    return _conv_case(p, model, x, w, b, stride, dilation)


@builder("depthwise")
def depthwise(p, seed):
    shape, kernel, mult = p["shape"], p["kernel"], p["multiplier"]
    cin, s = shape[1], p["stride"]
    f = hc.small_weights((*kernel, cin, mult), seed)
    w = np.zeros((cin * mult, 1, *kernel), np.float32)
    for c in range(cin):
        for m in range(mult):
            w[c * mult + m, 0] = f[:, :, c, m]
    ft = f
    model = lambda t: tf.nn.depthwise_conv2d(t, ft, strides=[1, s, s, 1], padding=p["padding"])
    return _conv_case(p, model, cm.mixed(shape), w, None, [s, s], [1, 1], groups=cin)


@builder("conv_transpose")
def conv_transpose(p, seed):
    shape, kernel, s = p["shape"], p["kernel"], p["stride"]
    cin, cout = shape[1], p["out"]
    w, b = cm.conv_weights((cin, cout, *kernel), cout, seed)     # torch/ONNX layout (I, O, *K)
    f = np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0)))    # TF layout (*K, O, I)
    x = cm.mixed(shape)
    sizes = shape[2:]
    opad = p.get("output_padding", 0)
    if p.get("keras"):
        layer = keras.layers.Conv2DTranspose(cout, kernel, strides=s, padding=p["padding"].lower(),
                                             output_padding=opad or None)
        layer.build((None, *sizes, cin))
        layer.set_weights([f, b])
        model = layer
        if p["padding"] == "SAME":
            outs = [n * s for n in sizes]
        else:
            outs = [(n - 1) * s + k + opad if opad else n * s + max(k - s, 0) for n, k in zip(sizes, kernel)]
    else:
        outs = p["output_size"]
        ft, bt = f, b
        out_shape = [shape[0], *outs, cout]
        model = lambda t: tf.nn.conv2d_transpose(t, ft, out_shape, strides=s, padding=p["padding"]) + bt
    # the adjoint of the forward conv (out -> in): that conv's pads are cropped off the full output
    pads, extra = [], []
    for n, k, o in zip(sizes, kernel, outs):
        full = (n - 1) * s + k
        if p["padding"] == "SAME":
            total = max(full - o, 0)
            pads.append((total // 2, total - total // 2))
        else:
            pads.append((0, 0))
        extra.append(max(o - full, 0))
    y = hc.conv_transpose(x, w, b, stride=s, pads=pads, output_padding=extra)
    assert list(y.shape[2:]) == list(outs), (y.shape, outs)
    return cm.done(model, [hc.nhwc(x)], [hc.nhwc(y)])


@builder("pool")
def pool(p, seed):
    shape, k, s = p["shape"], p["kernel"], p["stride"]
    nd = len(shape) - 2
    x = hc.ramp(shape, negative=p.get("negative", False))
    if p.get("keras"):
        cls = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[p["mode"]]
        model = cls(pool_size=k, strides=s, padding=p["padding"].lower())
    else:
        fn = tf.nn.max_pool if p["mode"] == "max" else tf.nn.avg_pool
        model = lambda t: fn(t, ksize=k, strides=s, padding=p["padding"])
    pads = _pads(p, shape[2:], [k] * nd, [s] * nd, [1] * nd)
    # TF averages over the real elements only
    y = hc.pool(x, k, s, pads=pads, mode=p["mode"], count_include_pad=False)
    return cm.done(model, [hc.nhwc(x)], [hc.nhwc(y)])


@builder("pad")
def pad(p, seed):
    x = hc.nhwc(hc.ramp(p["shape"]))
    pairs, mode, value = p["pairs"], p["mode"], p.get("value", 0.0)
    if p.get("keras"):
        spatial = tuple(tuple(q) for q in pairs[1:3])
        if any(v < 0 for q in spatial for v in q):
            model = keras.layers.Cropping2D(tuple(tuple(-v for v in q) for q in spatial))
        else:
            model = keras.layers.ZeroPadding2D(spatial)
    else:
        model = lambda t: tf.pad(t, pairs, mode=mode, constant_values=value)
    np_mode = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}[mode]
    y = hc.pad(x, [tuple(q) for q in pairs], mode=np_mode, value=value)
    return cm.done(model, [x], [y.astype(np.float32)])


# --------------------------------------------------------------------------------------------- semantics
@builder("div")
def div(p, seed):
    if p["rounding"] == "floor":
        return cm.integer_case(p, tf.math.floordiv, hc.FLOOR_DIV)
    return cm.integer_case(p, tf.truncatediv, hc.TRUNC_DIV)


@builder("mod")
def mod(p, seed):
    if p["kind"] == "python":
        return cm.integer_case(p, tf.math.floormod, hc.PY_MOD)
    return cm.integer_case(p, tf.truncatemod, hc.C_FMOD)


def _built(layer, shape):
    layer.build(shape)
    return layer


def _batchnorm(p, x):
    layer = _built(keras.layers.BatchNormalization(), (None, 2, 2, 2))     # channels last
    layer.set_weights([np.ones(2, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32), cm.BATCHNORM_VAR])
    return layer


cm.register_semantics(CASES, {
    "round": lambda p, x: tf.round,
    "gelu": lambda p, x: (lambda t: tf.nn.gelu(t, approximate=p["approximate"])),
    "layernorm": lambda p, x: _built(keras.layers.LayerNormalization(), x.shape),
    "batchnorm": _batchnorm,
    "groupnorm": lambda p, x: _built(keras.layers.GroupNormalization(groups=2), (None, 2, 2, 4)),
    "softmax": lambda p, x: (lambda t: tf.nn.softmax(t, axis=p["axis"])),
}, eps=1e-3, channels_last=("batchnorm", "groupnorm"))   # Keras's default epsilon (torch/paddle/ONNX: 1e-5)


@builder("resize")
def resize(p, seed):
    x, (h, w) = cm.resize_input(p)
    oh, ow = p["out"]
    method = p["method"]
    if method == "nearest" and p.get("v1"):
        # v1 without half_pixel_centers: src = floor(dst * in / out)
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "nearest", "asymmetric", nearest="floor")
        fn = lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (oh, ow), align_corners=False,
                                                                   half_pixel_centers=False)
    elif method == "nearest":
        # v2: half_pixel_centers, src = floor((dst + 0.5) * in / out)
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "nearest", "half_pixel", nearest="round_prefer_ceil")
        fn = lambda t: tf.image.resize(t, (oh, ow), method="nearest")
    elif method == "bilinear" and p.get("v1"):
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "linear", "align_corners")
        fn = lambda t: tf.compat.v1.image.resize_bilinear(t, (oh, ow), align_corners=True)
    elif method == "bilinear":
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "linear", "half_pixel", clamp_negative=True)
        fn = lambda t: tf.image.resize(t, (oh, ow), method="bilinear")
    else:
        # v2 bicubic: Keys a = -0.5, half_pixel, out-of-range taps dropped and weights renormalised,
        # and (measured, TF 2.21) the weights read from a 1024-entry table: the offset is rounded to
        # 1/1024, ~5e-3 away from the exact Keys weights that ONNX Resize computes
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "cubic", "half_pixel", cubic_a=-0.5, exclude_outside=True,
                                    cubic_table=1024)
        fn = lambda t: tf.image.resize(t, (oh, ow), method="bicubic")
    y = hc.resize2d(x, mh, mw).astype(np.float32)
    return cm.done(fn, [hc.nhwc(x)], [hc.nhwc(y)])


@builder("gru")
def gru(p, seed):
    reset_after = p["reset_after"]
    layer = keras.layers.GRU(3, return_sequences=True, reset_after=reset_after)
    layer.build((1, 4, 2))
    kernel = hc.eighths((2, 9), seed)
    recurrent = hc.eighths((3, 9), seed + 1)
    bias = hc.eighths((2, 9) if reset_after else (9,), seed + 2)
    layer.set_weights([kernel, recurrent, bias])
    x = cm.sequence_input()
    # Keras: gate columns [z, r, h]; reset_after=True applies r to (U_h h + b_rh)
    b_ih, b_hh = (bias[0], bias[1]) if reset_after else (bias, np.zeros(9, np.float32))
    y = hc.gru_reference(x[0], kernel.T, recurrent.T, b_ih, b_hh, order="zrn", reset_after=reset_after)
    return cm.done(layer, [x], [y[None].astype(np.float32)])


@builder("lstm")
def lstm(p, seed):
    layer = keras.layers.LSTM(3, return_sequences=True)
    layer.build((1, 4, 2))
    kernel = hc.eighths((2, 12), seed)
    recurrent = hc.eighths((3, 12), seed + 1)
    bias = hc.eighths((12,), seed + 2)
    layer.set_weights([kernel, recurrent, bias])
    x = cm.sequence_input()
    # Keras: gate columns [i, f, c, o]
    y = hc.lstm_reference(x[0], kernel.T, recurrent.T, bias, np.zeros(12, np.float32), order="ifgo")
    return cm.done(layer, [x], [y[None].astype(np.float32)])
