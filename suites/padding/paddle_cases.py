"""Paddle builders for the padding and semantics cases (run in the paddle worker; imports paddle
only). ``build(params, seed)`` dispatches on ``params["op"]``; params' shapes are logical NCHW,
``layout="NHWC"`` feeds channels-last with ``data_format="NHWC"``. Expected values come from
``suites.padding.handcalc`` (the documented rule), never from paddle itself.
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from suites.padding import common as cm
from suites.padding import handcalc as hc

CASES = hc.BuilderTable()
builder, build = CASES.register, CASES.build


class Fn(cm.FnHolder, nn.Layer):
    """One-input function as a layer (paddle.jit.save needs a fixed-arity forward)."""

    def forward(self, x):
        return self.fn(x)


class Fn2(Fn):
    def forward(self, x, y):
        return self.fn(x, y)


class Wrap(nn.Layer):
    """A layer, optionally only its first output."""

    def __init__(self, layer, first=False):
        super().__init__()
        self.layer = layer
        self.first = first

    def forward(self, x):
        out = self.layer(x)
        return out[0] if self.first else out


def _set_conv_weights(m, out, seed):
    w, b = cm.conv_weights(m.weight.shape, out, seed)
    m.weight.set_value(w)
    m.bias.set_value(b)
    return w, b


def _done(p, model, x, y):
    """The case of the NCHW input ``x`` and expected ``y``; NHWC cases feed and expect channels-last."""
    if p.get("layout") == "NHWC":
        x, y = hc.nhwc(x), hc.nhwc(y)
    return cm.done(model, [x], [y])


def _explicit_pads(padding, nd, layout):
    """Paddle's padding formats as (begin, end) per spatial dim."""
    if isinstance(padding, int):
        return [(padding, padding)] * nd
    if all(isinstance(q, list) for q in padding):          # pairs per dim, layout order
        spatial = padding[1:-1] if layout == "NHWC" else padding[2:]
        return [tuple(q) for q in spatial]
    if len(padding) == nd:                                 # [pad_h, pad_w]
        return [(q, q) for q in padding]
    return [(padding[2 * i], padding[2 * i + 1]) for i in range(nd)]   # [top, bottom, left, right]


def _conv_pads(p, sizes, kernel, stride, dilation):
    padding = p["padding"]
    if padding == "SAME":
        return [hc.same_pads(s, k, stride, dilation) for s, k in zip(sizes, kernel)]
    if padding == "VALID":
        return [(0, 0)] * len(sizes)
    return _explicit_pads(padding, len(sizes), p.get("layout", "NCHW"))


# --------------------------------------------------------------------------------------------- padding
@builder("conv")
def conv(p, seed):
    shape, kernel = p["shape"], p["kernel"]
    nd = len(kernel)
    stride, dilation = p.get("stride", 1), p.get("dilation", 1)
    layout = p.get("layout", "NCHW")
    fmt = {1: "NCL", 2: layout}[nd] if layout == "NCHW" else {1: "NLC", 2: "NHWC"}[nd]
    cls = {1: nn.Conv1D, 2: nn.Conv2D}[nd]
    mode = p.get("padding_mode", "zeros")
    m = cls(shape[1], p["out"], kernel, stride=stride, padding=p["padding"], dilation=dilation, data_format=fmt,
            padding_mode=mode)
    w, b = _set_conv_weights(m, p["out"], seed)
    x = cm.mixed(shape)
    if p["padding"] == "SAME":
        # Paddle resets dilation to 1 under padding='SAME' (phi UpdatePaddingAndDilation; measured,
        # paddle 3.3): a SAME conv with dilation d runs UNdilated. A converter emitting the dilation
        # disagrees with paddle.
        dilation = 1
    pads = _conv_pads(p, shape[2:], kernel, stride, dilation)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if np_mode:   # padding_mode pads the input with that mode, then a VALID conv
        x_padded, pads = hc.pad(x, hc.spatial(*zip(*pads)), mode=np_mode), None
    else:
        x_padded = x
    y = hc.conv(x_padded, w, b, stride=stride, pads=pads, dilation=dilation)
    return _done(p, m, x, y)


