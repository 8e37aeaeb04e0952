"""Tolerance policy and output comparison.

A converted model is held against the source framework's output (the golden) with a
``Tolerance``; ``compare`` returns a ``Comparison`` whose ``message`` lets a person judge a
failure without rerunning: error statistics, the worst element with both values, the first
mismatching elements, and the smallest atol/rtol that would have passed.

Definitions (all arithmetic in float64, or complex128 for complex outputs; float16 and
bfloat16 are upcast before subtracting, so the error itself carries no rounding of its own):

* absolute error ``d = |a - b|`` (``a`` actual, ``b`` expected).
* relative error ``d / max(|b|, REL_FLOOR)`` where ``REL_FLOOR`` is float64 machine epsilon
  (2.22e-16, the same floor Polygraphy adds to zeros): a zero expected value gives a huge but
  finite relative error instead of a division by zero.
* rule ``"numpy"`` (default; numpy.isclose, torch.testing.assert_close): an element passes
  when ``d <= atol + rtol * |b|``.
* rule ``"polygraphy"`` (Polygraphy's elementwise check): an element fails only when it
  exceeds BOTH ``d > atol`` and ``rel > rtol``, i.e. the bound is ``max(atol, rtol*|b|)``
  where numpy's is the sum: for the same numbers it is up to twice as strict.
* ``stat`` (``max | mean | median | quantile``): for reduced precision, the verdict on values
  is ``stat(d) <= stat_atol`` instead of the element-wise rule (as Polygraphy's
  ``check_error_stat``); the element-wise mismatch fraction is still reported.

Non-finite values: NaN in both outputs at the same place match, as do infinities of the same
sign; NaN in one side only, infinities of opposite sign, and infinity against a finite value
always fail (no tolerance can pass them, so the hints read ``inf``). ``max_abs``/``max_rel``
are ``inf`` then; the message still gives the statistics of the elements finite on both sides.

Dtypes: integer and bool outputs compare exactly (``Tolerance.exact=None`` means "by dtype";
``exact=False`` allows a tolerance on integers, e.g. quantized outputs off by one). A dtype
mismatch between two floating types (float32 vs float64) is a failure by default, because a
converter that silently changes precision is a conformance problem and both ONNX's backend
runner and tf2onnx's test harness check dtypes; the values are still compared so the message
says whether they agree, and ``check_dtype=False`` in a case or op override accepts it.
Integer vs float, bool vs anything else, or different widths of integers (with
``check_dtype``) fail too. Shape mismatches fail without comparing values (no broadcasting).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

RULES = ("numpy", "polygraphy")
STATS = ("max", "mean", "median", "quantile")
REL_FLOOR = float(np.finfo(np.float64).eps)
DEFAULT_QUANTILE = 0.99      # Polygraphy's CompareFunc.simple default error_quantile
MAX_LISTED_MISMATCHES = 5


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-5
    atol: float = 1e-5
    rule: str = "numpy"
    stat: str | None = None          # None: element-wise verdict; else verdict on stat(|a-b|)
    quantile: float | None = None    # for stat == "quantile" (default 0.99)
    stat_atol: float | None = None   # bound on the statistic of the absolute error
    exact: bool | None = None        # None: by dtype (ints and bools exact); True/False force it
    check_dtype: bool = True         # a float32-vs-float64 mismatch fails unless False

    def __post_init__(self):
        for key in ("rtol", "atol"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise ValueError(f"tolerance {key} must be a number >= 0, got {value!r}")
            object.__setattr__(self, key, float(value))
        if self.rule not in RULES:
            raise ValueError(f"unknown tolerance rule {self.rule!r}; expected one of {RULES}")
        if self.stat is not None:
            if self.stat not in STATS:
                raise ValueError(f"unknown tolerance stat {self.stat!r}; expected one of {STATS} or None")
            if self.stat_atol is None or not self.stat_atol >= 0:
                raise ValueError(f"tolerance stat={self.stat!r} needs stat_atol >= 0, got {self.stat_atol!r}")
            object.__setattr__(self, "stat_atol", float(self.stat_atol))
            if self.stat == "quantile":
                q = DEFAULT_QUANTILE if self.quantile is None else self.quantile
                if not 0 <= q <= 1:
                    raise ValueError(f"tolerance quantile must be in [0, 1], got {q!r}")
                object.__setattr__(self, "quantile", float(q))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Tolerance":
        _check_keys(data, "tolerance")
        return cls(**dict(data))

    def describe(self) -> str:
        if self.exact:
            return "exact"
        text = (f"rtol={self.rtol:g}, atol={self.atol:g}, rule {self.rule}: "
                + ("|a-b| <= atol + rtol*|b|" if self.rule == "numpy" else "fails where |a-b| > atol and rel > rtol"))
        if self.stat:
            what = f"q{self.quantile:g}" if self.stat == "quantile" else self.stat
            text += f"; verdict on {what}(|a-b|) <= {self.stat_atol:g}"
        return text


_FIELDS = {f.name for f in dataclasses.fields(Tolerance)}


def _check_keys(data: Mapping[str, Any], what: str, allowed=_FIELDS) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} key(s) {unknown}; expected some of {sorted(allowed)}")


# Defaults per dtype. The comparison is the converted model on a target against the source
# framework on CPU: two independent kernel implementations (accumulation order, fused ops,
# approximations), so these are the cross-implementation tolerances of the projects that do
# the same job, not bit-exactness.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    # torch.testing.assert_close default for float64: (rtol, atol) = (1e-7, 1e-7)
    # (torch/testing/_comparison.py, _DTYPE_PRECISIONS[torch.float64]).
    "float64": Tolerance(rtol=1e-7, atol=1e-7),
    # atol 1e-5: the default of torch.testing.assert_close for float32, of tf2onnx's
    # run_test_case (tests/backend_test_base.py: rtol=1e-07, atol=1e-5) and of Polygraphy's
    # CompareFunc.simple (_DEFAULT_ATOL = 1e-5). rtol 1e-5: Polygraphy's _DEFAULT_RTOL; torch's
    # 1.3e-6 and tf2onnx's 1e-7 are for comparing a runtime against itself-like kernels, too
    # tight for a reduction of a few thousand terms summed in another order (error ~ sqrt(K)
    # ulp). ONNX's backend runner uses rtol=1e-3, atol=1e-7 (onnx/backend/test/loader), looser
    # on large values and tighter near zero.
    "float32": Tolerance(rtol=1e-5, atol=1e-5),
    # rtol 1e-3: torch.testing.assert_close float16 default (_DTYPE_PRECISIONS[torch.float16],
    # about one float16 ulp, 2**-10). atol 1e-3 instead of torch's 1e-5: PyTorch's own fused
    # kernel tests use atol 1e-3 for float16 (test/test_transformers.py default_atol), since
    # near zero a cancellation leaves an error of the summands' ulp, not the result's.
    "float16": Tolerance(rtol=1e-3, atol=1e-3),
    # rtol 1.6e-2: torch.testing.assert_close bfloat16 default (about two bfloat16 ulps,
    # 2**-7 each); atol 1e-3 as for float16 (test/test_transformers.py default_atol).
    "bfloat16": Tolerance(rtol=1.6e-2, atol=1e-3),
    # Integers and bools: exact, as ONNX's backend runner (assert_equal on dtype, allclose on
    # integers with atol 1e-7 is exact) and torch.testing.assert_close (rtol=atol=0 for ints).
    "int": Tolerance(rtol=0.0, atol=0.0, exact=True),
    "bool": Tolerance(rtol=0.0, atol=0.0, exact=True),
}


def dtype_key(dtype) -> str:
    """The DEFAULT_TOLERANCES key for a dtype (numpy dtype, type, or name such as "bfloat16")."""
    if isinstance(dtype, str):
        name = dtype
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = str(getattr(dtype, "name", dtype))
    if name in DEFAULT_TOLERANCES:
        return name
    if name.startswith("float8") or name.startswith("float4"):
        return "bfloat16"   # no default anywhere for 8-bit floats; the loosest we have
    if name in ("int", "ints"):
        return "int"
    if name in ("complex64",):
        return "float32"
    if name in ("complex128",):
        return "float64"
    try:
        kind = np.dtype(name).kind
    except TypeError:
        raise ValueError(f"no default tolerance for dtype {name!r}; expected one of {sorted(DEFAULT_TOLERANCES)}") from None
    if kind in "iu":
        return "int"
    if kind == "b":
        return "bool"
    if kind == "f":
        return "float64" if np.dtype(name).itemsize >= 8 else "float32"
    raise ValueError(f"no default tolerance for dtype {name!r}; expected one of {sorted(DEFAULT_TOLERANCES)}")


def _apply_override(tol: Tolerance, override: Mapping[str, Any] | None, key: str, what: str) -> Tolerance:
    """Flat keys apply to every dtype; a dtype name mapping to a dict applies to that dtype only
    (``{"atol": 1e-4, "float16": {"atol": 1e-2}}``), after the flat keys."""
    if not override:
        return tol
    flat = {k: v for k, v in override.items() if not isinstance(v, Mapping)}
    nested = {k: v for k, v in override.items() if isinstance(v, Mapping)}
    _check_keys(flat, what)
    bad = sorted(k for k in nested if k not in DEFAULT_TOLERANCES)
    if bad:
        raise ValueError(f"{what}: per-dtype key(s) {bad} are not dtypes; expected some of {sorted(DEFAULT_TOLERANCES)}")
    tol = dataclasses.replace(tol, **flat)
    if key in nested:
        _check_keys(nested[key], f"{what}[{key}]")
        tol = dataclasses.replace(tol, **nested[key])
    return tol


def resolve_tolerance(dtype, op_override: Mapping[str, Any] | None = None,
                      case_override: Mapping[str, Any] | None = None) -> Tolerance:
    """Default for ``dtype``, then the op spec's override, then the case's (case wins)."""
    key = dtype_key(dtype)
    tol = DEFAULT_TOLERANCES[key]
    tol = _apply_override(tol, op_override, key, "op tolerance override")
    return _apply_override(tol, case_override, key, "case tolerance override")


def widen_for_precision(tol: Tolerance, precision: str | None, dtype) -> Tolerance:
    """A target that states it computes in a reduced precision (``bf16``, ``fp16``: OpenVINO's
    CPU default, TensorRT's FP16 flag) is held to that precision's default tolerance for its
    floating outputs. Only ever wider: a case's own tolerance still applies where it is looser."""
    import dataclasses
    reduced = {"bf16": "bfloat16", "fp16": "float16"}.get((precision or "").split(" ")[0])
    if reduced is None or np.dtype(dtype).kind != "f" or tol.exact:
        return tol
    base = DEFAULT_TOLERANCES[reduced]
    return dataclasses.replace(tol, rtol=max(tol.rtol, base.rtol), atol=max(tol.atol, base.atol))


@dataclass
class Comparison:
    passed: bool
    name: str
    tol: Tolerance
    shape: tuple | None = None                 # expected shape
    dtype: str | None = None                   # expected dtype
    size: int = 0
    max_abs: float | None = None
    max_rel: float | None = None
    mismatch: float | None = None              # fraction of elements out of tolerance
    n_mismatch: int = 0
    mean_abs: float | None = None
    median_abs: float | None = None
    stat_value: float | None = None            # the statistic checked when tol.stat is set
    worst_index: tuple | None = None
    worst_actual: Any = None
    worst_expected: Any = None
    min_atol_to_pass: float | None = None      # with the given rtol (element-wise rule)
    min_rtol_to_pass: float | None = None      # with the given atol
    shape_problem: str | None = None
    dtype_problem: str | None = None
    nonfinite_problem: str | None = None
    message: str = ""

    @property
    def problems(self) -> list[str]:
        return [p for p in (self.shape_problem, self.dtype_problem, self.nonfinite_problem) if p]

    def __bool__(self) -> bool:
        return self.passed


@dataclass
class OutputsComparison:
    passed: bool
    comparisons: list[Comparison] = field(default_factory=list)
    count_problem: str | None = None
    max_abs: float | None = None
    max_rel: float | None = None
    mismatch: float | None = None
    message: str = ""

    @property
    def worst(self) -> Comparison | None:
        """The failing comparison with the largest mismatch, else the one with the largest max_abs."""
        if not self.comparisons:
            return None
        return max(self.comparisons, key=lambda c: (not c.passed, c.mismatch or 0.0, _num(c.max_abs)))

    @property
    def rtol(self) -> float | None:
        worst = self.worst
        return worst.tol.rtol if worst is not None else None

    @property
    def atol(self) -> float | None:
        worst = self.worst
        return worst.tol.atol if worst is not None else None

    def __bool__(self) -> bool:
        return self.passed


def _num(x) -> float:
    return -1.0 if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _kind(dtype: np.dtype) -> str:
    if dtype.kind == "f" or dtype.name == "bfloat16" or dtype.name.startswith(("float8", "float4")):
        return "float"
    if dtype.kind == "c":
        return "complex"
    if dtype.kind in "iu":
        return "int"
    if dtype.kind == "b":
        return "bool"
    return "other"


def _ceil_sig(x: float, digits: int = 3) -> float:
    """Round up to ``digits`` significant digits, a little above ``x`` so that applying the
    printed value passes despite float rounding in the check."""
    if not math.isfinite(x):
        return math.inf
    if x <= 0:
        return 0.0
    x = x * (1 + 1e-9)
    scale = 10.0 ** (math.floor(math.log10(x)) - digits + 1)
    value = float(f"{math.ceil(x / scale) * scale:.{digits}g}")
    while value < x:
        value = float(f"{value + scale:.{digits}g}")
    return value


def _fmt(value, float64: bool) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return repr(complex(value))
    return f"{float(value):.17g}" if float64 else f"{float(value):.9g}"


def _pair(actual, expected, float64: bool) -> str:
    text = f"actual={_fmt(actual, float64)} expected={_fmt(expected, float64)}"
    try:
        d = abs(complex(actual) - complex(expected))
    except (TypeError, ValueError):
        return text
    if math.isfinite(d):
        text += f" (abs err {d:.3g})"
    return text


def _g(x) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _item(arr: np.ndarray, index: tuple):
    value = arr[index]
    return value.item() if hasattr(value, "item") else value


def compare(actual, expected, tol: Tolerance | None = None, name: str = "output") -> Comparison:
    """Compare one output against its expected value; see the module docstring for the rules."""
    a = np.asarray(actual)
    e = np.asarray(expected)
    if tol is None:
        tol = resolve_tolerance(e.dtype if _kind(e.dtype) != "other" else "int")
    header = f"{name} ({e.dtype}, shape {tuple(e.shape)})"
    result = Comparison(passed=False, name=name, tol=tol, shape=tuple(e.shape), dtype=str(e.dtype), size=int(e.size))

    if a.shape != e.shape:
        result.shape_problem = f"shape mismatch: actual {tuple(a.shape)} vs expected {tuple(e.shape)}"
        if a.dtype != e.dtype:
            result.dtype_problem = f"dtype mismatch: actual {a.dtype} vs expected {e.dtype}"
        result.message = "\n".join([f"{header}: FAILED", *("  " + p for p in result.problems)])
        return result

    ka, ke = _kind(a.dtype), _kind(e.dtype)
    fatal_dtype = False
    if a.dtype != e.dtype:
        text = f"dtype mismatch: actual {a.dtype} vs expected {e.dtype}"
        if ka != ke and not {ka, ke} <= {"float", "complex"}:
            fatal_dtype = True
            result.dtype_problem = text
        elif tol.check_dtype:
            fatal_dtype = True
            result.dtype_problem = text + " (set check_dtype=false in the case tolerance to accept it)"

    if "other" in (ka, ke):
        equal = a.dtype == e.dtype and np.array_equal(a, e)
        result.passed = bool(equal) and not fatal_dtype
        result.mismatch = 0.0 if equal else 1.0
        result.message = f"{header}: {'passed' if result.passed else 'FAILED'} (non-numeric output compared for equality)"
        if result.dtype_problem:
            result.message += "\n  " + result.dtype_problem
        return result

    exact = tol.exact if tol.exact is not None else (ke in ("int", "bool") and ka in ("int", "bool"))
    if "bool" in (ka, ke):
        exact = True
    wide = "complex" in (ka, ke)
    work = np.complex128 if wide else np.float64
    float64_fmt = e.dtype.itemsize >= 8 or a.dtype.itemsize >= 8

    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        a64 = a.astype(work)
        e64 = e.astype(work)
        diff = np.abs(a64 - e64)
        if np.isfinite(diff.sum()):
            # fast path (the common case): a finite sum means every element is finite
            finite_both = np.ones(e.shape, dtype=bool)
            nan_a = nan_e = nonfinite_bad = np.zeros(e.shape, dtype=bool)
        else:
            nan_a, nan_e = np.isnan(a64), np.isnan(e64)
            finite_both = np.isfinite(a64) & np.isfinite(e64)
            # same-sign infinities compare equal (a == e); NaN on both sides is a match
            nonfinite_bad = ~finite_both & ~(nan_a & nan_e) & (a64 != e64)
            diff = np.where(finite_both, diff, 0.0)
        absb = np.abs(e64)
        rel = diff / np.maximum(absb, REL_FLOOR)

        if exact:
            if ka in ("int", "bool") and ke in ("int", "bool"):
                value_bad = a != e     # in the native types: no float64 rounding of big int64
            else:
                value_bad = finite_both & (diff > 0)
        elif tol.rule == "numpy":
            value_bad = finite_both & (diff > tol.atol + tol.rtol * absb)
        else:
            value_bad = finite_both & (diff > tol.atol) & (rel > tol.rtol)
        mask = value_bad | nonfinite_bad

    n = int(e.size)
    n_bad = int(np.count_nonzero(mask))
    n_nonfinite = int(np.count_nonzero(nonfinite_bad))
    n_finite = int(np.count_nonzero(finite_both))
    result.n_mismatch = n_bad
    result.mismatch = n_bad / n if n else 0.0

    finite_diff = diff[finite_both] if n_finite != n else diff.reshape(-1)
    finite_rel = rel[finite_both] if n_finite != n else rel.reshape(-1)
    fmax_abs = float(finite_diff.max()) if n_finite else 0.0
    fmax_rel = float(finite_rel.max()) if n_finite else 0.0
    result.mean_abs = float(finite_diff.mean()) if n_finite else 0.0
    result.median_abs = float(np.median(finite_diff)) if n_finite else 0.0
    result.max_abs = math.inf if n_nonfinite else fmax_abs
    result.max_rel = math.inf if n_nonfinite else fmax_rel

    if n_nonfinite:
        nan_one = int(np.count_nonzero(nan_a ^ nan_e))
        parts = []
        for count, where in ((int(np.count_nonzero(nan_a & ~nan_e)), "actual"),
                             (int(np.count_nonzero(nan_e & ~nan_a)), "expected")):
            if count:
                parts.append(f"{count} NaN in {where} only")
        if n_nonfinite - nan_one:
            parts.append(f"{n_nonfinite - nan_one} infinities that differ (opposite sign or inf vs finite)")
        result.nonfinite_problem = "NaN/Inf pattern differs: " + "; ".join(parts)

    # worst element: the first non-finite mismatch, else the largest absolute error among the
    # mismatching elements (among all when none fails: then it is the one max_abs describes)
    if n:
        if n_nonfinite:
            flat = int(np.flatnonzero(nonfinite_bad)[0])
        elif n_bad:
            flat = int(np.argmax(np.where(mask, diff, -1.0)))
        else:
            flat = int(np.argmax(diff))
        index = tuple(int(i) for i in np.unravel_index(flat, e.shape))
        result.worst_index = index
        result.worst_actual = _item(a, index)
        result.worst_expected = _item(e, index)

    # smallest tolerances that pass, for the element-wise rule
    if not exact:
        if n_nonfinite:
            result.min_atol_to_pass = result.min_rtol_to_pass = math.inf
        elif n_finite:
            fb = absb[finite_both] if n_finite != n else absb.reshape(-1)
            if tol.rule == "numpy":
                need_atol = float(np.max(finite_diff - tol.rtol * fb))
                over = finite_diff > tol.atol
                if np.any(over):
                    if np.any(fb[over] == 0):
                        need_rtol = math.inf
                    else:
                        need_rtol = float(np.max((finite_diff[over] - tol.atol) / fb[over]))
                else:
                    need_rtol = 0.0
            else:
                over_rel = finite_rel > tol.rtol
                need_atol = float(finite_diff[over_rel].max()) if np.any(over_rel) else 0.0
                over_abs = finite_diff > tol.atol
                need_rtol = float(finite_rel[over_abs].max()) if np.any(over_abs) else 0.0
            result.min_atol_to_pass = _ceil_sig(need_atol)
            result.min_rtol_to_pass = _ceil_sig(need_rtol)
        else:
            result.min_atol_to_pass = result.min_rtol_to_pass = 0.0

    values_passed = n_bad == 0
    if tol.stat and not exact:
        if n_finite == 0:
            stat_value = 0.0
        elif tol.stat == "max":
            stat_value = fmax_abs
        elif tol.stat == "mean":
            stat_value = result.mean_abs
        elif tol.stat == "median":
            stat_value = result.median_abs
        else:
            stat_value = float(np.quantile(finite_diff, tol.quantile))
        result.stat_value = stat_value
        values_passed = n_nonfinite == 0 and stat_value <= tol.stat_atol

    result.passed = values_passed and not fatal_dtype
    result.message = _message(result, header, a, e, mask, exact, float64_fmt, fmax_abs, fmax_rel)
    return result


def _message(r: Comparison, header: str, a, e, mask, exact: bool, float64_fmt: bool,
             fmax_abs: float, fmax_rel: float) -> str:
    tol = r.tol
    rule = "exact" if exact else tol.describe()
    pct = f"{100.0 * r.mismatch:.3g}%" if r.mismatch is not None else "n/a"
    verdict = "passed" if r.passed else "FAILED"
    lines = [f"{header}: {verdict}, {r.n_mismatch} of {r.size} elements ({pct}) out of tolerance [{rule}]"]
    lines += [f"  {p}" for p in r.problems]
    finite_note = " (elements finite on both sides)" if r.nonfinite_problem else ""
    lines.append(f"  max_abs={_g(fmax_abs)} max_rel={_g(fmax_rel)} mean_abs={_g(r.mean_abs)} "
                 f"median_abs={_g(r.median_abs)}{finite_note}")
    if r.stat_value is not None:
        what = f"q{tol.quantile:g}" if tol.stat == "quantile" else tol.stat
        lines.append(f"  {what}(|a-b|)={_g(r.stat_value)} vs stat_atol={tol.stat_atol:g}")
    if r.size == 0:
        lines.append("  empty output")
        return "\n".join(lines)
    if r.worst_index is not None and (r.n_mismatch or fmax_abs > 0):
        lines.append(f"  worst at {list(r.worst_index)}: {_pair(r.worst_actual, r.worst_expected, float64_fmt)}")
    if r.n_mismatch:
        flat = np.flatnonzero(mask.reshape(-1))[:MAX_LISTED_MISMATCHES]
        label = f"first {len(flat)} mismatches" if r.n_mismatch > len(flat) else "mismatches"
        lines.append(f"  {label}:")
        for f in flat:
            index = tuple(int(i) for i in np.unravel_index(int(f), e.shape))
            lines.append(f"    {list(index)}: {_pair(_item(a, index), _item(e, index), float64_fmt)}")
    if not r.passed and not exact and r.min_atol_to_pass is not None and not r.shape_problem:
        if r.nonfinite_problem:
            lines.append("  no tolerance passes: the NaN/Inf pattern differs")
        elif tol.stat and r.stat_value is not None:
            lines.append(f"  would pass with stat_atol >= {_g(_ceil_sig(r.stat_value))}")
        elif r.n_mismatch:
            rtol_hint = (f"rtol >= {_g(r.min_rtol_to_pass)} (at atol {tol.atol:g})"
                         if math.isfinite(r.min_rtol_to_pass)
                         else f"no rtol at atol {tol.atol:g} (an expected zero is off by more than atol)")
            lines.append(f"  would pass with atol >= {_g(r.min_atol_to_pass)} (at rtol {tol.rtol:g}) or {rtol_hint}")
    return "\n".join(lines)


def compare_outputs(actuals: Sequence, expecteds: Sequence,
                    tol_or_tols: Tolerance | Sequence[Tolerance] | Mapping[str, Tolerance] | None = None,
                    names: Sequence[str] | None = None) -> OutputsComparison:
    """Compare every output. ``tol_or_tols``: one Tolerance for all, one per output (list), one
    per output name (mapping), or None for the default of each expected output's dtype."""
    actuals, expecteds = list(actuals), list(expecteds)
    names = list(names) if names is not None else [f"output_{i}" for i in range(len(expecteds))]
    count_problem = None
    if len(actuals) != len(expecteds):
        count_problem = (f"output count mismatch: {len(actuals)} actual vs {len(expecteds)} expected"
                         f" (expected names: {names[:len(expecteds)]})")
    comparisons = []
    for i in range(min(len(actuals), len(expecteds))):
        name = names[i] if i < len(names) else f"output_{i}"
        if tol_or_tols is None or isinstance(tol_or_tols, Tolerance):
            tol = tol_or_tols
        elif isinstance(tol_or_tols, Mapping):
            tol = tol_or_tols.get(name)
        else:
            tol = tol_or_tols[i]
        comparisons.append(compare(actuals[i], expecteds[i], tol, name=name))

    def worst(attr):
        values = [getattr(c, attr) for c in comparisons if getattr(c, attr) is not None]
        return max(values) if values else None

    passed = count_problem is None and all(c.passed for c in comparisons)
    failed = [c for c in comparisons if not c.passed]
    lines = []
    if count_problem:
        lines.append(count_problem)
    if passed:
        lines.append(f"{len(comparisons)} output(s) passed: max_abs={_g(worst('max_abs'))} "
                     f"max_rel={_g(worst('max_rel'))}")
    else:
        lines.extend(c.message for c in failed)
    return OutputsComparison(passed=passed, comparisons=comparisons, count_problem=count_problem,
                             max_abs=worst("max_abs"), max_rel=worst("max_rel"),
                             mismatch=worst("mismatch") if comparisons else (1.0 if count_problem else None),
                             message="\n".join(lines))
