"""The four LoadGen scenarios: how queries are issued, and what makes a run valid.

A scenario is one registered class (``@register_scenario``) with its defaults, a ``run`` that
issues queries to a ``SystemUnderTest`` and returns a ``RunLog``, and ``validity`` rules. Adding
a scenario is one new class here, nothing else edited.

==============  ===========================================  =====================================
scenario        query pattern                                primary metric
==============  ===========================================  =====================================
SingleStream    one sample per query, next when done         p90 latency (early stopping: >= 64)
MultiStream     N samples per query (default 8), next when   p99 query latency (>= 662 queries)
                done
Offline         all samples available at once, in batches    samples per second
                along a dynamic batch dim (else one by one)
Server          Poisson arrivals at a target QPS (seeded),   p99 latency within the bound, QPS;
                a FIFO queue: queueing delay counts          early stopping on overlatency count
==============  ===========================================  =====================================
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable

import numpy as np

from . import stats
from .settings import RunLog, TestSettings, get_scenario, now, register_scenario, scenario_names
from .sut import SystemUnderTest

__all__ = ["Scenario", "register_scenario", "get_scenario", "scenario_names",
           "SingleStream", "MultiStream", "Offline", "Server"]


class Scenario:
    name = ""
    #: percentile of the primary latency metric (None: throughput scenario)
    percentile: float | None = None
    #: what the primary latency is measured over: "sample" latencies or "query" latencies
    defaults: dict = {}

    def run(self, sut: SystemUnderTest, settings: TestSettings, log: Callable | None = None) -> RunLog:
        raise NotImplementedError

    def metric(self, summary) -> tuple[str, float | None, str]:
        """(name, value, unit) of the primary metric."""
        raise NotImplementedError

    def validity(self, settings: TestSettings, run: RunLog, latency_stats: dict) -> list[tuple[bool, str]]:
        """(ok, reason) pairs; a run is VALID when all are ok. Common rules first."""
        checks = []
        checks.append((run.queries >= settings.min_query_count,
                       f"min query count {'met' if run.queries >= settings.min_query_count else 'NOT met'}: "
                       f"{run.queries} of {settings.min_query_count} queries"
                       + (f" before max duration {settings.max_duration_s:g} s"
                          if run.stopped_by_max_duration and run.queries < settings.min_query_count else "")))
        span_ok = run.issue_span_s >= settings.min_duration_s
        checks.append((span_ok, f"min duration {'met' if span_ok else 'NOT met (run too short)'}: "
                                f"{run.issue_span_s:.2f} s of {settings.min_duration_s:g} s"))
        if run.extra.get("errors"):
            checks.append((False, f"{run.extra['errors']} queries raised: {run.extra.get('first_error')}"))
        return checks


def _wait_until(deadline: float) -> None:
    """Sleep until ``deadline`` (perf_counter seconds); the last millisecond is spun for precision."""
    while True:
        remaining = deadline - now()
        if remaining <= 0:
            return
        time.sleep(remaining - 0.001 if remaining > 0.002 else 0)


def _issue_until_done(sut: SystemUnderTest, settings: TestSettings, size: int, counted: int):
    """Issue ``size`` seeded random samples per call, each call waited for, until the min
    duration has passed and ``counted`` per call add up to the min query count, or until the
    max duration: the loop of SingleStream, MultiStream and Offline. Returns the per-call
    latencies (ms), the start, last issue and end times, and whether max duration stopped it."""
    rng = np.random.default_rng(settings.seed)
    latencies = []
    start = now()
    last_issue = start
    stopped = False
    while True:
        elapsed = now() - start
        if elapsed >= settings.max_duration_s:
            stopped = True
            break
        if last_issue - start >= settings.min_duration_s and len(latencies) * counted >= settings.min_query_count:
            break
        indices = [int(i) for i in rng.integers(0, len(sut.library), size=size)]
        last_issue = now()
        sut.issue(indices, batch=size)
        latencies.append((now() - last_issue) * 1e3)
    return latencies, start, last_issue, now(), stopped


def _closed_loop(sut: SystemUnderTest, settings: TestSettings, samples_per_query: int) -> RunLog:
    """SingleStream and MultiStream: issue a query, wait for it, issue the next."""
    latencies, start, last_issue, end, stopped = _issue_until_done(sut, settings, samples_per_query, 1)
    return RunLog(latencies_ms=latencies, samples=len(latencies) * samples_per_query, queries=len(latencies),
                  duration_s=end - start, issue_span_s=last_issue - start, stopped_by_max_duration=stopped)


def _latency_bound_check(settings: TestSettings, value: float | None, what: str) -> list[tuple[bool, str]]:
    if settings.latency_bound_ms is None or value is None:
        return []
    ok = value <= settings.latency_bound_ms
    return [(ok, f"latency bound {'met' if ok else 'missed'}: {what} {value:.4g} ms "
                 f"{'<=' if ok else '>'} {settings.latency_bound_ms:g} ms")]


def _early_stopping_checks(scenario, settings, run, latency_stats) -> list:
    """LoadGen's early-stopping rule for the scenario's percentile, and the latency bound held
    against that estimate (the plain percentile when too few queries give no estimate)."""
    key = f"p{scenario.percentile:g}"
    es = stats.early_stopping_estimate(run.latencies_ms, scenario.percentile)
    checks = [(es.ok, f"early stopping: {es.message}")]
    checks += _latency_bound_check(settings, es.estimate if es.ok else latency_stats["percentiles"][key],
                                   f"{key} (early-stopping estimate)" if es.ok else key)
    return checks


class _ClosedLoopScenario(Scenario):
    """A query of ``query_size`` samples is issued when the previous one is done; the metric is
    a percentile of query latency, held to LoadGen's early-stopping rule."""
    metric_name = ""

    def query_size(self, settings) -> int:
        return 1

    def run(self, sut, settings, log=None):
        return _closed_loop(sut, settings, self.query_size(settings))

    def metric(self, summary):
        return (self.metric_name, summary.latency["percentiles"][f"p{self.percentile:g}"], "ms")

    def validity(self, settings, run, latency_stats):
        return super().validity(settings, run, latency_stats) + _early_stopping_checks(self, settings, run, latency_stats)


