"""Output comparison: one implementation, used by every place that holds outputs against
expected values (the runner's verdict, attribution, localisation, ``check``, the benchmarks'
accuracy check, the optimizer comparison, the reference executor's corpus and benchmark).

``compare`` holds one output against its expected value under a ``Tolerance`` (the policy,
``conformance/tolerance.py``) and returns a ``Comparison`` whose ``message`` lets a person judge
a failure without rerunning: error statistics, the worst element with both values, the first
mismatching elements, and the smallest atol/rtol that would have passed. It is built from four
parts, each usable alone: ``error_masks`` (element-wise errors and which elements fail),
``error_statistics`` (max/mean/median, mismatch fraction, worst element, NaN/Inf pattern),
``passing_tolerances`` (the hints) and the verdict. ``scaled_error`` is the one-number summary
the benchmarks print (max |a-b| over the expected output's largest magnitude).

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

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .tolerance import Tolerance, resolve_tolerance

REL_FLOOR = float(np.finfo(np.float64).eps)
MAX_LISTED_MISMATCHES = 5


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


@dataclass
class ErrorMasks:
    """Element-wise errors of one output (float64/complex128 work arrays) and which elements fail.

    ``value_bad``: finite on both sides and out of tolerance; ``nonfinite_bad``: a NaN on one side
    only, or infinities that differ. Where an element is not finite on both sides ``diff`` is 0."""
    diff: np.ndarray
    rel: np.ndarray
    absb: np.ndarray
    finite_both: np.ndarray
    nan_a: np.ndarray
    nan_e: np.ndarray
    nonfinite_bad: np.ndarray
    value_bad: np.ndarray
    exact: bool

    @property
    def mask(self) -> np.ndarray:
        return self.value_bad | self.nonfinite_bad


@dataclass
class ErrorStatistics:
    """What ``error_masks`` adds up to, over the elements finite on both sides."""
    n: int
    n_bad: int
    n_nonfinite: int
    n_finite: int
    finite_diff: np.ndarray
    finite_rel: np.ndarray
    finite_absb: np.ndarray
    max_abs: float           # finite elements only; Comparison.max_abs is inf when any is not
    max_rel: float
    mean_abs: float
    median_abs: float


def _is_exact(tol: Tolerance, ka: str, ke: str) -> bool:
    exact = tol.exact if tol.exact is not None else (ke in ("int", "bool") and ka in ("int", "bool"))
    return True if "bool" in (ka, ke) else bool(exact)


def error_masks(a: np.ndarray, e: np.ndarray, tol: Tolerance, exact: bool) -> ErrorMasks:
    """Errors of ``a`` against ``e`` (same shape) under ``tol``'s element-wise rule."""
    ka, ke = _kind(a.dtype), _kind(e.dtype)
    work = np.complex128 if "complex" in (ka, ke) else np.float64
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
    return ErrorMasks(diff, rel, absb, finite_both, nan_a, nan_e, nonfinite_bad, value_bad, exact)


def error_statistics(m: ErrorMasks) -> ErrorStatistics:
    n = int(m.diff.size)
    n_finite = int(np.count_nonzero(m.finite_both))
    every = n_finite == n
    finite_diff = m.diff.reshape(-1) if every else m.diff[m.finite_both]
    finite_rel = m.rel.reshape(-1) if every else m.rel[m.finite_both]
    finite_absb = m.absb.reshape(-1) if every else m.absb[m.finite_both]
    return ErrorStatistics(
        n=n, n_bad=int(np.count_nonzero(m.mask)), n_nonfinite=int(np.count_nonzero(m.nonfinite_bad)),
        n_finite=n_finite, finite_diff=finite_diff, finite_rel=finite_rel, finite_absb=finite_absb,
        max_abs=float(finite_diff.max()) if n_finite else 0.0,
        max_rel=float(finite_rel.max()) if n_finite else 0.0,
        mean_abs=float(finite_diff.mean()) if n_finite else 0.0,
        median_abs=float(np.median(finite_diff)) if n_finite else 0.0)


def nonfinite_pattern(m: ErrorMasks, s: ErrorStatistics) -> str | None:
    """How the NaN/Inf patterns differ, or None when they match."""
    if not s.n_nonfinite:
        return None
    nan_one = int(np.count_nonzero(m.nan_a ^ m.nan_e))
    parts = []
    for count, where in ((int(np.count_nonzero(m.nan_a & ~m.nan_e)), "actual"),
                         (int(np.count_nonzero(m.nan_e & ~m.nan_a)), "expected")):
        if count:
            parts.append(f"{count} NaN in {where} only")
    if s.n_nonfinite - nan_one:
        parts.append(f"{s.n_nonfinite - nan_one} infinities that differ (opposite sign or inf vs finite)")
    return "NaN/Inf pattern differs: " + "; ".join(parts)


def worst_element(m: ErrorMasks, s: ErrorStatistics, shape: tuple) -> tuple | None:
    """The first non-finite mismatch, else the largest absolute error among the mismatching
    elements (among all when none fails: then it is the one max_abs describes)."""
    if not s.n:
        return None
    if s.n_nonfinite:
        flat = int(np.flatnonzero(m.nonfinite_bad)[0])
    elif s.n_bad:
        flat = int(np.argmax(np.where(m.mask, m.diff, -1.0)))
    else:
        flat = int(np.argmax(m.diff))
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def passing_tolerances(s: ErrorStatistics, tol: Tolerance) -> tuple[float, float]:
    """(smallest atol at tol.rtol, smallest rtol at tol.atol) under which every element passes."""
    if s.n_nonfinite:
        return math.inf, math.inf
    if not s.n_finite:
        return 0.0, 0.0
    d, rel, b = s.finite_diff, s.finite_rel, s.finite_absb
    if tol.rule == "numpy":
        need_atol = float(np.max(d - tol.rtol * b))
        over = d > tol.atol
        if not np.any(over):
            need_rtol = 0.0
        elif np.any(b[over] == 0):
            need_rtol = math.inf
        else:
            need_rtol = float(np.max((d[over] - tol.atol) / b[over]))
    else:
        over_rel = rel > tol.rtol
        need_atol = float(d[over_rel].max()) if np.any(over_rel) else 0.0
        over_abs = d > tol.atol
        need_rtol = float(rel[over_abs].max()) if np.any(over_abs) else 0.0
    return _ceil_sig(need_atol), _ceil_sig(need_rtol)


