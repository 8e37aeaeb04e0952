"""``conformance bench`` on MLPerf's own LoadGen (``mlperf_loadgen``, the official bindings).

``run_benchmark``: a target's prepared session as LoadGen's SUT, a sample library as its QSL,
our ``BenchSettings`` as its ``TestSettings`` (``settings.loadgen_settings``); LoadGen runs the
scenario and writes its logs; the summary is read back from them (``logs``, ``summary``).
Around LoadGen, what it does not do: a warm-up (which also measures the expected latency
LoadGen asks for), the agreement check of random-input outputs against the reference
executor, the accuracy script of a labelled data set, and the environment capture.
``run_comparison``: two (model, target) pairs interleaved A B A B, judged by ``stats``.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..comparator import compare_outputs
from ..errors import ConformanceError
from ..reference import ReferenceExecutor
from ..targets.base import dist_version
from ..tolerance import Tolerance
from . import digits
from .logs import ACCURACY, log_dir_for, read_logs
from .settings import BenchSettings, Measured, default_max_duration, loadgen_settings
from .stats import compare_latencies, describe
from .summary import BenchmarkSummary
from .sut import LoadGenSUT, load_model, make_library, prepare_session, resolve_target

__all__ = ["BenchSettings", "environment", "model_label", "run_benchmark", "Comparison", "run_comparison",
           "prepare_session", "load_model"]


# --------------------------------------------------------------------------- environment
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or ""


def environment(target=None, settings: BenchSettings | None = None) -> dict:
    """What the figures depend on: packages, CPU, load, thread settings."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    env = {"python": platform.python_version(), "platform": platform.platform(), "cpu_model": _cpu_model(),
           "cpu_count": os.cpu_count(), "load_average": load,
           "packages": {name: dist_version(name) for name in ("numpy", "onnx", "onnxruntime", "mlcommons-loadgen")}}
    if target is not None:
        try:
            env["target_version"] = target.version()
        except Exception as exc:  # a target that cannot say its version still benchmarks
            env["target_version"] = f"unknown ({type(exc).__name__})"
        env["target_precision"] = getattr(target, "precision", "")
    if settings is not None:
        env["threads"] = dict(settings.threads(), OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS"))
    return env


def model_label(model, proto) -> str:
    """A model's name for summaries and case ids: the file stem, or its folder's name for the
    exporter's ``NAME/model.onnx`` layout."""
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        return path.parent.name if path.stem == "model" and path.parent.name else path.stem
    return proto.graph.name or "model"


# --------------------------------------------------------------------------- accuracy
def agreement_check(proto, library, captured: dict[int, list[np.ndarray]], settings: BenchSettings) -> dict:
    """Random inputs: the benchmarked outputs against the reference executor on the same inputs."""
    if not captured:
        return {"status": "unchecked", "message": "no outputs were captured during the run"}
    tolerance = Tolerance(rtol=settings.accuracy_rtol, atol=settings.accuracy_atol)
    worst = 0.0
    try:
        executor = ReferenceExecutor(proto)
        for index, outputs in sorted(captured.items()):
            result = compare_outputs(outputs, executor.run(None, library.samples[index]), tolerance)
            worst = max(worst, float(result.max_abs or 0.0))
            if not result.passed:
                first = result.message.splitlines()[0] if result.message else ""
                return {"status": "failed", "samples": len(captured), "max_abs": worst,
                        "message": f"sample {index}: outputs differ from the reference executor: {first}"}
    except Exception as exc:
        return {"status": "unchecked", "message": f"reference executor: {type(exc).__name__}: {exc}"}
    return {"status": "passed", "samples": len(captured), "max_abs": worst,
            "message": f"{len(captured)} sample(s) match the reference executor (max_abs {worst:.3g}, "
                       f"rtol {settings.accuracy_rtol:g}, atol {settings.accuracy_atol:g})"}


def reference_top1(proto, library) -> float:
    """The FP32 top-1 of the same model: the reference executor (float32 numpy) on every sample."""
    logits = ReferenceExecutor(proto).run(None, library.feeds(range(len(library))))[0]
    return float(np.mean(np.argmax(np.asarray(logits).reshape(len(library), -1), axis=1) == library.labels))


def accuracy_script(proto, library, log, settings: BenchSettings) -> dict:
    """Accuracy mode: top-1 from ``mlperf_log_accuracy.json`` and MLPerf's 99%-of-FP32 rule."""
    scored = digits.top1_from_log(log.folder / ACCURACY, library.labels)
    fp32 = settings.fp32_accuracy if settings.fp32_accuracy is not None else reference_top1(proto, library)
    rule = digits.fp32_rule(scored["top1"], fp32)
    return {"status": "passed" if rule["passed"] else "failed", **scored, "fp32": rule,
            "fp32_source": "given" if settings.fp32_accuracy is not None else "reference executor",
            "message": f"{scored['correct']}/{scored['count']} correct from {ACCURACY}; {rule['message']}"}


# --------------------------------------------------------------------------- the run
def _open(model, target, settings: BenchSettings):
    """Target, model, library and a session; a model the target cannot prepare is one line."""
    target = resolve_target(target)
    ok, why = target.available()
    if not ok:
        raise ConformanceError(f"target {target.name!r} is unavailable: {why}")
    proto = load_model(model)
    library = make_library(proto, settings)
    try:
        session, threads = prepare_session(target, proto, settings)
    except ConformanceError:
        raise
    except Exception as exc:
        raise ConformanceError(f"target {target.name!r} cannot prepare the model: {_first_line(exc)}",
                               fix="check the model with `conformance check MODEL`") from exc
    return target, proto, library, session, threads


def _first_line(exc: Exception) -> str:
    """A runtime's error as one short line (onnxruntime's messages run to many)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


def item_size(settings: BenchSettings) -> int | None:
    """Samples per work item: Offline's batch; other scenarios run a query as one item."""
    return settings.offline_batch_size if settings.scenario == "Offline" else None


MIN_WARMUP, MAX_WARMUP_MS = 3, 10_000.0


def warm_up(sut: LoadGenSUT, settings: BenchSettings) -> Measured:
    """Queries of the scenario's size before LoadGen starts; the fastest gives the expected
    latency (and capacity) LoadGen's settings ask for. A failing run is one line."""
    size = {"MultiStream": settings.samples_per_query, "Offline": settings.offline_batch_size}.get(settings.scenario, 1)
    indices = [i % len(sut.library) for i in range(size)]
    times: list[float] = []
    try:
        # at least MIN_WARMUP queries (the first run of a session is slow), unless they are slow
        while not times or (len(times) < max(MIN_WARMUP, settings.warmup_queries) and sum(times) < MAX_WARMUP_MS):
            times.append(sut.time_indices(indices))
    except Exception as exc:
        raise ConformanceError(f"target {sut.target.name!r} cannot run the model: {_first_line(exc)}") from exc
    return Measured(query_ms=float(np.min(times)), samples_per_query=size)


def run_loadgen(sut: LoadGenSUT, library, test_settings, folder: Path) -> None:
    import mlperf_loadgen as lg
    output = lg.LogOutputSettings()
    output.outdir = str(folder)
    output.copy_summary_to_stdout = False
    log_settings = lg.LogSettings()
    log_settings.log_output = output
    log_settings.enable_trace = False
    sut_handle = lg.ConstructSUT(sut.issue_query, sut.flush_queries)
    # the library holds every sample in memory: LoadGen's load/unload callbacks have nothing to do
    qsl_handle = lg.ConstructQSL(len(library), len(library), lambda _: None, lambda _: None)
    sut.start()
    try:
        lg.StartTestWithLogSettings(sut_handle, qsl_handle, test_settings, log_settings)
    finally:
        sut.stop()
        lg.DestroyQSL(qsl_handle)
        lg.DestroySUT(sut_handle)


def run_benchmark(model, target, settings: BenchSettings | None = None, *, model_name: str | None = None,
                  log: Callable[[str], None] | None = None) -> BenchmarkSummary:
    """Benchmark ``model`` on ``target`` (a name or a Target) through LoadGen under ``settings``."""
    settings = (settings or BenchSettings()).resolved()
    target, proto, library, session, threads = _open(model, target, settings)
    model_name = model_name or model_label(model, proto)
    accuracy_mode = settings.mode == "accuracy"
    if accuracy_mode and library.labels is None:
        raise ConformanceError(f"accuracy mode needs a labelled data set, not {settings.dataset!r}",
                               fix="add --dataset digits (or run --mode performance)")
    sut = LoadGenSUT(target, session, library, workers=settings.server_workers, item_size=item_size(settings),
                     respond_with_outputs=accuracy_mode,
                     capture_limit=settings.accuracy_samples if settings.check_accuracy and not accuracy_mode else 0)
    measured = warm_up(sut, settings)
    test_settings = loadgen_settings(settings, measured, model_name)
    folder = log_dir_for(settings.log_dir)
    env_before = environment(target, settings)
    if log:
        log(f"LoadGen {settings.scenario} {settings.mode}: logs in {folder}")
    run_loadgen(sut, library, test_settings, folder)
    run_log = read_logs(folder)
    if accuracy_mode:
        accuracy = accuracy_script(proto, library, run_log, settings)
    elif settings.check_accuracy:
        accuracy = agreement_check(proto, library, sut.captured, settings)
    else:
        accuracy = {"status": "unchecked", "message": "disabled by settings"}
    env = environment(target, settings)
    env["load_average_before"] = env_before["load_average"]
    env["threads"].update(threads)
    return BenchmarkSummary(settings=settings, log=run_log, service_ms=sut.service_ms, sut_errors=sut.errors,
                            accuracy=accuracy, env=env, target_name=target.name, model_name=model_name,
                            input_shapes={k: list(v) for k, v in library.shapes.items()},
                            batchable=library.batchable)


# --------------------------------------------------------------------------- A/B comparison
@dataclass
class Comparison:
    labels: tuple[str, str]
    samples_a: list[float]
    samples_b: list[float]
    rounds: int
    verdict: Any                     # stats.Verdict of B against A
    env: dict = field(default_factory=dict)

    def text(self) -> str:
        lines = [f"A: {self.labels[0]}", f"B: {self.labels[1]}",
                 f"interleaved A B A B ... in one process: {self.rounds} rounds"]
        for label, samples in (("A", self.samples_a), ("B", self.samples_b)):
            d = describe(samples)
            lines.append(f"  {label}: {d['count']} queries, p50 {d['percentiles']['p50']:.4g} ms, "
                         f"p90 {d['percentiles']['p90']:.4g} ms, mean {d['mean']:.4g} ms")
        lines.append(f"B vs A: {self.verdict.reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"labels": list(self.labels), "rounds": self.rounds, "verdict": self.verdict.to_dict(),
                "samples_a": self.samples_a, "samples_b": self.samples_b, "environment": self.env}


def run_comparison(a: tuple, b: tuple, settings: BenchSettings | None = None, *,
                   alpha: float = 0.01, min_effect: float = 0.10, max_cv: float = 0.5) -> Comparison:
    """Latencies of two (model, target) pairs, one sample each in turn (A then B, on the same
    input) in one process, so that drift in machine load hits both alike, until the min
    duration and min query count are met (or the max duration); the verdict is
    ``stats.compare_latencies(A, B)`` (is B slower than A?). Not a LoadGen scenario: LoadGen
    runs one SUT at a time."""
    settings = replace(settings or BenchSettings(), scenario="SingleStream").resolved()
    suts, labels = [], []
    for model, target in (a, b):
        target, proto, library, session, _ = _open(model, target, settings)
        suts.append(LoadGenSUT(target, session, library))
        labels.append(f"{model_label(model, proto)} on {target.name}")
    for sut in suts:
        warm_up(sut, settings)
    order = np.random.default_rng(settings.seed).integers(0, len(suts[0].library), size=1 << 16)
    samples: list[list[float]] = [[], []]
    elapsed = 0.0
    start = time.perf_counter()
    max_duration = settings.max_duration_s or default_max_duration(settings, Measured(1.0, 1))
    while elapsed < max_duration and (
            elapsed < settings.min_duration_s or len(samples[0]) < settings.min_query_count):
        index = int(order[len(samples[0]) % len(order)])
        for side, sut in enumerate(suts):
            samples[side].append(sut.time_indices([index % len(sut.library)]))
        elapsed = time.perf_counter() - start
    verdict = compare_latencies(samples[0], samples[1], alpha=alpha, min_effect=min_effect, max_cv=max_cv)
    return Comparison((labels[0], labels[1]), samples[0], samples[1], len(samples[0]), verdict,
                      environment(None, settings))
