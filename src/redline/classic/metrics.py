"""Run metrics of the classifier checks, computed from the stored verdicts' evidence.

Transparent definitions (n = judged rows; intervals are 95%):
- robust accuracy at budget b: the share of rows that are classified right and whose
  decision no query of size <= b changed (Wilson interval); a row's margin is the smallest
  size that changed it (0 when misclassified; none when nothing within the budgets did).
- ECE = sum over bins of |B|/n * |accuracy(B) - confidence(B)|, confidence = the top class
  probability; MCE = the largest such gap; adaptive bins hold equal numbers of rows;
  Brier = mean over rows of sum over classes of (p_c - [c = label])^2; intervals from a
  seeded bootstrap of the rows.
- per group (fairlearn MetricFrame): selection rate (share decided favourable), true and
  false positive rates, accuracy; demographic parity difference/ratio = max-min / min/max
  of selection rates; equalized odds difference = the larger of the TPR and FPR
  differences, ratio = the smaller of their ratios; four-fifths rule: the parity ratio is
  at least 0.8; intervals from a seeded bootstrap of the rows; counterfactual flip rate:
  the share of rows whose decision changes when only the sensitive value does (Wilson).
"""

from __future__ import annotations

import math
from typing import Any

Evidence = list[tuple[str, dict[str, Any]]]  # (outcome, the check's verdict evidence)

Z95 = 1.959963984540054


def wilson(k: int, n: int) -> dict[str, float | int]:
    if n == 0:
        return {"value": float("nan"), "low": 0.0, "high": 1.0, "k": 0, "n": 0}
    p = k / n
    denom = 1 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / denom
    return {"value": round(p, 6), "low": round(max(0.0, centre - half), 6),
            "high": round(min(1.0, centre + half), 6), "k": k, "n": n}


def _judged(rows: Evidence) -> list[dict[str, Any]]:
    return [e for outcome, e in rows if outcome in ("pass", "fail") and e]


def robustness(rows: Evidence, budgets: list[float], method: str, judged_at: float
               ) -> dict[str, Any]:
    judged = _judged(rows)
    n = len(judged)
    margins = [e.get("margin") for e in judged]
    per_budget = {
        f"{b:g}": wilson(sum(1 for m in margins if m is None or m > b), n) for b in budgets}
    found = sorted(m for m in margins if m is not None and m > 0)
    return {
        "check": "evasion", "method": method, "rows": n, "errors": len(rows) - n,
        "clean_accuracy": wilson(sum(1 for m in margins if m != 0.0), n),
        "robust_accuracy": per_budget, "judged_at": judged_at,
        "margins": {"found": len(found), "held": sum(1 for m in margins if m is None),
                    "median": found[len(found) // 2] if found else None,
                    "smallest": found[0] if found else None},
        "queries": sum(int(e.get("queries", 0)) for e in judged),
        "per_input": [{"row": i, "margin": m} for i, m in enumerate(margins)][:500],
    }


def _arrays(judged: list[dict[str, Any]]) -> tuple[Any, Any, list[str]]:
    import numpy as np

    classes = sorted({c for e in judged for c in e["probabilities"]})
    probs = np.asarray([[e["probabilities"].get(c, 0.0) for c in classes] for e in judged])
    truth = np.asarray([classes.index(e["label"]) if e["label"] in classes else -1
                        for e in judged])
    return probs, truth, classes


def _bins(conf: Any, n_bins: int, binning: str) -> list[Any]:
    import numpy as np

    order = np.argsort(conf, kind="stable")
    if binning == "adaptive":
        return [b for b in np.array_split(order, min(n_bins, len(conf))) if len(b)]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    return [np.nonzero(idx == k)[0] for k in range(n_bins) if np.any(idx == k)]


def _calibration_errors(probs: Any, truth: Any, n_bins: int, binning: str
                        ) -> tuple[float, float, float, list[dict[str, float]]]:
    import numpy as np

    conf = probs.max(1)
    correct = (probs.argmax(1) == truth).astype(float)
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(truth)), np.clip(truth, 0, None)] = (truth >= 0)
    brier = float(((probs - onehot) ** 2).sum(1).mean())
    ece, mce, table = 0.0, 0.0, []
    for b in _bins(conf, n_bins, binning):
        gap = abs(float(correct[b].mean()) - float(conf[b].mean()))
        ece += len(b) / len(conf) * gap
        mce = max(mce, gap)
        table.append({"confidence": round(float(conf[b].mean()), 6),
                      "accuracy": round(float(correct[b].mean()), 6), "count": len(b),
                      "low": round(float(conf[b].min()), 6),
                      "high": round(float(conf[b].max()), 6)})
    return ece, mce, brier, table


