"""What a benchmark run is told and what it measured: ``TestSettings``, the scenario registry
that fills their defaults, and ``RunLog``.

The bottom of ``conformance.bench``: it imports nothing of the package. Scenarios register
themselves here (``@register_scenario``, in ``scenarios.py`` or a plugin module); the built-in
ones are imported by name on first lookup, as the target registry does.
"""
from __future__ import annotations

import importlib
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace

from ..errors import ConformanceError

BUILTIN_SCENARIO_MODULES = ("conformance.bench.scenarios",)
SCENARIOS: dict = {}        # normalised name -> scenarios.Scenario instance


def register_scenario(cls):
    instance = cls()
    SCENARIOS[_key(instance.name)] = instance
    return cls


def _key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _load_builtin_scenarios() -> None:
    for module in BUILTIN_SCENARIO_MODULES:
        importlib.import_module(module)


def get_scenario(name: str):
    """The registered scenario called ``name`` (case, ``-`` and ``_`` ignored)."""
    _load_builtin_scenarios()
    try:
        return SCENARIOS[_key(name)]
    except KeyError:
        raise ConformanceError(f"unknown scenario {name!r}",
                               fix=f"choose one of: {', '.join(scenario_names())}") from None


def scenario_names() -> list[str]:
    _load_builtin_scenarios()
    return [s.name for s in SCENARIOS.values()]


def now() -> float:
    return time.perf_counter()


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
    # thread settings, recorded with the environment; passed to the target as TargetOptions
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
        scenario = get_scenario(self.scenario)
        updates = {k: v for k, v in scenario.defaults.items() if getattr(self, k) is None}
        if self.max_duration_s is None and self.min_duration_s is not None:
            # a raised min duration (MLPerf's 600 s) raises the default cap with it
            updates["max_duration_s"] = max(updates["max_duration_s"], 2 * self.min_duration_s)
        if self.intra_op_threads is None:
            updates["intra_op_threads"] = os.cpu_count() or 1
        return replace(self, scenario=scenario.name, **updates)

    def threads(self) -> dict:
        return {"intra_op_threads": self.intra_op_threads, "inter_op_threads": self.inter_op_threads,
                "allow_spinning": self.allow_spinning}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TestSettings":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


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
