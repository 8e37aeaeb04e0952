"""The coverage matrix as plain data: one model, three renderings (HTML, Markdown, JSON).

Rows are what was tested (the record's ``op``; ``arch`` for architecture cases; else the
name in the case id), columns are framework x converter x opset x target, and each cell
aggregates the records that fall into it: counts per status, the worst error and the cases
that did not pass. Benchmark records are counted in the summary but have no cells: their
verdicts belong to the benchmark summary and the gate.
"""
from __future__ import annotations

import math
import os
import re
import platform
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from ..results import STATUSES, CaseResult, as_float

#: statuses of a case that ran to a verdict (the denominator of a pass rate)
RAN = ("passed", "failed", "error", "xfailed", "xpassed")
PASSING = ("passed", "xpassed")
FAILING = ("failed", "error")
#: the kinds whose rows are sorted first, in this order
KIND_ORDER = ("op", "padding", "semantics", "arch", "model")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_message(text: str) -> str:
    """Messages quote tools that colour their output: drop ANSI escapes and control bytes."""
    return _CONTROL.sub("", _ANSI.sub("", text or ""))


def _worse(a: float | None, b: float | None) -> bool:
    """Whether error ``a`` is worse than ``b`` (NaN is the worst of all)."""
    if a is None:
        return False
    if b is None:
        return True
    if math.isnan(a):
        return not math.isnan(b)
    if math.isnan(b):
        return False
    return a > b


def format_error(value: float | None) -> str:
    if value is None:
        return ""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0:
        return "0"
    return f"{value:.1e}"


@dataclass(frozen=True)
class Column:
    framework: str
    converter: str
    opset: int | None
    target: str

    @property
    def key(self) -> str:
        opset = f"opset{self.opset}" if self.opset is not None else "opset?"
        return f"{self.framework}/{self.converter}/{opset}/{self.target}"

    def sort_key(self):
        return (self.framework, self.converter, self.opset or 0, self.target)

    def to_dict(self) -> dict:
        return {"key": self.key, "framework": self.framework, "converter": self.converter,
                "opset": self.opset, "target": self.target}


@dataclass(frozen=True)
class Row:
    kind: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    def sort_key(self):
        order = KIND_ORDER.index(self.kind) if self.kind in KIND_ORDER else len(KIND_ORDER)
        return (order, self.kind, self.name)

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "name": self.name}


@dataclass
class CaseLine:
    """One record as a cell lists it."""

    case_id: str
    status: str
    message: str
    max_abs: float | None
    max_rel: float | None

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "status": self.status, "message": self.message,
                "max_abs": _json_float(self.max_abs), "max_rel": _json_float(self.max_rel)}


@dataclass
class Cell:
    counts: Counter = field(default_factory=Counter)
    worst_abs: float | None = None
    worst_rel: float | None = None
    worst_case: str | None = None
    cases: list[CaseLine] = field(default_factory=list)   # every record, not passing first

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ran(self) -> int:
        return sum(self.counts[s] for s in RAN)

    @property
    def passed(self) -> int:
        return sum(self.counts[s] for s in PASSING)

    @property
    def failing(self) -> int:
        return sum(self.counts[s] for s in FAILING)

    @property
    def status(self) -> str:
        """The one word a filter and a colour use: failed > error > passed > xfailed > rest."""
        if self.counts["failed"]:
            return "failed"
        if self.counts["error"]:
            return "error"
        if self.passed:
            return "passed"
        if self.counts["xfailed"]:
            return "xfailed"
        for status in ("unsupported", "unavailable", "skipped"):
            if self.counts[status]:
                return status
        return "empty"

    @property
    def text(self) -> str:
        """``12/12``, ``9/12 ✗3``, ``unsupported``, ``unavailable``..."""
        if self.ran == 0:
            rest = [s for s in ("unsupported", "unavailable", "skipped") if self.counts[s]]
            return " + ".join(rest) if rest else ""
        parts = [f"{self.passed}/{self.ran}"]
        if self.failing:
            parts.append(f"✗{self.failing}")
        if self.counts["xfailed"]:
            parts.append(f"xfail {self.counts['xfailed']}")
        not_run = self.total - self.ran
        if not_run:
            parts.append(f"+{not_run} not run")
        return " ".join(parts)

    def add(self, record: CaseResult) -> None:
        self.counts[record.status] += 1
        max_abs, max_rel = as_float(record.max_abs), as_float(record.max_rel)
        if _worse(max_abs, self.worst_abs):
            self.worst_abs, self.worst_case = max_abs, record.case_id
        if _worse(max_rel, self.worst_rel):
            self.worst_rel = max_rel
        self.cases.append(CaseLine(record.case_id, record.status, clean_message(record.message), max_abs, max_rel))

    def finish(self) -> None:
        self.cases.sort(key=lambda c: (c.status in PASSING, c.status, c.case_id))

    def to_dict(self) -> dict:
        return {"status": self.status, "text": self.text, "counts": dict(sorted(self.counts.items())),
                "passed": self.passed, "ran": self.ran, "total": self.total,
                "worst_abs": _json_float(self.worst_abs), "worst_rel": _json_float(self.worst_rel),
                "worst_case": self.worst_case, "cases": [c.to_dict() for c in self.cases]}


@dataclass
class Rate:
    passed: int = 0
    ran: int = 0
    total: int = 0

    @property
    def fraction(self) -> float | None:
        return self.passed / self.ran if self.ran else None

    @property
    def text(self) -> str:
        if not self.ran:
            return f"- (0 of {self.total} ran)"
        return f"{100 * self.passed / self.ran:.1f}% ({self.passed}/{self.ran})"

    def add(self, status: str) -> None:
        self.total += 1
        self.ran += status in RAN
        self.passed += status in PASSING

    def to_dict(self) -> dict:
        return {"passed": self.passed, "ran": self.ran, "total": self.total, "fraction": self.fraction}


