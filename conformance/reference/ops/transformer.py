"""Transformer ops of opsets 23-28: Attention, LinearAttention, CausalConvWithState, RMSNormalization,
RotaryEmbedding.

float16/bfloat16 inputs are computed in float32 and cast back (float64 stays float64), as
onnxruntime does; the spec lets ``softmax_precision`` ask for at least that.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..registry import op

_ATTENTION_DEFAULTS = {"is_causal": 0, "q_num_heads": 0, "kv_num_heads": 0, "scale": None, "softcap": 0.0,
                       "qk_matmul_output_mode": 0, "left_window_size": -1, "right_window_size": -1}


def compute_view(x: np.ndarray | None) -> np.ndarray | None:
    """float64 stays, every other floating type (bfloat16/float8 included) is computed in float32."""
    if x is None or x.dtype == np.float64:
        return x
    if dtypes.is_custom(x.dtype):
        return dtypes.custom_to_float32(x)
    return x.astype(np.float32)


def cast_back(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtypes.is_custom(dtype):
        return dtypes.cast(y, dtypes.elem_type_of(dtype))
    return y.astype(dtype, copy=False)


def split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """(B, S, H*D) -> (B, H, S, D); 4-D inputs are already split."""
    if x.ndim == 4:
        return x
    batch, seq, hidden = x.shape
    return x.reshape(batch, seq, heads, hidden // heads).transpose(0, 2, 1, 3)


def _positions_bias(attrs, q_len: int, kv_len: int, offset) -> np.ndarray | None:
    """-inf where causality or the sliding window forbids a key: (q, kv) or (B, 1, q, kv)."""
    causal, left, right = attrs["is_causal"], attrs["left_window_size"], attrs["right_window_size"]
    if not causal and left < 0 and right < 0:
        return None
    offset = np.asarray(offset).reshape(-1, 1, 1, 1) if np.ndim(offset) else offset
    diff = (np.arange(q_len)[:, None] + offset) - np.arange(kv_len)[None, :]  # query position - key index
    allowed = np.ones(np.shape(diff), dtype=bool)
    if causal:
        allowed &= diff >= 0
    if left >= 0:
        allowed &= diff <= left
    if right >= 0:
        allowed &= -diff <= right
    return np.where(allowed, 0.0, -np.inf)


def attention_bias(attrs, q_len: int, kv_len: int, past_len: int, mask, nonpad, dtype) -> np.ndarray:
    """The additive bias (0 or -inf, plus a float mask), broadcastable to (B, H, q, kv)."""
    bias = np.zeros((q_len, kv_len), dtype=dtype)
    if mask is not None:
        pad = kv_len - mask.shape[-1]
        if mask.dtype == np.bool_:
            mask = np.where(mask, 0.0, -np.inf)
        else:
            mask = compute_view(mask)
        if pad > 0:
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, pad)], constant_values=-np.inf)
        bias = bias + mask
    offset = past_len if nonpad is None or past_len else np.asarray(nonpad, dtype=np.int64) - q_len
    positions = _positions_bias(attrs, q_len, kv_len, offset)
    if positions is not None:
        bias = bias + positions
    if nonpad is not None:
        valid = np.arange(kv_len)[None, :] < np.asarray(nonpad).reshape(-1, 1)
        bias = bias + np.where(valid, 0.0, -np.inf).reshape(-1, 1, 1, kv_len)
    return bias.astype(dtype, copy=False)


def _masked_softmax(scores: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Softmax over keys; a row whose every key is masked gives zeros, not NaN."""
    peak = np.max(scores, axis=-1, keepdims=True)
    dead = np.isneginf(peak) | np.isneginf(np.max(bias, axis=-1, keepdims=True))
    e = np.exp(scores - np.where(np.isfinite(peak), peak, 0))
    total = np.sum(e, axis=-1, keepdims=True)
    return np.where(dead, 0.0, e / np.where(total == 0, 1, total)).astype(scores.dtype, copy=False)


