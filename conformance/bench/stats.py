"""Latency statistics: percentiles, LoadGen-style early stopping, and the regression verdict.

Pure numpy (no scipy): the regression gate imports ``compare_latencies`` and must run anywhere.

Early stopping follows MLPerf LoadGen's rule: a percentile ``p`` is reported with confidence
``c`` only when, among ``n`` queries, the chance of seeing ``t`` or fewer queries above the
true p-th percentile is at most ``1 - c``. With ``t = 1`` this gives the floors LoadGen prints:
64 queries for a p90 and 662 for a p99 at 99% confidence.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

PERCENTILES = (50.0, 90.0, 95.0, 97.0, 99.0, 99.9)
EARLY_STOPPING_CONFIDENCE = 0.99


# --------------------------------------------------------------------------- percentiles
def percentile(samples: Sequence[float], pct: float) -> float:
    """LoadGen's percentile: the sorted sample at index ``floor(n * pct / 100)``.

    Not interpolated, so a reported latency is one that a query really had."""
    values = np.sort(np.asarray(samples, dtype=np.float64))
    if values.size == 0:
        return float("nan")
    index = min(int(values.size * pct / 100.0), values.size - 1)
    return float(values[index])


def describe(samples: Sequence[float], percentiles: Sequence[float] = PERCENTILES) -> dict:
    """Percentiles, mean, min, max, std and count of latency samples (same unit in, same out)."""
    values = np.asarray(samples, dtype=np.float64)
    if values.size == 0:
        return {"count": 0, "mean": None, "min": None, "max": None, "std": None,
                "percentiles": {_pct_key(p): None for p in percentiles}}
    return {
        "count": int(values.size),
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "percentiles": {_pct_key(p): percentile(values, p) for p in percentiles},
    }


def _pct_key(pct: float) -> str:
    return f"p{pct:g}"


# --------------------------------------------------------------------------- early stopping
def _binomial_cdf_all(n: int, q: float) -> np.ndarray:
    """P(X <= k) for k = 0..n, X ~ Binomial(n, q), computed in log space (stable for large n)."""
    k = np.arange(n + 1, dtype=np.float64)
    log_pmf0 = n * math.log1p(-q)
    # log C(n, k+1)/C(n, k) = log((n - k) / (k + 1))
    steps = np.log((n - k[:-1]) / (k[:-1] + 1.0)) + math.log(q) - math.log1p(-q)
    log_pmf = np.concatenate(([log_pmf0], log_pmf0 + np.cumsum(steps)))
    return np.minimum(np.cumsum(np.exp(log_pmf)), 1.0)


def binomial_cdf(t: int, n: int, q: float) -> float:
    """P(X <= t) for X ~ Binomial(n, q)."""
    if t >= n:
        return 1.0
    if t < 0:
        return 0.0
    return float(_binomial_cdf_all(n, q)[t])


def min_queries(percentile_value: float, overlatency: int = 1,
                confidence: float = EARLY_STOPPING_CONFIDENCE) -> int:
    """Fewest queries ``n`` such that ``overlatency`` queries above the percentile still bound it
    with ``confidence``: the smallest n with P(Binomial(n, 1 - p) <= t) <= 1 - c.

    ``min_queries(0.90) == 64`` and ``min_queries(0.99) == 662`` (LoadGen's early-stopping floors);
    ``min_queries(0.99, overlatency=0) == 459`` (Server with no query over the bound)."""
    p = percentile_value / 100.0 if percentile_value > 1 else percentile_value
    q = 1.0 - p
    lo = overlatency + 1
    hi = max(lo, 16)
    while binomial_cdf(overlatency, hi, q) > 1.0 - confidence:
        hi *= 2
    while lo < hi:                       # smallest n in [lo, hi] that passes (monotone in n)
        mid = (lo + hi) // 2
        if binomial_cdf(overlatency, mid, q) <= 1.0 - confidence:
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass
class EarlyStopping:
    ok: bool
    percentile: float          # the target percentile, e.g. 90.0
    queries: int
    needed: int                # queries needed for the estimate at all (t = 1)
    discarded: int             # highest latencies the estimate may discard
    estimate: float | None     # early-stopping percentile estimate (a conservative upper bound)
    message: str


def early_stopping_estimate(samples: Sequence[float], pct: float,
                            confidence: float = EARLY_STOPPING_CONFIDENCE) -> EarlyStopping:
    """LoadGen's SingleStream/MultiStream early-stopping percentile estimate.

    The estimate is the t-th highest latency for the largest t with
    P(Binomial(n, 1 - p) <= t) <= 1 - c; fewer than ``min_queries(p)`` queries is no estimate."""
    values = np.sort(np.asarray(samples, dtype=np.float64))
    n = int(values.size)
    needed = min_queries(pct, 1, confidence)
    if n < needed:
        return EarlyStopping(False, pct, n, needed, 0, None,
                             f"only {n} queries; a p{pct:g} needs at least {needed} for early stopping "
                             f"at {confidence:.0%} confidence")
    cdf = _binomial_cdf_all(n, 1.0 - pct / 100.0)
    passing = np.nonzero(cdf <= 1.0 - confidence)[0]
    t = max(1, int(passing.max())) if passing.size else 1
    estimate = float(values[n - t])
    return EarlyStopping(True, pct, n, needed, t - 1, estimate,
                         f"{n} queries (>= {needed}); p{pct:g} early-stopping estimate {estimate:.4g} "
                         f"discards {t - 1} highest")


def server_early_stopping(samples: Sequence[float], bound: float, pct: float = 99.0,
                          confidence: float = EARLY_STOPPING_CONFIDENCE) -> EarlyStopping:
    """LoadGen's Server rule: with t queries over the latency bound, the run needs
    ``min_queries(p, t)`` queries to show with confidence c that the p-th percentile is in bound."""
    values = np.asarray(samples, dtype=np.float64)
    n = int(values.size)
    t = int(np.count_nonzero(values > bound))
    needed = min_queries(pct, t, confidence)
    ok = n >= needed
    msg = (f"{t} of {n} queries over the bound; needs >= {needed} queries" +
           ("" if ok else f" ({needed - n} more, all within the bound)"))
    return EarlyStopping(ok, pct, n, needed, t, None, msg)


# --------------------------------------------------------------------------- Mann-Whitney U
def mann_whitney_u(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test, normal approximation with tie and continuity correction.

    Returns (U of x, p-value). Agrees with ``scipy.stats.mannwhitneyu(x, y,
    alternative="two-sided", method="asymptotic", use_continuity=True)``."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    n1, n2 = a.size, b.size
    if n1 == 0 or n2 == 0:
        raise ValueError("mann_whitney_u needs two non-empty samples")
    ranks, tie_sizes = _rank_average(np.concatenate([a, b]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    n = n1 + n2
    mean_u = n1 * n2 / 2.0
    tie_term = float(((tie_sizes ** 3) - tie_sizes).sum())
    var_u = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if var_u <= 0:                       # every value equal: no evidence of a difference
        return u1, 1.0
    z = (abs(u1 - mean_u) - 0.5) / math.sqrt(var_u)
    z = max(z, 0.0)
    p = math.erfc(z / math.sqrt(2.0))    # two-sided: 2 * (1 - Phi(z))
    return u1, min(1.0, p)


def _rank_average(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks with ties given their average rank, and the sizes of the tie groups."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    boundaries = np.concatenate(([True], sorted_vals[1:] != sorted_vals[:-1], [True]))
    starts = np.nonzero(boundaries)[0]
    sizes = np.diff(starts)
    first_ranks = starts[:-1] + 1
    avg = first_ranks + (sizes - 1) / 2.0
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(avg, sizes)
    return ranks, sizes.astype(np.float64)


# --------------------------------------------------------------------------- verdict
def robust_cv(samples: Sequence[float]) -> float:
    """Coefficient of variation from the median absolute deviation (1.4826 MAD / median).

    Robust to the few spikes a shared machine adds, unlike std/mean, yet high for a
    genuinely unstable run."""
    values = np.asarray(samples, dtype=np.float64)
    med = float(np.median(values))
    if med == 0:
        return float("inf")
    return float(1.4826 * np.median(np.abs(values - med)) / med)


@dataclass
class Verdict:
    kind: str                 # slower | faster | same | inconclusive
    p_value: float
    effect_median: float      # (new - base) / base on the median
    effect_p90: float         # (new - base) / base on the 90th percentile
    cv: float                 # the larger robust CV of the two samples
    reason: str
    n_base: int = 0
    n_new: int = 0
    median_base: float = float("nan")
    median_new: float = float("nan")

    @property
    def effect(self) -> dict:
        return {"median": self.effect_median, "p90": self.effect_p90}

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return self.reason


MIN_SAMPLES = 8


def compare_latencies(base_samples: Sequence[float], new_samples: Sequence[float], *,
                      alpha: float = 0.01, min_effect: float = 0.10, max_cv: float = 0.5) -> Verdict:
    """Is ``new`` slower than ``base``? Latency samples in any one unit (ms in records).

    - inconclusive: fewer than 8 samples on a side, a robust CV above ``max_cv`` on either
      side, or a change of at least ``min_effect`` that is not significant at ``alpha``;
    - slower / faster: Mann-Whitney p < alpha and the median moved by at least ``min_effect``;
    - same: otherwise (no significant change, or a significant one smaller than ``min_effect``).
    """
    base = np.asarray(base_samples, dtype=np.float64)
    new = np.asarray(new_samples, dtype=np.float64)
    nb, nn = int(base.size), int(new.size)
    if nb < MIN_SAMPLES or nn < MIN_SAMPLES:
        return Verdict("inconclusive", float("nan"), float("nan"), float("nan"), float("nan"),
                       f"inconclusive: too few samples ({nb} base, {nn} new; need >= {MIN_SAMPLES} each)",
                       nb, nn)
    med_b, med_n = float(np.median(base)), float(np.median(new))
    p90_b, p90_n = percentile(base, 90), percentile(new, 90)
    eff_med = (med_n - med_b) / med_b if med_b > 0 else float("inf")
    eff_p90 = (p90_n - p90_b) / p90_b if p90_b > 0 else float("inf")
    cv_b, cv_n = robust_cv(base), robust_cv(new)
    cv = max(cv_b, cv_n)
    _, p = mann_whitney_u(base, new)

    def make(kind, why):
        return Verdict(kind, p, eff_med, eff_p90, cv, f"{kind}: {why}", nb, nn, med_b, med_n)

    figures = (f"median {med_b:.4g} -> {med_n:.4g} ({eff_med:+.1%}), p90 {eff_p90:+.1%}, "
               f"p={p:.2g}, cv={cv:.2f}, n={nb}/{nn}")
    if cv > max_cv:
        side = "base" if cv_b >= cv_n else "new"
        return make("inconclusive", f"{side} run too noisy (robust CV {cv:.2f} > {max_cv}); {figures}")
    significant = p < alpha
    if abs(eff_med) >= min_effect:
        if significant:
            return make("slower" if eff_med > 0 else "faster", figures)
        return make("inconclusive", f"change of {eff_med:+.1%} not significant at alpha={alpha}; {figures}")
    return make("same", f"{'no significant change' if not significant else 'change below ' + format(min_effect, '.0%')}; {figures}")
