"""Policy thresholds on run metrics (classifier checks: robust accuracy, ECE, parity...).

A policy's `metrics:` rules each match scenarios (id glob, category, severity) and bound
one metric (`redline.classic.metrics.gate_values` names them): `max` or `min` on its value,
or with `at: bound` on the pessimistic end of its 95% interval; a metric a matching
scenario did not measure fails closed. With a baseline run, `max_regression` calls the
candidate a regression when it is worse than the baseline by more than that, and a
one-sided z-test on the two runs' intervals (normal approximation, standard error =
interval width / 3.92) is significant at the policy's alpha.
"""

from __future__ import annotations

import math
from typing import Any

from redline.gate.policy_schema import MetricRule


def _compared(stat: dict[str, Any], rule: MetricRule) -> tuple[float, str] | None:
    """(what was compared, why it breaches), or None when within the rule."""
    if rule.max is not None:
        seen = stat["high"] if rule.at == "bound" else stat["value"]
        if seen > rule.max:
            return seen, f"> max {rule.max:g}"
    if rule.min is not None:
        seen = stat["low"] if rule.at == "bound" else stat["value"]
        if seen < rule.min:
            return seen, f"< min {rule.min:g}"
    return None


def regression_test(cand: dict[str, Any], base: dict[str, Any]) -> dict[str, float]:
    """How much worse the candidate is (positive: worse) and the one-sided p-value."""
    import scipy.stats

    sign = 1.0 if cand["better"] == "lower" else -1.0
    worse = sign * (cand["value"] - base["value"])
    se = math.hypot((cand["high"] - cand["low"]) / 3.92, (base["high"] - base["low"]) / 3.92)
    p = (0.0 if worse > 0 else 1.0) if se == 0 else float(scipy.stats.norm.sf(worse / se))
    return {"worse_by": round(worse, 6), "p_value": round(p, 6)}


def _text(stat: dict[str, Any]) -> str:
    return f"{stat['value']:.3f} [{stat['low']:.3f}–{stat['high']:.3f}]"


def metric_findings(rules: list[tuple[MetricRule, str]], scenarios: dict[str, Any],
                    metrics: dict[str, Any], baseline: dict[str, Any] | None, alpha: float
                    ) -> list[dict[str, Any]]:
    """Each breach or regression of a metric rule: kind, subject, message, rule, evidence.
    `scenarios` maps scenario id -> its meta (category, severity)."""
    from redline.classic.metrics import gate_values

    found: list[dict[str, Any]] = []
    for rule, source in rules:
        for sid, meta in scenarios.items():
            if not rule.match.matches(sid, meta.category, meta.severity):
                continue
            values = gate_values(metrics.get(sid) or {})
            stat = values.get(rule.metric)
            where = f"{sid}: {rule.metric}"
            if stat is None:
                found.append({"kind": "metric_missing", "subject": sid, "rule": source,
                              "action": rule.on_breach, "severity": meta.severity,
                              "message": f"{where} was not measured (known: "
                              f"{', '.join(sorted(values)) or 'none'}): cannot approve",
                              "evidence": {"metric": rule.metric}})
                continue
            breach = _compared(stat, rule)
            if breach is not None:
                seen, why = breach
                bound = f" (interval bound {seen:.3f})" if rule.at == "bound" else ""
                found.append({"kind": "metric", "subject": sid, "rule": source,
                              "action": rule.on_breach, "severity": meta.severity,
                              "message": f"{where} {_text(stat)}{bound} {why}",
                              "evidence": {"metric": rule.metric, **stat, "max": rule.max,
                                           "min": rule.min, "at": rule.at}})
            old = gate_values((baseline or {}).get(sid) or {}).get(rule.metric)
            if rule.max_regression is None or old is None:
                continue
            test = regression_test(stat, old)
            if test["worse_by"] > rule.max_regression and test["p_value"] < alpha:
                found.append({"kind": "metric_regression", "subject": sid, "rule": source,
                              "action": rule.on_regression, "severity": meta.severity,
                              "message": f"{where} regressed: {_text(stat)} vs baseline "
                              f"{_text(old)}, worse by {test['worse_by']:.3f} > "
                              f"{rule.max_regression:g} (one-sided z-test p="
                              f"{test['p_value']:.3g} < {alpha:g})",
                              "evidence": {"metric": rule.metric, "candidate": stat,
                                           "baseline": old, **test}})
    return found
