"""Independent numpy statements of each framework's documented padding and pooling rules.

The builders compute ``Built.expected`` with these, from the rule the framework documents
(e.g. TF 'SAME': the odd pad goes at the END), never by running the framework. Inputs are
small integers, so convolutions and max pools are exact in float32 and averages round once.
Everything works in float64 and is cast at the end. Layout is channels-first (N, C, *spatial);
builders transpose for NHWC. Imports numpy only.
"""
from __future__ import annotations

import itertools
import math

import numpy as np


# --------------------------------------------------------------------------------------------- pads
def same_pads(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TF/Keras/Paddle 'SAME' (= ONNX SAME_UPPER): out = ceil(in / stride); the odd pad at the end."""
    eff = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def same_lower_pads(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """ONNX SAME_LOWER: the odd pad at the beginning."""
    begin, end = same_pads(size, kernel, stride, dilation)
    return end, begin


def torch_same_pads(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """torch padding='same' (stride 1 only): total d*(k-1), left = total // 2, the rest right."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def pad(x: np.ndarray, pads: list[tuple[int, int]], mode: str = "constant", value: float = 0.0) -> np.ndarray:
    """Pad/crop every axis: ``pads[i] = (begin, end)`` for axis i, negative = crop.

    mode: constant | reflect (mirror without the edge) | symmetric (mirror with the edge) |
    edge (replicate) | wrap (circular)."""
    x = np.asarray(x, dtype=np.float64)
    pos = [(max(b, 0), max(e, 0)) for b, e in pads]
    kwargs = {"constant_values": value} if mode == "constant" else {}
    y = np.pad(x, pos, mode=mode, **kwargs)
    index = tuple(slice(-min(b, 0), y.shape[i] + min(e, 0)) for i, (b, e) in enumerate(pads))
    return y[index]


def spatial(pads_begin, pads_end) -> list[tuple[int, int]]:
    """(N, C) untouched, then the spatial (begin, end) pairs."""
    return [(0, 0), (0, 0)] + list(zip(pads_begin, pads_end))


# --------------------------------------------------------------------------------------------- conv
def conv(x, w, bias=None, stride=1, pads=None, dilation=1, groups=1):
    """Cross-correlation, x (N, C, *S), w (O, C/groups, *K); pads [(begin, end)] per spatial axis."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    nd = x.ndim - 2
    stride = _tup(stride, nd)
    dilation = _tup(dilation, nd)
    pads = pads or [(0, 0)] * nd
    xp = pad(x, [(0, 0), (0, 0)] + list(pads))
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    out_sp = [(xp.shape[2 + i] - ((kernel[i] - 1) * dilation[i] + 1)) // stride[i] + 1 for i in range(nd)]
    y = np.zeros((n, o, *out_sp))
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        for k in itertools.product(*[range(kk) for kk in kernel]):
            sl = tuple(slice(k[i] * dilation[i], k[i] * dilation[i] + (out_sp[i] - 1) * stride[i] + 1, stride[i])
                       for i in range(nd))
            patch = xs[(slice(None), slice(None)) + sl]            # (N, cg, *out)
            wk = w[(slice(g * og, (g + 1) * og), slice(None)) + k]  # (og, cg)
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", patch, wk)
    if bias is not None:
        y += np.asarray(bias, np.float64).reshape((1, -1) + (1,) * nd)
    return y.astype(np.float32)


def conv_transpose(x, w, bias=None, stride=1, pads=None, dilation=1, output_padding=0, groups=1):
    """Transposed conv, w (C_in, O/groups, *K) as torch/ONNX. Full output is
    (in-1)*s + (k-1)*d + 1 + output_padding, then ``pads`` (begin, end) are cropped off."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    nd = x.ndim - 2
    stride, dilation, opad = _tup(stride, nd), _tup(dilation, nd), _tup(output_padding, nd)
    pads = pads or [(0, 0)] * nd
    n, c = x.shape[:2]
    og = w.shape[1]
    kernel = w.shape[2:]
    full = [(x.shape[2 + i] - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 + opad[i] for i in range(nd)]
    y = np.zeros((n, og * groups, *full))
    cg = c // groups
    for g in range(groups):
        xs = x[:, g * cg:(g + 1) * cg]
        for k in itertools.product(*[range(kk) for kk in kernel]):
            sl = tuple(slice(k[i] * dilation[i], k[i] * dilation[i] + (x.shape[2 + i] - 1) * stride[i] + 1, stride[i])
                       for i in range(nd))
            wk = w[(slice(g * cg, (g + 1) * cg), slice(None)) + k]  # (cg, og)
            y[(slice(None), slice(g * og, (g + 1) * og)) + sl] += np.einsum("nc...,co->no...", xs, wk)
    y = y[(slice(None), slice(None)) + tuple(slice(b, full[i] - e) for i, (b, e) in enumerate(pads))]
    if bias is not None:
        y += np.asarray(bias, np.float64).reshape((1, -1) + (1,) * nd)
    return y.astype(np.float32)


# --------------------------------------------------------------------------------------------- pool
def pool_out_size(size, kernel, stride, pad_begin, pad_end, dilation=1, ceil_mode=False,
                  drop_window_in_padding=True) -> int:
    """Output length. ceil_mode: torch/ONNX drop a last window that would START in the end
    padding (``drop_window_in_padding``); without that rule the plain ceil formula holds."""
    eff = (kernel - 1) * dilation + 1
    span = size + pad_begin + pad_end - eff
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and drop_window_in_padding and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def pool(x, kernel, stride=None, pads=None, mode="max", count_include_pad=True, ceil_mode=False,
         dilation=1, out_sizes=None, divisor_override=None):
    """Max/average pooling with explicit (begin, end) pads. Max pads with -inf. Average divisor:
    count_include_pad -> window clipped to the PADDED input (torch: a ceil_mode window running
    past the end padding counts only up to it); otherwise only the real elements."""
    x = np.asarray(x, np.float64)
    nd = x.ndim - 2
    kernel = _tup(kernel, nd)
    stride = _tup(stride if stride is not None else kernel, nd)
    dilation = _tup(dilation, nd)
    pads = pads or [(0, 0)] * nd
    sizes = x.shape[2:]
    if out_sizes is None:
        out_sizes = [pool_out_size(sizes[i], kernel[i], stride[i], pads[i][0], pads[i][1], dilation[i], ceil_mode)
                     for i in range(nd)]
    y = np.zeros(x.shape[:2] + tuple(out_sizes))
    for o in itertools.product(*[range(s) for s in out_sizes]):
        starts = [o[i] * stride[i] - pads[i][0] for i in range(nd)]
        taps = [np.arange(kernel[i]) * dilation[i] + starts[i] for i in range(nd)]
        real = [t[(t >= 0) & (t < sizes[i])] for i, t in enumerate(taps)]
        window = x[np.ix_(range(x.shape[0]), range(x.shape[1]), *real)] if all(len(r) for r in real) else None
        if mode == "max":
            v = window.reshape(x.shape[:2] + (-1,)).max(-1) if window is not None else -np.inf
            y[(slice(None), slice(None)) + o] = v
        else:
            total = window.reshape(x.shape[:2] + (-1,)).sum(-1) if window is not None else 0.0
            if divisor_override:
                div = divisor_override
            elif count_include_pad:
                div = 1
                for i in range(nd):
                    t = taps[i]
                    div *= int(((t >= -pads[i][0]) & (t < sizes[i] + pads[i][1])).sum())
            else:
                div = math.prod(len(r) for r in real)
            y[(slice(None), slice(None)) + o] = total / div
    return y.astype(np.float32)


def adaptive_pool(x, out_sizes, mode="avg"):
    """torch/paddle/ONNX-less adaptive pooling: window i = [floor(i*in/out), ceil((i+1)*in/out))."""
    x = np.asarray(x, np.float64)
    nd = x.ndim - 2
    sizes = x.shape[2:]
    y = np.zeros(x.shape[:2] + tuple(out_sizes))
    for o in itertools.product(*[range(s) for s in out_sizes]):
        idx = [range((o[i] * sizes[i]) // out_sizes[i], -(-((o[i] + 1) * sizes[i]) // out_sizes[i])) for i in range(nd)]
        window = x[np.ix_(range(x.shape[0]), range(x.shape[1]), *idx)].reshape(x.shape[:2] + (-1,))
        y[(slice(None), slice(None)) + o] = window.max(-1) if mode == "max" else window.mean(-1)
    return y.astype(np.float32)


# --------------------------------------------------------------------------------------------- data
def ramp(shape, start=1, negative=False) -> np.ndarray:
    """Small distinct integers: start, start+1, ... (all negative with ``negative``), a
    permutation so that max pools do not just pick the last tap."""
    n = int(np.prod(shape))
    vals = (np.arange(n) * 7) % n + start    # 7 is coprime to every size used here
    if math.gcd(7, n) != 1:
        vals = np.arange(n) + start
    vals = vals.astype(np.float32).reshape(shape)
    return -vals if negative else vals


def small_weights(shape, seed: int = 0) -> np.ndarray:
    """Integer weights in {-2..2}: exact float32 products and sums."""
    rng = np.random.default_rng(seed)
    return rng.integers(-2, 3, size=shape).astype(np.float32)


def nhwc(x):
    return np.moveaxis(np.asarray(x), 1, -1)


def nchw(x):
    return np.moveaxis(np.asarray(x), -1, 1)


def _tup(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


# --------------------------------------------------------------------------------------------- semantics
def gelu(x, approximate=False):
    x = np.asarray(x, np.float64)
    if approximate:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def softmax(x, axis):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, np.float64)))


def resize_matrix(n_in, n_out, method, coord, scale=None, nearest="floor", cubic_a=-0.75,
                  exclude_outside=False, clamp_negative=False, cubic_table=0):
    """(n_out, n_in) interpolation matrix for one axis.

    coord: half_pixel | asymmetric | align_corners, with ``scale`` = out/in (default n_out/n_in).
    nearest: floor | round_prefer_ceil | round_prefer_floor.  cubic: Keys kernel with a; taps
    outside are clamped to the edge, or dropped and the weights renormalised (exclude_outside);
    ``cubic_table`` = N: the fractional offset is rounded to a multiple of 1/N first (TF reads the
    weights from a 1024-entry table)."""
    scale = n_out / n_in if scale is None else scale
    dst = np.arange(n_out, dtype=np.float64)
    if coord == "half_pixel":
        src = (dst + 0.5) / scale - 0.5
    elif coord == "asymmetric":
        src = dst / scale
    elif coord == "align_corners":
        src = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros_like(dst)
    else:
        raise ValueError(coord)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    if method == "nearest":
        if nearest == "floor":
            idx = np.floor(src)
        elif nearest == "round_prefer_ceil":
            idx = np.floor(src + 0.5)
        else:
            idx = np.ceil(src - 0.5)
        m[rows, np.clip(idx, 0, n_in - 1).astype(int)] = 1
    elif method == "linear":
        if clamp_negative:
            src = np.maximum(src, 0)
        lo = np.floor(src)
        frac = src - lo
        for off, w in ((0, 1 - frac), (1, frac)):
            np.add.at(m, (rows, np.clip(lo + off, 0, n_in - 1).astype(int)), w)
    elif method == "cubic":
        lo = np.floor(src)
        frac = src - lo
        if cubic_table:
            frac = np.rint(frac * cubic_table) / cubic_table
        a = cubic_a
        for off in (-1, 0, 1, 2):
            d = np.abs(frac - off)
            w = np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                         np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0.0))
            tap = lo + off
            if exclude_outside:
                w = np.where((tap >= 0) & (tap < n_in), w, 0.0)
            np.add.at(m, (rows, np.clip(tap, 0, n_in - 1).astype(int)), w)
        if exclude_outside:
            m /= m.sum(axis=1, keepdims=True)
    return m


