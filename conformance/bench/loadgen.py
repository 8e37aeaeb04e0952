"""A load generator in the spirit of MLPerf LoadGen, for any target's session.

The pieces, as in LoadGen:

* ``TestSettings``: what to run (scenario, durations, query counts, QPS, latency bound, seed,
  warm-up, thread settings). Defaults are small (a 2-core machine); raise them to MLPerf's
  (``min_duration_s=600``) for a submission-grade run.
* ``SampleLibrary`` (LoadGen's QSL): seeded random inputs for the model's signature, and
  batching along a dynamic batch dimension where the model has one.
* ``SystemUnderTest``: a target and its prepared session; ``issue(indices)`` runs samples
  (one batched call when the model batches, else back to back) and returns per-sample outputs.
* ``run_benchmark``: warm-up, the scenario's query pattern (``scenarios.py``), the accuracy
  check against the reference executor, validity, and the summary (``summary.py``).
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np


# --------------------------------------------------------------------------- settings
@dataclass
class TestSettings:
    """LoadGen's TestSettings, the subset that means something here. ``None`` = scenario default
    (each scenario's ``defaults``). Durations in seconds, latencies in milliseconds."""

    __test__ = False     # not a pytest test class, whatever its name

    scenario: str = "SingleStream"
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    min_query_count: int | None = None
    target_qps: float | None = None            # Server; None = calibrate (peak-finding run)
    latency_bound_ms: float | None = None      # Server: p99 bound; others: optional bound on the metric
    samples_per_query: int = 8                 # MultiStream
    offline_batch_size: int = 8                # Offline, when the model has a dynamic batch dim
    server_workers: int = 1                    # Server: concurrent issue threads of the SUT
    seed: int = 0                              # sample choice and Server arrival schedule
    warmup_queries: int = 5
    performance_sample_count: int = 16         # distinct inputs in the sample library
    shapes: dict[str, list[int]] = field(default_factory=dict)  # overrides for dynamic dims
    # thread settings, recorded with the environment; for onnxruntime passed to SessionOptions
    intra_op_threads: int | None = None        # None: os.cpu_count()
    inter_op_threads: int = 1
    allow_spinning: bool = False               # spinning threads steal CPU from others on a shared box
    # accuracy check of benchmarked outputs against the reference executor in the same run
    check_accuracy: bool = True
    accuracy_samples: int = 2
    accuracy_rtol: float = 1e-3
    accuracy_atol: float = 1e-4

    def resolved(self) -> "TestSettings":
        """A copy with every ``None`` default filled from the scenario's defaults."""
        from .scenarios import get_scenario
        scenario = get_scenario(self.scenario)
        updates = {k: v for k, v in scenario.defaults.items() if getattr(self, k) is None}
        if self.max_duration_s is None and self.min_duration_s is not None:
            # a raised min duration (MLPerf's 600 s) raises the default cap with it
            updates["max_duration_s"] = max(updates["max_duration_s"], 2 * self.min_duration_s)
        if self.intra_op_threads is None:
            updates["intra_op_threads"] = os.cpu_count() or 1
        return replace(self, scenario=scenario.name, **updates)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TestSettings":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# --------------------------------------------------------------------------- models
def load_model(model):
    """A ModelProto from a path, bytes or a ModelProto."""
    import onnx
    if hasattr(model, "graph"):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    return onnx.load(str(model))


@dataclass
class InputSpec:
    name: str
    dtype: np.dtype
    dims: list                      # int or str (symbolic) or None (unknown)

    @property
    def dynamic_batch(self) -> bool:
        return len(self.dims) > 0 and not isinstance(self.dims[0], int)


def model_inputs(model) -> list[InputSpec]:
    from onnx import helper
    initializers = {init.name for init in model.graph.initializer}
    specs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dims = []
        for d in tensor.shape.dim:
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(int(d.dim_value))
            else:
                dims.append(d.dim_param or None)
        specs.append(InputSpec(value.name, np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)), dims))
    return specs


