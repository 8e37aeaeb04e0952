"""Conv (im2col, pointwise and polyphase-depthwise paths), ConvTranspose and pooling kernels of the reference executor against float64 naive loops
and hand-computed values, with the padding edge cases spelled out."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from conformance.reference.ops import conv as conv_ops
from conformance.reference.ops import pool as pool_ops
from tests.reference.kernel_harness import run


RNG = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same numbers whatever ran before it (-k, -n, reordering)."""
    global RNG
    RNG = np.random.default_rng(1234)


def rand(*shape):
    return RNG.standard_normal(shape)


# --------------------------------------------------------------------------- naive oracles

def naive_conv(x, w, b, begin, end, strides, dilations, group):
    n, c = x.shape[:2]
    m = w.shape[0]
    kernel = w.shape[2:]
    cg, mg = c // group, m // group
    out_shape = [(i + bb + ee - (k - 1) * d - 1) // s + 1
                 for i, bb, ee, k, d, s in zip(x.shape[2:], begin, end, kernel, dilations, strides)]
    y = np.zeros((n, m, *out_shape))
    for bi, mi in itertools.product(range(n), range(m)):
        gi = mi // mg
        for o in itertools.product(*map(range, out_shape)):
            acc = 0.0 if b is None else float(b[mi])
            for ci in range(cg):
                for k in itertools.product(*map(range, kernel)):
                    pos = [oo * s - bb + kk * d for oo, s, bb, kk, d in zip(o, strides, begin, k, dilations)]
                    if all(0 <= p < size for p, size in zip(pos, x.shape[2:])):
                        acc += x[(bi, gi * cg + ci, *pos)] * w[(mi, ci, *k)]
            y[(bi, mi, *o)] = acc
    return y


def naive_conv_transpose(x, w, b, begin, out_shape, strides, dilations, group):
    n, c = x.shape[:2]
    mg = w.shape[1]
    cg = c // group
    y = np.zeros((n, mg * group, *out_shape))
    for bi, ci in itertools.product(range(n), range(c)):
        gi = ci // cg
        for i in itertools.product(*map(range, x.shape[2:])):
            for mi in range(mg):
                for k in itertools.product(*map(range, w.shape[2:])):
                    pos = [ii * s + kk * d - bb for ii, s, kk, d, bb in zip(i, strides, k, dilations, begin)]
                    if all(0 <= p < o for p, o in zip(pos, out_shape)):
                        y[(bi, gi * mg + mi, *pos)] += x[(bi, ci, *i)] * w[(ci, mi, *k)]
    if b is not None:
        y += b.reshape(1, -1, *([1] * len(out_shape)))
    return y


def naive_pool(x, kind, kernel, begin, end, strides, dilations, ceil_mode, count_include_pad=0, p=2):
    """Direct window loops with explicit bounds checks (no padded array)."""
    sizes = x.shape[2:]
    out_shape = []
    for size, k, s, d, bb, ee in zip(sizes, kernel, strides, dilations, begin, end):
        span = (k - 1) * d + 1
        if ceil_mode:
            o = int(np.ceil((size + bb + ee - span) / s)) + 1
            if (o - 1) * s >= size + bb:     # last window would start in the right padding
                o -= 1
        else:
            o = (size + bb + ee - span) // s + 1
        out_shape.append(o)
    y = np.zeros((*x.shape[:2], *out_shape))
    for nc in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for o in itertools.product(*map(range, out_shape)):
            vals, padded_count = [], 0
            for k in itertools.product(*map(range, kernel)):
                pos = [oo * s - bb + kk * d for oo, s, bb, kk, d in zip(o, strides, begin, k, dilations)]
                if all(0 <= q < size for q, size in zip(pos, sizes)):
                    vals.append(x[(*nc, *pos)])
                elif all(-bb <= q < size + ee for q, size, bb, ee in zip(pos, sizes, begin, end)):
                    padded_count += 1
            if kind == "max":
                y[(*nc, *o)] = max(vals)
            elif kind == "avg":
                y[(*nc, *o)] = sum(vals) / (len(vals) + (padded_count if count_include_pad else 0))
            else:
                y[(*nc, *o)] = sum(abs(v) ** p for v in vals) ** (1.0 / p)
    return y


