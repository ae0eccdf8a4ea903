"""Drift of a current window against a reference window, column by column.

Tests: two-sample Kolmogorov-Smirnov for numeric columns, chi-square on the 2 x k table of
counts for categorical and rate columns (categories seen fewer than 5 times in both windows
are pooled). PSI (population stability index) is reported for every column: numeric columns
are binned at the reference's deciles, categories are their own bins.

Multiple testing: one check tests every column at once, so the p-values are adjusted with
Holm's step-down method (gate.stats.holm: family-wise error rate at `alpha` over the check's
columns). A column alarms when its adjusted p-value is below `alpha` AND the shift is large enough
to matter: PSI at least `min_psi` (numeric, categorical) or an absolute change of at least
`min_rate_delta` (rates). With 100k-line windows every test finds something; the effect floor
is what keeps a stable column quiet, and the correction is what keeps ten columns from being
ten chances of a false alarm.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from redline.gate.stats import holm
from redline.monitor.columns import ColumnKind

PSI_EPS = 1e-4
MIN_CELL = 5
BINS = 10


@dataclass(frozen=True)
class DriftSettings:
    alpha: float = 0.01
    min_psi: float = 0.1
    min_rate_delta: float = 0.02
    min_records: int = 100
    correct: bool = True  # Holm; False is the naive per-column test (for comparison)


@dataclass
class ColumnDrift:
    column: str
    kind: ColumnKind
    test: str
    statistic: float
    p_value: float
    psi: float
    effect: float
    reference: Any
    current: Any
    n_reference: int
    n_current: int
    p_adjusted: float = 1.0
    drifted: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        for k in ("statistic", "p_value", "p_adjusted", "psi", "effect"):
            d[k] = _round(d[k])
        return d


def _round(x: float) -> float:
    if not math.isfinite(x):
        return x
    return float(f"{x:.4g}")


def psi(ref: Sequence[float], cur: Sequence[float]) -> float:
    """PSI of two count vectors over the same bins (proportions smoothed by PSI_EPS)."""
    r = np.asarray(ref, dtype=float)
    c = np.asarray(cur, dtype=float)
    if r.sum() == 0 or c.sum() == 0:
        return 0.0
    rp = np.clip(r / r.sum(), PSI_EPS, None)
    cp = np.clip(c / c.sum(), PSI_EPS, None)
    return float(np.sum((cp - rp) * np.log(cp / rp)))


def numeric_drift(name: str, ref: Sequence[float], cur: Sequence[float]) -> ColumnDrift:
    r = np.asarray(ref, dtype=float)
    c = np.asarray(cur, dtype=float)
    result = stats.ks_2samp(r, c, method="asymp")
    edges = np.unique(np.quantile(r, np.linspace(0, 1, BINS + 1)[1:-1]))
    rc = np.bincount(np.searchsorted(edges, r, side="right"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, c, side="right"), minlength=len(edges) + 1)
    value = psi(rc, cc)
    return ColumnDrift(name, "numeric", "ks", float(result.statistic), float(result.pvalue),
                       value, value, {"mean": _round(float(r.mean())),
                                      "median": _round(float(np.median(r)))},
                       {"mean": _round(float(c.mean())), "median": _round(float(np.median(c)))},
                       len(r), len(c))


def _table(ref: Sequence[Any], cur: Sequence[Any]) -> tuple[list[str], np.ndarray]:
    rc, cc = Counter(ref), Counter(cur)
    keys = sorted(set(rc) | set(cc), key=str)
    big = [k for k in keys if rc[k] >= MIN_CELL or cc[k] >= MIN_CELL]
    small = [k for k in keys if k not in big]
    labels = [str(k) for k in big]
    rows = [[rc[k] for k in big], [cc[k] for k in big]]
    if small:
        labels.append("(other)")
        rows[0].append(sum(rc[k] for k in small))
        rows[1].append(sum(cc[k] for k in small))
    return labels, np.asarray(rows, dtype=float)


def _chi2(table: np.ndarray) -> tuple[float, float]:
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(table)
    return float(result.statistic), float(result.pvalue)


def _shares(labels: list[str], counts: np.ndarray, top: int = 5) -> dict[str, float]:
    total = counts.sum() or 1.0
    order = np.argsort(-counts, kind="stable")[:top]
    return {labels[i]: _round(float(counts[i] / total)) for i in order if counts[i]}


def categorical_drift(name: str, ref: Sequence[Any], cur: Sequence[Any]) -> ColumnDrift:
    labels, table = _table(ref, cur)
    stat, p = _chi2(table)
    value = psi(table[0], table[1])
    return ColumnDrift(name, "categorical", "chi2", stat, p, value, value,
                       _shares(labels, table[0]), _shares(labels, table[1]), len(ref), len(cur))


def rate_drift(name: str, ref: Sequence[bool], cur: Sequence[bool]) -> ColumnDrift:
    r_hits, c_hits = sum(ref), sum(cur)
    table = np.asarray([[r_hits, len(ref) - r_hits], [c_hits, len(cur) - c_hits]], dtype=float)
    stat, p = _chi2(table)
    r_rate = r_hits / len(ref)
    c_rate = c_hits / len(cur)
    return ColumnDrift(name, "rate", "chi2", stat, p, psi(table[0], table[1]),
                       abs(c_rate - r_rate), _round(r_rate), _round(c_rate), len(ref), len(cur))


def column_drift(name: str, kind: ColumnKind, ref: Sequence[Any], cur: Sequence[Any]
                 ) -> ColumnDrift:
    if kind == "numeric":
        return numeric_drift(name, ref, cur)
    if kind == "rate":
        return rate_drift(name, ref, cur)
    return categorical_drift(name, ref, cur)


def compare(columns: dict[str, tuple[ColumnKind, Sequence[Any], Sequence[Any]]],
            settings: DriftSettings) -> list[ColumnDrift]:
    """Every column with enough values in both windows, tested, corrected and decided."""
    out = [column_drift(name, kind, ref, cur) for name, (kind, ref, cur) in columns.items()
           if len(ref) >= settings.min_records and len(cur) >= settings.min_records]
    adjusted = holm([d.p_value for d in out]) if settings.correct else [d.p_value for d in out]
    for d, p in zip(out, adjusted, strict=True):
        d.p_adjusted = p
        floor = settings.min_rate_delta if d.kind == "rate" else settings.min_psi
        d.drifted = p < settings.alpha and d.effect >= floor
    return out
