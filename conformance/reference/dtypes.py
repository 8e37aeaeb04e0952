"""ONNX element types <-> numpy dtypes, including the types numpy lacks.

bfloat16, the four float8 flavours and int4/uint4 are held in the dtypes ONNX itself uses for
them (``onnx._custom_element_types``: one-field structured dtypes over uint8/int8/uint16), so
arrays we produce compare directly with ``onnx.numpy_helper.to_array``. Conversions are
vectorized: float8 encoding is a nearest-value search over the 256-code table with
round-half-to-even, which is exactly what the ONNX spec asks for.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from onnx import numpy_helper

try:  # onnx < 1.18: one-field structured dtypes; newer onnx uses ml_dtypes (through onnx.helper)
    from onnx import _custom_element_types as custom
except ImportError:
    custom = None


def _elem(name: str) -> int | None:
    """A TensorProto element type, or None when the installed onnx lacks it."""
    return getattr(TensorProto, name, None)


ELEM_TO_DTYPE: dict[int, np.dtype] = {
    TensorProto.FLOAT: np.dtype(np.float32),
    TensorProto.UINT8: np.dtype(np.uint8),
    TensorProto.INT8: np.dtype(np.int8),
    TensorProto.UINT16: np.dtype(np.uint16),
    TensorProto.INT16: np.dtype(np.int16),
    TensorProto.INT32: np.dtype(np.int32),
    TensorProto.INT64: np.dtype(np.int64),
    TensorProto.STRING: np.dtype(object),
    TensorProto.BOOL: np.dtype(np.bool_),
    TensorProto.FLOAT16: np.dtype(np.float16),
    TensorProto.DOUBLE: np.dtype(np.float64),
    TensorProto.UINT32: np.dtype(np.uint32),
    TensorProto.UINT64: np.dtype(np.uint64),
    TensorProto.COMPLEX64: np.dtype(np.complex64),
    TensorProto.COMPLEX128: np.dtype(np.complex128),
}
# custom element type name -> (storage dtype, bits of a code)
_CUSTOM_NAMES = {
    "BFLOAT16": (np.uint16, 16), "FLOAT8E4M3FN": (np.uint8, 8), "FLOAT8E4M3FNUZ": (np.uint8, 8),
    "FLOAT8E5M2": (np.uint8, 8), "FLOAT8E5M2FNUZ": (np.uint8, 8), "UINT4": (np.uint8, 4), "INT4": (np.int8, 4),
    "FLOAT4E2M1": (np.uint8, 4), "FLOAT8E8M0": (np.uint8, 8), "UINT2": (np.uint8, 2), "INT2": (np.int8, 2),
}
_STORAGE: dict[int, np.dtype] = {}


def _custom_dtype(name: str) -> np.dtype | None:
    elem = _elem(name)
    if elem is None:
        return None
    if custom is not None:
        legacy = {"BFLOAT16": "bfloat16", "FLOAT8E4M3FN": "float8e4m3fn", "FLOAT8E4M3FNUZ": "float8e4m3fnuz",
                  "FLOAT8E5M2": "float8e5m2", "FLOAT8E5M2FNUZ": "float8e5m2fnuz", "UINT4": "uint4", "INT4": "int4"}
        return getattr(custom, legacy.get(name, ""), None)
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem))
    except Exception:  # an element type numpy cannot hold
        return None


for _name, (_storage, _bits) in _CUSTOM_NAMES.items():
    _dtype = _custom_dtype(_name)
    if _dtype is not None:
        ELEM_TO_DTYPE[_elem(_name)] = _dtype
        _STORAGE[_elem(_name)] = np.dtype(_storage)
CUSTOM_ELEM = frozenset(_STORAGE)
_DTYPE_TO_ELEM = {dtype: elem for elem, dtype in reversed(list(ELEM_TO_DTYPE.items()))}
FLOAT8 = tuple(e for e in (_elem("FLOAT8E4M3FN"), _elem("FLOAT8E4M3FNUZ"), _elem("FLOAT8E5M2"),
                           _elem("FLOAT8E5M2FNUZ")) if e in CUSTOM_ELEM)
FLOAT4E2M1, FLOAT8E8M0 = _elem("FLOAT4E2M1"), _elem("FLOAT8E8M0")
# integer custom types -> (min, max)
_INT_RANGES = {e: r for e, r in ((_elem("INT4"), (-8, 7)), (_elem("UINT4"), (0, 15)), (_elem("INT2"), (-2, 1)),
                                 (_elem("UINT2"), (0, 3))) if e in CUSTOM_ELEM}
SMALL_FLOAT = FLOAT8 + tuple(e for e in (FLOAT4E2M1, FLOAT8E8M0) if e in CUSTOM_ELEM)
SMALL_INT = tuple(_INT_RANGES)
FLOATING_ELEM = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE}


def to_dtype(elem_type: int) -> np.dtype:
    return ELEM_TO_DTYPE[elem_type]


def elem_type_of(dtype: np.dtype) -> int:
    dtype = np.dtype(dtype)
    elem = _DTYPE_TO_ELEM.get(dtype)
    if elem is not None:
        return elem
    if dtype.kind in "US":
        return TensorProto.STRING
    raise TypeError(f"no ONNX element type for numpy dtype {dtype}")


def is_custom(dtype: np.dtype) -> bool:
    return _DTYPE_TO_ELEM.get(np.dtype(dtype)) in CUSTOM_ELEM


def is_floating(dtype: np.dtype) -> bool:
    """float16/32/64 and the custom floating types (bfloat16, float8, float4)."""
    dtype = np.dtype(dtype)
    elem = _DTYPE_TO_ELEM.get(dtype)
    return dtype.kind == "f" or elem == TensorProto.BFLOAT16 or elem in SMALL_FLOAT


def _float8_params(elem_type: int) -> tuple[bool, bool, bool]:
    """(is e4m3, fn, uz) as numpy_helper's decoders take them."""
    return {
        TensorProto.FLOAT8E4M3FN: (True, True, False),
        TensorProto.FLOAT8E4M3FNUZ: (True, True, True),
        TensorProto.FLOAT8E5M2: (False, False, False),
        TensorProto.FLOAT8E5M2FNUZ: (False, True, True),
    }[elem_type]


