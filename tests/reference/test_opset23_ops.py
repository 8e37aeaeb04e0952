"""Opset 23-28 kernels (Attention, RMSNormalization, RotaryEmbedding, TensorScatter, LinearAttention,
CausalConvWithState, CumProd, BitCast) and the newer element types, against plain formulas.

They import and register under onnx 1.17 too (which defines none of these ops); the element
types onnx 1.17 lacks are skipped there.
"""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

from conformance.reference import dtypes
from tests.reference.kernel_harness import run

RNG = np.random.default_rng(23)


def _naive_attention(q, k, v, bias, scale):
    """(B, H, S, D) loops over batch and head: softmax(q k^T * scale + bias) v."""
    out = np.zeros(q.shape[:3] + (v.shape[-1],))
    for b in range(q.shape[0]):
        for h in range(q.shape[1]):
            s = q[b, h] @ k[b, h].T * scale + bias
            e = np.exp(s - s.max(axis=-1, keepdims=True))
            out[b, h] = (e / e.sum(axis=-1, keepdims=True)) @ v[b, h]
    return out


def test_attention_grouped_query_heads_causal_with_past_matches_loops():
    q = RNG.standard_normal((2, 4, 3, 8)).astype(np.float32)
    k, v = (RNG.standard_normal((2, 2, 3, 8)).astype(np.float32) for _ in range(2))
    pk, pv = (RNG.standard_normal((2, 2, 5, 8)).astype(np.float32) for _ in range(2))
    y, present_k, present_v = run("Attention", [q, k, v, None, pk, pv], opset=23, n_out=3, is_causal=1)
    full_k, full_v = np.concatenate([pk, k], 2), np.concatenate([pv, v], 2)
    np.testing.assert_array_equal(present_k, full_k)
    # query i (absolute position 5 + i) sees keys 0 .. 5 + i
    bias = np.where(np.arange(8)[None, :] <= np.arange(3)[:, None] + 5, 0.0, -np.inf)
    expected = _naive_attention(q, np.repeat(full_k, 2, 1), np.repeat(full_v, 2, 1), bias, 1 / np.sqrt(8))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_attention_3d_inputs_bool_mask_padding_and_fully_masked_row():
    q = RNG.standard_normal((1, 2, 6)).astype(np.float32)  # 2 heads of 3
    k, v = (RNG.standard_normal((1, 4, 6)).astype(np.float32) for _ in range(2))
    mask = np.array([[True, False, True], [False, False, False]])  # padded to 4 keys with False
    y, _, _, probs = run("Attention", [q, k, v, mask], opset=23, n_out=4, q_num_heads=2, kv_num_heads=2,
                         qk_matmul_output_mode=3, scale=0.5)
    assert y.shape == (1, 2, 6) and probs.shape == (1, 2, 2, 4)
    np.testing.assert_array_equal(probs[0, :, 1], 0)  # every key masked: zeros, not NaN
    np.testing.assert_array_equal(y.reshape(1, 2, 2, 3)[0, 1], 0)
    split = lambda x: x.reshape(1, -1, 2, 3).transpose(0, 2, 1, 3)  # noqa: E731
    bias = np.array([0, -np.inf, 0, -np.inf])
    expected = _naive_attention(split(q)[:, :, :1], split(k), split(v), bias, 0.5)
    np.testing.assert_allclose(split(y)[:, :, :1], expected, rtol=1e-5, atol=1e-6)


def test_attention_softcap_and_qk_output_modes_follow_the_spec():
    q, k, v = (RNG.standard_normal((1, 1, 2, 4)).astype(np.float32) * 4 for _ in range(3))
    mask = np.float32([[0.0, -1.0], [-2.0, 0.0]])
    raw = q[0, 0] @ k[0, 0].T * 0.5
    capped = 3.0 * np.tanh(raw / 3.0)
    for mode, expected in ((0, raw), (1, capped), (2, capped + mask)):
        out = run("Attention", [q, k, v, mask], opset=23, n_out=4, softcap=3.0, qk_matmul_output_mode=mode)[3]
        np.testing.assert_allclose(out[0, 0], expected, rtol=1e-5, atol=1e-5)


def test_attention_nonpad_kv_seqlen_shifts_the_causal_frontier_per_batch():
    q = RNG.standard_normal((2, 1, 2, 4)).astype(np.float32)
    k, v = (RNG.standard_normal((2, 1, 5, 4)).astype(np.float32) for _ in range(2))
    lengths = np.array([3, 5], dtype=np.int64)
    (y,) = run("Attention", [q, k, v, None, None, None, lengths], opset=24, is_causal=1)
    for b, n in enumerate(lengths):
        bias = np.where(np.arange(5)[None, :] <= np.arange(2)[:, None] + n - 2, 0.0, -np.inf)
        bias[:, n:] = -np.inf
        np.testing.assert_allclose(y[b:b + 1], _naive_attention(q[b:b + 1], k[b:b + 1], v[b:b + 1], bias, 0.5),
                                   rtol=1e-5, atol=1e-6)


