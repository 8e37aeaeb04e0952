"""The corner families, declared once: what values (or index patterns) a data set feeds an op.

A family is named, says which dtype kinds it applies to and in which dtypes it is drawn, and
either fills a data input (``fill(shape, dtype, rng) -> array``: the value families) or only
changes how structural inputs are drawn (``role``: negative or duplicate indices, negative
axes, empty axes), data inputs then drawn plainly. Every draw comes from the numpy Generator
the caller seeds from the case id, so a data set is the same in every process.

``dtype`` is the plain family: typical values, drawn in every dtype the schema allows; its
data sets read ``dtype-float16``, ``dtype-uint64``...
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Family:
    name: str
    kinds: str                                   # numpy dtype kinds it applies to ("f", "iu", "fiub")
    dtypes: tuple[str, ...] | None               # dtypes it is drawn in (None: every allowed one)
    fill: Callable | None                        # value family: (shape, dtype, rng) -> array
    role: str = "data"                           # structural family: the input role it needs
    empty: bool = False                          # data inputs get an empty first axis

    def applies_to(self, dtype: str) -> bool:
        return np.dtype(dtype).kind in self.kinds


FAMILIES: dict[str, Family] = {}


def family(name: str, kinds: str = "fiubO", dtypes: tuple[str, ...] | None = None, role: str = "data",
           empty: bool = False):
    """Register ``fn`` as the fill of the family ``name`` (``fn`` None: structural family)."""
    def deco(fn):
        FAMILIES[name] = Family(name, kinds, dtypes, fn, role, empty)
        return fn
    return deco


def plain(shape, dtype, rng) -> np.ndarray:
    """Typical values: small signed floats, small integers (the unsigned ones from 0), random bools."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 2).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(-5, 6, size=shape).astype(dtype)
    if dtype.kind == "u":
        return rng.integers(0, 11, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind == "O":
        words = np.array(["", "a", "ab", "Hello", "WORLD", "x y"], dtype=object)
        return words[rng.integers(0, len(words), size=shape)]
    raise ValueError(f"no plain values for dtype {dtype}")


def _scatter(base: np.ndarray, specials, rng) -> np.ndarray:
    """``base`` with each special value written at a few random places (and at least once)."""
    flat = base.reshape(-1).copy()
    if flat.size == 0:
        return base
    picks = rng.permutation(flat.size)
    for i, value in enumerate(specials):
        flat[picks[i::len(specials)][: max(1, flat.size // (2 * len(specials)))]] = value
    return flat.reshape(base.shape)


FLOATS = ("float32", "float16", "float64")
FLOAT32 = ("float32",)


family("dtype")(plain)


@family("nan_inf", kinds="f", dtypes=FLOATS)
def nan_inf(shape, dtype, rng):
    return _scatter(plain(shape, dtype, rng), [np.nan, np.inf, -np.inf], rng)


@family("zeros", kinds="fiub", dtypes=("float32", "int32", "bool"))
def zeros(shape, dtype, rng):
    """Zeros, and negative zeros for floats (sign-sensitive ops: Div, Atan, Reciprocal, Sign)."""
    out = np.zeros(shape, dtype=dtype)
    return _scatter(out, [-0.0], rng) if out.dtype.kind == "f" else out


@family("large", kinds="f", dtypes=("float32", "float16"))
def large(shape, dtype, rng):
    """Magnitudes near the top of the type: overflow in Exp, Pow, sums, squares."""
    top = float(np.finfo(dtype).max)
    values = [top, -top, top / 2, -top / 3, 1e4, -1e4, 88.8, -88.8]
    return _scatter(plain(shape, dtype, rng), values, rng).astype(dtype)


@family("tiny", kinds="f", dtypes=FLOAT32)
def tiny(shape, dtype, rng):
    """Subnormals and the smallest normals: flush-to-zero and underflow."""
    info = np.finfo(dtype)
    values = [info.smallest_subnormal, -info.smallest_subnormal, info.tiny, -info.tiny, info.eps]
    return _scatter(plain(shape, dtype, rng), values, rng).astype(dtype)


@family("half_ties", kinds="f", dtypes=FLOAT32)
def half_ties(shape, dtype, rng):
    """Exact halves (..., -2.5, -0.5, 0.5, 1.5, ...): round-half-to-even and Resize's nearest modes."""
    return (rng.integers(-4, 5, size=shape) + 0.5).astype(dtype)


@family("all_neg_inf", kinds="f", dtypes=FLOAT32)
def all_neg_inf(shape, dtype, rng):
    """Rows of -inf only: Softmax's and ReduceLogSumExp's max subtraction gives NaN or -inf."""
    out = plain(shape, dtype, rng)
    if out.ndim:
        out[0] = -np.inf
    return out


@family("int_extremes", kinds="iu", dtypes=None)
def int_extremes(shape, dtype, rng):
    """The type's min and max, 0 and +-1: overflow and unsigned wrap-around."""
    info = np.iinfo(dtype)
    values = [info.min, info.max, 0, 1, info.max - 1] + ([-1, info.min + 1] if info.min < 0 else [])
    return _scatter(plain(shape, dtype, rng), values, rng)


@family("neg_int", kinds="i", dtypes=("int32", "int64", "int8"))
def neg_int(shape, dtype, rng):
    """Negative operands (integer Div and Mod truncate or floor: the sign rules)."""
    out = rng.integers(-9, 10, size=shape).astype(dtype)
    return np.where(out == 0, -7, out).astype(dtype)


family("empty", empty=True, dtypes=FLOAT32)(plain)
family("neg_index", role="index", dtypes=FLOAT32)(plain)
family("dup_index", role="index", dtypes=FLOAT32)(plain)
family("oob_index", role="index", dtypes=FLOAT32)(plain)
family("neg_axis", role="axis", dtypes=FLOAT32)(plain)
family("empty_axes", role="axes", dtypes=FLOAT32)(plain)


def default_dtype(allowed: tuple[str, ...]) -> str:
    """The dtype structural families and single-dtype families fall back to."""
    for name in ("float32", "int64", "int32", "bool", "uint8", "object"):
        if name in allowed:
            return name
    return allowed[0]


def family_dtypes(fam: Family, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The dtypes a family is drawn in for an input that allows ``allowed``."""
    fitting = tuple(d for d in allowed if fam.applies_to(d))
    if fam.dtypes is None:
        return fitting
    chosen = tuple(d for d in fam.dtypes if d in fitting)
    structural = fam.role != "data" or fam.empty      # any dtype serves: fall back to the default
    if chosen or not structural or not allowed:
        return chosen
    return (default_dtype(allowed),)
