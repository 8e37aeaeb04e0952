"""The verdict of the A/B comparison and the gate: percentiles, Mann-Whitney U (scipy), effect and noise rules."""
import math

import numpy as np
import pytest

from conformance.bench import stats


# ------------------------------------------------------------------ percentiles
def test_percentile_is_loadgen_index_not_interpolated():
    samples = list(range(100, 0, -1))          # 1..100, unsorted
    assert stats.percentile(samples, 90) == 91.0     # sorted[int(100 * 0.9)]
    assert stats.percentile(samples, 50) == 51.0
    assert stats.percentile(samples, 99.9) == 100.0
    assert math.isnan(stats.percentile([], 90))


def test_describe_reports_all_loadgen_percentiles():
    d = stats.describe(np.arange(1, 1001, dtype=float))
    assert set(d["percentiles"]) == {"p50", "p90", "p95", "p97", "p99", "p99.9"}
    assert d["count"] == 1000 and d["min"] == 1 and d["max"] == 1000 and d["mean"] == 500.5
    assert d["percentiles"]["p99.9"] == 1000.0


# ------------------------------------------------------------------ Mann-Whitney U (scipy)
def test_all_equal_samples_are_no_evidence():
    # scipy's asymptotic test gives nan when every value is equal; the verdict must say "same"
    v = stats.compare_latencies([1.0] * 10, [1.0] * 12)
    assert v.p_value == 1.0 and v.kind == "same"


def test_p_value_is_two_sided():
    rng = np.random.default_rng(7)
    a, b = _lat(rng, 10.0, 50), _lat(rng, 11.0, 50)
    assert stats.mann_whitney_p(a, b) == pytest.approx(stats.mann_whitney_p(b, a))
    assert stats.mann_whitney_p(a, b) < 0.01


# ------------------------------------------------------------------ verdict
def _lat(rng, median, n=200, spread=0.05):
    return median * np.exp(rng.normal(0, spread, n))


def test_verdict_slower_faster_same():
    rng = np.random.default_rng(2)
    base = _lat(rng, 10.0)
    slower = stats.compare_latencies(base, _lat(rng, 13.0))
    assert slower.kind == "slower" and slower.p_value < 0.01 and slower.effect_median == pytest.approx(0.3, abs=0.03)
    assert slower.reason.startswith("slower:") and "\n" not in slower.reason
    assert stats.compare_latencies(base, _lat(rng, 7.0)).kind == "faster"
    same = stats.compare_latencies(base, _lat(rng, 10.0))
    assert same.kind == "same" and abs(same.effect_median) < 0.05


def test_significant_but_small_change_is_same():
    rng = np.random.default_rng(3)
    v = stats.compare_latencies(_lat(rng, 10.0, 2000, 0.01), _lat(rng, 10.3, 2000, 0.01))
    assert v.p_value < 0.01 and v.kind == "same" and "below 10%" in v.reason


def test_high_cv_is_inconclusive():
    rng = np.random.default_rng(4)
    noisy = rng.uniform(1, 30, 200)                  # robust CV ~ 0.7
    v = stats.compare_latencies(_lat(rng, 10.0), noisy)
    assert v.kind == "inconclusive" and "too noisy" in v.reason and v.cv > 0.5


def test_big_but_not_significant_change_is_inconclusive():
    v = stats.compare_latencies([10, 11, 12, 10, 11, 12, 10, 11], [13, 14, 11, 12, 15, 13, 14, 10], max_cv=1.0)
    assert v.kind == "inconclusive" and "not significant" in v.reason


def test_too_few_samples_is_inconclusive():
    assert stats.compare_latencies([1.0] * 5, [2.0] * 50).kind == "inconclusive"


def test_verdict_serializes():
    rng = np.random.default_rng(5)
    d = stats.compare_latencies(_lat(rng, 1.0), _lat(rng, 1.0)).to_dict()
    assert {"kind", "p_value", "effect_median", "effect_p90", "cv", "reason"} <= set(d)