@builder("conv_transpose")
def conv_transpose(p, seed):
    shape, kernel, s = p["shape"], p["kernel"], p["stride"]
    nd = len(kernel)
    layout = p.get("layout", "NCHW")
    opad = p.get("output_padding", 0)
    m = nn.Conv2DTranspose(shape[1], p["out"], kernel, stride=s, padding=p["padding"], output_padding=opad,
                           data_format=layout)
    w, b = _set_conv_weights(m, p["out"], seed)      # (I, O, kH, kW)
    x = cm.mixed(shape)
    sizes = shape[2:]
    if p["padding"] == "SAME":
        # Paddle computes the SAME pads from the transposed conv's INPUT size, as for a forward
        # conv of that input (measured, paddle 3.3): 3x4, k3, s2 -> pads (1,1) and (0,1), output
        # 5x8 -- not TF/Keras's in*stride = 6x8.
        pads = [hc.same_pads(n, k, s) for n, k in zip(sizes, kernel)]
    else:
        pads = _explicit_pads(p["padding"], nd, layout)
    y = hc.conv_transpose(x, w, b, stride=s, pads=pads, output_padding=opad)
    return _done(p, m, x, y)


@builder("pool")
def pool(p, seed):
    shape, k, s = p["shape"], p["kernel"], p["stride"]
    nd = len(shape) - 2
    layout = p.get("layout", "NCHW")
    padding = p.get("padding", 0)
    ceil = p.get("ceil_mode", False)
    exclusive = p.get("exclusive", True)
    if p["mode"] == "max":
        m = nn.MaxPool2D(k, s, padding, ceil_mode=ceil, data_format=layout)
    else:
        m = nn.AvgPool2D(k, s, padding, ceil_mode=ceil, exclusive=exclusive, data_format=layout)
    x = hc.ramp(shape, negative=p.get("negative", False))
    if padding == "SAME":
        pads = [hc.same_pads(n, k, s) for n in shape[2:]]
    else:
        pads = _explicit_pads(padding, nd, layout)
    # Paddle's ceil_mode output size is ceil((in + 2p - k) / s) + 1 with NO torch-style drop of a
    # last window starting in the end padding (measured, paddle 3.3: 5x5, k2, s2, p1 -> 4x4, torch 3x3)
    outs = [hc.pool_out_size(n, k, s, b, e, ceil_mode=ceil, drop_window_in_padding=False)
            for n, (b, e) in zip(shape[2:], pads)]
    y = hc.pool(x, k, s, pads=pads, mode=p["mode"], count_include_pad=not exclusive, out_sizes=outs)
    # a window lying wholly in the padding: paddle's max starts from -FLT_MAX, not -inf (measured)
    y = np.where(np.isneginf(y), np.finfo(np.float32).min, y).astype(np.float32)
    return _done(p, m, x, y)


