"""Small statistics for latencies: percentiles by linear interpolation (numpy's default)."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    return {f"p{q}": _round(percentile(values, q)) for q in (50, 95, 99)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