def _interval(point: float, draws: list[float]) -> dict[str, float]:
    draws = sorted(draws)
    lo = draws[int(0.025 * (len(draws) - 1))]
    hi = draws[math.ceil(0.975 * (len(draws) - 1))]
    return {"value": round(point, 6), "low": round(lo, 6), "high": round(hi, 6)}


def calibration(rows: Evidence, n_bins: int, binning: str, seed: int, resamples: int = 300
                ) -> dict[str, Any]:
    import numpy as np

    judged = [e for e in _judged(rows) if "probabilities" in e]
    if not judged:
        return {"check": "calibration", "rows": 0, "errors": len(rows)}
    probs, truth, classes = _arrays(judged)
    ece, mce, brier, table = _calibration_errors(probs, truth, n_bins, binning)
    rng = np.random.default_rng(seed)
    draws: list[tuple[float, float, float]] = []
    for _ in range(resamples):
        pick = rng.integers(0, len(truth), len(truth))
        draws.append(_calibration_errors(probs[pick], truth[pick], n_bins, binning)[:3])
    return {
        "check": "calibration", "rows": len(judged), "errors": len(rows) - len(judged),
        "binning": binning, "bins": n_bins, "classes": classes,
        "ece": _interval(ece, [d[0] for d in draws]),
        "mce": _interval(mce, [d[1] for d in draws]),
        "brier": _interval(brier, [d[2] for d in draws]),
        "accuracy": wilson(int((probs.argmax(1) == truth).sum()), len(truth)),
        "mean_confidence": round(float(probs.max(1).mean()), 6),
        "reliability": table,
    }


def _rates(y: Any, p: Any, groups: Any) -> tuple[float, float, float, float]:
    """DP difference and ratio, EO difference and ratio, over the groups present."""
    import numpy as np

    sel, tpr, fpr = [], [], []
    for g in np.unique(groups):
        m = groups == g
        sel.append(p[m].mean())
        pos, neg = m & (y == 1), m & (y == 0)
        tpr.append(p[pos].mean() if pos.any() else np.nan)
        fpr.append(p[neg].mean() if neg.any() else np.nan)

    def diff(v: list[float]) -> float:
        known = [x for x in v if not np.isnan(x)]
        return float(max(known) - min(known)) if known else float("nan")

    def ratio(v: list[float]) -> float:
        known = [x for x in v if not np.isnan(x)]
        if not known:
            return float("nan")
        return float(min(known) / max(known)) if max(known) > 0 else 1.0

    return (diff(sel), ratio(sel), float(np.nanmax([diff(tpr), diff(fpr)])),
            float(np.nanmin([ratio(tpr), ratio(fpr)])))


