"""Sample-input generators for operator specs. numpy only: imported by the spec table and by
every framework's builder.

An input is described by a small JSON-able dict (see ``specs.T``):
``{"shape": [...], "dtype": "float32", "domain": "normal", ...}``. ``generate`` turns a list
of them into arrays with one ``numpy.random.Generator`` seeded from the case id, so the same
case always sees the same values and every converter of a spec sees the same inputs.

Domains keep values where the operator is well defined and away from points where a tiny
rounding difference flips the result (kinks of ReLU-like functions, .5 for Round, ties for
comparisons), so that a mismatch means a conversion bug, not noise.
"""
from __future__ import annotations

import numpy as np

from conformance.cases import twin_shapes

DTYPES = ("float32", "float16", "float64", "int32", "int64", "bool", "int8", "uint8")


def _away_from(values: np.ndarray, points, margin: float) -> np.ndarray:
    """Push values that are closer than ``margin`` to any point out to exactly ``margin``."""
    for p in points:
        d = values - p
        close = np.abs(d) < margin
        values = np.where(close, p + np.where(d >= 0, margin, -margin), values)
    return values


def _unique_index(rng, shape, axis: int, high: int) -> np.ndarray:
    """Indices along ``axis`` that are unique within every slice, so scatter is deterministic."""
    shape = tuple(shape)
    axis = axis % len(shape)
    n = shape[axis]
    if n > high:
        raise ValueError(f"cannot draw {n} unique indices below {high}")
    moved = (shape[:axis] + shape[axis + 1:])
    count = int(np.prod(moved)) if moved else 1
    rows = np.stack([rng.permutation(high)[:n] for _ in range(count)]) if count else np.zeros((0, n), np.int64)
    out = rows.reshape(moved + (n,))
    return np.moveaxis(out, -1, axis)


def draw(rng: np.random.Generator, spec: dict) -> np.ndarray:
    shape = tuple(int(d) for d in spec.get("shape", ()))
    dtype = spec.get("dtype", "float32")
    domain = spec.get("domain", "normal")
    low, high = spec.get("low"), spec.get("high")
    if domain == "bool" or dtype == "bool":
        return rng.random(shape) < spec.get("p", 0.5)
    if domain == "index":                      # integer indices in [low, high)
        return rng.integers(low or 0, high, size=shape).astype(dtype)
    if domain == "unique_index":               # unique along spec["axis"] (scatter targets)
        return _unique_index(rng, shape, spec.get("axis", 0), high).astype(dtype)
    if domain == "permutation":                # a permutation of range(shape[-1]) per row
        return _unique_index(rng, shape, -1, shape[-1]).astype(dtype)
    if np.issubdtype(np.dtype(dtype), np.integer):
        lo = -5 if low is None else low
        hi = 6 if high is None else high
        values = rng.integers(lo, hi, size=shape)
        if domain == "nonzero":
            values = np.where(values == 0, hi - 1 if hi - 1 != 0 else 1, values)
        return values.astype(dtype)
    # floating point domains
    if domain == "normal":
        values = rng.standard_normal(shape) * spec.get("scale", 1.0) + spec.get("mean", 0.0)
    elif domain == "uniform":
        values = rng.uniform(-1.0 if low is None else low, 1.0 if high is None else high, size=shape)
    elif domain == "positive":                 # Log, Sqrt, Pow base, ...
        values = rng.uniform(0.1 if low is None else low, 3.0 if high is None else high, size=shape)
    elif domain == "nonzero":                  # divisors, Reciprocal
        values = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    elif domain == "grid":                     # comparisons: multiples of 0.5, so ties are exact
        values = rng.integers(-4, 5, size=shape) / 2.0
    elif domain == "frac":                     # Floor/Ceil/Round: away from integers and .5
        values = rng.integers(-5, 5, size=shape) + rng.choice([0.2, 0.35, 0.65, 0.8], size=shape) \
            + rng.uniform(-0.05, 0.05, size=shape)
    elif domain == "special":                  # IsNaN / IsInf: finite values with nan and +-inf mixed in
        values = rng.standard_normal(shape)
        pick = rng.random(shape)
        values = np.where(pick < 0.15, np.nan, values)
        values = np.where((pick >= 0.15) & (pick < 0.25), np.inf, values)
        values = np.where((pick >= 0.25) & (pick < 0.35), -np.inf, values)
    else:
        raise ValueError(f"unknown sample domain {domain!r}")
    if "avoid" in spec:                        # kinks of the op: keep a margin around them
        values = _away_from(values, spec["avoid"], spec.get("margin", 0.05))
    return values.astype(dtype)


