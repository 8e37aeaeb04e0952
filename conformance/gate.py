"""The regression gate: compare a run's records against a committed baseline.

    conformance gate --baseline reports/baseline.jsonl --current results.jsonl
                     [--max-error-growth 2.0] [--max-slowdown 0.10] [--error-floor 1e-7]
    conformance gate results.jsonl --between tf2onnx@tf216 tf2onnx
    conformance gate results.jsonl --between onnxruntime@ort131 onnxruntime

``--between A B`` gates one run against itself: two converters (or two targets) that ran the
same cases in one session, typically one release in a named environment against another. The
records of A are the baseline, those of B the current run, paired case by case on the case id
with A's segment read as B's (``.../tf2onnx@tf216/opset17/...`` pairs with ``.../tf2onnx/opset17/...``).
A and B must both be converters or both targets of the file.

Exit 1 (with a table naming each case) when, against the baseline:

* a case that passed (``passed``/``xpassed``) now fails, errors, is not run (skipped,
  unsupported, unavailable, newly xfailed) or disappeared from the results;
* a case that passes in both grew its ``max_abs`` error by more than ``max_error_growth``
  times, although still within tolerance. Growth is measured against
  ``max(baseline error, error_floor)``, and ignored when the current error is at most
  ``error_floor`` (1e-7 by default, under one float32 ulp at 1.0): at that size both errors
  are rounding noise and a ratio between them (0 -> 3e-8 is "infinite growth") means nothing;
* a benchmark (kind ``benchmark``, latency samples in ``extra["samples"]``) is slower by
  ``conformance.bench.stats.compare_latencies`` with ``min_effect=max_slowdown`` (a
  significant change of the median by at least that fraction). Latencies are compared
  whenever both records carry samples, whatever their status (a run judged invalid for a
  missed latency bound in both still has comparable samples). Where that module is absent,
  benchmarks are not compared and the table says so.

Exit 0 otherwise, listing improvements (cases newly passing, benchmarks faster). A missing,
empty, truncated or other-schema file, or shards that disagree, is exit 2: never a pass.
The gate reads records only; it never re-runs anything.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Iterable

from .errors import ConformanceError, ResultsFileError
from .results import CaseResult, as_float, merge, read

GATE_DESCRIPTION = ("Compare result records against a baseline (--baseline/--current), or two converters or "
                    "two targets of one run against each other (RESULTS --between A B, A as the baseline): "
                    "exit 1 on a newly failing, erroring or missing case, an error that grew beyond "
                    "--max-error-growth, or a slower benchmark; exit 2 on a missing, empty, truncated or "
                    "other-schema file, or an A or B the file does not hold.")

PASSING = ("passed", "xpassed")
DEFAULT_MAX_ERROR_GROWTH = 2.0
DEFAULT_MAX_SLOWDOWN = 0.10
DEFAULT_ERROR_FLOOR = 1e-7
MAX_DETAIL = 110


@dataclass
class GateRow:
    verdict: str          # regressed | disappeared | error-grew | slower | improved | faster | new | inconclusive
    case_id: str
    baseline: str
    current: str
    detail: str = ""


@dataclass
class GateResult:
    regressions: list[GateRow] = field(default_factory=list)
    improvements: list[GateRow] = field(default_factory=list)
    info: list[GateRow] = field(default_factory=list)      # neither: inconclusive benchmarks
    notes: list[str] = field(default_factory=list)
    baseline_cases: int = 0
    current_cases: int = 0
    error: str | None = None                               # unusable input: exit 2

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return 2
        return 1 if self.regressions else 0

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def headline(self) -> str:
        if self.error is not None:
            return f"Regression gate: ERROR - {self.error}"
        verdict = "FAIL" if self.regressions else "PASS"
        return (f"Regression gate: {verdict} - {len(self.regressions)} regression(s), "
                f"{len(self.improvements)} improvement(s); baseline {self.baseline_cases} cases, "
                f"current {self.current_cases}")

    def table(self) -> str:
        lines = [self.headline()]
        if self.error is None:
            for title, rows in (("Regressions", self.regressions), ("Improvements", self.improvements),
                                ("Not decided", self.info)):
                if rows:
                    lines += ["", f"{title}:", _format_rows(rows)]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"exit_code": self.exit_code, "error": self.error, "baseline_cases": self.baseline_cases,
                "current_cases": self.current_cases, "regressions": [asdict(r) for r in self.regressions],
                "improvements": [asdict(r) for r in self.improvements], "info": [asdict(r) for r in self.info],
                "notes": self.notes}


def _format_rows(rows: list[GateRow]) -> str:
    header = ("verdict", "case", "baseline", "current", "detail")
    body = [(r.verdict.upper(), r.case_id, r.baseline, r.current, _clip(r.detail)) for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(4)]
    out = []
    for row in [header, *body]:
        out.append("  " + "  ".join(str(v).ljust(w) for v, w in zip(row[:4], widths)) + "  " + row[4])
    out.insert(1, "  " + "  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return "\n".join(line.rstrip() for line in out)


def _clip(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= MAX_DETAIL else line[:MAX_DETAIL - 1] + "…"


def _fmt_err(value: float | None) -> str:
    return "-" if value is None else (f"{value:.2e}" if math.isfinite(value) else str(value))


def _index(records: Iterable[CaseResult], what: str) -> dict[str, CaseResult]:
    records = list(records)
    if not records:
        raise ResultsFileError(f"the {what} has no records", fix=f"pass the {what} results file of a completed run")
    return {r.case_id: r for r in merge([records])}


def _latency_comparer():
    """The benchmark statistics are optional (``conformance.bench``): without them latencies are
    not compared, and the gate says so."""
    try:
        from .bench.stats import compare_latencies
    except ImportError as exc:
        return None, f"benchmarks not compared: conformance.bench.stats is not available ({exc})"
    return compare_latencies, None


def _samples(record: CaseResult):
    samples = (record.extra or {}).get("samples")
    if not isinstance(samples, (list, tuple)) or not samples:
        return None
    try:
        return [float(x) for x in samples]
    except (TypeError, ValueError):
        return None


def run_gate(baseline_records: Iterable[CaseResult], current_records: Iterable[CaseResult],
             max_error_growth: float = DEFAULT_MAX_ERROR_GROWTH, max_slowdown: float = DEFAULT_MAX_SLOWDOWN,
             error_floor: float = DEFAULT_ERROR_FLOOR) -> GateResult:
    """Compare two runs' records. Never raises for bad input: an empty list or disagreeing
    duplicates give a result whose ``exit_code`` is 2."""
    result = GateResult()
    try:
        base = _index(baseline_records, "baseline")
        cur = _index(current_records, "current run")
    except ResultsFileError as exc:
        result.error = exc.one_line()
        return result
    result.baseline_cases, result.current_cases = len(base), len(cur)
    compare_latencies, why_not = None, None
    bench_pairs = 0
    not_compared_samples = 0

    flaky_swings = 0
    for case_id in sorted(base):
        b = base[case_id]
        c = cur.get(case_id)
        if c is None:
            if b.status in PASSING:
                result.regressions.append(GateRow("disappeared", case_id, b.status, "(missing)",
                                                  "passed in the baseline, absent from the current results"))
            continue
        b_pass, c_pass = b.status in PASSING, c.status in PASSING
        if b_pass and c.status == "xfailed" and (c.known_failure or {}).get("status") == "flaky":
            flaky_swings += 1          # a known bug that depends on process state: neither way is news
            continue
        if b_pass and not c_pass:
            result.regressions.append(GateRow("regressed", case_id, b.status, c.status, c.message))
            continue
        if c_pass and not b_pass:
            result.improvements.append(GateRow("improved", case_id, b.status, c.status, "newly passing"))
            continue
        grew = _error_growth(case_id, b, c, max_error_growth, error_floor) if b_pass and c_pass else None
        if grew is not None:
            result.regressions.append(grew)
        # latency whatever the status: a benchmark run judged invalid (a missed latency bound,
        # recorded as failed) in both runs still has samples worth comparing
        if b.kind == "benchmark" and c.kind == "benchmark":
            bs, cs = _samples(b), _samples(c)
            if bs is None or cs is None:
                not_compared_samples += 1
                continue
            if compare_latencies is None and why_not is None:
                compare_latencies, why_not = _latency_comparer()
            if compare_latencies is None:
                continue
            bench_pairs += 1
            verdict = compare_latencies(bs, cs, min_effect=max_slowdown)
            row = GateRow(verdict.kind, case_id, f"median {_fmt_ms(getattr(verdict, 'median_base', None))}",
                          f"median {_fmt_ms(getattr(verdict, 'median_new', None))}", getattr(verdict, "reason", ""))
            if verdict.kind == "slower":
                result.regressions.append(row)
            elif verdict.kind == "faster":
                result.improvements.append(row)
            elif verdict.kind == "inconclusive":
                result.info.append(row)

    result.notes += _notes(base, cur, flaky_swings, why_not, bench_pairs, not_compared_samples, max_slowdown)
    result.notes.append(f"error growth ignored where the current max_abs <= {error_floor:g} (rounding noise)")
    return result


def _error_growth(case_id: str, b: CaseResult, c: CaseResult, max_error_growth: float,
                  error_floor: float) -> GateRow | None:
    """A passing case whose max error grew more than ``max_error_growth`` times."""
    be, ce = as_float(b.max_abs), as_float(c.max_abs)
    if be is None or ce is None or ce <= error_floor:
        return None
    if not math.isfinite(be):
        growth = 1.0                     # nothing to grow from; not a ratio
    elif not math.isfinite(ce):
        growth = math.inf
    else:
        growth = ce / max(be, error_floor)
    if not growth > max_error_growth:     # NaN growth is no growth
        return None
    return GateRow("error-grew", case_id, f"{b.status} max_abs {_fmt_err(be)}", f"{c.status} max_abs {_fmt_err(ce)}",
                   f"x{growth:.3g} > x{max_error_growth:g} allowed (still within tolerance)")


def _notes(base: dict, cur: dict, flaky_swings: int, why_not, bench_pairs: int, not_compared_samples: int,
           max_slowdown: float) -> list[str]:
    """What the gate did not count, and what it compared besides statuses."""
    notes = []
    new = sorted(set(cur) - set(base))
    if new:
        passing = sum(cur[c].status in PASSING for c in new)
        notes.append(f"{len(new)} case(s) not in the baseline ({passing} passing); "
                     "update the baseline to hold them to it")
    missing_failing = sum(1 for c, r in base.items() if c not in cur and r.status not in PASSING)
    if missing_failing:
        notes.append(f"{missing_failing} baseline case(s) that did not pass are absent from the current results")
    if flaky_swings:
        notes.append(f"{flaky_swings} case(s) with a `flaky` known failure passed in the baseline and "
                     f"xfailed now: not counted as regressions")
    if why_not:
        notes.append(why_not)
    elif bench_pairs:
        notes.append(f"{bench_pairs} benchmark(s) compared (max slowdown {max_slowdown:.0%} on the median)")
    if not_compared_samples:
        notes.append(f"{not_compared_samples} benchmark(s) not compared: no latency samples in extra['samples']")
    return notes


def _fmt_ms(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def split_between(records: Iterable[CaseResult], a: str, b: str) -> tuple[list[CaseResult], list[CaseResult], str]:
    """The records of ``a`` (renamed to ``b``'s case ids) and those of ``b``, and the field they
    differ in (``converter`` or ``target``). Raises ``ConformanceError`` when A and B are not
    both converters or both targets of the records."""
    records = list(records)
    if a == b:
        raise ConformanceError(f"--between needs two different names, got {a!r} twice")
    for field_name in ("converter", "target"):
        values = {getattr(r, field_name) for r in records}
        if a in values and b in values:
            side_a = [_renamed(r, field_name, b) for r in records if getattr(r, field_name) == a]
            side_b = [r for r in records if getattr(r, field_name) == b]
            return side_a, side_b, field_name
    converters = ", ".join(sorted({r.converter for r in records})) or "none"
    targets = ", ".join(sorted({r.target for r in records})) or "none"
    raise ConformanceError(f"--between {a} {b}: not two converters or two targets of these results "
                           f"(converters: {converters}; targets: {targets})")


def _renamed(record: CaseResult, field_name: str, name: str) -> CaseResult:
    """``record`` as if ``field_name`` had been ``name``: the case id's segment replaced too."""
    old = getattr(record, field_name)
    parts = record.case_id.split("/")
    # the converter segment comes before the opset segment, the target after it
    order = range(len(parts)) if field_name == "converter" else range(len(parts) - 1, -1, -1)
    for i in order:
        if parts[i] == old:
            parts[i] = name
            break
    return dataclasses.replace(record, case_id="/".join(parts), **{field_name: name})


def register(subparsers) -> None:
    p = subparsers.add_parser("gate", help="fail when results regressed against a baseline",
                              description=GATE_DESCRIPTION)
    p.add_argument("results", nargs="*", metavar="RESULTS.jsonl",
                   help="with --between: the results of one run (several files: its shards)")
    p.add_argument("--between", nargs=2, metavar=("A", "B"),
                   help="gate converter (or target) B against A within RESULTS, A as the baseline")
    p.add_argument("--baseline", nargs="+", metavar="BASE.jsonl",
                   help="baseline results (several files: shards of one run)")
    p.add_argument("--current", nargs="+", metavar="NEW.jsonl", help="current results")
    p.add_argument("--max-error-growth", type=float, default=DEFAULT_MAX_ERROR_GROWTH, metavar="FACTOR",
                   help="fail when a passing case's max_abs grew more than FACTOR times (default 2.0)")
    p.add_argument("--max-slowdown", type=float, default=DEFAULT_MAX_SLOWDOWN, metavar="FRACTION",
                   help="smallest significant median slowdown that fails a benchmark (default 0.10)")
    p.add_argument("--error-floor", type=float, default=DEFAULT_ERROR_FLOOR, metavar="ABS",
                   help="ignore error growth when the current max_abs is at most ABS (default 1e-7)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.max_error_growth < 1 or args.max_slowdown < 0 or args.error_floor < 0:
        raise ConformanceError("--max-error-growth must be >= 1, --max-slowdown and --error-floor >= 0")
    baseline, current, note = _inputs(args)
    result = run_gate(baseline, current, args.max_error_growth, args.max_slowdown, args.error_floor)
    if result.error is not None:
        raise ResultsFileError(result.error)
    if note:
        result.notes.insert(0, note)
    print(json.dumps(result.to_dict(), indent=1) if args.json else result.table())
    return result.exit_code


def _inputs(args: argparse.Namespace) -> tuple[list[CaseResult], list[CaseResult], str | None]:
    """(baseline, current, note) from --baseline/--current, or from RESULTS --between A B."""
    if args.between:
        if args.baseline or args.current or not args.results:
            raise ConformanceError("--between A B takes the RESULTS files and no --baseline/--current")
        records = [r for path in args.results for r in read(path)]
        baseline, current, field_name = split_between(merge([records]), *args.between)
        a, b = args.between
        return baseline, current, (f"baseline: {field_name} {a} ({len(baseline)} records); current: {field_name} "
                                   f"{b} ({len(current)} records), paired by case id")
    if args.results or not (args.baseline and args.current):
        raise ConformanceError("give --baseline BASE.jsonl and --current NEW.jsonl, or RESULTS --between A B")
    return ([r for path in args.baseline for r in read(path)], [r for path in args.current for r in read(path)],
            None)

