"""RNN/GRU/LSTM, normalization and Resize kernels of the reference executor against float64
naive loops written from the ONNX spec's equations (one batch entry and one time step at a time)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from conformance.reference.ops import normalization, resize, rnn  # noqa: F401  (registers)
from tests.reference.kernel_harness import run


RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same numbers whatever ran before it (-k, -n, reordering)."""
    global RNG
    RNG = np.random.default_rng(7)


def f32(v):
    """ONNX stores float attributes as float32: the value a kernel actually sees."""
    return float(np.float32(v))


def rand(*shape, scale=1.0):
    return RNG.standard_normal(shape) * scale


# --------------------------------------------------------------------------- RNN oracles

NAIVE_ACT = {
    "Sigmoid": lambda v, a, b: 1 / (1 + math.exp(-v)),
    "Tanh": lambda v, a, b: math.tanh(v),
    "Relu": lambda v, a, b: max(v, 0.0),
    "LeakyRelu": lambda v, a, b: v if v >= 0 else a * v,
    "HardSigmoid": lambda v, a, b: min(1.0, max(0.0, a * v + b)),
    "ScaledTanh": lambda v, a, b: a * math.tanh(b * v),
    "Affine": lambda v, a, b: a * v + b,
    "Elu": lambda v, a, b: v if v >= 0 else a * (math.exp(v) - 1),
    "Softsign": lambda v, a, b: v / (1 + abs(v)),
    "Softplus": lambda v, a, b: math.log1p(math.exp(v)),
    "ThresholdedRelu": lambda v, a, b: v if v > a else 0.0,
}


def act(name, alpha=None, beta=None):
    f = NAIVE_ACT[name]
    return lambda vec: np.array([f(float(v), alpha, beta) for v in vec])


