"""A load generator in the spirit of MLPerf LoadGen, for any registered target.

The pieces, as in LoadGen:

* ``TestSettings`` (``settings.py``): what to run (scenario, durations, query counts, QPS,
  latency bound, seed, warm-up, thread settings). Defaults are small (a 2-core machine); raise
  them to MLPerf's (``min_duration_s=600``) for a submission-grade run.
* ``SampleLibrary`` and ``SystemUnderTest`` (``sut.py``): seeded inputs, and a target's session
  prepared with the thread settings as ``TargetOptions``.
* ``run_benchmark``: warm-up, the scenario's query pattern (``scenarios.py``), the accuracy
  check against the reference executor, validity, and the summary (``summary.py``);
  ``run_comparison``: two (model, target) pairs interleaved, A B A B.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..comparator import compare_outputs
from ..errors import ConformanceError
from ..reference import ReferenceExecutor
from ..targets.base import dist_version
from ..tolerance import Tolerance
from .scenarios import get_scenario
from .settings import RunLog, TestSettings, now
from .stats import compare_latencies, describe
from .summary import BenchmarkSummary
from .sut import SampleLibrary, SystemUnderTest, load_model, prepare_session, resolve_target

__all__ = ["TestSettings", "RunLog", "SampleLibrary", "SystemUnderTest", "prepare_session", "load_model",
           "resolve_target", "environment", "check_accuracy", "model_label", "now", "run_benchmark",
           "Comparison", "run_comparison"]


# --------------------------------------------------------------------------- environment
def environment(target=None, settings: TestSettings | None = None) -> dict:
    """What the figures depend on: packages, CPU, load, thread settings."""
    cpu_model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "packages": {name: dist_version(name) for name in ("numpy", "onnx", "onnxruntime")},
    }
    if target is not None:
        try:
            env["target_version"] = target.version()
        except Exception as exc:  # a target that cannot say its version still benchmarks
            env["target_version"] = f"unknown ({type(exc).__name__})"
        env["target_precision"] = getattr(target, "precision", "")
    if settings is not None:
        env["threads"] = dict(settings.threads(), OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS"))
    return env


# --------------------------------------------------------------------------- accuracy
def check_accuracy(model, library: SampleLibrary, captured: dict[int, list[np.ndarray]],
                   rtol: float, atol: float) -> dict:
    """Benchmarked outputs against the reference executor on the same inputs."""
    if not captured:
        return {"status": "unchecked", "message": "no outputs were captured during the run"}
    try:
        executor = ReferenceExecutor(model)
    except Exception as exc:
        return {"status": "unchecked", "message": f"reference executor cannot load the model: "
                                                  f"{type(exc).__name__}: {exc}"}
    worst_abs = 0.0
    for index, outputs in sorted(captured.items()):
        try:
            expected = executor.run(None, library.samples[index])
        except Exception as exc:
            return {"status": "unchecked", "message": f"reference executor failed: {type(exc).__name__}: {exc}"}
        result = compare_outputs(outputs, expected, Tolerance(rtol=rtol, atol=atol))
        max_abs = float(result.max_abs or 0.0)
        worst_abs = max(worst_abs, max_abs)
        if not result.passed:
            message = result.message.splitlines()[0] if result.message else ""
            return {"status": "failed", "samples": len(captured), "max_abs": max_abs,
                    "message": f"sample {index}: outputs differ from the reference executor: {message}"}
    return {"status": "passed", "samples": len(captured), "max_abs": worst_abs,
            "message": f"{len(captured)} sample(s) match the reference executor "
                       f"(max_abs {worst_abs:.3g}, rtol {rtol:g}, atol {atol:g})"}


# --------------------------------------------------------------------------- the run
def model_label(model, proto) -> str:
    """A model's name for summaries and case ids: the file stem, or its folder's name for the
    exporter's ``NAME/model.onnx`` layout."""
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        return path.parent.name if path.stem == "model" and path.parent.name else path.stem
    return proto.graph.name or "model"


