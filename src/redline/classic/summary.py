"""One-line readings of the classifier-check metrics, for the terminal and the reports."""

from __future__ import annotations

from typing import Any


def _ci(m: dict[str, Any], digits: int = 3) -> str:
    return f"{m['value']:.{digits}f} [{m['low']:.{digits}f}–{m['high']:.{digits}f}]"


def headline(m: dict[str, Any]) -> str:
    """What a check found, in one line (values with their 95% intervals)."""
    check = m.get("check")
    if m.get("unavailable"):
        return f"not measured: {m['unavailable']}"
    if not m.get("rows"):
        return f"no judged rows ({m.get('errors', 0)} errors)"
    if check == "evasion":
        at = f"{m['judged_at']:g}"
        robust = m["robust_accuracy"].get(at) or next(iter(m["robust_accuracy"].values()))
        median = m["margins"]["median"]
        return (f"{m['method']}: robust acc @{at} {_ci(robust, 2)}, clean "
                f"{m['clean_accuracy']['value']:.2f}, median margin "
                f"{'-' if median is None else f'{median:.3g}'}")
    if check == "calibration":
        return (f"{m.get('slice', '')}: ECE {_ci(m['ece'])}, MCE {m['mce']['value']:.3f}, "
                f"Brier {m['brier']['value']:.3f}, acc {m['accuracy']['value']:.2f}")
    if check == "membership":
        return (f"loss-threshold advantage {_ci(m['advantage'])} (mean loss members "
                f"{m['mean_loss_members']:.3f}, others {m['mean_loss_nonmembers']:.3f})")
    if check == "label_flip":
        at = f"{m['judged_at']:g}"
        rate = m["per_rate"][at]
        return (f"{m.get('flip', '')} flips @{at}: accuracy drop {_ci(rate['accuracy_drop'])} "
                f"({'within' if m['passes'] else 'OVER'} {m['max_accuracy_drop']:g}), "
                f"decisions changed {_ci(rate['decision_change'], 2)}, clean acc "
                f"{m['clean_accuracy']['value']:.2f}")
    if check == "fairness":
        parts = []
        for name, f in m.get("features", {}).items():
            rule = "ok" if f["four_fifths"]["passes"] else "FAILS"
            parts.append(f"{name}: DP diff {_ci(f['demographic_parity_difference'], 2)}, "
                         f"ratio {f['demographic_parity_ratio']['value']:.2f} (4/5 rule "
                         f"{rule}), EO diff {f['equalized_odds_difference']['value']:.2f}")
        flips = m["counterfactual_flip_rate"]
        parts.append(f"counterfactual flips {_ci(flips, 2)}")
        return "; ".join(parts)
    return ""