# --------------------------------------------------------------------------- padding rules

@pytest.mark.parametrize("size,k,s,upper,lower", [
    (4, 3, 2, ([0], [1]), ([1], [0])),     # even input, odd total pad: the odd pad goes end / begin
    (5, 3, 2, ([1], [1]), ([1], [1])),     # odd input, even total pad: symmetric either way
    (4, 2, 1, ([0], [1]), ([1], [0])),     # even kernel
    (7, 4, 3, ([1], [2]), ([2], [1])),     # out 3, total pad 3
    (6, 1, 2, ([0], [0]), ([0], [0])),
])
def test_same_upper_lower_pads_by_hand(size, k, s, upper, lower):
    assert conv_ops.resolve_pads("SAME_UPPER", [size], [k], [s], [1], None) == (list(upper[0]), list(upper[1]))
    assert conv_ops.resolve_pads("SAME_LOWER", [size], [k], [s], [1], None) == (list(lower[0]), list(lower[1]))


def test_same_lower_conv_by_hand():
    # 1-D input 0..3, kernel [1, 1] (sum of two neighbours), stride 1: total pad 1.
    x = np.arange(4.0).reshape(1, 1, 4)
    w = np.ones((1, 1, 2))
    upper = run("Conv", [x, w], auto_pad="SAME_UPPER")
    lower = run("Conv", [x, w], auto_pad="SAME_LOWER")
    np.testing.assert_array_equal(upper.ravel(), [1, 3, 5, 3])    # pad at the end
    np.testing.assert_array_equal(lower.ravel(), [0, 1, 3, 5])    # pad at the beginning


# --------------------------------------------------------------------------- Conv

CONV_CASES = [
    # x shape, w shape, attrs
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(pads=[1, 0, 2, 1], strides=[2, 1])),            # asymmetric pads
    ((1, 4, 6, 6), (6, 2, 3, 2), dict(group=2, dilations=[2, 1], pads=[1, 1, 1, 1])),  # groups, dilations
    ((1, 4, 7, 5), (4, 1, 3, 3), dict(group=4, strides=[2, 2], auto_pad="SAME_UPPER")),  # depthwise
    ((2, 3, 6, 5), (6, 1, 3, 3), dict(group=3, auto_pad="SAME_LOWER")),                # depth multiplier 2
    ((1, 3, 9, 8), (3, 1, 3, 2), dict(group=3, dilations=[2, 3], pads=[2, 1, 0, 3])),  # depthwise, dilated
    ((1, 2, 4, 5, 3), (2, 1, 2, 3, 2), dict(group=2, pads=[1, 0, 1, 0, 2, 1])),         # depthwise 3-D
    ((2, 3, 11, 10), (6, 1, 3, 2), dict(group=3, strides=[2, 3], dilations=[2, 1], pads=[1, 2, 2, 0])),
    ((1, 2, 9), (2, 1, 3), dict(group=2, strides=[3], dilations=[2], pads=[0, 2])),     # depthwise 1-D
    ((1, 3, 8), (2, 3, 3), dict(strides=[3], auto_pad="VALID")),                       # 1-D
    ((1, 2, 4, 5, 3), (3, 2, 2, 3, 2), dict(pads=[1, 0, 1, 0, 2, 1], strides=[1, 2, 1])),  # 3-D
    ((2, 5, 5, 4), (3, 5, 1, 1), dict(strides=[2, 2])),                                # pointwise, strided
    ((1, 3, 6, 6), (2, 3, 1, 1), dict(pads=[1, 1, 0, 0])),                             # 1x1 with pads
    ((1, 2, 5, 6), (2, 2, 2, 2), dict(auto_pad="SAME_UPPER", strides=[2, 2])),         # even kernel SAME
    ((1, 2, 5, 6), (2, 2, 2, 2), dict(auto_pad="SAME_LOWER", strides=[2, 2])),
]


