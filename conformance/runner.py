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

from converters import converter_status, get_chain_steps, get_converter, split_chain

from .cache import ConversionCache
from .cases import CaseSpec, Conversion, is_dynamic_twin, twin_origin
from .conversion import Conversions
from .diagnose import Diagnoser, Failure
from .environments import EnvironmentFailure
from .errors import ConformanceError
from .execution import Execution, Sessions, execute, onnx_op_types
from .judge import KIND_JUDGES, judge
from .known_failures import KnownFailures, load_known_failures
from .placement import Placements, split_env
from .recording import finish
from .results import CaseResult, Diagnosis
from .target_host import EnvTarget
from .targets import get_target
from .targets.base import Target, dist_version
from .workers import WorkerError, WorkerPool, resolve

__all__ = ["CaseRun", "KIND_RUNNERS", "Runner", "RunnerOptions", "cpu_model"]


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
    def names(self) -> list[tuple[str, str, str]]:
        """The (case id, converter, target) names the case goes by for the known-failures
        table: its own; for names in an environment (``tf2onnx@tf216``, ``onnxruntime@ort131``)
        the same without it (the table's version ranges then apply to the versions installed
        there); then, for a chain (``tf2onnx+optimize``), its base converter's."""
        chain, target = split_env(self.converter)[0], split_env(self.target)[0]
        out = [(self.case_id, self.converter, self.target)]
        for converter in (chain, split_chain(chain)[0]):
            name = (self.spec.case_id(converter, self.opset, target), converter, target)
            if name not in out:
                out.append(name)
        return out

    def known_failure_names(self, status: str) -> list[tuple[str, str, str]]:
        """``names``; for a dynamic twin that did not pass, then its case's too (a bug at the
        sample's shape fails both). A twin that passes where its case fails (other sizes, other
        values) is a pass, not an xpass of its case's entry."""
        if not is_dynamic_twin(self.spec) or status == "passed":
            return self.names
        origin = CaseRun(twin_origin(self.spec), self.converter, self.opset, self.target)
        return self.names + [n for n in origin.names if n not in self.names]

    def __str__(self) -> str:
        return self.case_id


# Kinds run by a loop of their own instead of the one-conversion flow below ("module:function",
# called as function(runner, case) -> CaseResult and never raising; imported when first used).
# ``Runner.run`` dispatches on them, so pytest and ``conformance run`` run them alike.
KIND_RUNNERS: dict[str, str] = {"generation": "conformance.generation:run_generation"}


@dataclass
class RunnerOptions:
    timeout: float = 300.0
    cache_dir: str | None = None
    use_cache: bool = True
    repro_dir: str | None = None
    known_failures_path: str | None = None
    localize: bool = True
    environments: dict | None = None     # named environments (None: environments.toml)


