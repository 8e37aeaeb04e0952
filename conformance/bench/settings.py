"""What a benchmark run is told (``BenchSettings``), and how that becomes LoadGen's own
``TestSettings`` (``loadgen_settings``).

The bottom of ``conformance.bench``: it imports nothing of the package but errors, and
``mlperf_loadgen`` only inside ``loadgen_settings``. Scenarios are LoadGen's: the table
``SCENARIOS`` holds, per scenario, the defaults we give it (small, for a 2-core CI machine:
MLPerf's own are 600 s minimums, in LoadGen's ``mlperf.conf``).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace

from ..errors import ConformanceError


@dataclass(frozen=True)
class ScenarioDefaults:
    """Our defaults for one LoadGen scenario. ``min_query_count`` is LoadGen's early-stopping
    floor for the scenario's percentile (64 queries for a p90, 662 for a p99)."""
    name: str
    min_duration_s: float
    min_query_count: int


SCENARIOS = {s.name.lower(): s for s in (
    ScenarioDefaults("SingleStream", min_duration_s=5.0, min_query_count=64),
    ScenarioDefaults("MultiStream", min_duration_s=5.0, min_query_count=662),
    ScenarioDefaults("Offline", min_duration_s=5.0, min_query_count=64),
    ScenarioDefaults("Server", min_duration_s=5.0, min_query_count=459),   # p99 with no query over the bound
)}
MODES = {"performance": "PerformanceOnly", "accuracy": "AccuracyOnly"}


def scenario_defaults(name: str) -> ScenarioDefaults:
    """The scenario called ``name`` (case, ``-`` and ``_`` ignored)."""
    try:
        return SCENARIOS[name.lower().replace("-", "").replace("_", "")]
    except KeyError:
        raise ConformanceError(f"unknown scenario {name!r} (LoadGen knows {', '.join(scenario_names())})",
                               fix=f"choose one of: {', '.join(scenario_names())}") from None


def scenario_names() -> list[str]:
    return [s.name for s in SCENARIOS.values()]


@dataclass
class BenchSettings:
    """Our options for one run. ``None`` = the scenario's default (``SCENARIOS``). Durations in
    seconds, latencies in milliseconds; ``loadgen_settings`` converts to LoadGen's units."""

    scenario: str = "SingleStream"
    mode: str = "performance"                  # performance | accuracy (LoadGen's AccuracyOnly)
    dataset: str = "random"                    # the sample library: random inputs, or digits (labelled)
    min_duration_s: float | None = None
    max_duration_s: float | None = None        # None: default_max_duration
    min_query_count: int | None = None
    target_qps: float | None = None            # Server; None: server_utilization x measured capacity
    latency_bound_ms: float | None = None      # Server: LoadGen's p99 bound; others: our check
    samples_per_query: int = 8                 # MultiStream
    offline_batch_size: int = 8                # Offline, along a dynamic batch dim
    server_workers: int = 1                    # threads of the SUT serving queries
    server_utilization: float = 0.5            # default Server QPS as a fraction of the warm-up capacity
    seed: int = 0                              # random inputs and LoadGen's three RNG seeds
    warmup_queries: int = 5
    performance_sample_count: int = 16         # distinct random inputs in the sample library
    shapes: dict[str, list[int]] = field(default_factory=dict)
    intra_op_threads: int | None = None        # None: os.cpu_count()
    inter_op_threads: int = 1
    allow_spinning: bool = False               # spinning threads steal CPU from others on a shared box
    check_accuracy: bool = True                # random inputs: outputs against the reference executor
    accuracy_samples: int = 2
    accuracy_rtol: float = 1e-3
    accuracy_atol: float = 1e-4
    fp32_accuracy: float | None = None         # accuracy mode: the FP32 top-1 (None: reference executor)
    user_conf: str | None = None               # a LoadGen user.conf applied over these settings
    log_dir: str | None = None                 # LoadGen's log folder (None: a temporary one)

    def resolved(self) -> "BenchSettings":
        """A copy with the scenario's defaults filled in and names normalised."""
        defaults = scenario_defaults(self.scenario)
        if self.mode not in MODES:
            raise ConformanceError(f"unknown mode {self.mode!r}", fix=f"choose one of: {', '.join(MODES)}")
        min_duration = defaults.min_duration_s if self.min_duration_s is None else self.min_duration_s
        return replace(
            self, scenario=defaults.name, min_duration_s=min_duration,
            min_query_count=defaults.min_query_count if self.min_query_count is None else self.min_query_count,
            intra_op_threads=self.intra_op_threads or os.cpu_count() or 1)

    def threads(self) -> dict:
        return {"intra_op_threads": self.intra_op_threads, "inter_op_threads": self.inter_op_threads,
                "allow_spinning": self.allow_spinning}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "BenchSettings":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


