"""torch builders for the padding and semantics cases (run in the torch worker; imports torch only).

``build(params, seed)`` dispatches on ``params["op"]``. Expected values come from
``suites.padding.handcalc`` (the documented rule in numpy), never from torch itself.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from suites.padding import common as cm
from suites.padding import handcalc as hc

CASES = hc.BuilderTable()
builder, build = CASES.register, CASES.build


class Fn(cm.FnHolder, nn.Module):
    # named inputs, not *xs: torch.onnx's dynamo exporter maps a dynamic twin's dynamic axes
    # onto the signature, which a varargs signature breaks (IndexError in torch.export)
    def forward(self, x, y=None):
        return self.fn(x) if y is None else self.fn(x, y)


class PadThenConv(nn.Module):
    def __init__(self, pads, conv):
        super().__init__()
        self.pads, self.conv = list(pads), conv

    def forward(self, x):
        return self.conv(F.pad(x, self.pads))


def _set_conv_weights(m, out, seed):
    w, b = cm.conv_weights(m.weight.shape, out, seed)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(w))
        m.bias.copy_(torch.from_numpy(b))
    return w, b


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
    w, b = _set_conv_weights(m, p["out"], seed)
    x = cm.mixed(shape)
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
    return cm.done(model, [x], [y])


@builder("conv_transpose")
def conv_transpose(p, seed):
    shape, kernel = p["shape"], p["kernel"]
    nd = len(kernel)
    cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[nd]
    groups = p.get("groups", 1)
    m = cls(shape[1], p["out"], kernel, stride=p["stride"], padding=p["padding"],
            output_padding=p.get("output_padding", 0), groups=groups, dilation=p.get("dilation", 1), bias=True)
    w, b = _set_conv_weights(m, p["out"], seed)
    x = cm.mixed(shape)
    y = hc.conv_transpose(x, w, b, stride=p["stride"], pads=[(p["padding"], p["padding"])] * nd,
                          dilation=p.get("dilation", 1), output_padding=p.get("output_padding", 0), groups=groups)
    return cm.done(m, [x], [y])


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
    return cm.done(m, [x], [y])


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
    return cm.done(model, [x], [y.astype(np.float32)])


@builder("adaptive")
def adaptive(p, seed):
    shape, out = p["shape"], p["out_size"]
    nd = len(shape) - 2
    cls = {("avg", 1): nn.AdaptiveAvgPool1d, ("avg", 2): nn.AdaptiveAvgPool2d,
           ("max", 1): nn.AdaptiveMaxPool1d, ("max", 2): nn.AdaptiveMaxPool2d}[(p["mode"], nd)]
    m = cls(tuple(out) if nd > 1 else out[0])
    x = hc.ramp(shape, negative=p.get("negative", False))
    return cm.done(m, [x], [hc.adaptive_pool(x, out, p["mode"])])


# --------------------------------------------------------------------------------------------- semantics
@builder("div")
def div(p, seed):
    mode = p["rounding"]
    table = hc.FLOOR_DIV if mode == "floor" else hc.TRUNC_DIV
    return cm.integer_case(p, Fn(lambda x, y: torch.div(x, y, rounding_mode=mode)), table)


@builder("mod")
def mod(p, seed):
    if p["kind"] == "python":
        return cm.integer_case(p, Fn(torch.remainder), hc.PY_MOD)
    return cm.integer_case(p, Fn(torch.fmod), hc.C_FMOD)


def _batchnorm(p, x):
    m = nn.BatchNorm2d(2)
    with torch.no_grad():
        m.running_var.copy_(torch.from_numpy(cm.BATCHNORM_VAR))
    return m.eval()


cm.register_semantics(CASES, cm.nn_semantics(nn, lambda: Fn(torch.round), _batchnorm, axis_keyword="dim",
                                             gelu_keywords=lambda p: {"approximate": "tanh" if p["approximate"] else "none"}),
                      eps=1e-5)       # torch's default eps of LayerNorm, BatchNorm2d and GroupNorm


@builder("resize")
def resize(p, seed):
    x, (h, w) = cm.resize_input(p)
    sh, sw = p["scale"]
    oh, ow = int(np.floor(h * sh)), int(np.floor(w * sw))
    method = p["method"]
    ac = p.get("align_corners", False)
    if method == "nearest":
        # legacy 'nearest': src = floor(dst / scale_factor) (asymmetric + floor), the scale as given
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "nearest", "asymmetric", (sh, sw), nearest="floor")
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="nearest")
    elif method == "nearest-exact":
        # src = floor((dst + 0.5) / scale) = half_pixel rounded half up
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "nearest", "half_pixel", (sh, sw), nearest="round_prefer_ceil")
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="nearest-exact")
    elif method == "bilinear":
        coord = "align_corners" if ac else "half_pixel"
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "linear", coord, (None, None) if ac else (sh, sw),
                                    clamp_negative=True)
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="bilinear", align_corners=ac)
    else:
        # bicubic: Keys a = -0.75, half_pixel, taps clamped to the edge (no renormalisation)
        mh, mw = cm.resize_matrices((h, w), (oh, ow), "cubic", "half_pixel", (sh, sw), cubic_a=-0.75)
        fn = lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="bicubic", align_corners=False)
    return cm.done(Fn(fn), [x], [hc.resize2d(x, mh, mw).astype(np.float32)])


class _SeqOnly(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def _recurrent_params(m, seed):
    """Every parameter set to k/8 values (exact in float32), by name."""
    params = {n: hc.eighths(tuple(t.shape), seed + i) for i, (n, t) in enumerate(m.named_parameters())}
    with torch.no_grad():
        for n, t in m.named_parameters():
            t.copy_(torch.from_numpy(params[n]))
    return [params[n] for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]


@builder("gru")
def gru(p, seed):
    m = nn.GRU(2, 3, batch_first=True)
    weights = _recurrent_params(m, seed)
    x = cm.sequence_input()
    # torch: gates stacked [r, z, n]; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (reset AFTER)
    y = hc.gru_reference(x[0], *weights, order="rzn", reset_after=True)
    return cm.done(_SeqOnly(m), [x], [y[None].astype(np.float32)])


@builder("lstm")
def lstm(p, seed):
    m = nn.LSTM(2, 3, batch_first=True)
    weights = _recurrent_params(m, seed)
    x = cm.sequence_input()
    # torch: gates stacked [i, f, g, o] (ONNX wants [i, o, f, c])
    y = hc.lstm_reference(x[0], *weights, order="ifgo")
    return cm.done(_SeqOnly(m), [x], [y[None].astype(np.float32)])