@dataclass
class Summary:
    records: int
    benchmarks: int
    status_counts: dict[str, int]
    by_converter: dict[str, Rate]
    by_target: dict[str, Rate]
    by_framework: dict[str, Rate]
    overall: Rate
    environment: dict[str, list[str]]
    cpu: list[str]
    cpu_source: str
    opsets: list[int]

    def to_dict(self) -> dict:
        return {"records": self.records, "benchmarks": self.benchmarks,
                "status_counts": self.status_counts,
                "overall": self.overall.to_dict(),
                "by_converter": {k: v.to_dict() for k, v in self.by_converter.items()},
                "by_target": {k: v.to_dict() for k, v in self.by_target.items()},
                "by_framework": {k: v.to_dict() for k, v in self.by_framework.items()},
                "environment": self.environment, "cpu": self.cpu, "cpu_source": self.cpu_source,
                "opsets": self.opsets}


@dataclass
class Matrix:
    rows: list[Row]
    columns: list[Column]
    cells: dict[tuple[str, str], Cell]      # (row key, column key) -> cell
    summary: Summary

    def cell(self, row: Row | str, column: Column | str) -> Cell | None:
        row_key = row if isinstance(row, str) else row.key
        col_key = column if isinstance(column, str) else column.key
        return self.cells.get((row_key, col_key))

    def to_dict(self) -> dict:
        return {
            "schema": 1,
            "summary": self.summary.to_dict(),
            "columns": [c.to_dict() for c in self.columns],
            "rows": [dict(r.to_dict(), cells={c.key: self.cells[(r.key, c.key)].to_dict()
                                               for c in self.columns if (r.key, c.key) in self.cells})
                     for r in self.rows],
        }


def row_of(record: CaseResult) -> Row:
    if record.kind == "arch" and record.arch:
        return Row("arch", record.arch)
    if record.op:
        return Row(record.kind, record.op)
    if record.arch:
        return Row(record.kind, record.arch)
    parts = record.case_id.split("/")
    return Row(record.kind, parts[1] if len(parts) > 1 else record.case_id)


def column_of(record: CaseResult) -> Column:
    return Column(record.framework, record.converter, record.opset, record.target)


def _environment(records: list[CaseResult]) -> dict[str, list[str]]:
    """Package versions seen in the records, named by package: the ``framework`` entry of a
    torch record is torch's version, the ``target`` entry of an onnxruntime record is
    onnxruntime's, and so on."""
    named = {"framework": lambda r: r.framework, "converter": lambda r: r.converter,
             "target": lambda r: r.target}
    seen: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for key, version in (record.versions or {}).items():
            if key == "cpu" or version in (None, ""):
                continue
            name = named[key](record) if key in named else key
            seen[name].add(str(version))
    return {name: sorted(values) for name, values in sorted(seen.items())}


def host_cpu() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    return f"{name} x{os.cpu_count()}"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"


def _cpu(records: list[CaseResult]) -> tuple[list[str], str]:
    """The CPU the records were produced on (``versions["cpu"]``, ``extra["cpu"]``, or the
    benchmark records' ``extra["environment"]["cpu_model"]``); where no record says, the
    machine rendering the report, labelled as such."""
    cpus = set()
    for record in records:
        extra = record.extra or {}
        env = extra.get("environment") if isinstance(extra.get("environment"), dict) else {}
        cpu = (record.versions or {}).get("cpu") or extra.get("cpu") or env.get("cpu_model")
        if cpu:
            cpus.add(str(cpu) + (f" x{env['cpu_count']}" if env.get("cpu_model") == cpu and env.get("cpu_count") else ""))
    if cpus:
        return sorted(cpus), "records"
    return [host_cpu()], "report host (records carry no cpu)"


def build_matrix(records: Iterable[CaseResult]) -> Matrix:
    records = list(records)
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    rows: dict[str, Row] = {}
    columns: dict[str, Column] = {}
    by_converter: dict[str, Rate] = defaultdict(Rate)
    by_target: dict[str, Rate] = defaultdict(Rate)
    by_framework: dict[str, Rate] = defaultdict(Rate)
    overall = Rate()
    status_counts = Counter()
    benchmarks = 0
    for record in records:
        status_counts[record.status] += 1
        if record.kind == "benchmark":
            benchmarks += 1
            continue
        row, column = row_of(record), column_of(record)
        rows.setdefault(row.key, row)
        columns.setdefault(column.key, column)
        cells[(row.key, column.key)].add(record)
        by_converter[record.converter].add(record.status)
        by_target[record.target].add(record.status)
        by_framework[record.framework].add(record.status)
        overall.add(record.status)
    for cell in cells.values():
        cell.finish()
    cpu, cpu_source = _cpu(records)
    summary = Summary(
        records=len(records), benchmarks=benchmarks,
        status_counts={s: status_counts[s] for s in STATUSES if status_counts[s]},
        by_converter=dict(sorted(by_converter.items())), by_target=dict(sorted(by_target.items())),
        by_framework=dict(sorted(by_framework.items())), overall=overall,
        environment=_environment(records), cpu=cpu, cpu_source=cpu_source,
        opsets=sorted({r.opset for r in records if r.opset is not None}))
    return Matrix(rows=sorted(rows.values(), key=Row.sort_key),
                  columns=sorted(columns.values(), key=Column.sort_key),
                  cells=dict(cells), summary=summary)


def _json_float(value: float | None):
    if value is None:
        return None
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return value