_CODE_TABLES: dict[int, np.ndarray] = {}


def _code_table(elem_type: int) -> np.ndarray:
    """float32 value of each code of a small floating type (256 or 16 codes)."""
    if elem_type not in _CODE_TABLES:
        count = 16 if elem_type == FLOAT4E2M1 else 256
        codes = np.arange(count, dtype=np.uint8)
        if custom is not None:
            e4m3, fn, uz = _float8_params(elem_type)
            decode = numpy_helper.float8e4m3_to_float32 if e4m3 else numpy_helper.float8e5m2_to_float32
            table = decode(codes, fn=fn, uz=uz)
        else:
            table = codes.view(ELEM_TO_DTYPE[elem_type]).astype(np.float32)
        _CODE_TABLES[elem_type] = np.asarray(table, dtype=np.float32).reshape(count)
    return _CODE_TABLES[elem_type]


_float8_table = _code_table  # the name the float8 tests know


def custom_to_float32(array: np.ndarray) -> np.ndarray:
    """Decode bfloat16 / float8 / float4 / int4 / int2 arrays to float32 (integers to their values)."""
    elem = elem_type_of(array.dtype)
    raw = raw_view(np.asarray(array))
    if elem == TensorProto.BFLOAT16:
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if elem in FLOAT8 or elem == FLOAT8E8M0:
        return _code_table(elem)[raw]
    if elem == FLOAT4E2M1:
        return _code_table(elem)[raw & 0x0F]
    if custom is None and elem in _INT_RANGES:  # ml_dtypes may keep the unused high bits unset
        return np.asarray(array).astype(np.float32)
    return raw.astype(np.float32)


def raw_storage(dtype: np.dtype) -> np.dtype:
    """The integer dtype a custom type is stored in (uint8, int8 or uint16)."""
    dtype = np.dtype(dtype)
    return _STORAGE.get(_DTYPE_TO_ELEM.get(dtype), dtype)


