"""pytest plugin (entry point ``pytest11: conformance``). Hooks and fixtures only: the work is
done by ``conformance.runner``, selection by ``conformance.selection``, and sharding, result
parts, the gate and the summary by ``conformance.session``; switch the plugin off with
``-p no:conformance``.

A suite module defines ``conformance_cases()`` returning CaseSpecs and a test taking ``case``
and ``conformance_runner``; ``pytest_generate_tests`` expands specs x converter x opset x
target into test ids that are the case ids.

Per-process state is one ``PytestConformanceSession`` in ``config.stash``. A case's id and, once
it ran, its status and reason travel on its test reports as data (``report.conformance``), so
the xdist controller sees them too.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .environments import load_environments
from .errors import ConformanceError
from .results import CaseResult
from .results import append as append_records
from .runner import CaseRun
from .selection import Asked, select_runs, suite_cases
from .session import ConformanceSession, SessionOptions, first_line, parse_shard, select_shard

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
    "mindspore": "source framework: MindSpore (collected only when asked for: --framework mindspore, -m or -k mindspore)",
    "node": "backend corner case: one ONNX node fed corner inputs (suites/backend)",
    "onnx": "source framework: ONNX itself (the backend corner suite's models, judged by the reference executor)",
    "opinfo": "torch case generated from PyTorch's OpInfo database (suites/operators/opinfo.py)",
    "opinfo_extended": "OpInfo case beyond each op's first float32 sample (other dtypes, more samples)",
    "dynamic": "dynamic-shape twin ('+dyn' variant): exported with its free axes dynamic, run at the export shape "
               "and at an unseen one",
    "generation": "greedy generation through a converted decoder's prefill and decode models (conformance.generation)",
}


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "model-converter conformance")
    group.addoption("--target", action="append", default=None, metavar="NAME[,NAME]",
                    help="target(s) to run cases on, NAME@ENV for one in a named environment; repeatable, "
                         "comma-separated (default: reference,onnxruntime)")
    group.addoption("--framework", action="append", default=None, metavar="NAME[,NAME]",
                    help="source framework(s): torch, tensorflow, paddle, mindspore (default: all but mindspore)")
    group.addoption("--converter", action="append", default=None, metavar="NAME[,NAME]",
                    help="converter(s), e.g. torch-script, tf2onnx+optimize, tf2onnx@tf216 (in named environment "
                         "tf216) (default: every one for each framework)")
    group.addoption("--env", action="append", default=[], metavar='NAME="REQ REQ ..."',
                    help="declare a named environment for NAME@ENV converters and targets (replaces one of "
                         "that name in environments.toml); repeatable")
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


class PytestConformanceSession(ConformanceSession):
    """The library session plus its pytest side: ``check`` (the ``conformance_runner``
    fixture) turns a record into a pytest outcome, and the session, registered as a plugin,
    puts each case's data on its reports and tallies them (also in the xdist controller)."""

    def __init__(self, options: SessionOptions, worker: str, strict: bool):
        super().__init__(options, worker)
        self.strict = strict
        self._unreported: dict[str, CaseResult] = {}

    def check(self, case: CaseRun, run=None) -> CaseResult:
        """``run(runner, case) -> CaseResult``: a kind run by a loop of its own instead of
        ``Runner.run`` (``conformance.generation.run_generation``); recorded the same way."""
        if run is None:
            record = self.run(case)
        else:
            record = run(self.runner, case)
            self.counts[record.status] += 1
            if self.part is not None:
                append_records(self.part, [record])
        self._unreported[record.case_id] = record
        _outcome(record, self.strict)
        return record

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        if isinstance(case, CaseRun):
            data = {"case_id": case.case_id}
            record = self._unreported.pop(case.case_id, None) if call.when == "call" else None
            if record is not None:
                data.update(status=record.status, reason=first_line(record.message))
            report.conformance = data
        return report

    def pytest_runtest_logreport(self, report):
        """Which cases were selected (the gate's view) and why cases were not run (shown even
        under -q); reports reach the xdist controller too."""
        data = getattr(report, "conformance", None)
        if data is None:
            return
        if report.when == "setup":
            self.tally.note_selected(data["case_id"])
        if report.skipped and "status" in data:
            self.tally.note_outcome(data["status"], data["reason"])


