"""ONNX element types <-> numpy dtypes, including the types numpy lacks.

bfloat16, the four float8 flavours and int4/uint4 are held in the dtypes ONNX itself uses for
them (``onnx._custom_element_types``: one-field structured dtypes over uint8/int8/uint16), so
arrays we produce compare directly with ``onnx.numpy_helper.to_array``. Conversions are
vectorized: float8 encoding is a nearest-value search over the 256-code table with
round-half-to-even, which is exactly what the ONNX spec asks for.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto
from onnx import _custom_element_types as custom
from onnx import numpy_helper

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
    TensorProto.BFLOAT16: custom.bfloat16,
    TensorProto.FLOAT8E4M3FN: custom.float8e4m3fn,
    TensorProto.FLOAT8E4M3FNUZ: custom.float8e4m3fnuz,
    TensorProto.FLOAT8E5M2: custom.float8e5m2,
    TensorProto.FLOAT8E5M2FNUZ: custom.float8e5m2fnuz,
    TensorProto.UINT4: custom.uint4,
    TensorProto.INT4: custom.int4,
}
_CUSTOM_ELEM = {custom.mapping_name_to_data_type[name]: name for name in custom.mapping_name_to_data_type}
FLOAT8 = (TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E4M3FNUZ, TensorProto.FLOAT8E5M2, TensorProto.FLOAT8E5M2FNUZ)
FLOATING_ELEM = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE}


def to_dtype(elem_type: int) -> np.dtype:
    return ELEM_TO_DTYPE[elem_type]


def elem_type_of(dtype: np.dtype) -> int:
    dtype = np.dtype(dtype)
    if dtype.names:
        return custom.mapping_name_to_data_type[dtype.names[0]]
    for elem, candidate in ELEM_TO_DTYPE.items():
        if candidate == dtype and not candidate.names:
            return elem
    if dtype.kind in "US":
        return TensorProto.STRING
    raise TypeError(f"no ONNX element type for numpy dtype {dtype}")


def is_custom(dtype: np.dtype) -> bool:
    return np.dtype(dtype).names is not None


def _float8_params(elem_type: int) -> tuple[bool, bool, bool]:
    """(is e4m3, fn, uz) as numpy_helper's decoders take them."""
    return {
        TensorProto.FLOAT8E4M3FN: (True, True, False),
        TensorProto.FLOAT8E4M3FNUZ: (True, True, True),
        TensorProto.FLOAT8E5M2: (False, False, False),
        TensorProto.FLOAT8E5M2FNUZ: (False, True, True),
    }[elem_type]


_FLOAT8_TABLES: dict[int, np.ndarray] = {}


def _float8_table(elem_type: int) -> np.ndarray:
    """float32 value of each of the 256 codes."""
    if elem_type not in _FLOAT8_TABLES:
        e4m3, fn, uz = _float8_params(elem_type)
        codes = np.arange(256, dtype=np.uint8)
        decode = numpy_helper.float8e4m3_to_float32 if e4m3 else numpy_helper.float8e5m2_to_float32
        _FLOAT8_TABLES[elem_type] = np.asarray(decode(codes, fn=fn, uz=uz), dtype=np.float32).reshape(256)
    return _FLOAT8_TABLES[elem_type]


def custom_to_float32(array: np.ndarray) -> np.ndarray:
    """Decode bfloat16 / float8 / int4 arrays to float32 (int4 to their integer values)."""
    elem = elem_type_of(array.dtype)
    raw = raw_view(np.asarray(array))
    if elem == TensorProto.BFLOAT16:
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if elem in FLOAT8:
        return _float8_table(elem)[raw]
    return raw.astype(np.float32)


def raw_storage(dtype: np.dtype) -> np.dtype:
    """The integer dtype a custom type is stored in (uint8, int8 or uint16)."""
    dtype = np.dtype(dtype)
    return np.dtype(dtype.fields[dtype.names[0]][0]) if dtype.names else dtype


def raw_view(array: np.ndarray) -> np.ndarray:
    """The storage integers of a custom-typed array (uint8/int8/uint16)."""
    return array.view(np.dtype(array.dtype.fields[array.dtype.names[0]][0]))


def _encode_float8(x: np.ndarray, elem_type: int, saturate: bool) -> np.ndarray:
    table = _float8_table(elem_type)
    e4m3, fn, uz = _float8_params(elem_type)
    positive_codes = np.arange(0, 128)
    finite = np.isfinite(table[positive_codes])
    codes = positive_codes[finite]
    values = table[codes].astype(np.float64)
    order = np.argsort(values, kind="stable")
    codes, values = codes[order], values[order]
    max_value = values[-1]
    # one virtual step above the largest value: rounding onto it means overflow
    values = np.append(values, max_value + (max_value - values[-2]))
    x = np.asarray(x, dtype=np.float64)
    magnitude = np.abs(x)
    idx = np.clip(np.searchsorted(values, magnitude), 1, len(values) - 1)
    low, high = values[idx - 1], values[idx]
    low_code = np.append(codes, 256)[idx - 1]
    pick_high = (magnitude - low > high - magnitude) | ((magnitude - low == high - magnitude) & (low_code % 2 == 1))
    idx = np.where(pick_high, idx, idx - 1)
    overflow = idx == len(values) - 1
    out = np.append(codes, codes[-1])[idx].astype(np.uint8)
    nan_code = 0x80 if uz else 0x7F
    inf_code = 0x7C if not e4m3 and not uz else nan_code
    if saturate:
        out = np.where(overflow | np.isinf(x), codes[-1], out)
    else:
        out = np.where(overflow | np.isinf(x), inf_code, out)
    negative = np.signbit(x) & (out != nan_code)
    if uz:
        negative &= out != 0  # no negative zero in the fnuz formats
    out = np.where(negative, out | 0x80, out)
    out = np.where(np.isnan(x), nan_code, out)
    return out.astype(np.uint8)


def _encode_bfloat16(x: np.ndarray) -> np.ndarray:
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(np.asarray(x, dtype=np.float32)), np.uint16(0x7FC0), rounded)


def _encode_int4(x: np.ndarray, signed: bool) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x = np.rint(x)
    lo, hi = (-8, 7) if signed else (0, 15)
    return np.clip(x, lo, hi).astype(np.int8 if signed else np.uint8)


def from_numeric(x: np.ndarray, elem_type: int, saturate: bool = True) -> np.ndarray:
    """Encode a numeric array into a custom-typed array of ``elem_type``."""
    dtype = ELEM_TO_DTYPE[elem_type]
    if elem_type == TensorProto.BFLOAT16:
        raw = _encode_bfloat16(x)
    elif elem_type in FLOAT8:
        raw = _encode_float8(x, elem_type, saturate)
    elif elem_type == TensorProto.INT4:
        raw = _encode_int4(x, True)
    else:
        raw = _encode_int4(x, False)
    return raw.view(dtype)


def cast(x, elem_type: int, saturate: bool = True) -> np.ndarray:
    """Cast any supported array to ``elem_type`` with ONNX Cast semantics."""
    x = np.asarray(x)
    if is_custom(x.dtype):
        if elem_type_of(x.dtype) == elem_type:
            return x
        x = custom_to_float32(x)
    target = ELEM_TO_DTYPE[elem_type]
    if target.names:
        return from_numeric(x, elem_type, saturate)
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