def _qk_scores(attrs, q, k, bias):
    """(scores after softcap and bias, the qk_matmul_output the mode asks for before softmax)."""
    scale = attrs["scale"] if attrs["scale"] is not None else 1.0 / np.sqrt(q.shape[-1])
    root = np.sqrt(scale).astype(q.dtype)
    raw = np.matmul(q * root, np.swapaxes(k * root, -1, -2))
    capped = raw
    if attrs["softcap"] > 0:
        capped = attrs["softcap"] * np.tanh(raw / attrs["softcap"])
    scores = capped + bias
    mode = attrs["qk_matmul_output_mode"]
    return scores, {0: raw, 1: capped, 2: scores}.get(mode)


@op("Attention", since=23)
def attention(ctx, q, k, v, attn_mask=None, past_key=None, past_value=None, nonpad_kv_seqlen=None):
    attrs = {name: ctx.attr(name, default) for name, default in _ATTENTION_DEFAULTS.items()}
    out_dtype, rank = q.dtype, q.ndim
    qc = split_heads(compute_view(q), attrs["q_num_heads"])
    kc = split_heads(compute_view(k), attrs["kv_num_heads"])
    vc = split_heads(compute_view(v), attrs["kv_num_heads"])
    past_len = 0
    if past_key is not None:
        past_len = past_key.shape[2]
        kc = np.concatenate([compute_view(past_key), kc], axis=2)
        vc = np.concatenate([compute_view(past_value), vc], axis=2)
    present_k, present_v = kc, vc
    groups = qc.shape[1] // kc.shape[1]
    if groups > 1:  # grouped-query / multi-query: each kv head serves `groups` query heads
        kc, vc = np.repeat(kc, groups, axis=1), np.repeat(vc, groups, axis=1)
    bias = attention_bias(attrs, qc.shape[2], kc.shape[2], past_len, attn_mask, nonpad_kv_seqlen, qc.dtype)
    scores, qk_out = _qk_scores(attrs, qc, kc, bias)
    probs = _masked_softmax(scores, bias)
    y = np.matmul(probs, vc)
    if rank == 3:
        y = y.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], -1)
    qk_out = probs if qk_out is None else qk_out
    outs = (y, present_k, present_v, qk_out)
    kv_dtype = k.dtype if past_key is None else past_key.dtype
    dts = (out_dtype, kv_dtype, kv_dtype, out_dtype)
    return tuple(cast_back(x, dt) for x, dt in zip(outs, dts))[: max(ctx.output_count, 1)]


def _linear_attention_inputs(ctx, query, key, value, decay, beta):
    q_heads, kv_heads = ctx.attr("q_num_heads"), ctx.attr("kv_num_heads")
    q4, k4, v4 = (split_heads(compute_view(x), h) for x, h in ((query, q_heads), (key, kv_heads), (value, kv_heads)))
    batch, steps = query.shape[:2]
    if decay is not None:  # per head (B, T, H) or per key channel (B, T, H*d_k)
        per_channel = decay.shape[-1] != kv_heads
        decay = split_heads(compute_view(decay), kv_heads) if per_channel else \
            compute_view(decay).reshape(batch, steps, kv_heads, 1).transpose(0, 2, 1, 3)
    if beta is not None:
        beta = compute_view(beta).reshape(batch, steps, beta.shape[-1], 1).transpose(0, 2, 1, 3)
    return q4, k4, v4, decay, beta


@op("LinearAttention", since=27)
def linear_attention(ctx, query, key, value, past_state=None, decay=None, beta=None):
    """Recurrent linear attention: S_t = exp(g_t) S_{t-1} + k_t (beta_t (v_t - S^T k_t))^T, o_t = scale q_t S_t."""
    q4, k4, v4, decay, beta = _linear_attention_inputs(ctx, query, key, value, decay, beta)
    batch, kv_heads, steps, d_k = k4.shape
    groups = q4.shape[1] // kv_heads
    state = np.zeros((batch, kv_heads, d_k, v4.shape[-1]), q4.dtype) if past_state is None \
        else compute_view(past_state).copy()
    scale = ctx.attr("scale", 0.0) or 1.0 / np.sqrt(d_k)
    out = np.empty(q4.shape[:3] + (v4.shape[-1],), dtype=q4.dtype)
    for t in range(steps):  # the recurrence itself; each step is vectorized over batch and heads
        if decay is not None:
            state = state * np.exp(decay[:, :, t])[..., None]
        v_t = v4[:, :, t]
        if beta is not None:
            v_t = beta[:, :, t] * (v_t - np.einsum("bhdm,bhd->bhm", state, k4[:, :, t]))
        state = state + k4[:, :, t, :, None] * v_t[:, :, None, :]
        read = np.repeat(state, groups, axis=1) if groups > 1 else state
        out[:, :, t] = scale * np.einsum("bhd,bhdm->bhm", q4[:, :, t], read)
    y = out.transpose(0, 2, 1, 3).reshape(batch, steps, out.shape[1] * out.shape[3])  # not -1: empty batch
    state_dtype = query.dtype if past_state is None else past_state.dtype
    return cast_back(y, query.dtype), cast_back(state, state_dtype)


