"""pytest plugin (entry point ``pytest11: conformance``). Hooks and fixtures only: the work is
done by ``conformance.runner``; switch the plugin off with ``-p no:conformance``.

A suite module defines ``conformance_cases()`` returning CaseSpecs and a test taking ``case``
and ``conformance_runner``; ``pytest_generate_tests`` expands specs x converter x opset x
target into test ids that are the case ids.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

MARKERS = {
    "op": "per-operator conformance case",
    "padding": "padding-semantics case",
    "semantics": "framework-semantics case (division, rounding, epsilon, ...)",
    "arch": "whole-architecture case (CNN, RNN, Transformer)",
    "model": "a user's model file",
    "benchmark": "benchmark (off by default; -m benchmark or --benchmark-only)",
    "torch": "source framework: PyTorch",
    "tensorflow": "source framework: TensorFlow / Keras",
    "paddle": "source framework: PaddlePaddle",
}


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "model-converter conformance")
    group.addoption("--target", action="append", default=None, metavar="NAME[,NAME]",
                    help="target(s) to run cases on; repeatable, comma-separated (default: reference,onnxruntime)")
    group.addoption("--framework", action="append", default=None, metavar="NAME[,NAME]",
                    help="source framework(s): torch, tensorflow, paddle (default: all)")
    group.addoption("--converter", action="append", default=None, metavar="NAME[,NAME]",
                    help="converter(s), e.g. torch-script, tf2onnx+optimize (default: every one for each framework)")
    group.addoption("--opset", action="append", default=None, metavar="N[,N]",
                    help="ONNX opset(s); cases run for each (default: 17)")
    group.addoption("--results", default=None, metavar="PATH",
                    help="write one JSON Lines record per case x target to PATH (xdist workers merged); "
                         "the coverage matrix is written beside it")
    group.addoption("--conformance-timeout", type=float, default=300.0, metavar="SECONDS",
                    help="kill a build/conversion running longer than this; the case becomes an error (default 300)")
    group.addoption("--cache-dir", default=None, metavar="DIR",
                    help="conversion cache (default $CONFORMANCE_CACHE_DIR or ~/.cache/onnx-conformance)")
    group.addoption("--no-cache", action="store_true", help="convert every case afresh; do not read or write the cache")
    group.addoption("--shard", default=None, metavar="K/N",
                    help="run only the K-th of N deterministic, balanced slices of the cases (1 <= K <= N)")
    group.addoption("--case", action="append", default=None, metavar="GLOB",
                    help="only case ids matching this glob (repeatable), e.g. 'op/conv*/torch/*'")
    group.addoption("--exclude-case", action="append", default=None, metavar="GLOB",
                    help="drop case ids matching this glob (repeatable)")
    group.addoption("--strict-known-failures", action="store_true",
                    help="a known failure that passes (xpassed) fails the run, so the table cannot rot")
    group.addoption("--known-failures", default=None, metavar="PATH",
                    help="expected-failures table (default suites/known_failures.toml)")
    group.addoption("--baseline", default=None, metavar="BASE.jsonl",
                    help="at the end, gate this session's results against a baseline (needs --results)")
    group.addoption("--model", action="append", default=None, metavar="PATH",
                    help="check a model file (.pt, .pt2, .keras, .h5, SavedModel folder, Paddle .json/.pdmodel) "
                         "against its source framework; repeatable")
    group.addoption("--model-shape", action="append", default=None, metavar="NAME=1x3x224x224",
                    help="with --model: dims of dynamic inputs")
    group.addoption("--model-inputs", default=None, metavar="INPUTS.npz", help="with --model: sample inputs by name")
    group.addoption("--max-error-growth", type=float, default=2.0, metavar="FACTOR",
                    help="with --baseline: fail when a case's max error grew by more than this factor")


def pytest_configure(config):
    _skip_reasons.clear()       # per session, also when pytest runs twice in one process
    _ran_case_ids.clear()
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    if config.getoption("--baseline") and not config.getoption("--results"):
        raise pytest.UsageError("--baseline needs --results PATH: the gate compares this session's records")
    if config.getoption("--model"):
        # collect our model-file test module; alone, unless test paths were given explicitly
        module = str(Path(__file__).with_name("model_tests.py"))
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            config.args.append(module)
        else:
            config.args[:] = [module]
    results = config.getoption("--results")
    if results and not hasattr(config, "workerinput"):
        parts = _parts_dir(results)
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True, exist_ok=True)


def _parts_dir(results: str) -> Path:
    path = Path(results).resolve()
    return path.with_name(path.name + ".parts")


def _expand(config, specs):
    from .errors import ConformanceError
    from .selection import DEFAULT_OPSETS, expand, split_values
    from .targets import DEFAULT_TARGETS
    try:
        opsets = [int(o) for o in split_values(config.getoption("--opset"), DEFAULT_OPSETS)]
    except ValueError:
        raise pytest.UsageError("--opset takes integers, e.g. --opset 13,17") from None
    try:
        return expand(specs, targets=split_values(config.getoption("--target"), DEFAULT_TARGETS),
                      frameworks=set(split_values(config.getoption("--framework"))),
                      converters=split_values(config.getoption("--converter")), opsets=opsets,
                      include=split_values(config.getoption("--case")),
                      exclude=split_values(config.getoption("--exclude-case")))
    except ConformanceError as exc:
        raise pytest.UsageError(exc.one_line()) from None


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    factory = getattr(metafunc.module, "conformance_cases", None)
    if factory is None:
        return
    from .errors import ConformanceError
    try:
        specs = factory(metafunc.config) if factory.__code__.co_argcount else factory()
    except ConformanceError as exc:
        raise pytest.UsageError(exc.one_line()) from None
    params = []
    for run in _expand(metafunc.config, specs):
        marks = [getattr(pytest.mark, m) for m in (run.spec.kind, run.spec.framework, *run.spec.marks)
                 if m.isidentifier()]
        params.append(pytest.param(run, id=run.case_id, marks=marks))
    metafunc.parametrize("case", params)


def _shard_key(nodeid: str) -> str:
    return hashlib.sha256(nodeid.encode()).hexdigest()


def pytest_collection_modifyitems(config, items):
    shard = config.getoption("--shard")
    if not shard:
        return
    try:
        k, n = (int(x) for x in shard.split("/"))
        assert 1 <= k <= n
    except (ValueError, AssertionError):
        raise pytest.UsageError(f"--shard {shard!r}: expected K/N with 1 <= K <= N, e.g. --shard 2/4") from None
    # Round-robin over a stable hash order: every shard gets the same count (+-1) and a mix of
    # suites and frameworks, independent of collection order.
    ordered = sorted(items, key=lambda item: _shard_key(item.nodeid))
    keep_ids = {item.nodeid for i, item in enumerate(ordered) if i % n == k - 1}
    selected = [item for item in items if item.nodeid in keep_ids]
    deselected = [item for item in items if item.nodeid not in keep_ids]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = selected


class ConformanceSession:
    """Per-process state: the runner, and where records go."""

    def __init__(self, config):
        from .runner import Runner, RunnerOptions
        self.config = config
        results = config.getoption("--results")
        self.worker = getattr(config, "workerinput", {}).get("workerid", "main")
        self.part = _parts_dir(results) / f"{self.worker}.jsonl" if results else None
        repro = Path(results).resolve().parent / "repro" if results else None
        self.runner = Runner(RunnerOptions(
            timeout=config.getoption("--conformance-timeout"),
            cache_dir=config.getoption("--cache-dir"),
            use_cache=not config.getoption("--no-cache"),
            repro_dir=str(repro) if repro else None,
            strict_known_failures=config.getoption("--strict-known-failures"),
            known_failures_path=config.getoption("--known-failures")))
        self.counts: Counter = Counter()

    def check(self, case):
        from . import results
        record = self.runner.run(case)
        self.counts[record.status] += 1
        if self.part is not None:
            results.append(self.part, [record])
        _outcome(record, self.config.getoption("--strict-known-failures"))
        return record

    def close(self):
        self.runner.close()


def _outcome(record, strict: bool):
    status, msg = record.status, record.message
    if status in ("failed", "error"):
        pytest.fail(f"{record.case_id}: {status.upper()}\n{msg}", pytrace=False)
    if status == "xfailed":
        pytest.xfail(msg.splitlines()[0] if msg else "known failure")
    if status == "xpassed" and strict:
        pytest.fail(f"{record.case_id}: XPASS(strict) {msg}", pytrace=False)
    if status in ("unavailable", "unsupported", "skipped"):
        pytest.skip(f"{status}: {msg.splitlines()[0] if msg else ''}")


@pytest.fixture(scope="session")
def conformance_runner(request):
    session = ConformanceSession(request.config)
    request.config._conformance_session = session
    yield session
    session.close()


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    results = config.getoption("--results")
    if not results or hasattr(config, "workerinput"):
        return
    from . import results as res
    parts = sorted(_parts_dir(results).glob("*.jsonl"))
    conflicts: list[str] = []
    records = res.merge([res.read(p) for p in parts if p.stat().st_size], conflicts) if parts else []
    res.write(results, records)
    shutil.rmtree(_parts_dir(results), ignore_errors=True)
    summary = {"results": str(Path(results).resolve()), "records": len(records),
               "counts": Counter(r.status for r in records), "conflicts": conflicts}
    out_dir = Path(results).resolve().parent
    try:
        from .report import write_reports
    except ImportError:
        write_reports = None
    if write_reports is not None and records:
        summary["reports"] = {k: str(v) for k, v in write_reports(records, out_dir).items()}
    baseline = config.getoption("--baseline")
    if baseline:
        from .errors import ResultsFileError
        from .gate import run_gate
        try:
            # only the cases this session selected: a shard or a -k run has not "lost" the others
            base = [r for r in res.read(baseline) if not _ran_case_ids or r.case_id in _ran_case_ids]
            gate = run_gate(base, records, max_error_growth=config.getoption("--max-error-growth"))
            summary["gate"] = gate.table()
            code = gate.exit_code
        except ResultsFileError as exc:       # a bad baseline is an error, never a pass
            summary["gate"] = f"gate: error: {exc.one_line()}"
            code = 2
        if code != 0 and session.exitstatus == 0:
            session.exitstatus = code
    config._conformance_summary = summary


_SKIP_KINDS = ("unavailable", "unsupported")


def pytest_runtest_logreport(report):
    """Note which cases ran and count why cases were not run (reports reach the xdist
    controller too): the gate's view of what was selected, and reasons shown even under -q."""
    if report.when == "setup" and report.nodeid.endswith("]"):
        case_id = report.nodeid[report.nodeid.index("[") + 1:-1]
        if case_id.count("/") >= 6:
            _ran_case_ids.add(case_id)
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return
    text = str(report.longrepr[2]).removeprefix("Skipped: ")
    kind = text.split(":", 1)[0]
    if kind in _SKIP_KINDS:
        reasons = _skip_reasons.setdefault(kind, Counter())
        reasons[text.split(":", 1)[1].strip()[:300]] += 1


_skip_reasons: dict[str, Counter] = {}
_ran_case_ids: set[str] = set()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    if _skip_reasons:
        tr.section("conformance: cases not run")
        for kind, reasons in sorted(_skip_reasons.items()):
            for reason, n in reasons.most_common(8):
                tr.write_line(f"{n:>5} {kind}: {reason}")
            if len(reasons) > 8:
                tr.write_line(f"      ... and {len(reasons) - 8} other {kind} reasons (see -rs)")
    summary = getattr(config, "_conformance_summary", None)
    if not summary:
        return
    tr.section("conformance")
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary["counts"].items()))
    tr.write_line(f"{summary['records']} case records ({counts or 'none'})")
    tr.write_line(f"results: {summary['results']}")
    for text in summary.get("conflicts", ())[:10]:
        tr.write_line(f"WARNING: {text} (kept the later record)")
    for kind, path in summary.get("reports", {}).items():
        tr.write_line(f"coverage matrix ({kind}): {path}")
    if summary.get("gate"):
        tr.write_line(summary["gate"])