def raw_view(array: np.ndarray) -> np.ndarray:
    """The storage integers of a custom-typed array (uint8/int8/uint16)."""
    return array.view(raw_storage(array.dtype))


def _nearest_code(x: np.ndarray, elem_type: int, saturate: bool) -> tuple[np.ndarray, np.ndarray]:
    """Round-half-to-even onto the non-negative finite codes: (codes as int64, overflowed)."""
    table = _code_table(elem_type)
    half = len(table) // 2
    positive_codes = np.arange(0, half)
    codes = positive_codes[np.isfinite(table[positive_codes])]
    values = table[codes].astype(np.float64)
    order = np.argsort(values, kind="stable")
    codes, values = codes[order], values[order]
    # one virtual step above the largest value: rounding onto it means overflow
    values = np.append(values, values[-1] + (values[-1] - values[-2]))
    magnitude = np.abs(x)
    idx = np.clip(np.searchsorted(values, magnitude), 1, len(values) - 1)
    low, high = values[idx - 1], values[idx]
    low_code = np.append(codes, 2 * half)[idx - 1]
    pick_high = (magnitude - low > high - magnitude) | ((magnitude - low == high - magnitude) & (low_code % 2 == 1))
    idx = np.where(pick_high, idx, idx - 1)
    overflow = (idx == len(values) - 1) | np.isinf(x)
    return np.append(codes, codes[-1])[idx], overflow


def _encode_float8(x: np.ndarray, elem_type: int, saturate: bool) -> np.ndarray:
    e4m3, fn, uz = _float8_params(elem_type)
    x = np.asarray(x, dtype=np.float64)
    out, overflow = _nearest_code(x, elem_type, saturate)
    nan_code = 0x80 if uz else 0x7F
    inf_code = 0x7C if not e4m3 and not uz else nan_code
    out = np.where(overflow, out if saturate else inf_code, out)
    negative = np.signbit(x) & (out != nan_code)
    if uz:
        negative &= out != 0  # no negative zero in the fnuz formats
    out = np.where(negative, out | 0x80, out)
    out = np.where(np.isnan(x), nan_code, out)
    return out.astype(np.uint8)


def _encode_float4(x: np.ndarray) -> np.ndarray:
    """float4e2m1 has no inf: it always saturates to +-6 (ml_dtypes rounds half to even, NaN as it does)."""
    clipped = np.clip(np.asarray(x, dtype=np.float32), -6.0, 6.0)
    return clipped.astype(ELEM_TO_DTYPE[FLOAT4E2M1]).view(np.uint8)


