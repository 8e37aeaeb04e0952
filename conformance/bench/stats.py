"""The noise-aware verdict between two sets of latency samples (the A/B comparison and the gate).

LoadGen computes a run's percentiles and early stopping itself; what is left here is ours:
is B slower than A? Mann-Whitney U (``scipy.stats``) for significance, a minimum effect on
the median, and a robust spread bound so that a run on a busy machine is called inconclusive
rather than slower. ``scipy`` is optional for the gate: without it ``conformance.gate`` cannot
import this module and says that benchmarks were not compared.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy.stats import mannwhitneyu

PERCENTILES = (50.0, 90.0, 95.0, 97.0, 99.0, 99.9)
MIN_SAMPLES = 8


def percentile(samples: Sequence[float], pct: float) -> float:
    """LoadGen's percentile: the sorted sample at index ``floor(n * pct / 100)``, not
    interpolated, so a reported latency is one a query really had."""
    values = np.sort(np.asarray(samples, dtype=np.float64))
    if values.size == 0:
        return float("nan")
    return float(values[min(int(values.size * pct / 100.0), values.size - 1)])


def describe(samples: Sequence[float]) -> dict:
    """Count, mean, min, max, std and LoadGen's percentiles of samples (same unit in and out)."""
    values = np.asarray(samples, dtype=np.float64)
    if values.size == 0:
        return {"count": 0, "mean": None, "min": None, "max": None, "std": None,
                "percentiles": {f"p{p:g}": None for p in PERCENTILES}}
    return {"count": int(values.size), "mean": float(values.mean()), "min": float(values.min()),
            "max": float(values.max()), "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "percentiles": {f"p{p:g}": percentile(values, p) for p in PERCENTILES}}


def robust_cv(samples: Sequence[float]) -> float:
    """1.4826 MAD / median: robust to the few spikes a shared machine adds, unlike std/mean,
    yet high for a genuinely unstable run."""
    values = np.asarray(samples, dtype=np.float64)
    med = float(np.median(values))
    return float(1.4826 * np.median(np.abs(values - med)) / med) if med else float("inf")


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


def mann_whitney_p(base: np.ndarray, new: np.ndarray) -> float:
    """Two-sided p-value; all values equal is no evidence of a difference (scipy gives nan)."""
    if np.all(base == base[0]) and np.all(new == base[0]):
        return 1.0
    return float(mannwhitneyu(base, new, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue)


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
                       f"inconclusive: too few samples ({nb} base, {nn} new; need >= {MIN_SAMPLES} each)", nb, nn)
    med_b, med_n = float(np.median(base)), float(np.median(new))
    p90_b, p90_n = percentile(base, 90), percentile(new, 90)
    eff_med = (med_n - med_b) / med_b if med_b > 0 else float("inf")
    eff_p90 = (p90_n - p90_b) / p90_b if p90_b > 0 else float("inf")
    cv_b, cv_n = robust_cv(base), robust_cv(new)
    cv = max(cv_b, cv_n)
    p = mann_whitney_p(base, new)

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