def resize2d(x, mh, mw):
    """x (N, C, H, W) through per-axis matrices."""
    return np.einsum("oh,nchw,pw->ncop", mh, np.asarray(x, np.float64), mw)


def gru_reference(x, w_ih, w_hh, b_ih, b_hh, order="rzn", reset_after=True, h0=None):
    """x (T, input); weights stacked per ``order`` (gate letters r, z, n); returns (T, hidden).
    h' = (1 - z) * n + z * h for every framework here."""
    x = np.asarray(x, np.float64)
    hidden = w_hh.shape[0] // 3
    split = lambda a: dict(zip(order, np.split(np.asarray(a, np.float64), 3, axis=0)))
    wi, wh, bi, bh = split(w_ih), split(w_hh), split(b_ih), split(b_hh)
    h = np.zeros(hidden) if h0 is None else np.asarray(h0, np.float64)
    out = []
    for xt in x:
        r = sigmoid(wi["r"] @ xt + bi["r"] + wh["r"] @ h + bh["r"])
        z = sigmoid(wi["z"] @ xt + bi["z"] + wh["z"] @ h + bh["z"])
        if reset_after:
            n = np.tanh(wi["n"] @ xt + bi["n"] + r * (wh["n"] @ h + bh["n"]))
        else:
            n = np.tanh(wi["n"] @ xt + bi["n"] + wh["n"] @ (r * h) + bh["n"])
        h = (1 - z) * n + z * h
        out.append(h)
    return np.stack(out)


