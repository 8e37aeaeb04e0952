"""Scenarios on tiny models, short durations: query patterns, batching, validity, records."""
from __future__ import annotations

import time

import numpy as np
import pytest

from conformance.bench import loadgen, scenarios
from conformance.bench.loadgen import TestSettings, run_benchmark, run_comparison
from conformance.results import CaseResult, append, read
from conformance.targets.base import Target

pytest.importorskip("onnxruntime")


# ------------------------------------------------------------------ helpers (imported by test_cli)
def tiny_model(batch="N", features=16, out=8):
    """Gemm + Relu with a dynamic (or fixed) batch dim."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((features, out)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal((out,)).astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Add", ["h", "B"], ["a"]),
         helper.make_node("Relu", ["a"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, out])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def conv_model():
    """A conv that takes a few milliseconds: big enough for a 30% sleep to be measurable."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array((rng.standard_normal((64, 64, 3, 3)) * 0.1).astype(np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "W"], ["y"], pads=[1, 1, 1, 1])], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64, 64, 64])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def ort():
    from conformance.targets import get_target
    return get_target("onnxruntime")


class RecordingTarget(Target):
    """onnxruntime that records the feed shapes it was called with."""
    name = "recording"

    def __init__(self, sleep_s: float = 0.0):
        self.inner = ort()
        self.calls: list[tuple] = []
        self.sleep_s = sleep_s

    def prepare(self, model):
        return self.inner.prepare(model)

    def run(self, session, feeds):
        self.calls.append(tuple(v.shape for v in feeds.values()))
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return self.inner.run(session, feeds)


class SlowedTarget(Target):
    """onnxruntime that sleeps as long again as each run took: registered only in tests. (At 30%
    the comparison flaked on the shared 2-core CI machine: a sleeping target lets the other
    xdist worker in, and one run measured the slowed target 7% *faster*.)"""
    name = "onnxruntime-slowed"
    slowdown = 1.0

    def __init__(self):
        self.inner = ort()

    def prepare(self, model, options=None):
        # the same onnxruntime options as the unslowed target, so only the sleep differs
        return self.inner.prepare(model, options)

    def applied_options(self, session, options):
        return self.inner.applied_options(session, options)

    def run(self, session, feeds):
        t0 = time.perf_counter()
        out = self.inner.run(session, feeds)
        time.sleep((time.perf_counter() - t0) * self.slowdown)
        return out


class WrongTarget(RecordingTarget):
    """Fast but wrong: adds 1 to every output."""
    name = "wrong"

    def run(self, session, feeds):
        return [o + 1.0 for o in super().run(session, feeds)]


def quick(**kw) -> TestSettings:
    base = dict(min_duration_s=0.2, max_duration_s=10.0, warmup_queries=2, performance_sample_count=4)
    base.update(kw)
    return TestSettings(**base)


# ------------------------------------------------------------------ settings
def test_settings_resolve_scenario_defaults():
    s = TestSettings(scenario="multi-stream").resolved()
    assert s.scenario == "MultiStream" and s.min_query_count == 662 and s.min_duration_s > 0
    assert TestSettings(scenario="SingleStream").resolved().min_query_count == 64
    assert TestSettings(scenario="SingleStream", min_query_count=5).resolved().min_query_count == 5
    assert s.intra_op_threads >= 1
    mlperf = TestSettings(scenario="SingleStream", min_duration_s=600).resolved()
    assert mlperf.max_duration_s >= 1200                        # raising min duration raises the cap
    assert TestSettings(min_duration_s=600, max_duration_s=700).resolved().max_duration_s == 700
    with pytest.raises(Exception, match="unknown scenario"):
        TestSettings(scenario="Batch").resolved()
    assert set(scenarios.scenario_names()) == {"SingleStream", "MultiStream", "Offline", "Server"}


def test_sample_library_shapes_and_batching():
    lib = loadgen.SampleLibrary(tiny_model(), count=3, seed=1)
    assert lib.batchable and lib.shapes == {"x": (1, 16)}
    assert lib.feeds([0, 1, 2])["x"].shape == (3, 16)
    again = loadgen.SampleLibrary(tiny_model(), count=3, seed=1)
    assert np.array_equal(lib.samples[2]["x"], again.samples[2]["x"])      # seeded
    assert not loadgen.SampleLibrary(tiny_model(batch=1), count=1).batchable
    assert loadgen.SampleLibrary(tiny_model(), count=1, shapes={"x": [4, 16]}).shapes["x"] == (4, 16)
    with pytest.raises(Exception, match="unknown input"):
        loadgen.SampleLibrary(tiny_model(), shapes={"nope": [1]})


