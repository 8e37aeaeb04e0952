"""torch builders for the padding and semantics cases (run in the torch worker; imports torch only).

``build(params, seed)`` dispatches on ``params["op"]``. Expected values come from
``suites.padding.handcalc`` (the documented rule in numpy), never from torch itself.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from conformance.cases import Built
from suites.padding import handcalc as hc

CASES = hc.BuilderTable()
builder = CASES.register
build = CASES.build


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


class PadThenConv(nn.Module):
    def __init__(self, pads, conv):
        super().__init__()
        self.pads, self.conv = list(pads), conv

    def forward(self, x):
        return self.conv(F.pad(x, self.pads))


def _done(model, inputs, expected, names=None) -> Built:
    inputs = [np.ascontiguousarray(x) for x in inputs]
    expected = [np.asarray(e) for e in expected]
    return Built(model=model, inputs=inputs, input_names=names or [f"x{i}" for i in range(len(inputs))],
                 expected_shapes=[[tuple(e.shape) for e in expected]], expected=expected)


def _mixed(shape):
    """Small integers of both signs."""
    x = hc.ramp(shape)
    return x - float(np.ceil(x.size / 2))


# --------------------------------------------------------------------------------------------- padding
@builder("conv")
def conv(p, seed):
    shape, kernel = p["shape"], p["kernel"]
    nd = len(kernel)
    cin, groups = shape[1], p.get("groups", 1)
    cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[nd]
    padding = p["padding"]
    m = cls(cin, p["out"], kernel, stride=p.get("stride", 1), padding=padding if isinstance(padding, str) else tuple(padding),
            dilation=p.get("dilation", 1), groups=groups, bias=True, padding_mode=p.get("padding_mode", "zeros"))
    w = hc.small_weights(tuple(m.weight.shape), seed)
    b = hc.small_weights((p["out"],), seed + 1)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(w))
        m.bias.copy_(torch.from_numpy(b))
    x = _mixed(shape)
    dil = p.get("dilation", 1)
    xe = x
    if p.get("pre_pad"):
        # F.pad then a VALID conv: the exporter should fold or keep an asymmetric Pad
        pre = p["pre_pad"]
        model = PadThenConv(pre, m)
        xe = hc.pad(x, _fpad_pairs(pre, x.ndim))
    else:
        model = m
    if padding == "same":
        pads = [hc.torch_same_pads(k, dil) for k in kernel]
    else:
        pads = [(q, q) for q in (padding if isinstance(padding, list) else [padding] * nd)]
    mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(p.get("padding_mode"))
    if mode:   # padding_mode pads the input with that mode, then a VALID conv
        xe = hc.pad(xe, hc.spatial(*zip(*pads)), mode=mode)
        pads = None
    y = hc.conv(xe, w, b, stride=p.get("stride", 1), pads=pads, dilation=dil, groups=groups)
    return _done(model, [x], [y])


@builder("conv_transpose")
def conv_transpose(p, seed):
    shape, kernel = p["shape"], p["kernel"]
    nd = len(kernel)
    cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[nd]
    groups = p.get("groups", 1)
    m = cls(shape[1], p["out"], kernel, stride=p["stride"], padding=p["padding"],
            output_padding=p.get("output_padding", 0), groups=groups, dilation=p.get("dilation", 1), bias=True)
    w = hc.small_weights(tuple(m.weight.shape), seed)
    b = hc.small_weights((p["out"],), seed + 1)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(w))
        m.bias.copy_(torch.from_numpy(b))
    x = _mixed(shape)
    y = hc.conv_transpose(x, w, b, stride=p["stride"], pads=[(p["padding"], p["padding"])] * nd,
                          dilation=p.get("dilation", 1), output_padding=p.get("output_padding", 0), groups=groups)
    return _done(m, [x], [y])


@builder("pool")
def pool(p, seed):
    shape = p["shape"]
    nd = len(shape) - 2
    k, s, pad = p["kernel"], p.get("stride"), p.get("padding", 0)
    if p["mode"] == "max":
        cls = {1: nn.MaxPool1d, 2: nn.MaxPool2d}[nd]
        m = cls(k, s, pad, dilation=p.get("dilation", 1), ceil_mode=p.get("ceil_mode", False))
    else:
        cls = {1: nn.AvgPool1d, 2: nn.AvgPool2d}[nd]
        kwargs = {"divisor_override": p["divisor_override"]} if p.get("divisor_override") else {}
        m = cls(k, s, pad, ceil_mode=p.get("ceil_mode", False), count_include_pad=p.get("count_include_pad", True),
                **kwargs)
    x = hc.ramp(shape, negative=p.get("negative", False))
    y = hc.pool(x, k, s, pads=[(pad, pad)] * nd, mode=p["mode"], count_include_pad=p.get("count_include_pad", True),
                ceil_mode=p.get("ceil_mode", False), dilation=p.get("dilation", 1),
                divisor_override=p.get("divisor_override"))
    return _done(m, [x], [y])


def _fpad_pairs(pads, ndim):
    """F.pad's flat tuple (last dim first) as per-axis (begin, end) pairs."""
    pairs = [(0, 0)] * ndim
    for i in range(len(pads) // 2):
        pairs[ndim - 1 - i] = (pads[2 * i], pads[2 * i + 1])
    return pairs


@builder("pad")
def pad(p, seed):
    x = hc.ramp(p["shape"])
    pads, mode, value = p["pads"], p["mode"], p.get("value", 0.0)
    if p.get("module") == "ZeroPad2d":
        model = nn.ZeroPad2d(tuple(pads))
    elif mode == "constant":
        model = Fn(lambda t: F.pad(t, pads, mode="constant", value=value))
    else:
        model = Fn(lambda t: F.pad(t, pads, mode=mode))
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    y = hc.pad(x, _fpad_pairs(pads, x.ndim), mode=np_mode, value=value)
    return _done(model, [x], [y.astype(np.float32)])


@builder("adaptive")
def adaptive(p, seed):
    shape, out = p["shape"], p["out_size"]
    nd = len(shape) - 2
    cls = {("avg", 1): nn.AdaptiveAvgPool1d, ("avg", 2): nn.AdaptiveAvgPool2d,
           ("max", 1): nn.AdaptiveMaxPool1d, ("max", 2): nn.AdaptiveMaxPool2d}[(p["mode"], nd)]
    m = cls(tuple(out) if nd > 1 else out[0])
    x = hc.ramp(shape, negative=p.get("negative", False))
    return _done(m, [x], [hc.adaptive_pool(x, out, p["mode"])])


# --------------------------------------------------------------------------------------------- semantics
@builder("div")
def div(p, seed):
    dt = np.dtype(p["dtype"])
    a, b = np.array(hc.INT_A, dt), np.array(hc.INT_B, dt)
    b = np.where(b == 0, 1, b).astype(dt)
    if p["rounding"] == "floor":
        expected = np.array(hc.FLOOR_DIV, dt)
    else:
        expected = np.array(hc.TRUNC_DIV, dt)
    mode = p["rounding"]
    return _done(Fn(lambda x, y: torch.div(x, y, rounding_mode=mode)), [a, b], [expected])


@builder("mod")
def mod(p, seed):
    dt = np.dtype(p["dtype"])
    a, b = np.array(hc.INT_A, dt), np.array(hc.INT_B, dt)
    if p["kind"] == "python":
        return _done(Fn(torch.remainder), [a, b], [np.array(hc.PY_MOD, dt)])
    return _done(Fn(torch.fmod), [a, b], [np.array(hc.C_FMOD, dt)])


@builder("round")
def round_(p, seed):
    x = np.array(hc.ROUND_X, np.float32)
    return _done(Fn(torch.round), [x], [np.array(hc.ROUND_HALF_EVEN, np.float32)])


@builder("gelu")
def gelu(p, seed):
    x = np.array(hc.GELU_X, np.float32)
    approx = "tanh" if p["approximate"] else "none"
    return _done(nn.GELU(approximate=approx), [x], [hc.gelu(x, p["approximate"]).astype(np.float32)])


@builder("layernorm")
def layernorm(p, seed):
    x = np.array(hc.NORM_X, np.float32)
    m = nn.LayerNorm(4)          # eps default 1e-5
    return _done(m, [x], [hc.layernorm(x, 1e-5).astype(np.float32)])


@builder("batchnorm")
def batchnorm(p, seed):
    m = nn.BatchNorm2d(2)        # eps default 1e-5
    var = np.array([1e-5, 4e-6], np.float32)
    with torch.no_grad():
        m.running_var.copy_(torch.from_numpy(var))
    m.eval()
    x = (hc.ramp((1, 2, 2, 2)) * 1e-3).astype(np.float32)
    y = x.astype(np.float64) / np.sqrt(var.astype(np.float64) + 1e-5).reshape(1, 2, 1, 1)
    return _done(m, [x], [y.astype(np.float32)])


@builder("groupnorm")
def groupnorm(p, seed):
    x = hc.tiny_ramp((1, 4, 2, 2))
    m = nn.GroupNorm(2, 4)       # eps default 1e-5
    return _done(m, [x], [hc.groupnorm(x, 2, 1e-5).astype(np.float32)])


@builder("softmax")
def softmax(p, seed):
    x = (hc.ramp((2, 3, 4)) / 4).astype(np.float32)
    axis = p["axis"]
    return _done(nn.Softmax(dim=axis), [x], [hc.softmax(x, axis).astype(np.float32)])


@builder("resize")
def resize(p, seed):
    h, w = p["size"]
    x = hc.ramp((1, 1, h, w))
    sh, sw = p["scale"]
    oh, ow = int(np.floor(h * sh)), int(np.floor(w * sw))
    method = p["method"]
    ac = p.get("align_corners", False)
    if method == "nearest":
        # legacy 'nearest': src = floor(dst / scale_factor) (asymmetric + floor), the scale as given
        mh = hc.resize_matrix(h, oh, "nearest", "asymmetric", scale=sh, nearest="floor")
        mw = hc.resize_matrix(w, ow, "nearest", "asymmetric", scale=sw, nearest="floor")
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="nearest")
    elif method == "nearest-exact":
        # src = floor((dst + 0.5) / scale) = half_pixel rounded half up
        mh = hc.resize_matrix(h, oh, "nearest", "half_pixel", scale=sh, nearest="round_prefer_ceil")
        mw = hc.resize_matrix(w, ow, "nearest", "half_pixel", scale=sw, nearest="round_prefer_ceil")
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="nearest-exact")
    elif method == "bilinear":
        coord = "align_corners" if ac else "half_pixel"
        mh = hc.resize_matrix(h, oh, "linear", coord, scale=None if ac else sh, clamp_negative=True)
        mw = hc.resize_matrix(w, ow, "linear", coord, scale=None if ac else sw, clamp_negative=True)
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="bilinear", align_corners=ac)
    else:
        # bicubic: Keys a = -0.75, half_pixel, taps clamped to the edge (no renormalisation)
        mh = hc.resize_matrix(h, oh, "cubic", "half_pixel", scale=sh, cubic_a=-0.75)
        mw = hc.resize_matrix(w, ow, "cubic", "half_pixel", scale=sw, cubic_a=-0.75)
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="bicubic", align_corners=False)
    return _done(Fn(fn), [x], [hc.resize2d(x, mh, mw).astype(np.float32)])