def naive_recurrent(kind, x, w, r, b, lens, h0, c0, p, acts, direction, clip=None,
                    input_forget=False, lbr=False):
    """x: (S, B, I); returns Y (S, D, B, H), Y_h (D, B, H), Y_c (D, B, H)."""
    seq, batch, _ = x.shape
    dirs = 2 if direction == "bidirectional" else 1
    hsz = r.shape[-1]
    y = np.zeros((seq, dirs, batch, hsz))
    yh = np.zeros((dirs, batch, hsz))
    yc = np.zeros((dirs, batch, hsz))
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    for d in range(dirs):
        f, g, h_act = (acts[d] + [None, None])[:3]
        for bi in range(batch):
            n = seq if lens is None else int(lens[bi])
            order = range(n - 1, -1, -1) if (direction == "reverse" or d == 1) else range(n)
            h = h0[d, bi].copy()
            c = c0[d, bi].copy() if c0 is not None else np.zeros(hsz)
            for t in order:
                xt = x[t, bi]
                wb, rb = b[d, :len(b[d]) // 2], b[d, len(b[d]) // 2:]
                if kind == "RNN":
                    h = f(cl(w[d] @ xt + r[d] @ h + wb + rb))
                elif kind == "GRU":
                    blk = lambda m, k: m[k * hsz:(k + 1) * hsz]  # noqa: E731
                    z = f(cl(blk(w[d], 0) @ xt + blk(r[d], 0) @ h + blk(wb, 0) + blk(rb, 0)))
                    rr = f(cl(blk(w[d], 1) @ xt + blk(r[d], 1) @ h + blk(wb, 1) + blk(rb, 1)))
                    if lbr:
                        hh = g(cl(blk(w[d], 2) @ xt + rr * (blk(r[d], 2) @ h + blk(rb, 2)) + blk(wb, 2)))
                    else:
                        hh = g(cl(blk(w[d], 2) @ xt + blk(r[d], 2) @ (rr * h) + blk(rb, 2) + blk(wb, 2)))
                    h = (1 - z) * hh + z * h
                else:
                    blk = lambda m, k: m[k * hsz:(k + 1) * hsz]  # noqa: E731
                    pre = [blk(w[d], k) @ xt + blk(r[d], k) @ h + blk(wb, k) + blk(rb, k) for k in range(4)]
                    pi, po, pf = (np.zeros(hsz),) * 3 if p is None else (p[d, :hsz], p[d, hsz:2 * hsz], p[d, 2 * hsz:])
                    i = f(cl(pre[0] + pi * c))
                    fg = 1 - i if input_forget else f(cl(pre[2] + pf * c))
                    c = fg * c + i * g(cl(pre[3]))
                    o = f(cl(pre[1] + po * c))
                    h = o * h_act(c)
                y[t, d, bi] = h
            yh[d, bi], yc[d, bi] = h, c
    return y, yh, yc


RNN_CASES = [
    # kind, direction, with seq_lens, attrs
    ("LSTM", "forward", False, {}),
    ("LSTM", "bidirectional", False, dict(peepholes=False)),     # the fused default-activation loop
    ("LSTM", "reverse", False, dict(peepholes=False)),
    ("LSTM", "reverse", True, {}),
    ("LSTM", "bidirectional", True, dict(clip=0.7)),
    ("LSTM", "bidirectional", False, dict(input_forget=1)),
    ("LSTM", "forward", True, dict(activations=["HardSigmoid", "LeakyRelu", "ScaledTanh"],
                                   activation_alpha=[0.3, 0.2, 1.5], activation_beta=[0.4, 0.8])),
    ("GRU", "forward", False, {}),
    ("GRU", "bidirectional", False, dict(linear_before_reset=1)),
    ("GRU", "bidirectional", True, dict(linear_before_reset=1)),
    ("GRU", "reverse", True, dict(linear_before_reset=0, clip=1.5)),
    ("GRU", "bidirectional", False, dict(activations=["Sigmoid", "Softsign", "HardSigmoid", "Elu"],
                                         activation_alpha=[0.25, 0.9], activation_beta=[0.45])),
    ("RNN", "forward", False, {}),
    ("RNN", "bidirectional", True, dict(activations=["Relu", "Affine"], activation_alpha=[0.5],
                                        activation_beta=[0.1])),
    ("RNN", "reverse", False, dict(activations=["ThresholdedRelu"], activation_alpha=[0.2])),
]

DEFAULT_ACTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}
ALPHA_DEFAULTS = {"LeakyRelu": (0.01, None), "HardSigmoid": (0.2, 0.5), "ScaledTanh": (1.0, 1.0),
                  "Affine": (1.0, 0.0), "Elu": (1.0, None), "ThresholdedRelu": (1.0, None)}


def _naive_acts(attrs, kind, dirs):
    names = attrs.get("activations") or DEFAULT_ACTS[kind] * dirs
    if len(names) == len(DEFAULT_ACTS[kind]) and dirs == 2:
        names = names * 2
    alphas, betas = list(attrs.get("activation_alpha", [])), list(attrs.get("activation_beta", []))
    out = []
    for name in names:
        da, db = ALPHA_DEFAULTS.get(name, (None, None))
        a = f32(alphas.pop(0)) if da is not None and alphas else da
        b_ = f32(betas.pop(0)) if db is not None and betas else db
        out.append(act(name, a, b_))
    per = len(DEFAULT_ACTS[kind])
    return [out[d * per:(d + 1) * per] for d in range(dirs)]