MAX_WARMUP_S = 10.0      # warm-up stops early on slow targets (the reference executor)


def run_benchmark(model, target, settings: TestSettings | None = None, *, model_name: str | None = None,
                  log: Callable[[str], None] | None = None):
    """Benchmark ``model`` on ``target`` (a name or a Target) under ``settings``.

    Returns a ``summary.BenchmarkSummary``: statistics, validity with reasons, accuracy,
    settings and environment; ``.text()`` is the LoadGen-style report, ``.to_record()`` the
    result record."""
    settings = (settings or TestSettings()).resolved()
    scenario = get_scenario(settings.scenario)
    target = resolve_target(target)
    ok, why = target.available()
    if not ok:
        raise ConformanceError(f"target {target.name!r} is unavailable: {why}")
    proto = load_model(model)
    if model_name is None:
        model_name = model_label(model, proto)
    library = SampleLibrary(proto, settings.performance_sample_count, settings.seed, settings.shapes)
    session, threads = prepare_session(target, proto, settings)
    sut = SystemUnderTest(target, session, library)
    env_before = environment(target, settings)
    warm = np.random.default_rng(settings.seed + 1)
    warm_start = now()
    for _ in range(settings.warmup_queries):
        sut.issue([int(warm.integers(len(library)))])
        if now() - warm_start > MAX_WARMUP_S:
            break
    sut.capture_limit = settings.accuracy_samples if settings.check_accuracy else 0
    run_log = scenario.run(sut, settings, log=log)
    accuracy = (check_accuracy(proto, library, sut.captured, settings.accuracy_rtol, settings.accuracy_atol)
                if settings.check_accuracy else {"status": "unchecked", "message": "disabled by settings"})
    env = environment(target, settings)
    env["load_average_before"] = env_before["load_average"]
    env["threads"].update(threads)
    return BenchmarkSummary.build(scenario, settings, run_log, accuracy=accuracy, env=env,
                                  target=target, model_name=model_name,
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


def run_comparison(a: tuple, b: tuple, settings: TestSettings | None = None, *, chunk: int = 1,
                   alpha: float = 0.01, min_effect: float = 0.10, max_cv: float = 0.5,
                   log: Callable[[str], None] | None = None) -> Comparison:
    """SingleStream latencies of two (model, target) pairs, interleaved in rounds of ``chunk``
    queries (A then B, on the same inputs) in one process, so that drift in machine load hits
    both alike; the verdict is ``stats.compare_latencies(A, B)`` (is B slower than A?).
    Both sessions get the same thread settings (``prepare_session``)."""
    settings = replace(settings or TestSettings(), scenario="SingleStream").resolved()
    suts, labels = [], []
    for model, target in (a, b):
        target = resolve_target(target)
        proto = load_model(model)
        library = SampleLibrary(proto, settings.performance_sample_count, settings.seed, settings.shapes)
        session, _ = prepare_session(target, proto, settings)
        suts.append(SystemUnderTest(target, session, library))
        labels.append(f"{model_label(model, proto)} on {target.name}")
    for sut in suts:
        for _ in range(settings.warmup_queries):
            sut.issue([0])
    rng = np.random.default_rng(settings.seed)
    samples: list[list[float]] = [[], []]
    start = now()
    rounds = 0
    while True:
        elapsed = now() - start
        if elapsed >= settings.max_duration_s:
            break
        if elapsed >= settings.min_duration_s and min(map(len, samples)) >= settings.min_query_count:
            break
        indices = [int(i) for i in rng.integers(0, len(suts[0].library), size=chunk)]
        for side, sut in enumerate(suts):
            for index in indices:
                t0 = now()
                sut.issue([index % len(sut.library)])
                samples[side].append((now() - t0) * 1e3)
        rounds += 1
    verdict = compare_latencies(samples[0], samples[1], alpha=alpha, min_effect=min_effect, max_cv=max_cv)
    return Comparison((labels[0], labels[1]), samples[0], samples[1], rounds, verdict,
                      environment(None, settings))