def encode_float8e8m0(x: np.ndarray, saturate: bool = True, round_mode: str = "up") -> np.ndarray:
    """float8e8m0 codes (2**(code-127), 0xFF is NaN) of the magnitude of ``x`` as the spec rounds it."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    exponent = ((bits >> 23) & 0xFF).astype(np.int32)
    mantissa = bits & 0x7FFFFF
    special = exponent == 0xFF
    if round_mode == "up":
        exponent = exponent + (mantissa > 0)
    elif round_mode == "nearest":
        exponent = exponent + (mantissa >= 0x400000)
    elif round_mode != "down":
        raise ValueError(f"unknown round_mode {round_mode!r}")
    overflow = exponent > 0xFE
    exponent = np.where(overflow, 0xFE if saturate else 0xFF, exponent)
    inf = special & (mantissa == 0)
    exponent = np.where(special, np.where(inf & saturate, 0xFE, 0xFF), exponent)
    return exponent.astype(np.uint8)


def _encode_bfloat16(x: np.ndarray) -> np.ndarray:
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(np.asarray(x, dtype=np.float32)), np.uint16(0x7FC0), rounded)


def _encode_small_int(x: np.ndarray, elem_type: int) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x = np.rint(x)
    lo, hi = _INT_RANGES[elem_type]
    return np.clip(x, lo, hi).astype(_STORAGE[elem_type])


def _wrap_small_int(x: np.ndarray, elem_type: int) -> np.ndarray:
    """Truncate toward zero, then keep the low bits (two's complement), as ml_dtypes casts."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            x = np.trunc(np.nan_to_num(x))
    lo, hi = _INT_RANGES[elem_type]
    span = hi - lo + 1
    return ((x.astype(np.int64) - lo) % span + lo).astype(_STORAGE[elem_type])


def from_numeric(x: np.ndarray, elem_type: int, saturate: bool = True, round_mode: str = "up") -> np.ndarray:
    """Encode a numeric array into a custom-typed array of ``elem_type``."""
    dtype = ELEM_TO_DTYPE[elem_type]
    if elem_type == TensorProto.BFLOAT16:
        raw = _encode_bfloat16(x)
    elif elem_type in FLOAT8:
        raw = _encode_float8(x, elem_type, saturate)
    elif elem_type == FLOAT4E2M1:
        raw = _encode_float4(x)
    elif elem_type == FLOAT8E8M0:
        raw = encode_float8e8m0(x, saturate, round_mode)
    else:
        raw = _encode_small_int(x, elem_type)
    return raw.view(dtype)


def cast(x, elem_type: int, saturate: bool = True, round_mode: str = "up", wrap_ints: bool = False) -> np.ndarray:
    """Cast any supported array to ``elem_type`` with ONNX Cast semantics.

    ``wrap_ints``: out-of-range values cast to int4/uint4/int2/uint2 keep their low bits (ONNX's
    test data from opset 23 on) instead of saturating (opset 21/22's test data); the spec leaves
    float -> fixed point undefined when out of range.
    """
    x = np.asarray(x)
    if is_custom(x.dtype):
        if elem_type_of(x.dtype) == elem_type:
            return x
        x = custom_to_float32(x)
    target = ELEM_TO_DTYPE[elem_type]
    if wrap_ints and elem_type in _INT_RANGES:
        return _wrap_small_int(x, elem_type).view(target)
    if elem_type in CUSTOM_ELEM:
        return from_numeric(x, elem_type, saturate, round_mode)
    if elem_type == TensorProto.STRING:
        return _to_string(x)
    if x.dtype == object:
        return _from_string(x, target)
    if target.kind in "iu" and x.dtype.kind == "f":
        # float -> int: truncate toward zero; NaN/inf are undefined in ONNX, keep numpy silent
        with np.errstate(invalid="ignore", over="ignore"):
            return np.trunc(x).astype(target)
    with np.errstate(invalid="ignore", over="ignore"):
        return x.astype(target)


def _to_string(x: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape, dtype=object)
    flat = x.reshape(-1)
    if x.dtype.kind == "f":
        def fmt(v):
            if np.isnan(v):
                return "NaN"
            if np.isinf(v):
                return "INF" if v > 0 else "-INF"
            return np.format_float_scientific(v, trim="-") if abs(v) >= 1e7 or (v != 0 and abs(v) < 1e-4) else repr(float(v)) if x.dtype != np.float32 else np.format_float_positional(v, trim="-")
        out.reshape(-1)[:] = [fmt(v) for v in flat]
    elif x.dtype == np.bool_:
        out.reshape(-1)[:] = ["1" if v else "0" for v in flat]
    else:
        out.reshape(-1)[:] = [str(v) for v in flat.tolist()]
    return out


def _from_string(x: np.ndarray, target: np.dtype) -> np.ndarray:
    flat = [s.decode() if isinstance(s, bytes) else str(s) for s in x.reshape(-1)]
    if target.kind == "f":
        def parse(s):
            low = s.strip().lower()
            if low in ("inf", "+inf", "infinity", "+infinity"):
                return np.inf
            if low in ("-inf", "-infinity"):
                return -np.inf
            return float(s)
        return np.array([parse(s) for s in flat], dtype=target).reshape(x.shape)
    if target == np.bool_:
        return np.array([s not in ("0", "", "false", "False") for s in flat], dtype=np.bool_).reshape(x.shape)
    return np.array([int(s) for s in flat], dtype=target).reshape(x.shape)
