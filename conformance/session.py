"""A conformance session without pytest: where its records go, which cases it selected and why
some did not run, sharding, and its end (merge, results file, coverage matrix, gate, summary).

The pytest plugin keeps one ``ConformanceSession`` per process (the xdist controller and each
worker) and only wires hooks to it; ``conformance run`` can call the same functions.

Under xdist every process appends its records to its own part file beside the results file
(``RESULTS.parts/<worker>.jsonl``); the controller merges the parts at the end.
"""
from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

from . import results as res
from .environments import load_environments
from .errors import ConformanceError, ResultsFileError
from .gate import run_gate
from .results import CaseResult
from .runner import CaseRun, Runner, RunnerOptions

T = TypeVar("T")

# statuses of cases that were selected but not run, whose reasons a session shows even under -q
SKIP_KINDS = ("unavailable", "unsupported")
_REASON_CHARS = 300
_REASONS_SHOWN = 8
_CONFLICTS_SHOWN = 10


# -- where records go ---------------------------------------------------------------------------

def parts_dir(results: str | Path) -> Path:
    """The folder of per-process part files for the results file ``results``."""
    path = Path(results).resolve()
    return path.with_name(path.name + ".parts")


def part_path(results: str | Path, worker: str) -> Path:
    """The part file one process (``main`` or an xdist worker id) appends its records to."""
    return parts_dir(results) / f"{worker}.jsonl"


def repro_dir(results: str | Path) -> Path:
    """Where repro bundles of failed cases go: ``repro/`` beside the results file."""
    return Path(results).resolve().parent / "repro"


def reset_parts(results: str | Path) -> None:
    """Start a session with an empty parts folder (a previous, interrupted run's parts go)."""
    parts = parts_dir(results)
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True, exist_ok=True)


def collect_parts(results: str | Path, conflicts: list[str]) -> list[CaseResult]:
    """Merge every process's part file into one sorted list and remove the parts folder.
    Records of one case that disagree are appended to ``conflicts`` (the later one is kept)."""
    parts = sorted(parts_dir(results).glob("*.jsonl"))
    records = res.merge([res.read(p) for p in parts if p.stat().st_size], conflicts) if parts else []
    shutil.rmtree(parts_dir(results), ignore_errors=True)
    return records


# -- sharding -----------------------------------------------------------------------------------

