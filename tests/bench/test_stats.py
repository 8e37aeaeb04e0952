"""Latency statistics: LoadGen early stopping, Mann-Whitney U against scipy, the verdict."""
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


# ------------------------------------------------------------------ early stopping
def test_early_stopping_floors_match_loadgen():
    assert stats.min_queries(90) == 64
    assert stats.min_queries(99) == 662
    assert stats.min_queries(99, overlatency=0) == 459     # Server, no query over the bound


@pytest.mark.parametrize("p,t", [(0.9, 1), (0.99, 1), (0.99, 3), (0.9, 10)])
def test_min_queries_is_the_smallest_passing_n(p, t):
    binom = pytest.importorskip("scipy.stats").binom
    n = stats.min_queries(p, overlatency=t)
    assert binom.cdf(t, n, 1 - p) <= 0.01 < binom.cdf(t, n - 1, 1 - p)


def test_binomial_cdf_matches_scipy():
    binom = pytest.importorskip("scipy.stats").binom
    for n, q, t in [(64, 0.1, 1), (1000, 0.01, 5), (20000, 0.1, 1900)]:
        assert stats.binomial_cdf(t, n, q) == pytest.approx(binom.cdf(t, n, q), rel=1e-9, abs=1e-300)


def test_early_stopping_needs_64_queries_for_p90():
    rng = np.random.default_rng(0)
    short = stats.early_stopping_estimate(rng.exponential(size=63), 90)
    assert not short.ok and short.needed == 64 and "at least 64" in short.message
    samples = rng.exponential(size=64)
    enough = stats.early_stopping_estimate(samples, 90)
    assert enough.ok and enough.discarded == 0
    assert enough.estimate == samples.max()        # t = 1: the highest latency is the estimate


def test_early_stopping_estimate_is_conservative():
    samples = np.random.default_rng(1).exponential(size=5000)
    es = stats.early_stopping_estimate(samples, 90)
    assert es.ok and es.discarded > 0
    assert es.estimate >= stats.percentile(samples, 90)
    # and not absurdly so: below the p95 for 5000 samples
    assert es.estimate < stats.percentile(samples, 95)


def test_server_early_stopping_counts_overlatency_queries():
    fine = [1.0] * 459
    assert stats.server_early_stopping(fine, bound=2.0).ok
    assert not stats.server_early_stopping(fine[:458], bound=2.0).ok
    one_over = [1.0] * 600 + [3.0]
    es = stats.server_early_stopping(one_over, bound=2.0)
    assert not es.ok and es.needed == 662 and "61 more" in es.message


# ------------------------------------------------------------------ Mann-Whitney U
@pytest.mark.parametrize("seed", range(6))
def test_mann_whitney_matches_scipy_with_ties(seed):
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(seed)
    a = np.round(rng.normal(10, 1, 30 + 7 * seed), 1)          # rounding makes ties
    b = np.round(rng.normal(10.3, 1.2, 45 + 3 * seed), 1)
    u, p = stats.mann_whitney_u(a, b)
    ref = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert u == pytest.approx(ref.statistic)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_whitney_all_equal_is_no_evidence():
    assert stats.mann_whitney_u([1.0] * 10, [1.0] * 12)[1] == 1.0


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