_SESSION = pytest.StashKey[PytestConformanceSession]()


def _session(config) -> PytestConformanceSession:
    return config.stash[_SESSION]


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _start_session(config) -> PytestConformanceSession:
    options = SessionOptions(
        results=config.getoption("--results"), baseline=config.getoption("--baseline"),
        max_error_growth=config.getoption("--max-error-growth"),
        timeout=config.getoption("--conformance-timeout"), cache_dir=config.getoption("--cache-dir"),
        use_cache=not config.getoption("--no-cache"),
        strict_known_failures=config.getoption("--strict-known-failures"),
        known_failures_path=config.getoption("--known-failures"),
        environments=tuple(config.getoption("--env")))
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    session = PytestConformanceSession(options, worker, strict=options.strict_known_failures)
    config.stash[_SESSION] = session
    config.pluginmanager.register(session, "conformance-session")
    if not _is_worker(config):
        session.start()
    return session


def pytest_configure(config):
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    if config.getoption("--baseline") and not config.getoption("--results"):
        raise pytest.UsageError("--baseline needs --results PATH: the gate compares this session's records")
    if config.getoption("--env"):
        try:
            load_environments(extra=config.getoption("--env"))
        except ConformanceError as exc:
            raise pytest.UsageError(exc.one_line()) from None
    if config.getoption("--model"):
        # collect our model-file test module; alone, unless test paths were given explicitly
        module = str(Path(__file__).with_name("model_tests.py"))
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            config.args.append(module)
        else:
            config.args[:] = [module]
    _start_session(config)


def pytest_unconfigure(config):
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()
        config.pluginmanager.unregister(session)


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    if not hasattr(metafunc.module, "conformance_cases"):
        return
    option = metafunc.config.getoption
    try:
        asked = Asked.of(option("--framework"), option("--converter"),
                         (option("keyword") or "", option("markexpr") or "", *(option("--case") or ())),
                         metafunc.config)
        specs = suite_cases(metafunc.module, asked)
        runs = select_runs(specs, target=option("--target"), framework=option("--framework"),
                           converter=option("--converter"), opset=option("--opset"),
                           case=option("--case"), exclude_case=option("--exclude-case"))
    except ConformanceError as exc:
        raise pytest.UsageError(exc.one_line()) from None
    params = []
    for run in runs:
        marks = [getattr(pytest.mark, m) for m in (run.spec.kind, run.spec.framework, *run.spec.marks)
                 if m.isidentifier()]
        params.append(pytest.param(run, id=run.case_id, marks=marks))
    metafunc.parametrize("case", params)


def pytest_collection_modifyitems(config, items):
    shard = config.getoption("--shard")
    if not shard:
        return
    try:
        k, n = parse_shard(shard)
    except ConformanceError as exc:
        raise pytest.UsageError(exc.one_line()) from None
    selected, deselected = select_shard(items, k, n, key=lambda item: item.nodeid)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = selected


def _outcome(record: CaseResult, strict: bool) -> None:
    status, msg = record.status, record.message
    if status in ("failed", "error"):
        pytest.fail(f"{record.case_id}: {status.upper()}\n{msg}", pytrace=False)
    if status == "xfailed":
        pytest.xfail(first_line(msg) if msg else "known failure")
    if status == "xpassed" and strict:
        pytest.fail(f"{record.case_id}: XPASS(strict) {msg}", pytrace=False)
    if status in ("unavailable", "unsupported", "skipped"):
        pytest.skip(f"{status}: {first_line(msg)}")


@pytest.fixture(scope="session")
def conformance_runner(request):
    session = _session(request.config)
    session.open()
    yield session
    session.close()


def pytest_sessionfinish(session, exitstatus):
    if _is_worker(session.config):
        return
    summary = _session(session.config).finish()
    if summary is not None and summary.exit_code != 0 and session.exitstatus == 0:
        session.exitstatus = summary.exit_code


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    session = _session(config)
    reasons = session.tally.skip_reason_lines()
    if reasons:
        tr.section("conformance: cases not run")
        for line in reasons:
            tr.write_line(line)
    if session.summary is not None:
        tr.section("conformance")
        for line in session.summary.lines():
            tr.write_line(line)
