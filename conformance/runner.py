"""Runs one case on one target and returns its result record. Usable without pytest.

The flow of one case, one stage per module, plain data between them:

    convert   (conformance.conversion)  spec, converter chain, opset -> Conversion (cached)
    execute   (conformance.execution)   Conversion on the target     -> Execution (outputs)
    judge     (conformance.judge)       outputs vs the source's      -> Verdict
    diagnose  (conformance.diagnose)    a failure                    -> Diagnosis (whose fault,
                                        first divergent node / source layer)
    record    (conformance.recording)   known failures, repro bundle -> CaseResult

``Runner`` only orchestrates them and holds what a session shares: the worker pool, the
conversion caches, the prepared target sessions and the known-failures table.
"""
from __future__ import annotations

import dataclasses
import functools
import platform
import traceback
from dataclasses import dataclass

from converters import converter_status, get_converter, split_chain

from .cache import ConversionCache
from .cases import CaseSpec, Conversion
from .conversion import Conversions
from .diagnose import Diagnoser, Failure
from .execution import Execution, Sessions, execute, onnx_op_types
from .judge import judge
from .known_failures import KnownFailures, load_known_failures
from .recording import finish
from .results import CaseResult, Diagnosis
from .targets import get_target, target_status
from .targets.base import dist_version
from .workers import WorkerPool

__all__ = ["CaseRun", "Runner", "RunnerOptions", "cpu_model"]


@dataclass(frozen=True)
class CaseRun:
    """One case x converter x opset x target: one test, one record."""

    spec: CaseSpec
    converter: str
    opset: int
    target: str

    @property
    def case_id(self) -> str:
        return self.spec.case_id(self.converter, self.opset, self.target)

    @property
    def names(self) -> list[tuple[str, str]]:
        """The (case id, converter) pairs the case goes by for the known-failures table: its
        own, then, for a chain (``tf2onnx+optimize``), its base converter's."""
        base = split_chain(self.converter)[0]
        own = [(self.case_id, self.converter)]
        return own if base == self.converter else own + [(self.spec.case_id(base, self.opset, self.target), base)]

    def __str__(self) -> str:
        return self.case_id


@dataclass
class RunnerOptions:
    timeout: float = 300.0
    cache_dir: str | None = None
    use_cache: bool = True
    repro_dir: str | None = None
    known_failures_path: str | None = None
    localize: bool = True


class Runner:
    def __init__(self, options: RunnerOptions | None = None):
        self.options = options or RunnerOptions()
        self.pool = WorkerPool()
        self.cache = ConversionCache(self.options.cache_dir, enabled=self.options.use_cache)
        self.conversions = Conversions(self.pool, self.cache, self.options.timeout)
        self.sessions = Sessions()
        self.diagnoser = Diagnoser(self.sessions, self.pool, self.options.timeout, self.options.localize)
        self._known: KnownFailures | None = None

    @property
    def conversions_done(self) -> int:
        """Conversions run in a worker this session (cache hits not counted)."""
        return self.conversions.done

    def conversion(self, spec: CaseSpec, converter_name: str, opset: int) -> tuple[Conversion, str]:
        """(the conversion, its cache key): see ``conformance.conversion``."""
        return self.conversions.get(spec, converter_name, opset)

    def known_failures(self) -> KnownFailures:
        if self._known is None:
            self._known = load_known_failures(self.options.known_failures_path)
        return self._known

    def run(self, case: CaseRun, conversion: tuple[Conversion, str] | None = None) -> CaseResult:
        """The record of one case; never raises: an unexpected failure is an ``error`` record."""
        try:
            return self._run(case, conversion)
        except Exception as exc:
            return dataclasses.replace(_blank_record(case), status="error",
                                       message=f"harness error: {type(exc).__name__}: {exc}",
                                       traceback=traceback.format_exc()[-4000:])

    def _run(self, case: CaseRun, conversion: tuple[Conversion, str] | None) -> CaseResult:
        not_run = _not_runnable(case)
        if not_run is not None:
            return not_run
        target = get_target(case.target)
        conv, key = conversion or self.conversion(case.spec, case.converter, case.opset)
        record = _converted_record(case, target, conv)
        if conv.status != "ok":
            record = dataclasses.replace(
                record, status="unsupported" if conv.status == "unsupported" else "error", message=conv.message,
                diagnosis=Diagnosis(attribution="converter"),      # no model came out of the conversion
                traceback=conv.versions.get("traceback"))
        else:
            record.onnx_ops = onnx_op_types(conv.onnx_bytes)
            execution = execute(self.sessions, target, key, conv)
            record.seconds["run"] = execution.seconds
            record = self._judged(record, case, key, conv, execution, target.precision)
        return finish(record, conv, case.names, self.known_failures(), self.options.repro_dir)

    def _judged(self, record: CaseResult, case: CaseRun, key: str, conv: Conversion, execution: Execution,
                precision: str) -> CaseResult:
        """The record with the verdict on the target's outputs and, on a failure, the diagnosis."""
        failure = Failure(case.spec, case.target, case.converter, key, conv,
                          naming=get_converter(split_chain(case.converter)[0]))
        if execution.failure:
            found = self.diagnoser.run_failure(failure)
            message = f"target {case.target} failed to run the model: {execution.failure[:2000]}"
            return dataclasses.replace(record, status=execution.status, message=found.message(message),
                                       diagnosis=found.diagnosis)
        verdict = judge(case.spec, conv, execution.outputs, precision)
        record = dataclasses.replace(record, **dataclasses.asdict(verdict), target_precision=precision)
        if verdict.status != "failed":
            return record
        found = self.diagnoser.wrong_outputs(failure)
        return dataclasses.replace(record, message=found.message(verdict.message), diagnosis=found.diagnosis)

    def close(self) -> None:
        self.pool.close()


def _blank_record(case: CaseRun) -> CaseResult:
    spec = case.spec
    return CaseResult(case_id=case.case_id, kind=spec.kind, framework=spec.framework, converter=case.converter,
                      target=case.target, status="skipped", opset=case.opset, op=spec.op, arch=spec.arch)


def _not_runnable(case: CaseRun) -> CaseResult | None:
    """The record of a case that cannot run here (target or converter missing, opset too low)."""
    for kind, name, status in (("target", case.target, target_status), ("converter", case.converter, converter_status)):
        ok, why = status(name)
        if not ok:
            return dataclasses.replace(_blank_record(case), status="unavailable",
                                       message=f"{kind} {name} unavailable: {why}")
    if case.spec.min_opset and case.opset < case.spec.min_opset:
        return dataclasses.replace(_blank_record(case), message=f"needs opset >= {case.spec.min_opset}")
    return None


def _converted_record(case: CaseRun, target, conv: Conversion) -> CaseResult:
    """The record's versions, timings and cache flag, once the case is converted."""
    versions = {"converter": get_converter(split_chain(case.converter)[0]).version(), "target": target.version()}
    versions.update({k: v for k, v in conv.versions.items() if k != "traceback"})
    versions.update(onnx=dist_version("onnx"), cpu=cpu_model())
    seconds = {"build": round(conv.seconds.get("build", 0.0), 4),
               "convert": round(conv.seconds.get("convert", 0.0), 4), "run": 0.0}
    return dataclasses.replace(_blank_record(case), versions=versions, seconds=seconds, cached=conv.cached)


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