@pytest.mark.parametrize("layout", [0, 1])
@pytest.mark.parametrize("kind,direction,with_lens,attrs", RNN_CASES)
def test_recurrent_matches_naive(kind, direction, with_lens, attrs, layout):
    seq, batch, inp, hsz = 5, 3, 4, 3
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    dirs = 2 if direction == "bidirectional" else 1
    x = rand(seq, batch, inp)
    w = rand(dirs, gates * hsz, inp, scale=0.6)
    r = rand(dirs, gates * hsz, hsz, scale=0.6)
    b = rand(dirs, 2 * gates * hsz, scale=0.3)
    lens = np.array([5, 2, 4], dtype=np.int32) if with_lens else None
    h0 = rand(dirs, batch, hsz, scale=0.5)
    c0 = rand(dirs, batch, hsz, scale=0.5) if kind == "LSTM" else None
    attrs = dict(attrs)
    peepholes = attrs.pop("peepholes", True)
    p = (rand(dirs, 3 * hsz, scale=0.4)
         if kind == "LSTM" and "input_forget" not in attrs and peepholes else None)
    exp_y, exp_h, exp_c = naive_recurrent(
        kind, x, w, r, b, lens, h0, c0, p, _naive_acts(attrs, kind, dirs), direction,
        clip=f32(attrs["clip"]) if "clip" in attrs else None, input_forget=bool(attrs.get("input_forget")),
        lbr=bool(attrs.get("linear_before_reset")))
    if layout == 1:
        x_in = x.transpose(1, 0, 2)
        h0_in = h0.transpose(1, 0, 2)
        c0_in = c0.transpose(1, 0, 2) if c0 is not None else None
    else:
        x_in, h0_in, c0_in = x, h0, c0
    inputs = [x_in, w, r, b, lens, h0_in]
    if kind == "LSTM":
        inputs += [c0_in, p]
    n_out = 3 if kind == "LSTM" else 2
    outs = run(kind, inputs, opset=14, n_out=n_out, hidden_size=hsz, direction=direction,
               layout=layout, **attrs)
    y, yh = outs[0], outs[1]
    if layout == 1:
        y, yh = y.transpose(1, 2, 0, 3), yh.transpose(1, 0, 2)
    np.testing.assert_allclose(y, exp_y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(yh, exp_h, rtol=1e-10, atol=1e-12)
    if kind == "LSTM":
        yc = outs[2] if layout == 0 else outs[2].transpose(1, 0, 2)
        np.testing.assert_allclose(yc, exp_c, rtol=1e-10, atol=1e-12)


def test_lstm_defaults_float32_and_omitted_outputs():
    x = rand(4, 2, 3).astype(np.float32)
    w = rand(1, 8, 3).astype(np.float32)
    r = rand(1, 8, 2).astype(np.float32)
    y, = run("LSTM", [x, w, r], n_out=1, hidden_size=2)
    assert y.dtype == np.float32 and y.shape == (4, 1, 2, 2)
    exp_y, _, _ = naive_recurrent("LSTM", x.astype(float), w.astype(float), r.astype(float),
                                  np.zeros((1, 16)), None, np.zeros((1, 2, 2)), None, None,
                                  _naive_acts({}, "LSTM", 1), "forward")
    np.testing.assert_allclose(y, exp_y, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- normalization

def test_batchnorm_inference_and_training():
    x = rand(3, 4, 5, 2)
    s, bias, mean, var = rand(4), rand(4), rand(4), np.abs(rand(4)) + 0.1
    y = run("BatchNormalization", [x, s, bias, mean, var], opset=15, epsilon=1e-3)
    sh = (1, 4, 1, 1)
    np.testing.assert_allclose(y, s.reshape(sh) * (x - mean.reshape(sh)) / np.sqrt(var.reshape(sh) + f32(1e-3))
                               + bias.reshape(sh), rtol=1e-12)
    y, rm, rv = run("BatchNormalization", [x, s, bias, mean, var], opset=15, n_out=3,
                    training_mode=1, momentum=0.8)
    bm = x.mean(axis=(0, 2, 3))
    bv = ((x - bm.reshape(sh)) ** 2).mean(axis=(0, 2, 3))
    mom = f32(0.8)
    np.testing.assert_allclose(rm, mom * mean + (1 - mom) * bm, rtol=1e-12)
    np.testing.assert_allclose(rv, mom * var + (1 - mom) * bv, rtol=1e-12)
    np.testing.assert_allclose(y, s.reshape(sh) * (x - bm.reshape(sh)) / np.sqrt(bv.reshape(sh) + f32(1e-5))
                               + bias.reshape(sh), rtol=1e-10)


def test_instance_layer_group_norm():
    x = rand(2, 6, 3, 4)
    s, b = rand(6), rand(6)
    sh = (1, 6, 1, 1)
    m = x.mean(axis=(2, 3), keepdims=True)
    v = x.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(run("InstanceNormalization", [x, s, b], epsilon=1e-4),
                               (x - m) / np.sqrt(v + f32(1e-4)) * s.reshape(sh) + b.reshape(sh),
                               rtol=1e-10, atol=1e-12)

    ls, lb = rand(3, 4), rand(3, 4)
    y, mean, inv = run("LayerNormalization", [x, ls, lb], opset=17, n_out=3, axis=2)
    m = x.mean(axis=(2, 3), keepdims=True)
    v = x.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - m) / np.sqrt(v + f32(1e-5)) * ls + lb, rtol=1e-10, atol=1e-12)
    assert mean.shape == (2, 6, 1, 1) and inv.shape == (2, 6, 1, 1)
    np.testing.assert_allclose(inv, 1 / np.sqrt(v + 1e-5), rtol=1e-6)

    xg = x.reshape(2, 3, -1)
    norm = ((xg - xg.mean(axis=2, keepdims=True)) / np.sqrt(xg.var(axis=2, keepdims=True) + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(run("GroupNormalization", [x, s, b], opset=21, num_groups=3),
                               norm * s.reshape(sh) + b.reshape(sh), rtol=1e-10, atol=1e-12)
    gs, gb = rand(3), rand(3)   # opset 18: per-group scale and bias
    np.testing.assert_allclose(run("GroupNormalization", [x, gs, gb], opset=18, num_groups=3),
                               norm * np.repeat(gs, 2).reshape(sh) + np.repeat(gb, 2).reshape(sh),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_lrn_matches_naive(size):
    x = rand(2, 5, 3, 2)
    alpha, beta, bias = f32(2e-2), f32(0.6), 1.5
    y = run("LRN", [x], size=size, alpha=alpha, beta=beta, bias=bias)
    expected = np.empty_like(x)
    for c in range(5):
        lo, hi = max(0, c - (size - 1) // 2), min(4, c + math.ceil((size - 1) / 2))
        sq = (x[:, lo:hi + 1] ** 2).sum(axis=1)
        expected[:, c] = x[:, c] / (bias + alpha / size * sq) ** beta
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_mvn_and_lpnorm():
    x = rand(2, 3, 4, 5)
    m = x.mean(axis=(0, 2, 3), keepdims=True)
    sd = x.std(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(run("MeanVarianceNormalization", [x]), (x - m) / (sd + 1e-9), rtol=1e-9)
    np.testing.assert_allclose(run("LpNormalization", [x], axis=1, p=1),
                               x / np.abs(x).sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(run("LpNormalization", [x]),
                               x / np.sqrt((x ** 2).sum(axis=-1, keepdims=True)), rtol=1e-12)


# --------------------------------------------------------------------------- Resize

def naive_coord(ctm, xr, in_len, out_len, scale, roi=(0.0, 1.0)):
    # length_resized is the integer output length (onnxruntime, PyTorch, TensorFlow).
    length_resized = scale * in_len
    if ctm == "half_pixel":
        return (xr + 0.5) / scale - 0.5
    if ctm == "pytorch_half_pixel":
        return (xr + 0.5) / scale - 0.5 if out_len > 1 else 0.0
    if ctm == "align_corners":
        return 0.0 if out_len == 1 else xr * (in_len - 1) / (out_len - 1)
    if ctm == "asymmetric":
        return xr / scale
    if ctm == "tf_half_pixel_for_nn":
        return (xr + 0.5) / scale
    if ctm == "half_pixel_symmetric":
        adj = out_len / length_resized
        return in_len / 2 * (1 - adj) + (xr + 0.5) / scale - 0.5
    if ctm == "tf_crop_and_resize":
        return roi[0] * (in_len - 1) + xr * (roi[1] - roi[0]) * (in_len - 1) / (out_len - 1)
    raise AssertionError(ctm)


def naive_weights_1d(xo, in_len, mode, a=-0.75, exclude_outside=False, nearest_mode="round_prefer_floor"):
    """{input index: weight} for one output coordinate."""
    if mode == "nearest":
        frac = xo - math.floor(xo)
        if nearest_mode == "round_prefer_floor":
            i = math.floor(xo) if frac <= 0.5 else math.floor(xo) + 1
        elif nearest_mode == "round_prefer_ceil":
            i = math.floor(xo) if frac < 0.5 else math.floor(xo) + 1
        elif nearest_mode == "floor":
            i = math.floor(xo)
        else:
            i = math.ceil(xo)
        return {min(max(i, 0), in_len - 1): 1.0}
    base = math.floor(xo)
    if base == xo:
        base -= 1
    t = xo - base
    if mode == "linear":
        taps = {base: 1 - t, base + 1: t}
    else:
        def k(d):
            d = abs(d)
            return ((a + 2) * d - (a + 3)) * d * d + 1 if d <= 1 else ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
        taps = {base + o: k(t - o) for o in (-1, 0, 1, 2)}
    if exclude_outside:
        taps = {i: v for i, v in taps.items() if 0 <= i < in_len}
        total = sum(taps.values())
        taps = {i: v / total for i, v in taps.items()}
    out: dict = {}
    for i, v in taps.items():
        j = min(max(i, 0), in_len - 1)
        out[j] = out.get(j, 0.0) + v
    return out


def naive_resize_2d(x, out_hw, scales, mode, ctm, **kw):
    h, w = x.shape[-2:]
    y = np.zeros((*x.shape[:-2], *out_hw))
    for oy in range(out_hw[0]):
        wy = naive_weights_1d(naive_coord(ctm, oy, h, out_hw[0], scales[0]), h, mode, **kw)
        for ox in range(out_hw[1]):
            wx = naive_weights_1d(naive_coord(ctm, ox, w, out_hw[1], scales[1]), w, mode, **kw)
            y[..., oy, ox] = sum(vy * vx * x[..., iy, ix] for iy, vy in wy.items() for ix, vx in wx.items())
    return y


RESIZE_CASES = [
    ("linear", "half_pixel", [1.0, 1.0, 1.7, 0.6], {}),
    ("linear", "align_corners", [1.0, 1.0, 2.0, 1.5], {}),
    ("linear", "pytorch_half_pixel", [1.0, 1.0, 0.5, 2.5], {}),
    ("linear", "half_pixel_symmetric", [1.0, 1.0, 1.3, 0.7], {}),
    ("cubic", "half_pixel", [1.0, 1.0, 1.6, 0.8], {}),
    ("cubic", "asymmetric", [1.0, 1.0, 2.0, 2.0], dict(a=-0.5, exclude_outside=True)),
    ("cubic", "align_corners", [1.0, 1.0, 0.6, 1.4], {}),
    ("nearest", "half_pixel", [1.0, 1.0, 1.5, 0.6], dict(nearest_mode="round_prefer_ceil")),
    ("nearest", "asymmetric", [1.0, 1.0, 2.5, 1.7], dict(nearest_mode="floor")),
    ("nearest", "tf_half_pixel_for_nn", [1.0, 1.0, 0.7, 3.0], dict(nearest_mode="ceil")),
    ("nearest", "align_corners", [1.0, 1.0, 1.8, 0.5], dict(nearest_mode="round_prefer_floor")),
]


@pytest.mark.parametrize("mode,ctm,scales,kw", RESIZE_CASES)
def test_resize_matches_naive(mode, ctm, scales, kw):
    x = rand(1, 2, 5, 6)
    out_hw = [int(math.floor(s * n)) for s, n in zip(scales[2:], x.shape[2:])]
    expected = naive_resize_2d(x, out_hw, scales[2:], mode, ctm, **kw)
    attrs = dict(mode=mode, coordinate_transformation_mode=ctm)
    if "a" in kw:
        attrs["cubic_coeff_a"] = kw["a"]
    if kw.get("exclude_outside"):
        attrs["exclude_outside"] = 1
    if "nearest_mode" in kw:
        attrs["nearest_mode"] = kw["nearest_mode"]
    got = run("Resize", [x, None, np.array(scales)], opset=19, **attrs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_resize_sizes_axes_and_aspect_policy():
    x = rand(1, 1, 4, 6)
    got = run("Resize", [x, None, None, np.array([3, 5])], opset=19, axes=[3, 2], mode="linear")
    assert got.shape == (1, 1, 5, 3)
    expected = naive_resize_2d(x, [5, 3], [5 / 4, 3 / 6], "linear", "half_pixel")
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # not_larger: one scale for both axes, min(8/4, 9/6) = 1.5 -> (6, 9)
    got = run("Resize", [x, None, None, np.array([8, 9])], opset=19, axes=[2, 3],
              keep_aspect_ratio_policy="not_larger")
    assert got.shape == (1, 1, 6, 9)
    got = run("Resize", [x, None, None, np.array([8, 9])], opset=19, axes=[2, 3],
              keep_aspect_ratio_policy="not_smaller")
    assert got.shape == (1, 1, 8, 12)


def test_resize_tf_crop_and_resize_extrapolation():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    roi = np.array([0, 0, -0.5, 0.25, 1, 1, 0.5, 1.25])
    got = run("Resize", [x, roi, None, np.array([1, 1, 3, 3])], opset=19, mode="linear",
              coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=-7.0)
    # rows: -1.5, 0, 1.5 ; columns: 0.75, 2.25, 3.75 (roi * (len - 1))
    ys, xs = [-1.5, 0.0, 1.5], [0.75, 2.25, 3.75]
    for i, yy in enumerate(ys):
        for j, xx in enumerate(xs):
            if not (0 <= yy <= 3 and 0 <= xx <= 3):
                assert got[0, 0, i, j] == -7.0
            else:
                assert got[0, 0, i, j] == pytest.approx(yy * 4 + xx)


def test_resize_antialias_linear_downsample_is_a_wider_triangle():
    # Downsampling by 1/2 with antialias: each output is a normalized triangle filter of
    # half-width 2 input samples, centred on (o + 0.5) * 2 - 0.5.
    x = rand(1, 1, 1, 8)
    got = run("Resize", [x, None, np.array([1, 1, 1, 0.5])], opset=18, mode="linear", antialias=1)
    expected = []
    for o in range(4):
        c = (o + 0.5) * 2 - 0.5
        wts = {i: max(0.0, 1 - abs(i - c) / 2) for i in range(int(math.floor(c)) - 1, int(math.floor(c)) + 3)}
        total = sum(wts.values())
        expected.append(sum(v * x[0, 0, 0, min(max(i, 0), 7)] for i, v in wts.items()) / total)
    np.testing.assert_allclose(got.ravel(), expected, rtol=1e-12)


def test_upsample_and_resize10_nearest():
    x = rand(1, 1, 2, 3)
    np.testing.assert_array_equal(run("Upsample", [x, np.array([1, 1, 2, 3.0])], opset=9),
                                  x.repeat(2, axis=2).repeat(3, axis=3))
    np.testing.assert_array_equal(run("Resize", [x, np.array([1, 1, 2, 2.0])], opset=10),
                                  x.repeat(2, axis=2).repeat(2, axis=3))


def test_resize_nearest_ties_follow_float32_scale_arithmetic():
    # half_pixel, scale 0.6: output 1 maps to (1 + 0.5) / 0.6 - 0.5 = 2 exactly in real numbers.
    # float32(0.6) is a hair above 0.6, so float64 arithmetic gives 1.99999..., floor 1; the
    # float32 arithmetic of onnxruntime gives 2.0, floor 2 (the intended sample).
    x = np.arange(5.0).reshape(1, 1, 1, 5)
    got = run("Resize", [x, None, np.array([1, 1, 1, 0.6], dtype=np.float32)], opset=19,
              mode="nearest", nearest_mode="floor")
    np.testing.assert_array_equal(got.ravel(), [0, 2, 3])


def test_resize_align_corners_uses_the_integer_output_length():
    # 4 -> floor(4 * 0.6) = 2 samples: align_corners maps them onto inputs 0 and 3.
    x = np.array([[[[0.0, 10.0, 20.0, 30.0]]]])
    got = run("Resize", [x, None, np.array([1, 1, 1, 0.6])], opset=19, mode="linear",
              coordinate_transformation_mode="align_corners")
    np.testing.assert_allclose(got.ravel(), [0.0, 30.0])