@op("CausalConvWithState", since=27)
def causal_conv_with_state(ctx, x, weight, bias=None, past_state=None):
    """Depthwise causal 1-D conv over (B, C, L) with a (C, 1, K) kernel; the state is the last K-1 inputs."""
    kernel = weight.shape[2]
    xc = compute_view(x)
    pad = np.zeros(x.shape[:2] + (kernel - 1,), xc.dtype) if past_state is None else compute_view(past_state)
    padded = np.concatenate([pad, xc], axis=2)
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel, axis=2)  # (B, C, L, K)
    y = np.einsum("bclk,ck->bcl", windows, compute_view(weight)[:, 0, :])
    if bias is not None:
        y = y + compute_view(bias)[None, :, None]
    y = cast_back(y, x.dtype)
    if ctx.attr("activation", "none") in ("silu", "swish"):
        yf = compute_view(y)
        y = cast_back(yf / (1.0 + np.exp(-yf)), x.dtype)
    state = padded[:, :, padded.shape[2] - (kernel - 1):]
    return y, cast_back(state, x.dtype if past_state is None else past_state.dtype)


@op("RMSNormalization", since=23)
def rms_normalization(ctx, x, scale):
    """x / sqrt(mean(x^2 over the axes from ``axis`` on) + epsilon) * scale, in at least float32."""
    axis = ctx.attr("axis", -1) % x.ndim
    xc = compute_view(x)
    mean_square = np.mean(xc * xc, axis=tuple(range(axis, x.ndim)), keepdims=True)
    y = xc / np.sqrt(mean_square + ctx.attr("epsilon", 1e-5)) * compute_view(scale)
    return cast_back(y, x.dtype)


def _rotate(x_rot, cos, sin, interleaved: bool):
    """Rotate the pairs (x1, x2) of the last axis: halves, or even/odd elements when interleaved."""
    x1, x2 = (x_rot[..., 0::2], x_rot[..., 1::2]) if interleaved else np.split(x_rot, 2, axis=-1)
    real, imag = cos * x1 - sin * x2, sin * x1 + cos * x2
    if interleaved:
        return np.stack([real, imag], axis=-1).reshape(x_rot.shape)
    return np.concatenate([real, imag], axis=-1)


@op("RotaryEmbedding", since=23)
def rotary_embedding(ctx, x, cos_cache, sin_cache, position_ids=None):
    """x: (B, H, S, D) or (B, S, H*D); caches (S_max, dim/2) indexed by position_ids, or (B, S, dim/2)."""
    xc = compute_view(x)
    seq_first = xc.transpose(0, 2, 1, 3) if x.ndim == 4 else \
        xc.reshape(x.shape[0], x.shape[1], ctx.attr("num_heads", 0), -1)  # (B, S, H, D)
    dim = ctx.attr("rotary_embedding_dim", 0) or seq_first.shape[-1]
    cos, sin = compute_view(cos_cache), compute_view(sin_cache)
    if position_ids is not None:
        cos, sin = cos[position_ids], sin[position_ids]
    rotated = _rotate(seq_first[..., :dim], cos[:, :, None, :], sin[:, :, None, :], bool(ctx.attr("interleaved", 0)))
    out = np.concatenate([rotated, seq_first[..., dim:]], axis=-1)
    out = out.transpose(0, 2, 1, 3) if x.ndim == 4 else out.reshape(x.shape)
    return cast_back(out, x.dtype)