@register_scenario
class SingleStream(_ClosedLoopScenario):
    """One sample per query (a phone camera's frames); the p90 needs >= 64 queries."""
    name = "SingleStream"
    percentile = 90.0
    metric_name = "90th percentile latency"
    defaults = {"min_duration_s": 10.0, "max_duration_s": 240.0, "min_query_count": 64}


@register_scenario
class MultiStream(_ClosedLoopScenario):
    """``samples_per_query`` samples per query (a car's cameras), batched along the dynamic
    batch dim where the model has one; the p99 needs >= 662 queries."""
    name = "MultiStream"
    percentile = 99.0
    metric_name = "99th percentile query latency"
    defaults = {"min_duration_s": 10.0, "max_duration_s": 240.0, "min_query_count": 662}

    def query_size(self, settings) -> int:
        return settings.samples_per_query

    def run(self, sut, settings, log=None):
        result = super().run(sut, settings, log)
        result.extra["samples_per_query"] = settings.samples_per_query
        return result


@register_scenario
class Offline(Scenario):
    """All samples are available at once. The SUT runs them in batches of
    ``offline_batch_size`` along the model's dynamic batch dim, else back to back; the run goes
    on until both the min sample count and the min duration are reached (or max duration).
    Recorded latency samples are per batch divided by the batch size (per-sample cost)."""

    name = "Offline"
    percentile = None
    defaults = {"min_duration_s": 10.0, "max_duration_s": 240.0, "min_query_count": 64}

    def run(self, sut, settings, log=None):
        batch = settings.offline_batch_size if sut.library.batchable else 1
        per_call, start, _, end, stopped = _issue_until_done(sut, settings, batch, batch)
        per_sample = [ms / batch for ms in per_call]
        samples = len(per_call) * batch
        duration = end - start
        # LoadGen's Offline is one query of many samples; "queries" here counts samples so the
        # min count rule reads as LoadGen's min sample count
        return RunLog(latencies_ms=per_sample, samples=samples, queries=samples, duration_s=duration,
                      issue_span_s=duration, stopped_by_max_duration=stopped,
                      extra={"batch_size": batch, "batches": len(per_sample),
                             "samples_per_second": samples / duration if duration > 0 else 0.0})

    def metric(self, summary):
        return ("samples per second", summary.run.extra.get("samples_per_second"), "samples/s")


