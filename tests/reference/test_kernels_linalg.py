"""MatMul, Gemm, Softmax/LogSoftmax/Hardmax and Gelu kernels against direct formulas."""
from __future__ import annotations

import math

import numpy as np
import pytest

from conformance.reference.ops import attention, linalg  # noqa: F401  (registers)
from tests.reference.kernel_harness import run


RNG = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same numbers whatever ran before it (-k, -n, reordering)."""
    global RNG
    RNG = np.random.default_rng(11)


def naive_matmul(a, b):
    """Loops over the broadcast batch; 1-D operands promoted and the added axis removed."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    out = np.zeros((*batch, a2.shape[-2], b2.shape[-1]))
    for idx in np.ndindex(*batch):
        ai = a2[tuple(i if s > 1 else 0 for i, s in zip(idx[len(idx) - a2.ndim + 2:], a2.shape[:-2]))]
        bi = b2[tuple(i if s > 1 else 0 for i, s in zip(idx[len(idx) - b2.ndim + 2:], b2.shape[:-2]))]
        for r in range(ai.shape[0]):
            for c in range(bi.shape[1]):
                out[(*idx, r, c)] = sum(ai[r, k] * bi[k, c] for k in range(ai.shape[1]))
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((4,), (2, 4, 3)),
                                   ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (4,)), ((4,), (4,))])
def test_matmul_broadcasting(sa, sb):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    np.testing.assert_allclose(run("MatMul", [a, b]), naive_matmul(a, b), rtol=1e-12, atol=1e-12)


def test_matmul_non_contiguous_stacked_operand_and_half():
    a = RNG.standard_normal((5, 2, 6)).astype(np.float32).transpose(1, 0, 2)    # (2, 5, 6) view
    b = RNG.standard_normal((6, 3)).astype(np.float32)
    got = run("MatMul", [a, b])
    assert got.dtype == np.float32 and got.shape == (2, 5, 3)
    np.testing.assert_allclose(got, naive_matmul(a.astype(float), b.astype(float)), rtol=1e-5, atol=1e-5)
    h = run("MatMul", [a.astype(np.float16), b.astype(np.float16)])
    assert h.dtype == np.float16
    np.testing.assert_allclose(h, naive_matmul(a.astype(np.float16).astype(float),
                                               b.astype(np.float16).astype(float)), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("ta,tb,c_shape", [(0, 0, None), (1, 0, (5,)), (0, 1, (1, 5)), (1, 1, (3, 1)),
                                           (0, 0, ()), (1, 1, (3, 5))])
def test_gemm(ta, tb, c_shape):
    a = RNG.standard_normal((4, 3) if ta else (3, 4))
    b = RNG.standard_normal((5, 4) if tb else (4, 5))
    inputs = [a, b]
    alpha, beta = 0.75, -1.5
    expected = alpha * naive_matmul(a.T if ta else a, b.T if tb else b)
    if c_shape is not None:
        c = RNG.standard_normal(c_shape)
        inputs.append(c)
        expected = expected + beta * c
    got = run("Gemm", inputs, opset=13, alpha=alpha, beta=beta, transA=ta, transB=tb)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_softmax_axis_semantics_before_and_after_opset_13():
    x = RNG.standard_normal((2, 3, 4))
    # opset 13: along the axis only
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(run("Softmax", [x], opset=13, axis=1), e / e.sum(axis=1, keepdims=True))
    # opset 11: the input is flattened to 2-D at the axis: rows of 3*4 elements
    flat = x.reshape(2, 12)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    np.testing.assert_allclose(run("Softmax", [x], opset=11, axis=1), (e / e.sum(axis=1, keepdims=True)).reshape(x.shape))
    # default axes: -1 from 13 on, 1 before
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(run("Softmax", [x], opset=13), e / e.sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(run("Softmax", [x], opset=1), run("Softmax", [x], opset=11, axis=1))


def test_logsoftmax_large_values_and_hardmax_ties():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1e4, 0.0, 1e4]])
    got = run("LogSoftmax", [x], opset=13)
    assert np.all(np.isfinite(got))
    ref = np.array([[math.log(math.exp(v - 1002) / sum(math.exp(u - 1002) for u in x[0])) for v in x[0]]])
    np.testing.assert_allclose(got[:1], ref, rtol=1e-12)
    h = run("Hardmax", [np.array([[3.0, 7.0, 7.0], [1.0, 0.0, 1.0]])], opset=13)
    np.testing.assert_array_equal(h, [[0, 1, 0], [1, 0, 0]])    # first maximum wins
    h11 = run("Hardmax", [np.array([[[1.0, 5.0], [5.0, 2.0]]])], opset=11, axis=1)
    np.testing.assert_array_equal(h11, [[[0, 1], [0, 0]]])      # one-hot over the flattened 2x2


def test_gelu_exact_and_tanh():
    x = np.linspace(-6, 6, 97)
    exact = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(run("Gelu", [x], opset=20), exact, rtol=1e-11, atol=1e-300)
    approx = np.array([0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))) for v in x])
    np.testing.assert_allclose(run("Gelu", [x], opset=20, approximate="tanh"), approx, rtol=1e-13, atol=1e-15)
    f32 = run("Gelu", [x.astype(np.float32)], opset=20)
    assert f32.dtype == np.float32


def test_erf_and_erfc_against_math():
    x = np.concatenate([np.linspace(-7, 7, 2001), [0.0, -0.0, 1e-300, 2.9999999, 3.0, 3.0000001, 12.0]])
    np.testing.assert_allclose(attention.erf(x), [math.erf(v) for v in x], rtol=4e-15, atol=1e-300)
    np.testing.assert_allclose(attention.erfc(x), [math.erfc(v) for v in x], rtol=1e-11, atol=1e-300)


def test_blas_thread_limit_is_scoped():
    blas = linalg._BLAS
    if blas.get_global is None:
        pytest.skip("no OpenBLAS found in this process")
    before = blas.get_global()
    with blas.limit(1):
        np.ones((64, 64)) @ np.ones((64, 64))
    assert blas.get_global() == before          # restored (thread-local or global alike)
    with linalg.blas_threads():
        pass
    assert blas.get_global() == before