# --------------------------------------------------------------------------- sample library
class SampleLibrary:
    """Seeded inputs for one model (LoadGen's QuerySampleLibrary).

    One *sample* is the model's inputs at batch 1 (or at the fixed shape when no dim is
    dynamic). Dynamic dims take ``shapes`` overrides, else 1. When every input has a dynamic
    first dim the library batches samples along it (``batchable``)."""

    def __init__(self, model, count: int = 16, seed: int = 0, shapes: dict | None = None):
        self.inputs = model_inputs(model)
        shapes = dict(shapes or {})
        unknown = set(shapes) - {s.name for s in self.inputs}
        if unknown:
            from ..errors import ConformanceError
            raise ConformanceError(f"--shape names unknown input(s) {sorted(unknown)}",
                                   fix=f"inputs are {[s.name for s in self.inputs]}")
        self.shapes: dict[str, tuple[int, ...]] = {}
        for spec in self.inputs:
            if spec.name in shapes:
                shape = tuple(int(d) for d in shapes[spec.name])
            else:
                shape = tuple(d if isinstance(d, int) else 1 for d in spec.dims)
            self.shapes[spec.name] = shape
        self.batchable = bool(self.inputs) and all(
            s.dynamic_batch and self.shapes[s.name][0] == 1 for s in self.inputs)
        rng = np.random.default_rng(seed)
        self.samples: list[dict[str, np.ndarray]] = [
            {s.name: _random_input(rng, s.dtype, self.shapes[s.name]) for s in self.inputs}
            for _ in range(max(1, count))]

    def __len__(self) -> int:
        return len(self.samples)

    def feeds(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
        """Feeds for one call: the samples concatenated along the batch dim (batchable only)."""
        if len(indices) == 1:
            return self.samples[indices[0]]
        return {name: np.concatenate([self.samples[i][name] for i in indices], axis=0)
                for name in self.samples[0]}


def _random_input(rng: np.random.Generator, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- sessions
class DirectReferenceTarget:
    """The reference executor behind the Target interface, for when the registry has no
    ``reference`` target (it is registered by ``conformance.targets.reference``)."""
    name = "reference"
    precision = "fp32"

    def available(self):
        try:
            from ..reference import ReferenceExecutor  # noqa: F401
        except ImportError as exc:
            return False, str(exc)
        return True, ""

    def version(self):
        from ..targets.base import dist_version
        return f"onnx-conformance {dist_version('onnx-conformance')} (direct executor)"

    def prepare(self, model):
        from ..reference import ReferenceExecutor
        return ReferenceExecutor(load_model(model))

    def run(self, session, feeds):
        return session.run(None, feeds)


def _resolve_target(target):
    if not isinstance(target, str):
        return target
    from ..errors import UnknownTarget
    from ..targets import get_target
    try:
        return get_target(target)
    except UnknownTarget:
        if target == "reference":
            return DirectReferenceTarget()
        raise


def prepare_session(target, model, settings: TestSettings) -> tuple[Any, dict]:
    """Prepare a session and say how thread settings were applied.

    A target with ``session_options()`` returning onnxruntime ``SessionOptions`` (the
    onnxruntime targets) gets its own options with the thread settings applied on top, and
    the session is created here (the Target interface has no options argument); any other
    target is prepared as it is and the settings are recorded as not applied."""
    from ..targets.base import model_bytes
    data = model_bytes(model) if not hasattr(model, "graph") else model.SerializeToString()
    threads = {"intra_op_threads": settings.intra_op_threads, "inter_op_threads": settings.inter_op_threads,
               "allow_spinning": settings.allow_spinning}
    make_options = getattr(target, "session_options", None)
    if callable(make_options):
        import onnxruntime as ort
        options = make_options()
        if isinstance(options, ort.SessionOptions):
            options.intra_op_num_threads = int(settings.intra_op_threads or 0)
            options.inter_op_num_threads = int(settings.inter_op_threads or 0)
            spin = "1" if settings.allow_spinning else "0"
            options.add_session_config_entry("session.intra_op.allow_spinning", spin)
            options.add_session_config_entry("session.inter_op.allow_spinning", spin)
            providers = getattr(target, "providers", None) or ["CPUExecutionProvider"]
            session = ort.InferenceSession(data, options, providers=list(providers))
            return session, dict(threads, applied="onnxruntime SessionOptions",
                                 providers=session.get_providers())
    return target.prepare(data), dict(threads, applied=f"not applicable to target {target.name!r}")


class SystemUnderTest:
    """A target's session plus the sample library: the thing queries are issued to."""

    def __init__(self, target, session, library: SampleLibrary, output_names: list[str] | None = None):
        self.target = target
        self.session = session
        self.library = library
        self.output_names = output_names or []
        self.captured: dict[int, list[np.ndarray]] = {}   # sample index -> outputs (for accuracy)
        self.capture_limit = 0

    def run_feeds(self, feeds: dict) -> list[np.ndarray]:
        return self.target.run(self.session, feeds)

    def issue(self, indices: Sequence[int], batch: int | None = None) -> None:
        """Run the samples: in batches of ``batch`` along the dynamic batch dim when the
        library is batchable, else one after another."""
        indices = list(indices)
        step = (batch or len(indices)) if self.library.batchable else 1
        for start in range(0, len(indices), step):
            chunk = indices[start:start + step]
            outputs = self.run_feeds(self.library.feeds(chunk))
            if len(self.captured) < self.capture_limit:
                self._capture(chunk, outputs)

    def _capture(self, chunk: list[int], outputs: list[np.ndarray]) -> None:
        for pos, index in enumerate(chunk):
            if index in self.captured or len(self.captured) >= self.capture_limit:
                continue
            if len(chunk) == 1:
                self.captured[index] = [np.array(o, copy=True) for o in outputs]
            elif all(np.ndim(o) and np.shape(o)[0] == len(chunk) for o in outputs):
                self.captured[index] = [np.array(o[pos:pos + 1], copy=True) for o in outputs]


# --------------------------------------------------------------------------- environment
def environment(target=None, settings: TestSettings | None = None) -> dict:
    """What the figures depend on: packages, CPU, load, thread settings."""
    from ..targets.base import dist_version
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
        env["threads"] = {"intra_op_threads": settings.intra_op_threads,
                          "inter_op_threads": settings.inter_op_threads,
                          "allow_spinning": settings.allow_spinning,
                          "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    return env


# --------------------------------------------------------------------------- accuracy
def check_accuracy(model, library: SampleLibrary, captured: dict[int, list[np.ndarray]],
                   rtol: float, atol: float) -> dict:
    """Benchmarked outputs against the reference executor on the same inputs."""
    if not captured:
        return {"status": "unchecked", "message": "no outputs were captured during the run"}
    try:
        from ..reference import ReferenceExecutor
    except ImportError as exc:
        return {"status": "unchecked", "message": f"reference executor unavailable ({exc})"}
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
        ok, max_abs, message = _compare(outputs, expected, rtol, atol)
        worst_abs = max(worst_abs, max_abs)
        if not ok:
            return {"status": "failed", "samples": len(captured), "max_abs": max_abs,
                    "message": f"sample {index}: outputs differ from the reference executor: {message}"}
    return {"status": "passed", "samples": len(captured), "max_abs": worst_abs,
            "message": f"{len(captured)} sample(s) match the reference executor "
                       f"(max_abs {worst_abs:.3g}, rtol {rtol:g}, atol {atol:g})"}


def _compare(actual, expected, rtol, atol) -> tuple[bool, float, str]:
    try:
        from ..comparator import compare_outputs
        from ..tolerance import Tolerance
        result = compare_outputs(actual, expected, Tolerance(rtol=rtol, atol=atol))
        return bool(result.passed), float(result.max_abs or 0.0), result.message.splitlines()[0] if result.message else ""
    except ImportError:
        pass
    if len(actual) != len(expected):
        return False, float("inf"), f"{len(actual)} outputs vs {len(expected)}"
    worst = 0.0
    for a, e in zip(actual, expected):
        a, e = np.asarray(a, dtype=np.float64), np.asarray(e, dtype=np.float64)
        if a.shape != e.shape:
            return False, float("inf"), f"shape {a.shape} vs {e.shape}"
        diff = np.abs(a - e)
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
        if not np.all(diff <= atol + rtol * np.abs(e)):
            return False, worst, f"max_abs {worst:.3g} beyond rtol {rtol:g} atol {atol:g}"
    return True, worst, "ok"


# --------------------------------------------------------------------------- the run
@dataclass
class RunLog:
    """What a scenario measured: raw, before statistics."""
    latencies_ms: list[float]                 # per query (Server: from scheduled arrival)
    samples: int                              # samples processed
    queries: int
    duration_s: float                         # first issue to last completion
    issue_span_s: float                       # first issue to last issue (Server: to last scheduled)
    stopped_by_max_duration: bool = False
    extra: dict = field(default_factory=dict)


def model_label(model, proto) -> str:
    """A model's name for summaries and case ids: the file stem, or its folder's name for the
    exporter's ``NAME/model.onnx`` layout."""
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        return path.parent.name if path.stem == "model" and path.parent.name else path.stem
    return proto.graph.name or "model"


MAX_WARMUP_S = 10.0      # warm-up stops early on slow targets (the reference executor)


def now() -> float:
    return time.perf_counter()


def run_benchmark(model, target, settings: TestSettings | None = None, *, model_name: str | None = None,
                  log: Callable[[str], None] | None = None):
    """Benchmark ``model`` on ``target`` (a name or a Target) under ``settings``.

    Returns a ``summary.BenchmarkSummary``: statistics, validity with reasons, accuracy,
    settings and environment; ``.text()`` is the LoadGen-style report, ``.to_record()`` the
    result record."""
    from .scenarios import get_scenario
    from .summary import BenchmarkSummary
    settings = (settings or TestSettings()).resolved()
    scenario = get_scenario(settings.scenario)
    target = _resolve_target(target)
    ok, why = target.available()
    if not ok:
        from ..errors import ConformanceError
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
        from .stats import describe
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
    from .stats import compare_latencies
    settings = replace(settings or TestSettings(), scenario="SingleStream").resolved()
    suts, labels = [], []
    for model, target in (a, b):
        target = _resolve_target(target)
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