@register_scenario
class Server(Scenario):
    """Poisson arrivals at ``target_qps`` from a seeded generator, a FIFO queue and
    ``server_workers`` threads. A query's latency runs from its *scheduled* arrival to its
    completion, so queueing delay (and a late issue) counts. Without a target QPS the run
    starts with a short peak-finding calibration; without a latency bound the bound is
    derived from the calibration's single-stream p90 (and said so)."""

    name = "Server"
    percentile = 99.0
    defaults = {"min_duration_s": 20.0, "max_duration_s": 200.0, "min_query_count": 662}
    calibration_queries = 40     # each peak-finding probe: at least this many queries
    calibration_seconds = 4.0    # and at least this long, so that a queue can build up
    schedule_fill = 0.9          # a raised QPS schedules min_query_count in this fraction of max_duration
    probe_seconds = 2.0          # single-stream probe for the service time (no QPS or bound given)
    bound_factor = 10.0          # derived bound: this many single-stream p90s (p90, not the median:
                                 # on a loaded machine the tail is what the bound must allow for),
    min_derived_bound_ms = 1.0   # but no less than the thread hand-off of a Python server
    qps_margin = 0.7             # final QPS: this fraction of the highest calibrated passing QPS
    probe_headroom = 0.5         # a probe passes when its p99 is within this fraction of the bound:
                                 # short probes see less of the tail than the full run will

    def run(self, sut, settings, log=None):
        log = log or (lambda msg: None)
        extra: dict = {}
        bound = settings.latency_bound_ms
        if bound is None or settings.target_qps is None:
            probe = _closed_loop(sut, TestSettings(min_duration_s=self.probe_seconds, max_duration_s=30.0,
                                                   min_query_count=30, seed=settings.seed + 7), 1)
            service_ms = float(np.median(probe.latencies_ms))
            service_p90 = stats.percentile(probe.latencies_ms, 90)
            extra["single_stream_median_ms"] = service_ms
            extra["single_stream_p90_ms"] = service_p90
            if bound is None:
                bound = max(self.bound_factor * service_p90, self.min_derived_bound_ms)
                extra["latency_bound_derived"] = (f"max({self.bound_factor:g} x single-stream p90 {service_p90:.3g} ms, "
                                                   f"{self.min_derived_bound_ms:g} ms)")
                log(f"Server: latency bound {bound:.3g} ms ({extra['latency_bound_derived']})")
        extra["latency_bound_ms"] = bound
        qps = settings.target_qps
        if qps is None:
            qps, probes = self.calibrate(sut, settings, bound, extra["single_stream_median_ms"], log)
            extra["calibration"] = probes
            extra["target_qps_derived"] = True
            # a calibrated rate too low to issue min_query_count queries within max_duration
            # could never give a valid run: raise it to the lowest rate that can (and say so)
            floor = settings.min_query_count / (self.schedule_fill * settings.max_duration_s)
            if qps < floor:
                extra["target_qps_raised"] = (f"calibrated {qps:.3g} QPS raised to {floor:.3g} to fit "
                                              f"{settings.min_query_count} queries in {settings.max_duration_s:g} s")
                log(f"Server: {extra['target_qps_raised']}")
                qps = floor
        extra["target_qps"] = qps
        result = self.run_at(sut, settings, qps, settings.min_query_count, settings.min_duration_s,
                             settings.max_duration_s, seed=settings.seed)
        result.extra.update(extra)
        return result

    def calibrate(self, sut, settings, bound_ms, service_ms, log):
        """LoadGen-style peak finding, shortened: bisect the utilisation on short Server runs,
        keep the highest QPS whose p99 stays within ``probe_headroom`` of the bound, back off
        by ``qps_margin`` (a shared machine's load drifts between calibration and run)."""
        saturation = settings.server_workers * 1e3 / max(service_ms, 1e-6)
        lo, hi = 0.0, 1.0
        best = None
        probes = []
        util = 0.5
        for i in range(4):
            qps = util * saturation
            probe = self.run_at(sut, settings, qps, self.calibration_queries, self.calibration_seconds, 30.0,
                                seed=settings.seed + 100 + i)
            p99 = stats.percentile(probe.latencies_ms, 99)
            kept_up = (probe.extra.get("completed_qps") or 0) >= 0.9 * (probe.extra.get("scheduled_qps") or qps)
            ok = p99 <= self.probe_headroom * bound_ms and kept_up and not probe.stopped_by_max_duration
            probes.append({"qps": round(qps, 3), "p99_ms": p99, "passed": ok})
            log(f"Server calibration: {qps:.3g} QPS -> p99 {p99:.3g} ms "
                f"({'ok' if ok else f'over {self.probe_headroom:g} x bound or fell behind'})")
            if ok:
                lo, best = util, qps
            else:
                hi = util
            util = (lo + hi) / 2
        if best is None:
            best = 0.05 * saturation
        return best * self.qps_margin, probes

    def run_at(self, sut, settings, qps, min_count, min_duration_s, max_duration_s, seed) -> RunLog:
        """Schedule arrivals (as LoadGen does) until both ``min_count`` queries and
        ``min_duration_s`` are reached, none after ``max_duration_s``; then serve them."""
        rng = np.random.default_rng(seed)
        size = int(max(min_count, qps * min_duration_s) * 1.5) + 16
        while True:
            arrivals = np.concatenate(([0.0], np.cumsum(rng.exponential(1.0 / qps, size=size - 1))))
            enough = np.nonzero((np.arange(size) + 1 >= min_count) & (arrivals >= min_duration_s))[0]
            if enough.size or arrivals[-1] > max_duration_s:
                break
            size *= 2
        count = int(enough[0]) + 1 if enough.size else size
        arrivals = arrivals[:count]
        choices = rng.integers(0, len(sut.library), size=count)
        arrivals = arrivals[arrivals <= max_duration_s]
        stopped = len(arrivals) < count
        n = len(arrivals)
        pending: queue.Queue = queue.Queue()
        done = np.full(n, np.nan)
        errors: list[str] = []
        start = now() + 0.002

        def issuer():
            for i in range(n):
                _wait_until(start + arrivals[i])
                pending.put(i)
            for _ in range(settings.server_workers):
                pending.put(None)

        def worker():
            while True:
                i = pending.get()
                if i is None:
                    return
                try:
                    sut.issue([int(choices[i])])
                except Exception as exc:  # one failing query must not hang the run
                    errors.append(f"{type(exc).__name__}: {exc}")
                done[i] = now()

        threads = [threading.Thread(target=issuer, daemon=True)]
        threads += [threading.Thread(target=worker, daemon=True) for _ in range(settings.server_workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        latencies = ((done - (start + arrivals)) * 1e3).tolist()
        end = float(np.nanmax(done)) if n else start
        duration = end - start
        extra = {"scheduled_qps": (n - 1) / arrivals[-1] if n > 1 and arrivals[-1] > 0 else None,
                 "completed_qps": n / duration if duration > 0 else None}
        if errors:
            extra["errors"] = len(errors)
            extra["first_error"] = errors[0]
        return RunLog(latencies_ms=latencies, samples=n, queries=n, duration_s=duration,
                      issue_span_s=float(arrivals[-1]) if n else 0.0, stopped_by_max_duration=stopped,
                      extra=extra)

    def metric(self, summary):
        return ("99th percentile latency", summary.latency["percentiles"]["p99"], "ms")

    def validity(self, settings, run, latency_stats):
        checks = super().validity(settings, run, latency_stats)
        bound = run.extra.get("latency_bound_ms")
        p99 = latency_stats["percentiles"]["p99"]
        ok = p99 is not None and p99 <= bound
        checks.append((ok, f"latency bound {'met' if ok else 'missed'}: p99 {p99:.4g} ms "
                           f"{'<=' if ok else '>'} {bound:.4g} ms"))
        es = stats.server_early_stopping(run.latencies_ms, bound, 99.0)
        checks.append((es.ok, f"early stopping: {es.message}"))
        return checks