def generate(inputs: list[dict], seed: int, channels_last: bool = False) -> list[np.ndarray]:
    """Arrays for ``inputs``; ``channels_last`` moves axis 1 to the end of inputs marked
    ``"layout": "nc*"`` (TensorFlow's CPU kernels for conv/pool/norm want NHWC)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in inputs:
        spec = dict(spec)
        if channels_last and spec.get("layout") == "nc*":
            shape = list(spec["shape"])
            spec["shape"] = [shape[0]] + shape[2:] + [shape[1]]
        arrays.append(np.asarray(draw(rng, spec)))   # 0-d draws come back as numpy scalars
    return arrays


def free_axes(inputs: list[dict]) -> list[tuple[int, ...]]:
    """Per input, the axes a dynamic twin declares dynamic. Where an op constrains them, the
    table says so on the inputs (``T(3, 4, free=[1])``; ``free=[]``: none; an input without
    ``free`` then has none). Otherwise the batch axis: axis 0 of the first input and of every
    input of its rank with the same leading size (an empty or rank-0 first input has none)."""
    if any("free" in spec for spec in inputs):
        return [tuple(spec.get("free", ())) for spec in inputs]
    lead = list(inputs[0].get("shape", ())) if inputs else []
    if not lead or lead[0] == 0 or _bounded_lead(inputs[0]):
        return [() for _ in inputs]
    return [(0,) if len(spec.get("shape", ())) == len(lead) and spec["shape"][0] == lead[0] else ()
            for spec in inputs]


def _bounded_lead(spec: dict) -> bool:
    """Is the input's leading size bounded by its values (indices unique along axis 0 below
    ``high``, a permutation of its length)? Then it is no batch axis to grow."""
    rank = len(spec.get("shape", ()))
    return (spec.get("domain") == "unique_index" and spec.get("axis", 0) % rank == 0) or \
        (spec.get("domain") == "permutation" and rank == 1)


def twin_inputs(inputs: list[dict]) -> tuple[list[dict], list[dict]] | None:
    """A dynamic twin's input specs (at the export shape, at the unseen shape), each free axis
    sized by ``cases.twin_sizes``; None when no input has a free axis."""
    free = free_axes(inputs)
    if not any(free):
        return None
    export, unseen = [], []
    for spec, axes in zip(inputs, free):
        at_export, at_unseen = twin_shapes(spec.get("shape", ()), axes)
        export.append({**spec, "shape": at_export})
        unseen.append({**spec, "shape": at_unseen})
    return export, unseen


def weights(seed: int, shape, kind: str = "normal", scale: float = 1.0) -> np.ndarray:
    """Deterministic parameter values for layers (weights, running statistics)."""
    rng = np.random.default_rng(seed)
    if kind == "positive":                     # variances
        return rng.uniform(0.5, 1.5, size=tuple(shape)).astype("float32")
    return (rng.standard_normal(tuple(shape)) * scale).astype("float32")


CORNER_KINDS = ("zero", "sign", "ties", "nonfinite", "extreme", "bounds")


def corner_values(rng: np.random.Generator, spec: dict, kinds, share: float = 0.5) -> np.ndarray:
    """``draw(rng, spec)`` with about ``share`` of its elements replaced by corner values of
    ``kinds`` (``CORNER_KINDS``): ``zero`` (0, and -0.0 for floats), ``sign`` (small integers of
    both signs), ``ties`` (k + .5), ``nonfinite`` (+-inf, nan), ``extreme`` (the dtype's largest
    value and, for floats, its smallest normal magnitudes and epsilon; for integers its minimum),
    ``bounds`` (an index domain's first and last valid index, duplicated). Kinds that make no
    sense for the dtype or domain are ignored; bool, permutation and unique-index inputs are
    drawn as usual (their corners are their structure)."""
    values = np.asarray(draw(rng, spec))
    dtype, domain = values.dtype, spec.get("domain", "normal")
    if dtype == np.bool_ or domain in ("bool", "permutation", "unique_index"):
        return values
    is_float = np.issubdtype(dtype, np.floating)
    pool: list = []
    if domain == "index":
        if "bounds" in kinds:
            pool += [spec.get("low") or 0, spec["high"] - 1]
    else:
        if "zero" in kinds:
            pool += [0.0, -0.0] if is_float else [0]
        if "sign" in kinds:
            pool += [-3, -2, -1, 1, 2, 3]
        if "ties" in kinds and is_float:
            pool += [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]
        if "nonfinite" in kinds and is_float:
            pool += [np.inf, -np.inf, np.nan]
        if "extreme" in kinds:
            info = np.finfo(dtype) if is_float else np.iinfo(dtype)
            pool += [info.max, info.tiny, -info.tiny, info.eps] if is_float else [info.max, info.min]
    if not pool or values.size == 0:
        return values
    choices = np.array(pool, dtype=dtype)
    picked = choices[rng.integers(0, len(choices), size=values.shape)]
    return np.where(rng.random(values.shape) < share, picked, values).astype(dtype)