SUT_OVERHEAD_MS = 0.2     # LoadGen -> Python callback -> worker thread -> QuerySamplesComplete, measured ~0.1 ms


@dataclass(frozen=True)
class Measured:
    """What the warm-up measured, for the settings LoadGen wants up front: the expected
    latency (SingleStream, MultiStream), expected QPS (Offline) and the Server rate."""
    query_ms: float          # the fastest warm-up query of the scenario's size
    samples_per_query: int


def server_defaults(settings: BenchSettings, measured: Measured) -> tuple[float, float]:
    """(target QPS, latency bound ms) for Server when not given: ``server_utilization`` of the
    capacity the warm-up measured (with the Python SUT's own cost per query), and a bound of
    20 x the warm-up query latency, at least 10 ms. Poisson arrivals queue: measured on ResNet50
    at 40% load with a 10 x bound, the p99 sat at the bound (one query over it in 459: INVALID),
    as M/M/1 predicts (P(wait > t) = rho exp(-(1 - rho) t / service) ~ 1e-3); at 50% load and
    20 x it is ~2e-5, and the 459 queries of a p99 still fit in minutes on a loaded machine."""
    capacity = settings.server_workers * 1e3 / (measured.query_ms + SUT_OVERHEAD_MS)
    qps = settings.target_qps or settings.server_utilization * capacity
    bound = settings.latency_bound_ms or max(20.0 * measured.query_ms, 10.0)
    return qps, bound


def default_max_duration(settings: BenchSettings, measured: Measured) -> float:
    """Seconds: 4 x the min duration, at least 60, and twice the time the min query count
    takes at the expected pace (a Server at 7 QPS needs 66 s for its 459 queries)."""
    qps = server_defaults(settings, measured)[0] if settings.scenario == "Server" else \
        1e3 / max(measured.query_ms, 1e-3)
    return max(60.0, 4 * settings.min_duration_s, 2 * settings.min_query_count / qps)


def loadgen_settings(settings: BenchSettings, measured: Measured, model_name: str):
    """LoadGen's ``TestSettings`` from ours, then ``settings.user_conf`` over them (read as
    LoadGen reads a user.conf, keyed ``model.scenario.key``; MLPerf's mlperf.conf with its 600 s
    minimums is not applied: copy its lines into the user.conf for a submission-grade run)."""
    import mlperf_loadgen as lg
    ts = lg.TestSettings()
    ts.scenario = getattr(lg.TestScenario, settings.scenario)
    ts.mode = getattr(lg.TestMode, MODES[settings.mode])
    ts.min_duration_ms = int(settings.min_duration_s * 1e3)
    ts.max_duration_ms = int(1e3 * (settings.max_duration_s or default_max_duration(settings, measured)))
    ts.min_query_count = settings.min_query_count
    ts.qsl_rng_seed = ts.sample_index_rng_seed = ts.schedule_rng_seed = settings.seed
    # LoadGen generates its queries up front from these: too few (the run was faster than
    # expected) ends it before the min duration, INVALID; too many only cost memory. Hence the
    # expected latency at half the fastest warm-up query and Offline's rate at 1.25 x its pace.
    expected_ns = max(int(measured.query_ms * 1e6 / 2), 1000)
    ts.single_stream_expected_latency_ns = ts.multi_stream_expected_latency_ns = expected_ns
    ts.multi_stream_samples_per_query = settings.samples_per_query
    ts.offline_expected_qps = 1.25e3 * measured.samples_per_query / max(measured.query_ms, 1e-3)
    qps, bound = server_defaults(settings, measured)
    ts.server_target_qps = qps
    ts.server_target_latency_ns = int(bound * 1e6)
    if settings.user_conf:
        apply_user_conf(ts, settings.user_conf, model_name, settings.scenario)
    return ts


def apply_user_conf(ts, path: str, model_name: str, scenario: str) -> None:
    """LoadGen's own parser over ``path``; an unreadable or malformed file is a one-line error."""
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise ConformanceError(f"user.conf {path} cannot be read", fix="pass a readable LoadGen user.conf file")
    # conf_type 2: the file alone (1 would load mlperf.conf first, and only once per process)
    if ts.FromConfig(path, model_name, scenario, 2) != 0:
        raise ConformanceError(f"user.conf {path} is not in LoadGen's format",
                               fix="write lines 'model.Scenario.key = number', e.g. '*.SingleStream.min_duration = 10000'")