class Runner:
    def __init__(self, options: RunnerOptions | None = None):
        self.options = options or RunnerOptions()
        self.placements = Placements(self.options.environments)
        self.pool = WorkerPool(self.placements.framework_interpreter)
        self.cache = ConversionCache(self.options.cache_dir, enabled=self.options.use_cache)
        self.conversions = Conversions(self.pool, self.cache, self.options.timeout, self.placements)
        self.sessions = Sessions()
        self.diagnoser = Diagnoser(self.sessions, self.pool, self.options.timeout, self.options.localize,
                                   target_for=self.target)
        self._known: KnownFailures | None = None
        self._targets: dict[str, Target] = {}
        self._converter_status: dict[tuple[str, str], tuple[bool, str]] = {}

    @property
    def conversions_done(self) -> int:
        """Conversions run in a worker this session (cache hits not counted)."""
        return self.conversions.done

    def conversion(self, spec: CaseSpec, converter_name: str, opset: int) -> tuple[Conversion, str]:
        """(the conversion, its cache key): see ``conformance.conversion``."""
        return self.conversions.get(spec, converter_name, opset)

    def target(self, name: str) -> Target:
        """The target called ``name``; ``NAME@ENV`` is served by a worker in environment ENV, and
        an ``isolated`` target (a runtime that can crash its process) by a worker of its own.
        Raises UnknownTarget or EnvironmentFailure."""
        bare, env = split_env(name)[0], self.placements.env_name(name)
        if env is None and not get_target(name).isolated:
            return get_target(name)
        if name not in self._targets:
            get_target(bare)                           # UnknownTarget before building anything
            # an isolated target without an environment runs in a worker of this session's interpreter
            interpreter = self.placements.placement(env).interpreter
            worker = self.pool.get("target", f"target-{bare}", interpreter)
            info = worker.request("target_info", bare, timeout=self.options.timeout)
            self._targets[name] = EnvTarget(name, bare, env, worker, info, self.options.timeout)
        return self._targets[name]

    def converter_status(self, name: str, framework: str) -> tuple[bool, str]:
        """(available, reason) of a converter chain where it runs for ``framework``: asked in
        its environment's worker when it runs in one."""
        if (name, framework) not in self._converter_status:
            self._converter_status[name, framework] = self._ask_converter_status(name, framework)
        return self._converter_status[name, framework]

    def _ask_converter_status(self, name: str, framework: str) -> tuple[bool, str]:
        chain = split_env(name)[0]
        try:
            placement = self.placements.for_name(name, framework)
        except EnvironmentFailure as exc:
            return False, str(exc)
        if placement.env is None:
            return converter_status(chain)
        base = split_chain(chain)[0]
        try:
            get_converter(chain)
            ok, why = self.pool.get(framework, None, placement.interpreter).request(
                "status", base, timeout=self.options.timeout)
        except (ConformanceError, WorkerError) as exc:
            return False, str(exc)
        if not ok:
            return False, f"in environment {placement.env!r}: {why}"
        for step in get_chain_steps(chain):
            ok, why = step.available()
            if not ok:
                return False, why
        return True, ""

    def unavailable(self, case: CaseRun) -> CaseResult | None:
        """The record of a case that cannot run here (target or converter missing, an
        environment that cannot be built, opset too low), or None."""
        try:
            ok, why = self.target(case.target).available()
        except (ConformanceError, WorkerError) as exc:
            ok, why = False, str(exc)
        kind, name = "target", case.target
        if ok:
            (ok, why), kind, name = self.converter_status(case.converter, case.spec.framework), "converter", case.converter
        if not ok:
            return dataclasses.replace(_blank_record(case), status="unavailable", message=f"{kind} {name} unavailable: {why}")
        if case.spec.min_opset and case.opset < case.spec.min_opset:
            return dataclasses.replace(_blank_record(case), message=f"needs opset >= {case.spec.min_opset}")
        return None

    def known_failures(self) -> KnownFailures:
        if self._known is None:
            self._known = load_known_failures(self.options.known_failures_path)
        return self._known

    def run(self, case: CaseRun, conversion: tuple[Conversion, str] | None = None) -> CaseResult:
        """The record of one case; never raises: an unexpected failure is an ``error`` record.
        A kind in ``KIND_RUNNERS`` is run by its own function (``conversion`` is ignored)."""
        try:
            if case.spec.kind in KIND_RUNNERS:
                return resolve(KIND_RUNNERS[case.spec.kind])(self, case)
            return self._run(case, conversion)
        except Exception as exc:
            return dataclasses.replace(_blank_record(case), status="error",
                                       message=f"harness error: {type(exc).__name__}: {exc}",
                                       traceback=traceback.format_exc()[-4000:])

    def _run(self, case: CaseRun, conversion: tuple[Conversion, str] | None) -> CaseResult:
        not_run = self.unavailable(case)
        if not_run is not None:
            return not_run
        target = self.target(case.target)
        conv, key = conversion or self.conversion(case.spec, case.converter, case.opset)
        record = self._converted_record(case, target, conv)
        if conv.status != "ok":
            record = dataclasses.replace(
                record, status=conv.status if conv.status in ("unsupported", "skipped") else "error",
                message=conv.message,
                diagnosis=Diagnosis(attribution="converter"),      # no model came out of the conversion
                traceback=conv.versions.get("traceback"))
        else:
            record.format, record.precision = conv.format, conv.precision
            record.onnx_ops = onnx_op_types(conv.onnx_bytes) if conv.onnx_bytes else []
            execution = execute(self.sessions, target, key, conv)
            record.seconds["run"] = execution.seconds
            record = self._judged(record, case, key, conv, execution, target.precision)
        return finish(record, conv, case.known_failure_names(record.status), self.known_failures(),
                      self.options.repro_dir)

    def _judged(self, record: CaseResult, case: CaseRun, key: str, conv: Conversion, execution: Execution,
                precision: str) -> CaseResult:
        """The record with the verdict on the target's outputs and, on a failure, the diagnosis."""
        failure = Failure(case.spec, case.target, case.converter, key, conv,
                          naming=get_converter(split_chain(split_env(case.converter)[0])[0]),
                          interpreter=self.conversions.placement(case.spec, case.converter).interpreter)
        if execution.harness:      # our adapter of the runtime failed: never the runtime's fault
            return dataclasses.replace(record, status="error", diagnosis=Diagnosis(attribution="harness"),
                                       message=f"harness error in the {case.target} target's own code (not "
                                               f"the runtime's): {execution.failure[:2000]}")
        if execution.failure:
            found = self.diagnoser.run_failure(failure)
            message = f"target {case.target} failed to run the model: {execution.failure[:2000]}"
            return dataclasses.replace(record, status=execution.status, message=found.message(message),
                                       diagnosis=found.diagnosis)
        verdict = judge(case.spec, conv, execution.outputs, precision)
        record = dataclasses.replace(record, **dataclasses.asdict(verdict), target_precision=precision)
        # a kind judged by its own metric (accuracy) has no element-wise divergence to localise
        if verdict.status != "failed" or case.spec.kind in KIND_JUDGES:
            return record
        found = self.diagnoser.wrong_outputs(failure)
        return dataclasses.replace(record, message=found.message(verdict.message), diagnosis=found.diagnosis)

    def _converted_record(self, case: CaseRun, target: Target, conv: Conversion) -> CaseResult:
        """The record's environments, versions, timings and cache flag, once the case is converted.
        Versions are those installed where the converter and the target ran."""
        chain = split_env(case.converter)[0]
        try:
            placement = self.conversions.placement(case.spec, case.converter)
        except EnvironmentFailure:
            placement = None
        converter = get_converter(split_chain(chain)[0])
        versions = {"converter": placement.version(converter.distribution) if placement else "",
                    "target": target.version()}
        versions.update({k: v for k, v in conv.versions.items() if k != "traceback"})
        # the onnx package the converter wrote the model with (its environment's, where it has one)
        versions.update(onnx=(placement.version("onnx") if placement else "") or dist_version("onnx"), cpu=cpu_model())
        seconds = {"build": round(conv.seconds.get("build", 0.0), 4),
                   "convert": round(conv.seconds.get("convert", 0.0), 4), "run": 0.0}
        return dataclasses.replace(_blank_record(case), versions=versions, seconds=seconds, cached=conv.cached,
                                   converter_env=placement.env if placement else split_env(case.converter)[1],
                                   target_env=self.placements.env_name(case.target))

    def close(self) -> None:
        self.pool.close()


def _blank_record(case: CaseRun) -> CaseResult:
    spec = case.spec
    return CaseResult(case_id=case.case_id, kind=spec.kind, framework=spec.framework, converter=case.converter,
                      target=case.target, status="skipped", opset=case.opset, op=spec.op, arch=spec.arch)


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