def lstm_reference(x, w_ih, w_hh, b_ih, b_hh, order="ifgo"):
    """x (T, input); weights stacked per ``order`` (i, f, g=cell candidate, o); returns (T, hidden)."""
    x = np.asarray(x, np.float64)
    hidden = w_hh.shape[0] // 4
    split = lambda a: dict(zip(order, np.split(np.asarray(a, np.float64), 4, axis=0)))
    wi, wh, bi, bh = split(w_ih), split(w_hh), split(b_ih), split(b_hh)
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    out = []
    for xt in x:
        gate = {k: wi[k] @ xt + bi[k] + wh[k] @ h + bh[k] for k in "ifgo"}
        c = sigmoid(gate["f"]) * c + sigmoid(gate["i"]) * np.tanh(gate["g"])
        h = sigmoid(gate["o"]) * np.tanh(c)
        out.append(h)
    return np.stack(out)


def eighths(shape, seed):
    """Weights k/8 in [-1, 1]: exact in float32, distinct per gate so a gate mix-up shows."""
    rng = np.random.default_rng(seed)
    return (rng.integers(-8, 9, size=shape) / 8).astype(np.float32)


# hand-computed integer division / modulo of INT_A by INT_B (see specs.py)
FLOOR_DIV = [-4, -4, 3, 3, -2, 0]
TRUNC_DIV = [-3, -3, 3, 3, -1, 0]
PY_MOD = [1, -1, -1, 1, 2, 0]      # sign of the divisor (Python %, torch.remainder, tf.math.floormod)
C_FMOD = [-1, 1, -1, 1, -2, 0]     # sign of the dividend (C fmod, torch.fmod, tf.truncatemod)
INT_A = [-7, 7, -7, 7, -6, 0]
INT_B = [2, -2, -2, 2, 4, -3]
ROUND_X = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.5, 0.49999997, 2.6, -2.4]
ROUND_HALF_EVEN = [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 4.0, -4.0, 0.0, 3.0, -2.0]
GELU_X = [-3.0, -1.5, -0.5, 0.0, 0.5, 1.0, 2.5]
# variance 2.5e-6 per row: the epsilon (1e-5 vs 1e-3) decides the scale
NORM_X = [[1e-3, -1e-3, 2e-3, -2e-3], [3e-3, 1e-3, 2e-3, 2e-3]]