@builder("pad")
def pad(p, seed):
    x = hc.ramp(p["shape"])
    pads, mode, value = p["pads"], p["mode"], p.get("value", 0.0)
    layout = p.get("layout", "NCHW")
    nd = x.ndim
    if len(pads) == 2 * nd:
        # len(pad) == 2 * ndim: pairs from the FIRST dim (unlike torch's F.pad)
        pairs = [(pads[2 * i], pads[2 * i + 1]) for i in range(nd)]
        xin = x
    else:
        # [left, right, top, bottom]: the LAST spatial dim first, in the layout's spatial dims
        sp = [(pads[2 * i], pads[2 * i + 1]) for i in range(len(pads) // 2)][::-1]
        xin = hc.nhwc(x) if layout == "NHWC" else x
        pairs = [(0, 0)] + sp + [(0, 0)] if layout == "NHWC" else [(0, 0), (0, 0)] + sp
    if p.get("module") == "Pad2D":
        model = nn.Pad2D(pads, mode=mode, value=value, data_format=layout)
    else:
        model = Fn(lambda t: F.pad(t, pads, mode=mode, value=value, data_format=layout))
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    y = hc.pad(xin, pairs, mode=np_mode, value=value).astype(np.float32)
    return cm.done(model, [xin], [y])


@builder("adaptive")
def adaptive(p, seed):
    shape, out = p["shape"], p["out_size"]
    cls = {"avg": nn.AdaptiveAvgPool2D, "max": nn.AdaptiveMaxPool2D}[p["mode"]]
    m = cls(tuple(out))
    x = hc.ramp(shape, negative=p.get("negative", False))
    return cm.done(m, [x], [hc.adaptive_pool(x, out, p["mode"])])


# --------------------------------------------------------------------------------------------- semantics
@builder("div")
def div(p, seed):
    return cm.integer_case(p, Fn2(paddle.floor_divide), hc.FLOOR_DIV)


@builder("mod")
def mod(p, seed):
    return cm.integer_case(p, Fn2(paddle.remainder), hc.PY_MOD)


def _batchnorm(p, x):
    m = nn.BatchNorm2D(2)
    m._variance.set_value(cm.BATCHNORM_VAR)
    m.eval()
    return m


cm.register_semantics(CASES, cm.nn_semantics(nn, lambda: Fn(paddle.round), _batchnorm, axis_keyword="axis",
                                             gelu_keywords=lambda p: {"approximate": p["approximate"]}),
                      eps=1e-5)       # paddle's default epsilon of LayerNorm, BatchNorm2D and GroupNorm


@builder("resize")
def resize(p, seed):
    x, (h, w) = cm.resize_input(p)
    oh, ow = p["out"]
    method = p["method"]
    ac = p.get("align_corners", False)
    align_mode = p.get("align_mode", 0)
    if method == "nearest":
        # align_corners=False: src = floor(dst * in / out)
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "nearest", "asymmetric", nearest="floor")
        fn = lambda t: F.interpolate(t, size=[oh, ow], mode="nearest")
    else:
        # align_mode 0: half_pixel (negative sources clamped to 0); 1: asymmetric src = dst * in / out
        coord = "align_corners" if ac else ("half_pixel" if align_mode == 0 else "asymmetric")
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "linear", coord, clamp_negative=True)
        fn = lambda t: F.interpolate(t, size=[oh, ow], mode="bilinear", align_corners=ac, align_mode=align_mode)
    return cm.done(Fn(fn), [x], [hc.resize2d(x, mh, mw).astype(np.float32)])


def _rnn_params(m, seed):
    """Set every parameter to k/8 values; return them by their last name part (weight_ih, ...)."""
    out = {}
    for i, (name, t) in enumerate(m.named_parameters()):
        v = hc.eighths(tuple(t.shape), seed + i)
        t.set_value(v)
        out[name.split(".")[-1].replace("_l0", "")] = v
    return out


def _recurrent_case(m, seed, reference, order):
    """Paddle's GRU / LSTM ``m`` with k/8 parameters against ``reference`` with the gate ``order``."""
    w = _rnn_params(m, seed)
    x = cm.sequence_input()
    y = reference(x[0], w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"], order=order)
    return cm.done(Wrap(m, first=True), [x], [y[None].astype(np.float32)])


@builder("gru")
def gru(p, seed):
    # paddle: gates stacked [r, z, c]; c = tanh(W_ic x + b_ic + r * (W_hc h + b_hc)) (reset AFTER)
    return _recurrent_case(nn.GRU(2, 3), seed, hc.gru_reference, "rzn")


@builder("lstm")
def lstm(p, seed):
    # paddle: gates stacked [i, f, c, o]
    return _recurrent_case(nn.LSTM(2, 3), seed, hc.lstm_reference, "ifgo")