def fairness(rows: Evidence, favourable: str, four_fifths: float, resamples: int, seed: int
             ) -> dict[str, Any]:
    import numpy as np
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        equalized_odds_ratio,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    judged = [e for e in _judged(rows) if "predicted" in e]
    out: dict[str, Any] = {"check": "fairness", "rows": len(judged),
                           "errors": len(rows) - len(judged), "favourable": favourable}
    if not judged:
        return out
    y = np.asarray([int(e["label"] == favourable) for e in judged])
    p = np.asarray([int(e["predicted"] == favourable) for e in judged])
    flips = sum(1 for e in judged if e.get("flips"))
    out["counterfactual_flip_rate"] = wilson(flips, len(judged))
    features = sorted({f for e in judged for f in e.get("sensitive", {})})
    out["features"] = {}
    rng = np.random.default_rng(seed)
    for feature in features:
        groups = np.asarray([str(e["sensitive"].get(feature)) for e in judged])
        frame = MetricFrame(
            metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                     "fpr": false_positive_rate, "accuracy": accuracy_score,
                     "count": lambda t, _p: len(t)},
            y_true=y, y_pred=p, sensitive_features=groups)
        by_group = {str(g): {k: round(float(v), 6) for k, v in vals.items()}
                    for g, vals in frame.by_group.to_dict(orient="index").items()}
        points = (
            demographic_parity_difference(y, p, sensitive_features=groups),
            demographic_parity_ratio(y, p, sensitive_features=groups),
            equalized_odds_difference(y, p, sensitive_features=groups),
            equalized_odds_ratio(y, p, sensitive_features=groups))
        draws = []
        for _ in range(resamples):
            pick = rng.integers(0, len(y), len(y))
            draws.append(_rates(y[pick], p[pick], groups[pick]))
        names = ("demographic_parity_difference", "demographic_parity_ratio",
                 "equalized_odds_difference", "equalized_odds_ratio")
        stats = {name: _interval(float(point), [d[i] for d in draws if not math.isnan(d[i])])
                 for i, (name, point) in enumerate(zip(names, points, strict=True))}
        ratio = stats["demographic_parity_ratio"]
        stats["four_fifths"] = {"threshold": four_fifths, "ratio": ratio["value"],
                                "passes": ratio["value"] >= four_fifths,
                                "passes_at_upper_bound": ratio["high"] >= four_fifths}
        out["features"][feature] = {"groups": by_group, **stats}
    return out


def _advantage(loss: Any, member: Any) -> float:
    """max over thresholds t of P(loss <= t | member) - P(loss <= t | non-member)."""
    import numpy as np

    order = np.argsort(loss, kind="stable")
    m = member[order]
    n_in, n_out = max(1, int(m.sum())), max(1, int((~m).sum()))
    gap = np.cumsum(m) / n_in - np.cumsum(~m) / n_out
    return float(max(0.0, gap.max()))


def membership(rows: Evidence, resamples: int, seed: int) -> dict[str, Any]:
    """Loss-threshold membership inference: advantage (TPR - FPR at the best threshold)
    with a bootstrap interval, and the mean loss of members and of non-members."""
    import numpy as np

    judged = [e for e in _judged(rows) if "probabilities" in e and "member" in e]
    out: dict[str, Any] = {"check": "membership", "rows": len(judged),
                           "errors": len(rows) - len(judged)}
    if not judged:
        return out
    loss = np.asarray([-math.log(max(e["probabilities"].get(e["label"], 0.0), 1e-12))
                       for e in judged])
    member = np.asarray([bool(e["member"]) for e in judged])
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        pick = rng.integers(0, len(loss), len(loss))
        draws.append(_advantage(loss[pick], member[pick]))
    out.update(advantage=_interval(_advantage(loss, member), draws),
               members=int(member.sum()), nonmembers=int((~member).sum()),
               mean_loss_members=round(float(loss[member].mean()), 6),
               mean_loss_nonmembers=round(float(loss[~member].mean()), 6))
    return out


def _drop(clean: Any, flipped: Any) -> float:
    return float(clean.mean() - flipped.mean())