def layernorm(x, eps):
    x = np.asarray(x, np.float64)
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def groupnorm(x, groups, eps):
    """x (N, C, *S), statistics per (sample, group of C/groups channels)."""
    x = np.asarray(x, np.float64)
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    mu = g.mean(-1, keepdims=True)
    var = ((g - mu) ** 2).mean(-1, keepdims=True)
    return ((g - mu) / np.sqrt(var + eps)).reshape(x.shape)


def tiny_ramp(shape):
    """Values ~1e-3 (variance ~1e-6): an epsilon of 1e-5 vs 1e-3 changes the result 5x."""
    return (_centered(shape) * 1e-3).astype(np.float32)


def _centered(shape):
    x = ramp(shape).astype(np.float64)
    return x - x.mean()


class BuilderTable:
    """Builders of one framework's cases by op name; ``build`` is the CaseSpec's builder."""

    def __init__(self):
        self.builders = {}

    def register(self, name):
        def deco(fn):
            self.builders[name] = fn
            return fn
        return deco

    def build(self, params: dict, seed: int):
        """The case; a dynamic twin's (``params["unseen_shape"]``) also built at the unseen
        shape, whose inputs and expected output shapes become its further input set."""
        built = self.builders[params["op"]](params, seed)
        if "unseen_shape" in params:
            unseen = self.builders[params["op"]](dict(params, shape=params["unseen_shape"]), seed)
            built.with_unseen_inputs(unseen.inputs, unseen.expected_shapes[0])
        return built
