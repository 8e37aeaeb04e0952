"""Fix-ups applied to a data set's drawn inputs where an op needs values to agree beyond what
the roles say (a divisor that must not be zero...). A registry: a form names one by key."""
from __future__ import annotations

import numpy as np

FIXUPS: dict = {}


def fixup(name: str):
    def deco(fn):
        FIXUPS[name] = fn
        return fn
    return deco


@fixup("nonzero_divisor")
def nonzero_divisor(inputs, attrs, ds, rng):
    """Integer division by zero is undefined (and traps on x86), and so is MIN // -1 (overflow):
    integer divisors are moved off 0 and, where the dividend is the minimum, off -1."""
    x, y = inputs[0], inputs[1]
    if y.dtype.kind not in "iu":
        return inputs
    y = np.where(y == 0, np.array(3, dtype=y.dtype), y).astype(y.dtype)
    if y.dtype.kind == "i":
        minimum = np.iinfo(x.dtype).min if x.dtype.kind == "i" else None
        x_b, y_b = np.broadcast_arrays(x, y)
        clash = (x_b == minimum) & (y_b == -1)
        if clash.any():
            y = np.where(clash, np.array(2, dtype=y.dtype), y_b).astype(y.dtype)
    return [x, y] + list(inputs[2:])


@fixup("nonneg_exponent")
def nonneg_exponent(inputs, attrs, ds, rng):
    """An integer base to a negative integer power has no integer result (numpy refuses it, the
    spec is silent): integer exponents are made non-negative and small."""
    x, y = inputs[0], inputs[1]
    if y.dtype.kind == "i":
        y = (np.abs(y.astype(np.int64)) % 4).astype(y.dtype)
    elif y.dtype.kind == "u":
        y = (y % 4).astype(y.dtype)
    return [x, y]


@fixup("small_shift")
def small_shift(inputs, attrs, ds, rng):
    """Shift amounts at or past the bit width are undefined in C and differ between backends:
    kept below the width (the width minus one included)."""
    x, y = inputs[0], inputs[1]
    bits = x.dtype.itemsize * 8
    return [x, (y % bits).astype(y.dtype)]
