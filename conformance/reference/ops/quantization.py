"""Quantization: (Dynamic)QuantizeLinear, DequantizeLinear, QLinearMatMul/Conv, MatMul/ConvInteger."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from .. import dtypes
from ..registry import lookup, op


def _broadcast_param(param, x, axis, block_size):
    """Shape a scale/zero point for x: per tensor, per axis, or per block along axis."""
    param = np.asarray(param)
    if param.size == 1 and not block_size:
        return param.reshape(())
    axis = axis + x.ndim if axis < 0 else axis
    if block_size:
        param = np.repeat(param, block_size, axis=axis)
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, x.shape[axis])
        return param[tuple(index)]
    if param.ndim == 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        return param.reshape(shape)
    return param


def _integer_range(dtype):
    info = np.iinfo(dtype)
    return info.min, info.max


def _quantize(values, elem_type: int, saturate: bool = True):
    """Round half to even and saturate into elem_type (float8/int4 through dtypes)."""
    target = dtypes.to_dtype(elem_type)
    if elem_type in dtypes.SMALL_FLOAT:
        return dtypes.from_numeric(values, elem_type, saturate)
    rounded = np.rint(values)
    if elem_type in dtypes.SMALL_INT:
        return dtypes.from_numeric(rounded, elem_type)
    lo, hi = _integer_range(target)
    return np.clip(rounded, lo, hi).astype(target)


@op("QuantizeLinear", since=10)
def quantize_linear(ctx, x, scale, zero_point=None):
    axis, block_size = ctx.attr("axis", 1), ctx.attr("block_size", 0)
    if zero_point is not None:
        elem = dtypes.elem_type_of(zero_point.dtype)
    else:
        elem = ctx.attr("output_dtype", 0) or TensorProto.UINT8
    scale_b = _broadcast_param(scale, x, axis, block_size)
    # divide in x's precision, as the spec and every backend do; ties then round to even
    values = (x / scale_b.astype(x.dtype)).astype(np.float64)
    if zero_point is not None:
        zp = zero_point
        if dtypes.is_custom(zp.dtype):
            zp = dtypes.custom_to_float32(zp)
        if elem not in dtypes.SMALL_FLOAT:
            values = np.rint(values) + _broadcast_param(zp, x, axis, block_size).astype(np.float64)
        else:
            values = values + _broadcast_param(zp, x, axis, block_size).astype(np.float64)
    return _quantize(values, elem, bool(ctx.attr("saturate", 1)))


@op("DequantizeLinear", since=10)
def dequantize_linear(ctx, x, scale, zero_point=None):
    axis, block_size = ctx.attr("axis", 1), ctx.attr("block_size", 0)
    values = dtypes.custom_to_float32(x) if dtypes.is_custom(x.dtype) else x
    values = values.astype(np.float64)
    if zero_point is not None:
        zp = dtypes.custom_to_float32(zero_point) if dtypes.is_custom(zero_point.dtype) else zero_point
        values = values - _broadcast_param(zp, x, axis, block_size).astype(np.float64)
    scale_f = dtypes.custom_to_float32(scale) if dtypes.is_custom(scale.dtype) else scale
    out = values * _broadcast_param(scale_f, x, axis, block_size).astype(np.float64)
    if dtypes.is_custom(scale.dtype):
        return dtypes.from_numeric(out, dtypes.elem_type_of(scale.dtype))
    return out.astype(ctx.float_dtype(scale.dtype))


@op("DynamicQuantizeLinear", since=11)
def dynamic_quantize_linear(ctx, x):
    x = x.astype(np.float32)
    lo = min(float(x.min()) if x.size else 0.0, 0.0)
    hi = max(float(x.max()) if x.size else 0.0, 0.0)
    scale = np.float32((hi - lo) / 255.0)
    zero_point = np.clip(np.rint(np.float32(0 - lo) / scale) if scale else 0, 0, 255)
    # y has x's shape also when the scale is 0 (all zeros, or empty): every element is the zero point
    y = np.clip(np.rint(x / scale) + zero_point, 0, 255) if scale else np.full(x.shape, zero_point)
    return y.astype(np.uint8), np.array(scale, dtype=np.float32), np.array(zero_point, dtype=np.uint8)


def _centered(x, zero_point, row_axis=None):
    """x - zero_point as int64 (float for float8), zero point per row when 1-D."""
    x = x.astype(np.int64)
    if zero_point is None:
        return x
    zp = np.asarray(zero_point).astype(np.int64)
    if zp.ndim == 1 and zp.size > 1 and row_axis is not None:
        shape = [1] * x.ndim
        shape[row_axis] = -1
        zp = zp.reshape(shape)
    return x - zp


@op("MatMulInteger", since=10)
def matmul_integer(ctx, a, b, a_zero_point=None, b_zero_point=None):
    a_c = _centered(a, a_zero_point, row_axis=a.ndim - 2 if a.ndim >= 2 else None)
    b_c = _centered(b, b_zero_point)
    return np.matmul(a_c, b_c).astype(np.int32)


@op("QLinearMatMul", since=10)
def qlinear_matmul(ctx, a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point):
    a_f = _dequantized(a, a_scale, a_zero_point, row_axis=a.ndim - 2 if a.ndim >= 2 else None)
    b_f = _dequantized(b, b_scale, b_zero_point, row_axis=None)
    y = np.matmul(a_f, b_f) / np.asarray(y_scale, dtype=np.float64)
    elem = dtypes.elem_type_of(y_zero_point.dtype)
    if elem in dtypes.SMALL_FLOAT:
        return dtypes.from_numeric(y + dtypes.custom_to_float32(y_zero_point), elem)
    return _quantize(np.rint(y) + np.asarray(y_zero_point, dtype=np.float64), elem)


def _dequantized(x, scale, zero_point, row_axis):
    values = dtypes.custom_to_float32(x).astype(np.float64) if dtypes.is_custom(x.dtype) else x.astype(np.float64)
    zp = zero_point
    if zp is not None:
        zp = dtypes.custom_to_float32(zp) if dtypes.is_custom(zp.dtype) else zp
        zp = np.asarray(zp, dtype=np.float64)
        if zp.ndim == 1 and zp.size > 1 and row_axis is not None:
            zp = zp.reshape(-1, 1)
        values = values - zp
    scale = dtypes.custom_to_float32(scale) if dtypes.is_custom(scale.dtype) else scale
    scale = np.asarray(scale, dtype=np.float64)
    if scale.ndim == 1 and scale.size > 1 and row_axis is not None:
        scale = scale.reshape(-1, 1)
    return values * scale


class _ConvContext:
    """ctx seen by the float Conv kernel when an integer conv borrows it (fresh cache per call)."""

    def __init__(self, ctx):
        self._ctx = ctx
        self.node, self.opset, self.precision = ctx.node, max(ctx.opset, 11), "float64"
        self.output_count = 1
        self.cache = {}

    def attr(self, name, default=None):
        return self._ctx.attr(name, default)

    def has_attr(self, name):
        return self._ctx.has_attr(name)

    def float_dtype(self, dtype=np.float32):
        return np.dtype(np.float64)


def _float_conv(ctx, x, w):
    conv = lookup("", "Conv", 11)
    if conv is None:
        raise NotImplementedError("the Conv kernel (ops/conv.py) is not available")
    return conv(_ConvContext(ctx), x, w, None)


@op("ConvInteger", since=10)
def conv_integer(ctx, x, w, x_zero_point=None, w_zero_point=None):
    x_c = _centered(x, x_zero_point).astype(np.float64)
    w_c = _centered(w, w_zero_point, row_axis=0).astype(np.float64)
    return np.rint(_float_conv(ctx, x_c, w_c)).astype(np.int32)


@op("QLinearConv", since=10)
def qlinear_conv(ctx, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, bias=None):
    x_c = _centered(x, x_zero_point).astype(np.float64)
    w_c = _centered(w, w_zero_point, row_axis=0).astype(np.float64)
    acc = np.rint(_float_conv(ctx, x_c, w_c))
    if bias is not None:
        acc = acc + bias.astype(np.float64).reshape((1, -1) + (1,) * (acc.ndim - 2))
    w_scale = np.asarray(w_scale, dtype=np.float64)
    if w_scale.ndim == 1 and w_scale.size > 1:
        w_scale = w_scale.reshape((1, -1) + (1,) * (acc.ndim - 2))
    y = acc * (np.float64(x_scale) * w_scale) / np.float64(y_scale)
    zp = 0 if y_zero_point is None else np.asarray(y_zero_point, dtype=np.float64)
    elem = TensorProto.UINT8 if y_zero_point is None else dtypes.elem_type_of(y_zero_point.dtype)
    return _quantize(np.rint(y) + zp, elem)