@pytest.mark.parametrize("xs,ws,attrs", CONV_CASES)
def test_conv_matches_naive(xs, ws, attrs):
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    nsp = len(xs) - 2
    strides = attrs.get("strides", [1] * nsp)
    dil = attrs.get("dilations", [1] * nsp)
    begin, end = conv_ops.resolve_pads(attrs.get("auto_pad", "NOTSET"), xs[2:], ws[2:], strides, dil,
                                       attrs.get("pads"))
    expected = naive_conv(x, w, b, begin, end, strides, dil, attrs.get("group", 1))
    got = run("Conv", [x, w, b], **attrs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_conv_float32_keeps_dtype_and_accuracy():
    x, w = rand(1, 8, 9, 9).astype(np.float32), rand(16, 8, 3, 3).astype(np.float32)
    got = run("Conv", [x, w], pads=[1, 1, 1, 1])
    assert got.dtype == np.float32
    expected = naive_conv(x.astype(np.float64), w.astype(np.float64), None, [1, 1], [1, 1], [1, 1], [1, 1], 1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


CONVT_CASES = [
    ((1, 2, 3, 3), (2, 3, 3, 3), dict(strides=[2, 2])),
    ((2, 4, 3, 4), (4, 2, 2, 3), dict(group=2, strides=[2, 1], pads=[1, 0, 0, 1], dilations=[1, 2])),
    ((1, 2, 3, 3), (2, 1, 3, 3), dict(strides=[3, 2], output_padding=[1, 1])),
    ((1, 1, 3, 3), (1, 2, 3, 3), dict(strides=[3, 2], output_shape=[10, 8])),
    ((1, 1, 3, 3), (1, 2, 3, 3), dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    ((1, 1, 3, 3), (1, 2, 3, 3), dict(strides=[2, 2], auto_pad="SAME_LOWER")),
    ((1, 2, 5), (2, 3, 3), dict(strides=[2], pads=[2, 1])),
    ((1, 1, 2, 3, 2), (1, 2, 2, 2, 2), dict(strides=[2, 1, 2])),
]


@pytest.mark.parametrize("xs,ws,attrs", CONVT_CASES)
def test_conv_transpose_matches_naive(xs, ws, attrs):
    x, w = rand(*xs), rand(*ws)
    group = attrs.get("group", 1)
    b = rand(ws[1] * group)
    nsp = len(xs) - 2
    strides = attrs.get("strides", [1] * nsp)
    dil = attrs.get("dilations", [1] * nsp)
    op_ = attrs.get("output_padding", [0] * nsp)
    full = [(i - 1) * s + (k - 1) * d + 1 for i, s, k, d in zip(xs[2:], strides, ws[2:], dil)]
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if "output_shape" in attrs or auto_pad != "NOTSET":
        out = attrs.get("output_shape") or [i * s for i, s in zip(xs[2:], strides)]
        total = [f + o_ - o for f, o_, o in zip(full, op_, out)]
        begin = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in total]
    else:
        pads = attrs.get("pads", [0] * 2 * nsp)
        begin = pads[:nsp]
        out = [f + o_ - pads[a] - pads[a + nsp] for a, (f, o_) in enumerate(zip(full, op_))]
    expected = naive_conv_transpose(x, w, b, begin, out, strides, dil, group)
    got = run("ConvTranspose", [x, w, b], **attrs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_conv_transpose_same_upper_vs_lower_by_hand():
    # x = [1, 2], w = [1, 1, 1], stride 2: full output [1, 1, 3, 2, 2]; SAME wants 4 of them.
    x = np.array([[[1.0, 2.0]]])
    w = np.ones((1, 1, 3))
    up = run("ConvTranspose", [x, w], strides=[2], auto_pad="SAME_UPPER")
    lo = run("ConvTranspose", [x, w], strides=[2], auto_pad="SAME_LOWER")
    np.testing.assert_array_equal(up.ravel(), [1, 1, 3, 2])
    np.testing.assert_array_equal(lo.ravel(), [1, 3, 2, 2])


@pytest.mark.parametrize("op_type", ["Conv", "ConvTranspose"])
def test_negative_conv_pads_are_refused_like_onnx_shape_inference_does(op_type):
    x, w = np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3))
    with pytest.raises(ValueError, match=f"{op_type}: pads must not be negative"):
        run(op_type, [x, w], pads=[-1, 0, 0, 0])
    assert run(op_type, [x, w], pads=[0, 0, 0, 0]).shape[2:] == ((4, 4) if op_type == "Conv" else (8, 8))


# --------------------------------------------------------------------------- pooling

POOL_CASES = [
    ((1, 2, 5, 5), dict(kernel_shape=[3, 3], pads=[1, 0, 0, 1], strides=[2, 2])),        # asymmetric pads
    ((1, 1, 6, 7), dict(kernel_shape=[3, 2], strides=[2, 2], ceil_mode=1)),
    ((1, 1, 2, 2), dict(kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1)),  # drop pad-start window
    ((1, 1, 5, 5), dict(kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)),
    ((2, 1, 6, 6), dict(kernel_shape=[3, 3], strides=[2, 2], dilations=[2, 1], pads=[2, 1, 2, 1], ceil_mode=1)),
    ((1, 2, 4, 5), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")),
    ((1, 2, 4, 5), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER")),
    ((1, 2, 4, 4), dict(kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_LOWER")),
    ((1, 1, 9), dict(kernel_shape=[4], strides=[3], pads=[2, 1], ceil_mode=1)),
    ((1, 1, 5, 4, 4), dict(kernel_shape=[2, 3, 2], strides=[2, 1, 2], pads=[1, 1, 0, 0, 1, 1], ceil_mode=1)),
]


def _pool_geometry(xs, attrs):
    nsp = len(xs) - 2
    strides = attrs.get("strides", [1] * nsp)
    dil = attrs.get("dilations", [1] * nsp)
    begin, end = conv_ops.resolve_pads(attrs.get("auto_pad", "NOTSET"), xs[2:], attrs["kernel_shape"],
                                       strides, dil, attrs.get("pads"))
    return begin, end, strides, dil


@pytest.mark.parametrize("xs,attrs", POOL_CASES)
def test_maxpool_matches_naive(xs, attrs):
    x = rand(*xs)
    begin, end, strides, dil = _pool_geometry(xs, attrs)
    expected = naive_pool(x, "max", attrs["kernel_shape"], begin, end, strides, dil, attrs.get("ceil_mode", 0))
    np.testing.assert_array_equal(run("MaxPool", [x], **attrs), expected)


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("xs,attrs", POOL_CASES)
def test_averagepool_matches_naive(xs, attrs, count_include_pad):
    x = rand(*xs)
    begin, end, strides, dil = _pool_geometry(xs, attrs)
    expected = naive_pool(x, "avg", attrs["kernel_shape"], begin, end, strides, dil,
                          attrs.get("ceil_mode", 0), count_include_pad)
    got = run("AveragePool", [x], opset=19, count_include_pad=count_include_pad, **attrs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs,attrs", POOL_CASES[:4])
def test_lppool_matches_naive(xs, attrs):
    x = rand(*xs)
    begin, end, strides, dil = _pool_geometry(xs, attrs)
    expected = naive_pool(x, "lp", attrs["kernel_shape"], begin, end, strides, dil, attrs.get("ceil_mode", 0), p=3)
    np.testing.assert_allclose(run("LpPool", [x], opset=18, p=3, **attrs), expected, rtol=1e-12)


def test_pool_padding_by_hand():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    # ceil_mode: the second window along each axis would start in the pad and is dropped.
    assert run("MaxPool", [x], kernel_shape=[1, 1], strides=[2, 2], ceil_mode=1).shape == (1, 1, 1, 1)
    # Max pooling over negative values with padding: padding never wins.
    neg = -np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(run("MaxPool", [neg], kernel_shape=[2, 2], pads=[1, 1, 1, 1]).ravel(),
                                  [-1, -1, -2, -1, -1, -2, -3, -3, -4])
    # Averages at a padded corner: 1/1 without the pad, (1+0+0+0)/4 with it.
    ex = run("AveragePool", [x], kernel_shape=[2, 2], pads=[1, 1, 0, 0], count_include_pad=0)
    inc = run("AveragePool", [x], kernel_shape=[2, 2], pads=[1, 1, 0, 0], count_include_pad=1)
    np.testing.assert_allclose(ex.ravel(), [1, 1.5, 2, 2.5])
    np.testing.assert_allclose(inc.ravel(), [0.25, 0.75, 1, 2.5])


def test_maxpool_uint8_pads_with_dtype_minimum():
    x = np.array([[[[0, 3], [2, 1]]]], dtype=np.uint8)
    got = run("MaxPool", [x], kernel_shape=[2, 2], pads=[1, 1, 1, 1])
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got.ravel(), [0, 3, 3, 2, 3, 3, 2, 2, 1])


@pytest.mark.parametrize("storage_order", [0, 1])
def test_maxpool_indices(storage_order):
    x = rand(2, 3, 5, 4)
    y, idx = run("MaxPool", [x], n_out=2, kernel_shape=[2, 3], strides=[2, 1], pads=[1, 1, 0, 1],
                 storage_order=storage_order)
    n, c, h, w = x.shape
    for flat_i, flat_v in zip(idx.ravel(), y.ravel()):
        nc, rest = divmod(int(flat_i), h * w)
        hh, ww = divmod(rest, w) if storage_order == 0 else divmod(rest, h)[::-1]
        assert x[nc // c, nc % c, hh, ww] == flat_v


def test_global_pools_and_maxunpool():
    x = rand(2, 3, 4, 5)
    np.testing.assert_allclose(run("GlobalAveragePool", [x]), x.mean(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(run("GlobalMaxPool", [x]), x.max(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(run("GlobalLpPool", [x], p=3),
                               (np.abs(x) ** 3).sum(axis=(2, 3), keepdims=True) ** (1 / 3))
    y, idx = run("MaxPool", [x], n_out=2, kernel_shape=[2, 2], strides=[2, 2])
    # Indices address the pooled input (4x5); unpooling to that shape puts every max back.
    un = run("MaxUnpool", [y, idx, np.array(x.shape)], kernel_shape=[2, 2], strides=[2, 2])
    assert un.shape == x.shape
    np.testing.assert_array_equal(un.reshape(-1)[idx.ravel()], y.ravel())
    np.testing.assert_array_equal(un.reshape(-1)[idx.ravel()], x.reshape(-1)[idx.ravel()])
    assert np.count_nonzero(un) == y.size
    # Without output_shape: the default (in - 1) * stride + kernel.
    small = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    ind = np.array([[[[5, 7], [13, 15]]]])
    expected = np.zeros(16)
    expected[[5, 7, 13, 15]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(run("MaxUnpool", [small, ind], kernel_shape=[2, 2], strides=[2, 2]),
                                  expected.reshape(1, 1, 4, 4))


def test_maxroipool_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    quadrants = run("MaxRoiPool", [x, np.array([[0, 0, 0, 3, 3]])], opset=1, pooled_shape=[2, 2])
    np.testing.assert_array_equal(quadrants.ravel(), [5, 7, 13, 15])
    # Corners 0.5 and 3.5 round half away from zero (to 1 and 4, as C's round does), and the
    # bin past the last row is clipped: rows [1, 3) and [3, 4), same for columns.
    half = run("MaxRoiPool", [x, np.array([[0, 1, 1, 7, 7]])], opset=1, pooled_shape=[2, 2],
               spatial_scale=0.5)
    np.testing.assert_array_equal(half.ravel(), [10, 11, 14, 15])
