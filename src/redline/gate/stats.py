"""Statistics for the gate: confidence intervals on rates and tests for regressions.

Distributions come from scipy.stats (imported on first use: it costs about a second) and
the standard library's NormalDist; only the Wilson score interval, a closed formula, is
written out here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def to_list(self) -> list[float]:
        return [round(self.low, 4), round(self.high, 4)]


def wilson(k: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for k successes in n trials; (0, 1) when n is 0."""
    if n == 0:
        return Interval(0.0, 1.0)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> Interval:
    """Exact (Clopper-Pearson) interval for k successes in n trials; (0, 1) when n is 0."""
    if n == 0:
        return Interval(0.0, 1.0)
    from scipy.stats import beta

    tail = (1 - confidence) / 2
    low = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - tail, k + 1, n - k))
    return Interval(low, high)


def interval(method: str, k: int, n: int, confidence: float) -> Interval:
    return wilson(k, n, confidence) if method == "wilson" else clopper_pearson(k, n, confidence)


@dataclass(frozen=True)
class RateEstimate:
    """A failure (or error) rate with both intervals."""

    k: int
    n: int
    rate: float
    wilson: Interval
    exact: Interval

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "n": self.n, "rate": round(self.rate, 4),
                "wilson_ci": self.wilson.to_list(), "exact_ci": self.exact.to_list()}


def estimate(k: int, n: int, confidence: float = 0.95) -> RateEstimate:
    return RateEstimate(k, n, k / n if n else 0.0, wilson(k, n, confidence),
                        clopper_pearson(k, n, confidence))


@dataclass(frozen=True)
class TestResult:
    """A regression test of candidate against baseline failure rates.

    diff > 0 means the candidate fails more often. For McNemar, `discordant` is
    (fixed, broken): pairs that went fail->pass and pass->fail.
    """

    test: str  # "mcnemar-exact" | "fisher-exact"
    p_value: float
    diff: float
    baseline_rate: float
    candidate_rate: float
    n_baseline: int
    n_candidate: int
    odds_ratio: float | None
    odds_ratio_corrected: bool = False
    discordant: tuple[int, int] | None = None
    p_adjusted: float | None = None

    @property
    def p(self) -> float:
        return self.p_adjusted if self.p_adjusted is not None else self.p_value

    def significant(self, alpha: float) -> bool:
        return self.p < alpha

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["p_value"] = _round_p(self.p_value)
        d["p_adjusted"] = None if self.p_adjusted is None else _round_p(self.p_adjusted)
        for key in ("diff", "baseline_rate", "candidate_rate"):
            d[key] = round(d[key], 4)
        if self.odds_ratio is not None:
            d["odds_ratio"] = round(self.odds_ratio, 4)
        d["discordant"] = list(self.discordant) if self.discordant else None
        return d

    def describe(self) -> str:
        p = f"p={_round_p(self.p_value):.4g}"
        if self.p_adjusted is not None:
            p += f" (adjusted {_round_p(self.p_adjusted):.4g})"
        extra = ""
        if self.discordant is not None:
            extra = f", {self.discordant[0]} fixed / {self.discordant[1]} broken"
        if self.odds_ratio is not None:
            extra += f", OR={self.odds_ratio:.3g}" + ("*" if self.odds_ratio_corrected else "")
        return f"{self.test} {p}, diff={self.diff:+.1%}{extra}"


def _round_p(p: float) -> float:
    return float(f"{p:.6g}")


def mcnemar_exact(both_fail: int, fixed: int, broken: int, both_pass: int) -> TestResult:
    """Exact McNemar on paired outcomes: a two-sided binomial test on the discordant pairs.

    fixed = pairs fail (baseline) -> pass (candidate); broken = pass -> fail. The rate
    difference is (broken - fixed) / pairs; the conditional odds ratio is broken / fixed,
    with 0.5 added to both when either is 0 (Haldane-Anscombe).
    """
    from scipy.stats import binomtest

    n = both_fail + fixed + broken + both_pass
    m = fixed + broken
    p = 1.0 if m == 0 else float(binomtest(broken, m, 0.5, alternative="two-sided").pvalue)
    corrected = fixed == 0 or broken == 0
    odds = (broken + 0.5) / (fixed + 0.5) if corrected else broken / fixed
    rate_b = (both_fail + fixed) / n if n else 0.0
    rate_c = (both_fail + broken) / n if n else 0.0
    return TestResult("mcnemar-exact", min(1.0, p), rate_c - rate_b, rate_b, rate_c, n, n,
                      odds if m else None, corrected and m > 0, (fixed, broken))


def fisher_two_proportions(fail_base: int, n_base: int, fail_cand: int,
                           n_cand: int) -> TestResult:
    """Fisher's exact test on the 2x2 table of failures and passes in two independent runs."""
    from scipy.stats import fisher_exact

    table = [[fail_cand, n_cand - fail_cand], [fail_base, n_base - fail_base]]
    if n_base == 0 or n_cand == 0:
        p, odds = 1.0, None
    else:
        res = fisher_exact(table, alternative="two-sided")
        p = float(res.pvalue)
        odds = float(res.statistic) if math.isfinite(float(res.statistic)) else None
    rate_b = fail_base / n_base if n_base else 0.0
    rate_c = fail_cand / n_cand if n_cand else 0.0
    return TestResult("fisher-exact", min(1.0, p), rate_c - rate_b, rate_b, rate_c, n_base,
                      n_cand, odds)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