def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N) with 1 <= K <= N; a ``ConformanceError`` (one line) otherwise."""
    try:
        k, n = (int(x) for x in text.split("/"))
        if not 1 <= k <= n:
            raise ValueError(text)
    except ValueError:
        raise ConformanceError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. --shard 2/4") from None
    return k, n


def shard_key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def select_shard(items: Sequence[T], k: int, n: int, key: Callable[[T], str] = str) -> tuple[list[T], list[T]]:
    """(selected, deselected) for the K-th of N slices, both in the items' order.

    Round-robin over a stable hash order of ``key(item)``: every shard gets the same count (+-1)
    and a mix of suites and frameworks, independent of the order the items come in. The pytest
    plugin keys by node id, so its shards are the same whatever the xdist worker."""
    ordered = sorted(items, key=lambda item: shard_key(key(item)))
    keep = {key(item) for i, item in enumerate(ordered) if i % n == k - 1}
    return [item for item in items if key(item) in keep], [item for item in items if key(item) not in keep]


# -- what a session saw -------------------------------------------------------------------------

def first_line(message: str | None) -> str:
    return message.splitlines()[0] if message else ""


@dataclass
class Tally:
    """The case ids a session selected and why cases were not run, from outcomes as data."""

    selected: set[str] = field(default_factory=set)
    skip_reasons: dict[str, Counter] = field(default_factory=dict)

    def note_selected(self, case_id: str) -> None:
        self.selected.add(case_id)

    def note_outcome(self, status: str, reason: str) -> None:
        if status in SKIP_KINDS:
            self.skip_reasons.setdefault(status, Counter())[reason.strip()[:_REASON_CHARS]] += 1

    def skip_reason_lines(self) -> list[str]:
        lines = []
        for kind, reasons in sorted(self.skip_reasons.items()):
            for reason, n in reasons.most_common(_REASONS_SHOWN):
                lines.append(f"{n:>5} {kind}: {reason}")
            if len(reasons) > _REASONS_SHOWN:
                lines.append(f"      ... and {len(reasons) - _REASONS_SHOWN} other {kind} reasons (see -rs)")
        return lines


# -- the end of a session -----------------------------------------------------------------------

def format_counts(counts: Counter) -> str:
    """``"3 error, 12 passed"``: statuses in name order; empty when there are none."""
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def write_matrix(records: list[CaseResult], out_dir: str | Path) -> dict[str, str]:
    """The coverage matrix beside the results ({kind: path}); nothing when there are no records
    or this build has no report package."""
    try:
        from .report import write_reports     # optional part of a build
    except ImportError:
        return {}
    if not records:
        return {}
    return {kind: str(path) for kind, path in write_reports(records, out_dir).items()}


def gate_against(baseline: str | Path, records: list[CaseResult], *, selected: Iterable[str] = (),
                 max_error_growth: float = 2.0) -> tuple[str, int]:
    """(gate text, exit code) of ``records`` against a baseline file. Only the baseline cases
    this session selected count (a shard or a -k run has not "lost" the others; an empty
    ``selected`` means all); a bad baseline is exit 2, never a pass."""
    selected = set(selected)
    try:
        base = [r for r in res.read(baseline) if not selected or r.case_id in selected]
        gate = run_gate(base, records, max_error_growth=max_error_growth)
        return gate.table(), gate.exit_code
    except ResultsFileError as exc:
        return f"gate: error: {exc.one_line()}", 2


@dataclass
class Summary:
    """What a session wrote and concluded, for its terminal summary and exit status."""

    results: str
    records: int
    counts: Counter
    conflicts: list[str] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)
    gate: str | None = None
    exit_code: int = 0

    def report_lines(self) -> list[str]:
        return [f"coverage matrix ({kind}): {path}" for kind, path in self.reports.items()]

    def lines(self) -> list[str]:
        out = [f"{self.records} case records ({format_counts(self.counts) or 'none'})", f"results: {self.results}"]
        out += [f"WARNING: {text} (kept the later record)" for text in self.conflicts[:_CONFLICTS_SHOWN]]
        out += self.report_lines()
        if self.gate:
            out.append(self.gate)
        return out


def conclude(results: str | Path, records: list[CaseResult], *, conflicts: Iterable[str] = (),
             baseline: str | Path | None = None, selected: Iterable[str] = (),
             max_error_growth: float = 2.0) -> Summary:
    """Write ``records`` to the results file and the coverage matrix beside it, gate them
    against ``baseline`` if given, and say what was done."""
    res.write(results, records)
    path = Path(results).resolve()
    summary = Summary(results=str(path), records=len(records), counts=Counter(r.status for r in records),
                      conflicts=list(conflicts), reports=write_matrix(records, path.parent))
    if baseline:
        summary.gate, summary.exit_code = gate_against(baseline, records, selected=selected,
                                                       max_error_growth=max_error_growth)
    return summary


# -- one process's session ----------------------------------------------------------------------

@dataclass(frozen=True)
class SessionOptions:
    """A session's settings (the plugin's options; ``conformance run``'s arguments)."""

    results: str | None = None
    baseline: str | None = None
    max_error_growth: float = 2.0
    timeout: float = 300.0
    cache_dir: str | None = None
    use_cache: bool = True
    strict_known_failures: bool = False
    known_failures_path: str | None = None
    environments: tuple[str, ...] = ()      # --env NAME="REQ REQ ..." declarations

    def runner_options(self) -> RunnerOptions:
        return RunnerOptions(timeout=self.timeout, cache_dir=self.cache_dir, use_cache=self.use_cache,
                             repro_dir=str(repro_dir(self.results)) if self.results else None,
                             known_failures_path=self.known_failures_path,
                             environments=load_environments(extra=self.environments) if self.environments else None)


class ConformanceSession:
    """One process's session: runs cases (the runner starts when opened or at the first case,
    so a process that runs none, like the xdist controller, starts no worker), appends their records to this
    process's part file, tallies outcomes, and, in the controlling process, concludes."""

    def __init__(self, options: SessionOptions, worker: str = "main", parts: bool = True):
        """``parts=False``: keep no part file (a caller that holds the records and calls
        ``conclude`` itself, as a single-process run can)."""
        self.options = options
        self.worker = worker
        self.part = part_path(options.results, worker) if options.results and parts else None
        self.counts: Counter = Counter()
        self.tally = Tally()
        self.summary: Summary | None = None
        self._runner: Runner | None = None

    @property
    def runner(self) -> Runner:
        return self.open()

    def start(self) -> None:
        """In the controlling process: a fresh parts folder."""
        if self.options.results:
            reset_parts(self.options.results)

    def open(self) -> Runner:
        """The runner, started now if it is not yet (a bad cache folder shows here)."""
        if self._runner is None:
            self._runner = Runner(self.options.runner_options())
        return self._runner

    def run(self, case: CaseRun) -> CaseResult:
        record = self.runner.run(case)
        self.counts[record.status] += 1
        if self.part is not None:
            res.append(self.part, [record])
        return record

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def finish(self) -> Summary | None:
        """In the controlling process: merge the parts, write results and matrix, gate."""
        if not self.options.results:
            return None
        conflicts: list[str] = []
        records = collect_parts(self.options.results, conflicts)
        self.summary = conclude(self.options.results, records, conflicts=conflicts,
                                baseline=self.options.baseline, selected=self.tally.selected,
                                max_error_growth=self.options.max_error_growth)
        return self.summary