def error_stat(s: ErrorStatistics, tol: Tolerance) -> float:
    """The statistic ``tol.stat`` names, of the absolute error over finite elements."""
    if s.n_finite == 0:
        return 0.0
    if tol.stat == "max":
        return s.max_abs
    if tol.stat == "mean":
        return s.mean_abs
    if tol.stat == "median":
        return s.median_abs
    return float(np.quantile(s.finite_diff, tol.quantile))


def _dtype_verdict(a: np.ndarray, e: np.ndarray, tol: Tolerance, result: "Comparison") -> bool:
    """Records a dtype problem on ``result``; True when it fails the comparison by itself."""
    if a.dtype == e.dtype:
        return False
    ka, ke = _kind(a.dtype), _kind(e.dtype)
    text = f"dtype mismatch: actual {a.dtype} vs expected {e.dtype}"
    if ka != ke and not {ka, ke} <= {"float", "complex"}:
        result.dtype_problem = text
        return True
    if tol.check_dtype:
        result.dtype_problem = text + " (set check_dtype=false in the case tolerance to accept it)"
        return True
    return False


def _compare_non_numeric(a, e, header: str, fatal_dtype: bool, result: "Comparison") -> "Comparison":
    equal = a.dtype == e.dtype and np.array_equal(a, e)
    result.passed = bool(equal) and not fatal_dtype
    result.mismatch = 0.0 if equal else 1.0
    result.message = f"{header}: {'passed' if result.passed else 'FAILED'} (non-numeric output compared for equality)"
    if result.dtype_problem:
        result.message += "\n  " + result.dtype_problem
    return result


def compare(actual, expected, tol: Tolerance | None = None, name: str = "output") -> "Comparison":
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
    fatal_dtype = _dtype_verdict(a, e, tol, result)
    ka, ke = _kind(a.dtype), _kind(e.dtype)
    if "other" in (ka, ke):
        return _compare_non_numeric(a, e, header, fatal_dtype, result)

    m = error_masks(a, e, tol, _is_exact(tol, ka, ke))
    s = error_statistics(m)
    result.n_mismatch = s.n_bad
    result.mismatch = s.n_bad / s.n if s.n else 0.0
    result.mean_abs, result.median_abs = s.mean_abs, s.median_abs
    result.max_abs = math.inf if s.n_nonfinite else s.max_abs
    result.max_rel = math.inf if s.n_nonfinite else s.max_rel
    result.nonfinite_problem = nonfinite_pattern(m, s)
    result.worst_index = worst_element(m, s, e.shape)
    if result.worst_index is not None:
        result.worst_actual = _item(a, result.worst_index)
        result.worst_expected = _item(e, result.worst_index)
    if not m.exact:
        result.min_atol_to_pass, result.min_rtol_to_pass = passing_tolerances(s, tol)

    values_passed = s.n_bad == 0
    if tol.stat and not m.exact:
        result.stat_value = error_stat(s, tol)
        values_passed = s.n_nonfinite == 0 and result.stat_value <= tol.stat_atol
    result.passed = values_passed and not fatal_dtype
    float64_fmt = e.dtype.itemsize >= 8 or a.dtype.itemsize >= 8
    result.message = _message(result, header, a, e, m.mask, m.exact, float64_fmt, s.max_abs, s.max_rel)
    return result


def scaled_error(actuals: Sequence, expecteds: Sequence) -> float:
    """The one-number error the benchmarks print: max |a - b| over the expected output's largest
    magnitude (1 where that is 0), the worst over outputs. A missing output, a size mismatch or a
    non-finite difference is ``inf``; an equal-sized output of another shape is compared flat."""
    actuals, expecteds = list(actuals), list(expecteds)
    if len(actuals) < len(expecteds):
        return math.inf
    worst = 0.0
    for got, want in zip(actuals, expecteds):
        if got is None:
            return math.inf
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            if got.size != want.size:
                return math.inf
            got = got.reshape(want.shape)
        if want.size == 0:
            continue
        scale = float(np.max(np.abs(want)))
        diff = float(np.max(np.abs(got - want)))
        if not math.isfinite(diff):
            return math.inf
        worst = max(worst, diff / (scale if scale > 0 else 1.0))
    return worst


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
    if tol.noise_floor is not None and math.isfinite(fmax_abs):
        lines.append(f"  {noise_margin_text(fmax_abs, tol)}")
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


def noise_margin_text(max_abs: float, tol: Tolerance) -> str:
    """The error in units of the float32 noise floor the tolerance was measured from."""
    floor = tol.noise_floor
    margin = f"{max_abs / floor:.3g}" if floor else "inf" if max_abs else "0"
    return (f"error/floor = {margin} (max_abs {_g(max_abs)} over the float32 noise floor {floor:.3g}; "
            f"allowed: atol {tol.atol:g} = max(the dtype's or case's atol, {tol.noise_multiple:g} x floor))")


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
