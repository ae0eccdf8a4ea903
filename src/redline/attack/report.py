"""What the reports show of a run's attacks: each attack's tree, winning prompt and
queries-to-success, and per strategy the success rate and median queries to success."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from typing import Any

MAX_ATTACKS = 200  # attacks shown in a report; the store keeps them all
SHOWN_CHARS = 1500


def _clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}… [clipped]"


def attack_of(attempt_id: str, outcome: str, verdicts: list[dict[str, Any]]
              ) -> dict[str, Any] | None:
    """One attempt's attack as reports show it, or None if it was no attack."""
    found = next((v for v in verdicts if v.get("detector") == "attack"), None)
    if found is None:
        return None
    ev = found["evidence"]
    nodes = [{**{k: n.get(k) for k in ("id", "parent", "depth", "turn", "score", "outcome",
                                       "pruned", "backtracked")},
              "prompt": _clip(n.get("prompt")), "reply": _clip(n.get("reply"))}
             for n in ev.get("nodes", [])]
    return {"attempt_id": attempt_id, "outcome": outcome, "scenario_id": ev.get("scenario_id"),
            "strategy": ev.get("strategy"), "objective": ev.get("objective"),
            "succeeded": ev.get("succeeded"), "stopped": ev.get("stopped"),
            "queries": ev.get("queries"), "queries_to_success": ev.get("queries_to_success"),
            "attacker_calls": len(ev.get("attacker_calls", [])), "tokens": ev.get("tokens"),
            "winning_prompt": _clip(ev.get("winning_prompt")) if ev.get("succeeded") else None,
            "error": ev.get("attack_error"), "unclear": ev.get("unclear_reason"),
            "nodes": nodes}


def per_strategy(attacks: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per strategy: attacks, successes, success rate, median and all queries to success,
    queries and tokens spent, errors and unclear."""
    out: dict[str, dict[str, Any]] = {}
    for a in attacks:
        s = out.setdefault(a["strategy"], {"attacks": 0, "successes": 0, "queries": 0,
                                           "tokens": 0, "errors": 0, "unclear": 0,
                                           "to_success": []})
        s["attacks"] += 1
        s["queries"] += a["queries"] or 0
        s["tokens"] += a["tokens"] or 0
        s["errors"] += a["outcome"] == "error"
        s["unclear"] += a["outcome"] == "unclear"
        if a["succeeded"]:
            s["successes"] += 1
            s["to_success"].append(a["queries_to_success"])
    for s in out.values():
        s["success_rate"] = s["successes"] / s["attacks"]
        s["median_queries_to_success"] = (statistics.median(s["to_success"])
                                          if s["to_success"] else None)
    return out


def attack_section(rows: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """From a run's (attempt id, outcome, verdicts JSON) rows: the attacks shown (the first
    MAX_ATTACKS) and the per-strategy figures (over all of them)."""
    shown: list[dict[str, Any]] = []
    every: list[dict[str, Any]] = []
    for attempt_id, outcome, verdicts in rows:
        if '"attack"' not in verdicts:  # cheap: most rows of a mixed run are probes
            continue
        attack = attack_of(attempt_id, outcome, json.loads(verdicts))
        if attack is None:
            continue
        every.append({k: attack[k] for k in ("strategy", "succeeded", "queries",
                                             "queries_to_success", "tokens", "outcome")})
        if len(shown) < MAX_ATTACKS:
            shown.append(attack)
    return {"shown": shown, "count": len(every), "per_strategy": per_strategy(every)}
