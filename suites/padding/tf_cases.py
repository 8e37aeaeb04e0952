"""TensorFlow/Keras builders for the padding and semantics cases (run in the TF worker; imports
TensorFlow only). TF is channels-last: params' shapes are logical NCHW and the builder feeds
NHWC; expected values come from ``suites.padding.handcalc`` in NCHW, moved to NHWC.

``build(params, seed)`` dispatches on ``params["op"]``. The model is a python callable taking
tf tensors (a Keras layer where ``keras=True``), wrapped in a tf.function by the converter.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from conformance.cases import Built
from suites.padding import handcalc as hc

keras = tf.keras
CASES = hc.BuilderTable()
builder = CASES.register
build = CASES.build


def _done(model, inputs, expected) -> Built:
    inputs = [np.ascontiguousarray(x) for x in inputs]
    expected = [np.ascontiguousarray(np.asarray(e)) for e in expected]
    return Built(model=model, inputs=inputs, input_names=[f"x{i}" for i in range(len(inputs))],
                 expected_shapes=[[tuple(e.shape) for e in expected]], expected=expected)


def _mixed(shape):
    x = hc.ramp(shape)
    return x - float(np.ceil(x.size / 2))


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


# --------------------------------------------------------------------------------------------- padding
@builder("conv")
def conv(p, seed):
    shape, kernel = p["shape"], p["kernel"]
    nd = len(kernel)
    stride, dilation = [p.get("stride", 1)] * nd, [p.get("dilation", 1)] * nd
    w = hc.small_weights((p["out"], shape[1], *kernel), seed)
    b = hc.small_weights((p["out"],), seed + 1)
    x = _mixed(shape)
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
    pads = _pads(p, shape[2:], kernel, stride, dilation)
    y = hc.conv(x, w, b, stride=stride, pads=pads, dilation=dilation)
    return _done(model, [hc.nhwc(x)], [hc.nhwc(y)])


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
    x = _mixed(shape)
    pads = _pads(p, shape[2:], kernel, [s, s], [1, 1])
    y = hc.conv(x, w, None, stride=s, pads=pads, groups=cin)
    return _done(model, [hc.nhwc(x)], [hc.nhwc(y)])


@builder("conv_transpose")
def conv_transpose(p, seed):
    shape, kernel, s = p["shape"], p["kernel"], p["stride"]
    cin, cout = shape[1], p["out"]
    w = hc.small_weights((cin, cout, *kernel), seed)          # torch/ONNX layout (I, O, *K)
    b = hc.small_weights((cout,), seed + 1)
    f = np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0)))    # TF layout (*K, O, I)
    x = _mixed(shape)
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
    return _done(model, [hc.nhwc(x)], [hc.nhwc(y)])


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
    return _done(model, [hc.nhwc(x)], [hc.nhwc(y)])


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
    return _done(model, [x], [y.astype(np.float32)])


# --------------------------------------------------------------------------------------------- semantics
@builder("div")
def div(p, seed):
    dt = np.dtype(p["dtype"])
    a, b = np.array(hc.INT_A, dt), np.array(hc.INT_B, dt)
    if p["rounding"] == "floor":
        return _done(tf.math.floordiv, [a, b], [np.array(hc.FLOOR_DIV, dt)])
    return _done(tf.truncatediv, [a, b], [np.array(hc.TRUNC_DIV, dt)])


@builder("mod")
def mod(p, seed):
    dt = np.dtype(p["dtype"])
    a, b = np.array(hc.INT_A, dt), np.array(hc.INT_B, dt)
    if p["kind"] == "python":
        return _done(tf.math.floormod, [a, b], [np.array(hc.PY_MOD, dt)])
    return _done(tf.truncatemod, [a, b], [np.array(hc.C_FMOD, dt)])


@builder("round")
def round_(p, seed):
    x = np.array(hc.ROUND_X, np.float32)
    return _done(tf.round, [x], [np.array(hc.ROUND_HALF_EVEN, np.float32)])


@builder("gelu")
def gelu(p, seed):
    x = np.array(hc.GELU_X, np.float32)
    approx = p["approximate"]
    return _done(lambda t: tf.nn.gelu(t, approximate=approx), [x], [hc.gelu(x, approx).astype(np.float32)])


@builder("layernorm")
def layernorm(p, seed):
    x = np.array(hc.NORM_X, np.float32)
    layer = keras.layers.LayerNormalization()     # epsilon default 1e-3 (torch/paddle/ONNX: 1e-5)
    layer.build(x.shape)
    return _done(layer, [x], [hc.layernorm(x, 1e-3).astype(np.float32)])


@builder("batchnorm")
def batchnorm(p, seed):
    layer = keras.layers.BatchNormalization()     # epsilon default 1e-3, channels last
    layer.build((None, 2, 2, 2))
    var = np.array([1e-5, 4e-6], np.float32)
    layer.set_weights([np.ones(2, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32), var])
    x = hc.nhwc((hc.ramp((1, 2, 2, 2)) * 1e-3).astype(np.float32))
    y = x.astype(np.float64) / np.sqrt(var.astype(np.float64) + 1e-3)
    return _done(layer, [x], [y.astype(np.float32)])


@builder("groupnorm")
def groupnorm(p, seed):
    x = hc.tiny_ramp((1, 4, 2, 2))
    layer = keras.layers.GroupNormalization(groups=2)    # epsilon default 1e-3, channels last
    layer.build((None, 2, 2, 4))
    return _done(layer, [hc.nhwc(x)], [hc.nhwc(hc.groupnorm(x, 2, 1e-3)).astype(np.float32)])


@builder("softmax")
def softmax(p, seed):
    x = (hc.ramp((2, 3, 4)) / 4).astype(np.float32)
    axis = p["axis"]
    return _done(lambda t: tf.nn.softmax(t, axis=axis), [x], [hc.softmax(x, axis).astype(np.float32)])


@builder("resize")
def resize(p, seed):
    h, w = p["size"]
    oh, ow = p["out"]
    x = hc.ramp((1, 1, h, w))
    method = p["method"]
    if method == "nearest" and p.get("v1"):
        # v1 without half_pixel_centers: src = floor(dst * in / out)
        mh = hc.resize_matrix(h, oh, "nearest", "asymmetric", nearest="floor")
        mw = hc.resize_matrix(w, ow, "nearest", "asymmetric", nearest="floor")
        fn = lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (oh, ow), align_corners=False,
                                                                   half_pixel_centers=False)
    elif method == "nearest":
        # v2: half_pixel_centers, src = floor((dst + 0.5) * in / out)
        mh = hc.resize_matrix(h, oh, "nearest", "half_pixel", nearest="round_prefer_ceil")
        mw = hc.resize_matrix(w, ow, "nearest", "half_pixel", nearest="round_prefer_ceil")
        fn = lambda t: tf.image.resize(t, (oh, ow), method="nearest")
    elif method == "bilinear" and p.get("v1"):
        mh = hc.resize_matrix(h, oh, "linear", "align_corners")
        mw = hc.resize_matrix(w, ow, "linear", "align_corners")
        fn = lambda t: tf.compat.v1.image.resize_bilinear(t, (oh, ow), align_corners=True)
    elif method == "bilinear":
        mh = hc.resize_matrix(h, oh, "linear", "half_pixel", clamp_negative=True)
        mw = hc.resize_matrix(w, ow, "linear", "half_pixel", clamp_negative=True)
        fn = lambda t: tf.image.resize(t, (oh, ow), method="bilinear")
    else:
        # v2 bicubic: Keys a = -0.5, half_pixel, out-of-range taps dropped and weights renormalised,
        # and (measured, TF 2.21) the weights read from a 1024-entry table: the offset is rounded to
        # 1/1024, ~5e-3 away from the exact Keys weights that ONNX Resize computes
        mh = hc.resize_matrix(h, oh, "cubic", "half_pixel", cubic_a=-0.5, exclude_outside=True, cubic_table=1024)
        mw = hc.resize_matrix(w, ow, "cubic", "half_pixel", cubic_a=-0.5, exclude_outside=True, cubic_table=1024)
        fn = lambda t: tf.image.resize(t, (oh, ow), method="bicubic")
    y = hc.resize2d(x, mh, mw).astype(np.float32)
    return _done(fn, [hc.nhwc(x)], [hc.nhwc(y)])


@builder("gru")
def gru(p, seed):
    reset_after = p["reset_after"]
    layer = keras.layers.GRU(3, return_sequences=True, reset_after=reset_after)
    layer.build((1, 4, 2))
    kernel = hc.eighths((2, 9), seed)
    recurrent = hc.eighths((3, 9), seed + 1)
    bias = hc.eighths((2, 9) if reset_after else (9,), seed + 2)
    layer.set_weights([kernel, recurrent, bias])
    x = (hc.ramp((1, 4, 2)) / 4 - 1).astype(np.float32)
    # Keras: gate columns [z, r, h]; reset_after=True applies r to (U_h h + b_rh)
    b_ih, b_hh = (bias[0], bias[1]) if reset_after else (bias, np.zeros(9, np.float32))
    y = hc.gru_reference(x[0], kernel.T, recurrent.T, b_ih, b_hh, order="zrn", reset_after=reset_after)
    return _done(layer, [x], [y[None].astype(np.float32)])


@builder("lstm")
def lstm(p, seed):
    layer = keras.layers.LSTM(3, return_sequences=True)
    layer.build((1, 4, 2))
    kernel = hc.eighths((2, 12), seed)
    recurrent = hc.eighths((3, 12), seed + 1)
    bias = hc.eighths((12,), seed + 2)
    layer.set_weights([kernel, recurrent, bias])
    x = (hc.ramp((1, 4, 2)) / 4 - 1).astype(np.float32)
    # Keras: gate columns [i, f, c, o]
    y = hc.lstm_reference(x[0], kernel.T, recurrent.T, bias, np.zeros(12, np.float32), order="ifgo")
    return _done(layer, [x], [y[None].astype(np.float32)])
