"""The benchmark summary: LoadGen's verdict and figures read from its logs, our checks on top
(agreement or accuracy, SUT errors, a latency bound LoadGen does not hold), the text and the
result record."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..results import CaseResult
from .logs import LoadGenLog
from .settings import BenchSettings
from .stats import describe

# scenario -> (metric name, detail-log key, unit); latencies are logged in ns and shown in ms
METRICS = {
    "SingleStream": ("90th percentile latency", "result_90.00_percentile_latency_ns", "ms"),
    "MultiStream": ("99th percentile query latency", "result_99.00_percentile_per_query_latency_ns", "ms"),
    "Offline": ("samples per second", "result_samples_per_second", "samples/s"),
    "Server": ("completed samples per second", "result_completed_samples_per_sec", "samples/s"),
}
# the early-stopping estimate a --latency-bound is held against, where LoadGen holds none
EARLY_STOPPING_KEYS = {"SingleStream": "early_stopping_latency_ss", "MultiStream": "early_stopping_latency_ms"}
QPS_KEYS = ("result_qps_with_loadgen_overhead", "result_completed_samples_per_sec", "result_samples_per_second")


@dataclass
class BenchmarkSummary:
    settings: BenchSettings
    log: LoadGenLog
    service_ms: list[float]             # the SUT's time in Target.run per work item
    sut_errors: list[str]
    accuracy: dict
    env: dict
    target_name: str
    model_name: str
    input_shapes: dict = field(default_factory=dict)
    batchable: bool = False

    @property
    def scenario(self) -> str:
        return self.settings.scenario

    @property
    def accuracy_mode(self) -> bool:
        return self.settings.mode == "accuracy"

    # ------------------------------------------------------------------ verdict
    @property
    def checks(self) -> list[tuple[bool, str]]:
        events = self.log.events
        checks = []
        if not self.accuracy_mode:
            reason = events.get("result_invalid_reason", "").strip()
            checks.append((self.log.valid, f"LoadGen: Result is : {events.get('result_validity')}"
                                           + (f" ({reason})" if reason else "")
                                           + (f"; early stopping: {events['early_stopping_result'].strip()}"
                                              if events.get("early_stopping_result") else "")))
            checks += self._bound_check()
        if self.sut_errors:
            checks.append((False, f"{len(self.sut_errors)} work item(s) raised: {self.sut_errors[0]}"))
        status = self.accuracy.get("status")
        checks.append((status != "failed", f"accuracy {status}: {self.accuracy.get('message')}"))
        return checks

    def _bound_check(self) -> list[tuple[bool, str]]:
        key = EARLY_STOPPING_KEYS.get(self.scenario)
        bound = self.settings.latency_bound_ms
        estimate = self.log.ns_to_ms(key) if key else None
        if bound is None or not estimate:
            return []
        ok = estimate <= bound
        return [(ok, f"latency bound {'met' if ok else 'missed'}: early-stopping estimate {estimate:.4g} ms "
                     f"{'<=' if ok else '>'} {bound:g} ms")]

    @property
    def valid(self) -> bool:
        return all(ok for ok, _ in self.checks)

    @property
    def invalid_reasons(self) -> list[str]:
        return [why for ok, why in self.checks if not ok]

    @property
    def qps(self) -> float | None:
        return next((self.log.events[k] for k in QPS_KEYS if k in self.log.events), None)

    def metric(self) -> dict:
        name, key, unit = METRICS[self.scenario]
        value = self.log.events.get(key)
        if value is not None and unit == "ms":
            value = value / 1e6
        return {"name": name, "value": value, "unit": unit}

    # ------------------------------------------------------------------ outputs
    def to_dict(self) -> dict:
        events = self.log.events
        return {
            "scenario": self.scenario, "mode": self.settings.mode, "target": self.target_name,
            "model": self.model_name, "valid": self.valid, "result": "VALID" if self.valid else "INVALID",
            "loadgen_result": events.get("result_validity"), "invalid_reasons": self.invalid_reasons,
            "checks": [{"ok": ok, "reason": why} for ok, why in self.checks],
            "metric": None if self.accuracy_mode else self.metric(),
            "percentiles_ms": self.log.latency_percentiles_ms(),
            "mean_ms": self.log.ns_to_ms("result_mean_latency_ns"),
            "min_ms": self.log.ns_to_ms("result_min_latency_ns"), "max_ms": self.log.ns_to_ms("result_max_latency_ns"),
            "qps": self.qps, "queries": events.get("result_query_count"),
            "early_stopping": events.get("early_stopping_result"),
            "loadgen_version": events.get("loadgen_version"),
            "loadgen_logs": self.log.files,
            "samples": [round(x, 6) for x in self.service_ms],
            "service_ms": describe(self.service_ms),
            "accuracy": {k: v for k, v in self.accuracy.items() if k != "predicted"},
            "settings": self.settings.to_dict(),
            "loadgen_settings": {k[len("effective_"):]: v for k, v in events.items() if k.startswith("effective_")},
            "input_shapes": self.input_shapes, "batchable": self.batchable, "environment": self.env,
        }

    def to_record(self, *, case_id: str | None = None, framework: str = "onnx", converter: str = "",
                  arch: str | None = None) -> CaseResult:
        data = self.to_dict()
        suffix = "/accuracy" if self.accuracy_mode else ""
        return CaseResult(
            case_id=case_id or f"benchmark/{self.model_name}/{self.scenario}/{self.target_name}{suffix}",
            kind="benchmark", framework=framework, converter=converter, target=self.target_name,
            status="passed" if self.valid else "failed", arch=arch,
            seconds={"build": 0.0, "convert": 0.0, "run": sum(self.service_ms) / 1e3},
            message="Result is VALID" if self.valid else "Result is INVALID: " + "; ".join(self.invalid_reasons),
            versions={"onnx": self.env.get("packages", {}).get("onnx", ""),
                      "target": str(self.env.get("target_version", "")),
                      "loadgen": self.env.get("packages", {}).get("mlcommons-loadgen", "")},
            extra=data)

    def text(self) -> str:
        """LoadGen's own summary, then what we add: our verdict, checks, logs and environment."""
        env, th = self.env, self.env.get("threads", {})
        lines = [self.log.summary_text.rstrip(), "", "=" * 48, "conformance bench", "=" * 48,
                 f"Model    : {self.model_name}  inputs {self.input_shapes}"
                 + ("" if self.batchable else "  (no dynamic batch dim: samples run one by one)"),
                 f"Target   : {self.target_name} ({env.get('target_version', '')}, {env.get('target_precision', '')})",
                 f"Mode     : {self.settings.mode} on {self.settings.dataset} data",
                 f"Result is : {'VALID' if self.valid else 'INVALID'}"]
        lines += [f"  {'ok ' if ok else 'NO '} {why}" for ok, why in self.checks]
        service = describe(self.service_ms)
        if service["count"]:
            lines.append(f"SUT time in Target.run: {service['count']} work items, median "
                         f"{service['percentiles']['p50']:.4g} ms, p90 {service['percentiles']['p90']:.4g} ms")
        lines += [f"LoadGen logs : {self.log.folder}",
                  f"threads      : intra {th.get('intra_op_threads')}, inter {th.get('inter_op_threads')}, "
                  f"spinning {th.get('allow_spinning')} ({th.get('applied', '')})",
                  f"cpu          : {env.get('cpu_model')} x{env.get('cpu_count')}, load average "
                  f"{env.get('load_average_before')} -> {env.get('load_average')}",
                  f"packages     : {env.get('packages')}"]
        return "\n".join(lines)
