"""The benchmark summary: statistics, validity and why, LoadGen-style text, and the result record."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..results import CaseResult
from . import stats
from .settings import RunLog, TestSettings


@dataclass
class BenchmarkSummary:
    scenario: Any                       # scenarios.Scenario
    settings: TestSettings
    run: RunLog
    latency: dict                       # stats.describe of the latency samples (ms)
    checks: list[tuple[bool, str]]
    accuracy: dict
    env: dict
    target_name: str
    model_name: str
    input_shapes: dict = field(default_factory=dict)
    batchable: bool = False

    @classmethod
    def build(cls, scenario, settings, run: RunLog, *, accuracy: dict, env: dict, target, model_name: str,
              input_shapes: dict | None = None, batchable: bool = False) -> "BenchmarkSummary":
        latency = stats.describe(run.latencies_ms)
        checks = scenario.validity(settings, run, latency)
        if accuracy.get("status") == "failed":
            checks.append((False, f"accuracy check failed: {accuracy['message']}"))
        else:
            checks.append((True, f"accuracy check {accuracy.get('status')}: {accuracy.get('message')}"))
        return cls(scenario, settings, run, latency, checks, accuracy, env, getattr(target, "name", str(target)),
                   model_name, input_shapes or {}, batchable)

    # ------------------------------------------------------------------ verdict
    @property
    def valid(self) -> bool:
        return all(ok for ok, _ in self.checks)

    @property
    def invalid_reasons(self) -> list[str]:
        return [why for ok, why in self.checks if not ok]

    @property
    def qps(self) -> float | None:
        """Queries (Offline: samples) per second over the run."""
        if self.scenario.name == "Offline":
            return self.run.extra.get("samples_per_second")
        if self.scenario.name == "Server":
            return self.run.extra.get("completed_qps")
        return self.run.queries / self.run.duration_s if self.run.duration_s > 0 else None

    # ------------------------------------------------------------------ outputs
    def to_dict(self) -> dict:
        metric_name, metric_value, unit = self.scenario.metric(self)
        return {
            "scenario": self.scenario.name,
            "target": self.target_name,
            "model": self.model_name,
            "valid": self.valid,
            "result": "VALID" if self.valid else "INVALID",
            "invalid_reasons": self.invalid_reasons,
            "checks": [{"ok": ok, "reason": why} for ok, why in self.checks],
            "metric": {"name": metric_name, "value": metric_value, "unit": unit},
            "percentiles_ms": self.latency["percentiles"],
            "mean_ms": self.latency["mean"], "min_ms": self.latency["min"], "max_ms": self.latency["max"],
            "std_ms": self.latency["std"],
            "qps": self.qps,
            "queries": self.run.queries,
            "samples_processed": self.run.samples,
            "duration_s": self.run.duration_s,
            "run": self.run.extra,
            "samples": [round(x, 6) for x in self.run.latencies_ms],
            "accuracy": self.accuracy,
            "settings": self.settings.to_dict(),
            "input_shapes": self.input_shapes,
            "batchable": self.batchable,
            "environment": self.env,
        }

    def to_record(self, *, case_id: str | None = None, framework: str = "onnx", converter: str = "",
                  arch: str | None = None) -> CaseResult:
        data = self.to_dict()
        return CaseResult(
            case_id=case_id or f"benchmark/{self.model_name}/{self.scenario.name}/{self.target_name}",
            kind="benchmark", framework=framework, converter=converter, target=self.target_name,
            status="passed" if self.valid else "failed", arch=arch,
            seconds={"build": 0.0, "convert": 0.0, "run": self.run.duration_s},
            message=("Result is VALID" if self.valid else "Result is INVALID: " + "; ".join(self.invalid_reasons)),
            versions={"onnx": self.env.get("packages", {}).get("onnx", ""),
                      "target": str(self.env.get("target_version", ""))},
            extra=data)

    def text(self) -> str:
        d = self.to_dict()
        run = self.run.extra
        lines = ["=" * 56, "Benchmark Results Summary (MLPerf LoadGen style)", "=" * 56,
                 f"Scenario : {self.scenario.name}", f"Target   : {self.target_name} "
                 f"({self.env.get('target_version', '')}, {self.env.get('target_precision', '')})",
                 f"Model    : {self.model_name}  inputs {self.input_shapes}"]
        name, value, unit = d["metric"]["name"], d["metric"]["value"], d["metric"]["unit"]
        lines.append(f"{name} ({unit}) : {_fmt(value)}")
        if self.scenario.name == "Server":
            lines.append(f"Target QPS          : {_fmt(run.get('target_qps'))}"
                         + ("  (calibrated by a peak-finding run)" if run.get("target_qps_derived") else "")
                         + (f"; {run['target_qps_raised']}" if run.get("target_qps_raised") else ""))
            lines.append(f"Scheduled QPS       : {_fmt(run.get('scheduled_qps'))}")
            lines.append(f"Completed QPS       : {_fmt(run.get('completed_qps'))}")
            bound_ok = not any(not ok and why.startswith("latency bound") for ok, why in self.checks)
            lines.append(f"Latency bound (ms)  : {_fmt(run.get('latency_bound_ms'))}"
                         + (f"  ({run['latency_bound_derived']})" if run.get("latency_bound_derived") else "")
                         + f"  -> {'held' if bound_ok else 'NOT held'}")
        if self.scenario.name == "Offline":
            lines.append(f"Batch size          : {run.get('batch_size')}"
                         + ("  (dynamic batch dim)" if self.batchable else "  (no dynamic batch dim: back to back)"))
        if self.scenario.name == "MultiStream":
            lines.append(f"Samples per query   : {run.get('samples_per_query')}")
        lines.append(f"Result is : {'VALID' if self.valid else 'INVALID'}")
        for ok, why in self.checks:
            lines.append(f"  {'ok ' if ok else 'NO '} {why}")
        what = "sample" if self.scenario.name == "Offline" else "query"
        lines += ["", "-" * 20 + " Additional Stats " + "-" * 18,
                  f"QPS ({'samples' if self.scenario.name == 'Offline' else 'queries'}/s)  : {_fmt(self.qps)}",
                  f"Queries             : {self.run.queries}" + (" samples" if self.scenario.name == "Offline" else ""),
                  f"Duration (s)        : {self.run.duration_s:.3f}",
                  f"Min latency (ms)    : {_fmt(self.latency['min'])}",
                  f"Max latency (ms)    : {_fmt(self.latency['max'])}",
                  f"Mean latency (ms)   : {_fmt(self.latency['mean'])}"]
        for key, val in self.latency["percentiles"].items():
            label = f"{key[1:]} percentile {what} latency (ms)"
            lines.append(f"{label:<36}: {_fmt(val)}")
        if self.scenario.name == "Offline":
            lines.append("  (Offline latencies: per-batch time / batch size)")
        env = self.env
        th = env.get("threads", {})
        lines += ["", "-" * 20 + " Test Parameters Used " + "-" * 14,
                  f"min_duration (s)    : {self.settings.min_duration_s:g}",
                  f"max_duration (s)    : {self.settings.max_duration_s:g}",
                  f"min_query_count     : {self.settings.min_query_count}",
                  f"seed                : {self.settings.seed}",
                  f"threads             : intra {th.get('intra_op_threads')}, inter {th.get('inter_op_threads')}, "
                  f"spinning {th.get('allow_spinning')} ({th.get('applied', '')})",
                  f"cpu                 : {env.get('cpu_model')} x{env.get('cpu_count')}, load average "
                  f"{env.get('load_average_before')} -> {env.get('load_average')}",
                  f"packages            : {env.get('packages')}"]
        return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.1f}"
    return str(value)