def label_flip(rows: Evidence, rates: list[float], judged_at: float, max_drop: float,
               resamples: int, seed: int) -> dict[str, Any]:
    """Per flip rate: the retrain's accuracy on the evaluation rows (Wilson), its drop
    from the clean retrain's (paired seeded bootstrap), the share of rows it decides
    otherwise than the clean retrain (Wilson); the judged rate's drop against `max_drop`;
    and how often the target agrees with the clean retrain."""
    import numpy as np

    judged = [e for e in _judged(rows) if "retrained" in e]
    out: dict[str, Any] = {"check": "label_flip", "rows": len(judged),
                           "errors": len(rows) - len(judged), "judged_at": judged_at,
                           "max_accuracy_drop": max_drop}
    if not judged:
        return out
    n = len(judged)
    right = {k: np.asarray([e["retrained"][k] == e["label"] for e in judged])
             for k in ("0", *(f"{r:g}" for r in rates))}
    clean = right["0"]
    out["clean_accuracy"] = wilson(int(clean.sum()), n)
    out["target_agreement"] = wilson(sum(e["predicted"] == e["clean"] for e in judged), n)
    rng = np.random.default_rng(seed)
    picks = [rng.integers(0, n, n) for _ in range(resamples)]
    out["per_rate"] = {}
    for key in right:
        if key == "0":
            continue
        acc = right[key]
        changed = sum(e["retrained"][key] != e["clean"] for e in judged)
        out["per_rate"][key] = {
            "accuracy": wilson(int(acc.sum()), n),
            "accuracy_drop": _interval(_drop(clean, acc), [_drop(clean[p], acc[p])
                                                           for p in picks]),
            "decision_change": wilson(changed, n)}
    drop = out["per_rate"][f"{judged_at:g}"]["accuracy_drop"]["value"]
    out["passes"] = drop <= max_drop
    return out


# --- what a gate policy can set thresholds on ---------------------------------------------

LOWER_IS_BETTER = {"ece", "mce", "brier", "demographic_parity_difference",
                   "equalized_odds_difference", "counterfactual_flip_rate",
                   "membership_advantage", "accuracy_drop", "decision_change"}


def gate_values(m: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A check's metrics by the names policies use, each {value, low, high, better}:
    evasion `robust_accuracy@BUDGET`, `clean_accuracy`; calibration `ece`, `mce`, `brier`,
    `accuracy`; fairness `demographic_parity_difference` / `_ratio`,
    `equalized_odds_difference` / `_ratio` (the worst over the sensitive features, and
    `NAME[FEATURE]` for one), `counterfactual_flip_rate`; membership
    `membership_advantage`; label_flip `clean_accuracy`, `target_agreement` and per rate
    `accuracy@RATE`, `accuracy_drop@RATE`, `decision_change@RATE`."""
    out: dict[str, dict[str, Any]] = {}

    def put(name: str, stat: dict[str, Any], base: str | None = None) -> None:
        better = "lower" if (base or name) in LOWER_IS_BETTER else "higher"
        out[name] = {"value": stat["value"], "low": stat["low"], "high": stat["high"],
                     "better": better}

    check = m.get("check")
    if not m.get("rows"):
        return out
    if check == "evasion":
        put("clean_accuracy", m["clean_accuracy"])
        for budget, stat in m["robust_accuracy"].items():
            put(f"robust_accuracy@{budget}", stat, "robust_accuracy")
    elif check == "calibration":
        for name in ("ece", "mce", "brier", "accuracy"):
            put(name, m[name])
    elif check == "membership":
        put("membership_advantage", m["advantage"])
    elif check == "label_flip":
        put("clean_accuracy", m["clean_accuracy"])
        put("target_agreement", m["target_agreement"])
        for rate, stats in m["per_rate"].items():
            for name, stat in stats.items():
                put(f"{name}@{rate}", stat, name)
    elif check == "fairness":
        put("counterfactual_flip_rate", m["counterfactual_flip_rate"])
        names = ("demographic_parity_difference", "demographic_parity_ratio",
                 "equalized_odds_difference", "equalized_odds_ratio")
        for feature, f in m.get("features", {}).items():
            for name in names:
                put(f"{name}[{feature}]", f[name], name)
        for name in names:
            each = [out[f"{name}[{feature}]"] for feature in m.get("features", {})]
            if each:
                worst = (max if name in LOWER_IS_BETTER else min)(
                    each, key=lambda s: s["value"])
                out[name] = dict(worst)
    return out