# ------------------------------------------------------------------ scenarios
def test_single_stream_valid_with_loadgen_summary():
    s = run_benchmark(tiny_model(), ort(), quick(scenario="SingleStream"), model_name="tiny")
    assert s.valid, s.invalid_reasons
    assert s.run.queries >= 64 and len(s.run.latencies_ms) == s.run.queries
    assert s.run.issue_span_s >= 0.2
    text = s.text()
    for needle in ("Scenario : SingleStream", "Result is : VALID", "90th percentile latency",
                   "99.9 percentile", "QPS", "load average"):
        assert needle in text
    assert s.accuracy["status"] in ("passed", "unchecked")


def test_latency_bound_of_one_microsecond_is_invalid():
    s = run_benchmark(tiny_model(), ort(), quick(scenario="SingleStream", latency_bound_ms=0.001))
    assert not s.valid
    assert any(r.startswith("latency bound missed") for r in s.invalid_reasons), s.invalid_reasons
    assert "Result is : INVALID" in s.text()


def test_min_query_count_the_duration_cannot_reach_is_invalid():
    s = run_benchmark(tiny_model(), RecordingTarget(sleep_s=0.01),
                      quick(scenario="SingleStream", min_query_count=10_000, max_duration_s=0.3, min_duration_s=0.1))
    assert not s.valid and s.run.stopped_by_max_duration
    reason = next(r for r in s.invalid_reasons if r.startswith("min query count"))
    assert "NOT met" in reason and "of 10000" in reason and "max duration 0.3 s" in reason


def test_too_few_queries_for_p90_is_invalid_with_early_stopping_reason():
    s = run_benchmark(tiny_model(), ort(), quick(scenario="SingleStream", min_query_count=10, min_duration_s=0.0,
                                                 max_duration_s=10))
    assert s.run.queries == 10 and not s.valid
    assert any("needs at least 64" in r for r in s.invalid_reasons)


def test_too_short_is_invalid():
    s = run_benchmark(tiny_model(), RecordingTarget(sleep_s=0.02),
                      quick(scenario="SingleStream", min_duration_s=5.0, max_duration_s=0.2, min_query_count=1))
    assert any("run too short" in r for r in s.invalid_reasons)


def test_multistream_batches_samples_per_query_along_the_batch_dim():
    target = RecordingTarget()
    s = run_benchmark(tiny_model(), target, quick(scenario="MultiStream", samples_per_query=4, min_query_count=662,
                                                  min_duration_s=0.1))
    assert s.valid, s.invalid_reasons
    assert s.run.samples == 4 * s.run.queries and s.run.queries >= 662
    timed = target.calls[2:]                          # after 2 warm-up calls of batch 1
    assert timed and all(shape == ((4, 16),) for shape in timed)
    assert "99th percentile query latency" in s.text()


def test_multistream_without_dynamic_batch_runs_back_to_back():
    target = RecordingTarget()
    s = run_benchmark(tiny_model(batch=1), target, quick(scenario="MultiStream", samples_per_query=3,
                                                         min_query_count=20, min_duration_s=0.0))
    assert s.run.queries == 20 and len(target.calls) == 2 + 3 * 20
    assert not s.valid and any("needs at least 662" in r for r in s.invalid_reasons)


def test_offline_throughput_with_batching():
    target = RecordingTarget()
    s = run_benchmark(tiny_model(), target, quick(scenario="Offline", offline_batch_size=8, min_query_count=64))
    assert s.valid, s.invalid_reasons
    assert s.run.extra["batch_size"] == 8 and s.run.samples % 8 == 0
    assert set(target.calls[2:]) == {((8, 16),)}
    sps = s.to_dict()["metric"]
    assert sps["unit"] == "samples/s" and sps["value"] == pytest.approx(s.run.samples / s.run.duration_s)


def test_offline_without_dynamic_batch_runs_one_by_one():
    target = RecordingTarget()
    s = run_benchmark(tiny_model(batch=1), target, quick(scenario="Offline", min_query_count=16))
    assert s.run.extra["batch_size"] == 1 and set(target.calls) == {((1, 16),)}


def test_server_poisson_schedule_is_seeded_and_queueing_delay_counts():
    # 10 ms service at 200 QPS offered: the queue grows, so latency >> service time
    target = RecordingTarget(sleep_s=0.010)
    s = run_benchmark(tiny_model(), target, quick(scenario="Server", target_qps=200, latency_bound_ms=30,
                                                  min_query_count=40, min_duration_s=0.0, check_accuracy=False))
    assert s.run.queries == 40
    assert s.latency["percentiles"]["p99"] > 50          # far above the 10 ms service time
    assert not s.valid and any(r.startswith("latency bound missed") for r in s.invalid_reasons)
    assert "NOT held" in s.text()
    sched = s.run.extra["scheduled_qps"]
    assert 100 < sched < 400                               # Poisson around 200


def test_server_within_capacity_holds_the_bound():
    target = RecordingTarget(sleep_s=0.002)
    s = run_benchmark(tiny_model(), target, quick(scenario="Server", target_qps=50, latency_bound_ms=100,
                                                  min_query_count=60, min_duration_s=0.5))
    assert s.latency["percentiles"]["p99"] < 100
    assert any(ok and why.startswith("latency bound met") for ok, why in s.checks)
    # 60 queries are too few to show a p99 with confidence: LoadGen's Server early stopping
    assert any("needs >= 459" in r for r in s.invalid_reasons)