class _SeqOnly(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


@builder("gru")
def gru(p, seed):
    m = nn.GRU(2, 3, batch_first=True)
    params = {n: hc.eighths(tuple(t.shape), seed + i) for i, (n, t) in enumerate(m.named_parameters())}
    with torch.no_grad():
        for n, t in m.named_parameters():
            t.copy_(torch.from_numpy(params[n]))
    x = (hc.ramp((1, 4, 2)) / 4 - 1).astype(np.float32)
    # torch: gates stacked [r, z, n]; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (reset AFTER)
    y = hc.gru_reference(x[0], params["weight_ih_l0"], params["weight_hh_l0"], params["bias_ih_l0"],
                         params["bias_hh_l0"], order="rzn", reset_after=True)
    return _done(_SeqOnly(m), [x], [y[None].astype(np.float32)])


@builder("lstm")
def lstm(p, seed):
    m = nn.LSTM(2, 3, batch_first=True)
    params = {n: hc.eighths(tuple(t.shape), seed + i) for i, (n, t) in enumerate(m.named_parameters())}
    with torch.no_grad():
        for n, t in m.named_parameters():
            t.copy_(torch.from_numpy(params[n]))
    x = (hc.ramp((1, 4, 2)) / 4 - 1).astype(np.float32)
    # torch: gates stacked [i, f, g, o] (ONNX wants [i, o, f, c])
    y = hc.lstm_reference(x[0], params["weight_ih_l0"], params["weight_hh_l0"], params["bias_ih_l0"],
                          params["bias_hh_l0"], order="ifgo")
    return _done(_SeqOnly(m), [x], [y[None].astype(np.float32)])