def test_rms_normalization_and_rotary_embedding_formulas():
    x = RNG.standard_normal((2, 3, 8)).astype(np.float32)
    scale = RNG.standard_normal(8).astype(np.float32)
    y = run("RMSNormalization", [x, scale], opset=23, epsilon=1e-3)
    np.testing.assert_allclose(y, x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-3) * scale, rtol=1e-5)
    x4 = RNG.standard_normal((1, 2, 3, 4)).astype(np.float32)  # (B, H, S, D)
    angle = RNG.standard_normal((3, 2))
    cos, sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
    out = run("RotaryEmbedding", [x4, cos, sin, np.array([[0, 1, 2]])], opset=23, interleaved=1)
    # interleaved pairs (x0, x1) rotate as the complex number x0 + i x1 times e^{i angle}
    z = (x4[..., 0::2] + 1j * x4[..., 1::2]) * np.exp(1j * angle)[None, None]
    np.testing.assert_allclose(out[..., 0::2], z.real, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[..., 1::2], z.imag, rtol=1e-5, atol=1e-6)


def test_tensor_scatter_linear_and_circular_match_a_loop():
    cache = np.zeros((2, 3, 5, 2), np.float32)
    update = RNG.standard_normal((2, 3, 2, 2)).astype(np.float32)
    starts = np.array([1, 4], dtype=np.int64)
    for mode in ("linear", "circular"):
        if mode == "linear":
            starts = np.array([1, 3], dtype=np.int64)
        out = run("TensorScatter", [cache, update, starts], opset=24, mode=mode)
        expected = cache.copy()
        for b in range(2):
            for s in range(2):
                expected[b, :, (starts[b] + s) % 5] = update[b, :, s]
        np.testing.assert_array_equal(out, expected)


def test_linear_attention_and_causal_conv_with_state_against_step_formulas():
    b, t, d = 1, 3, 2
    q, k, v = (RNG.standard_normal((b, t, d)).astype(np.float32) for _ in range(3))
    decay = -np.abs(RNG.standard_normal((b, t, 1))).astype(np.float32)
    y, state = run("LinearAttention", [q, k, v, None, decay], opset=27, n_out=2, q_num_heads=1, kv_num_heads=1,
                   update_rule="gated")
    s = np.zeros((d, d))
    for i in range(t):
        s = np.exp(decay[0, i, 0]) * s + np.outer(k[0, i], v[0, i])
        np.testing.assert_allclose(y[0, i], q[0, i] @ s / np.sqrt(d), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state[0, 0], s, rtol=1e-5, atol=1e-6)
    x = RNG.standard_normal((1, 2, 5)).astype(np.float32)
    w = RNG.standard_normal((2, 1, 3)).astype(np.float32)
    past = RNG.standard_normal((1, 2, 2)).astype(np.float32)
    out, present = run("CausalConvWithState", [x, w, None, past], opset=27, n_out=2)
    for c in range(2):
        padded = np.concatenate([past[0, c], x[0, c]])
        np.testing.assert_allclose(out[0, c], np.convolve(padded, w[c, 0][::-1], "valid"), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(present, x[:, :, -2:])


def test_cumprod_and_bitcast():
    x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    np.testing.assert_array_equal(run("CumProd", [x, np.array(1)], opset=26), np.cumprod(x, axis=1))
    np.testing.assert_array_equal(run("CumProd", [x, np.array(1)], opset=26, exclusive=1, reverse=1),
                                  [[6, 3, 1], [30, 6, 1]])
    f = np.float32(1.5).reshape(())
    out = run("BitCast", [f], opset=26, to=TensorProto.INT32)
    assert out.shape == () and int(out) == 0x3FC00000
    with pytest.raises(ValueError):
        run("BitCast", [np.zeros(2, np.float32)], opset=26, to=TensorProto.INT64)


def _require(name):
    elem = getattr(TensorProto, name, None)
    if elem is None or elem not in dtypes.ELEM_TO_DTYPE:
        pytest.skip(f"the installed onnx has no {name}")
    return elem


def test_cast_to_int4_saturates_before_opset_23_and_wraps_from_it():
    int4 = _require("INT4")
    x = np.float32([-9, -8, 7, 8, 2.7])
    old = dtypes.custom_to_float32(run("Cast", [x], opset=21, to=int4))
    new = dtypes.custom_to_float32(run("Cast", [x], opset=23, to=int4))
    np.testing.assert_array_equal(old, [-8, -8, 7, 7, 3])
    np.testing.assert_array_equal(new, [7, -8, 7, -8, 2])


def test_float8e8m0_round_modes_and_saturation():
    e8m0 = _require("FLOAT8E8M0")
    x = np.float32([3.0, 2.5, 1.0, 0.75, np.inf, np.nan])
    decoded = {mode: dtypes.custom_to_float32(run("Cast", [x], opset=25, to=e8m0, round_mode=mode))
               for mode in ("up", "down", "nearest")}
    np.testing.assert_array_equal(decoded["up"][:4], [4, 4, 1, 1])
    np.testing.assert_array_equal(decoded["down"][:4], [2, 2, 1, 0.5])
    np.testing.assert_array_equal(decoded["nearest"][:4], [4, 2, 1, 1])
    assert decoded["up"][4] == 2.0 ** 127 and np.isnan(decoded["up"][5])


def test_float4e2m1_and_int2_round_trip():
    f4, i2 = _require("FLOAT4E2M1"), _require("INT2")
    x = np.float32([0.25, 0.3, 1.25, 5.0, 100.0, -np.inf, -0.0])
    np.testing.assert_array_equal(dtypes.custom_to_float32(dtypes.cast(x, f4)), [0, 0.5, 1, 4, 6, -6, 0])
    np.testing.assert_array_equal(dtypes.custom_to_float32(dtypes.cast(np.float32([-3, 1, 2]), i2, wrap_ints=True)),
                                  [1, 1, -2])
    assert dtypes.elem_type_of(dtypes.cast(x, f4).dtype) == f4