def test_server_same_seed_same_schedule():
    lib = loadgen.SampleLibrary(tiny_model(), count=2)
    sut = loadgen.SystemUnderTest(ort(), ort().prepare(tiny_model()), lib)
    settings = quick(scenario="Server").resolved()
    server = scenarios.get_scenario("Server")
    a = server.run_at(sut, settings, 2000, 20, 0.0, 5.0, seed=3)
    b = server.run_at(sut, settings, 2000, 20, 0.0, 5.0, seed=3)
    assert a.issue_span_s == b.issue_span_s and a.queries == b.queries == 20


def test_server_calibrates_qps_and_bound_when_not_given(monkeypatch):
    monkeypatch.setattr(scenarios.Server, "calibration_seconds", 0.2)
    monkeypatch.setattr(scenarios.Server, "calibration_queries", 20)
    monkeypatch.setattr(scenarios.Server, "probe_seconds", 0.2)
    target = RecordingTarget(sleep_s=0.004)
    s = run_benchmark(tiny_model(), target, quick(scenario="Server", min_query_count=30, min_duration_s=0.0,
                                                  check_accuracy=False))
    extra = s.run.extra
    assert extra["target_qps_derived"] and len(extra["calibration"]) == 4
    assert extra["latency_bound_ms"] == pytest.approx(10 * extra["single_stream_p90_ms"])   # derived
    assert extra["single_stream_median_ms"] >= 4.0                # the 4 ms sleep
    assert 0 < extra["target_qps"] < 250                            # below saturation (1 / 4 ms)
    assert "calibrated by a peak-finding run" in s.text()


def test_fast_but_wrong_is_invalid():
    pytest.importorskip("conformance.reference")
    s = run_benchmark(tiny_model(), WrongTarget(), quick(scenario="SingleStream"))
    if s.accuracy["status"] == "unchecked":
        pytest.skip(s.accuracy["message"])
    assert s.accuracy["status"] == "failed" and not s.valid
    assert any("accuracy check failed" in r for r in s.invalid_reasons)


# ------------------------------------------------------------------ records
def test_record_carries_statistics_and_round_trips(tmp_path):
    s = run_benchmark(tiny_model(), ort(), quick(scenario="SingleStream"), model_name="tiny")
    record = s.to_record()
    assert isinstance(record, CaseResult) and record.kind == "benchmark" and record.status == "passed"
    assert record.case_id == "benchmark/tiny/SingleStream/onnxruntime"
    extra = record.extra
    assert len(extra["samples"]) == s.run.queries
    assert {"percentiles_ms", "qps", "valid", "settings", "environment", "accuracy"} <= set(extra)
    env = extra["environment"]
    assert env["packages"]["onnxruntime"] and "load_average" in env and env["cpu_count"]
    assert env["threads"]["applied"] == "onnxruntime SessionOptions"
    append(tmp_path / "r.jsonl", [record])
    back = read(tmp_path / "r.jsonl")[0]
    assert back.extra["samples"] == extra["samples"]


def test_thread_settings_reach_onnxruntime_session_options():
    settings = quick(intra_op_threads=1, inter_op_threads=1, allow_spinning=True).resolved()
    session, info = loadgen.prepare_session(ort(), tiny_model(), settings)
    assert info["intra_op_threads"] == 1 and info["allow_spinning"] is True
    opts = session.get_session_options()
    assert opts.intra_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "1"


# ------------------------------------------------------------------ comparison
# The two comparison tests run each session on one thread: two sessions of two threads beside
# the other xdist worker oversubscribe the 2-core CI machine, and the A/B then measured the
# same model 69% slower on its second session (a scheduling artefact, not a difference).
def test_slowed_target_compares_slower():
    settings = quick(min_query_count=100, min_duration_s=0.3, intra_op_threads=1)
    # CI shares two cores with the other xdist worker, and a sleeping target is noisier than
    # the machine: allow a wider spread here (the too-noisy rule itself is tested in
    # test_stats.py), so this tests what it says: twice as slow is found slower.
    cmp = run_comparison((conv_model(), ort()), (conv_model(), SlowedTarget()), settings, max_cv=1.5)
    assert len(cmp.samples_a) >= 60 and len(cmp.samples_a) == len(cmp.samples_b)
    assert cmp.verdict.kind == "slower", cmp.verdict.reason
    assert cmp.verdict.effect_median > 0.15


def test_same_model_twice_is_not_slower():
    settings = quick(min_query_count=60, min_duration_s=0.3, intra_op_threads=1)
    cmp = run_comparison((conv_model(), ort()), (conv_model(), ort()), settings)
    assert cmp.verdict.kind != "slower", cmp.verdict.reason
