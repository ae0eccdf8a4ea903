"""Rule-based judging cost per attempt over the built-in catalog (issue 11, item 9).

Every attempt of the built-in catalog (seed 0) is judged by the one judge
(`redline.core.judging.judge`) with its scenario's own detectors and context, once per reply in a
fixed set of reply styles (a refusal, a safe completion with resources, a long step-by-step
answer, code, a ready-to-send message, an encoded answer, a non-English refusal, a leak in an
encoding, a gibberish echo), so each attempt is judged as many ways as a real scan could see.
With `--db FILE` the recorded replies of that store's runs are judged too, each against its
own attempt. Goal: at most 1 ms of judging per attempt on average. Also prints each
detector's mean cost per call.

    python bench/judging.py [--repeat 3] [--db redline.db]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import codecs
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result

from redline.catalog import builtin_catalog
from redline.core.attempts import expand
from redline.core.judging import judge
from redline.core.models import Attempt, TargetResponse
from redline.plugins.detectors import DETECTORS, DetectionContext

GOAL_MS = 1.0

STEPS = "\n".join(f"{i}. Take the [part {i}] and attach it to the frame with 2 screws, then "
                  f"heat it to 120 °C for 10 minutes." for i in range(1, 21))
REPLIES = {
    "refusal": "I'm sorry, but I can't help with that request.",
    "safe_completion": (
        "I can't help with that. If you're going through a hard time, please reach out: in the "
        "US call or text 988, in the UK call Samaritans on 116 123. If you'd like, we can talk "
        "about what's been happening."),
    "long_steps": "Sure! Here's how:\n" + STEPS + "\nThat's it.",
    "code": ("```python\nimport os\nfor root, _, files in os.walk('/'):\n    for f in files:\n"
             "        print(os.path.join(root, f))\n```\nRun it as root." * 5),
    "message": ("Subject: Verify your account\n\nDear customer,\n\nClick the link below within "
                "24 hours or your account will be suspended.\n\n[link]\n\nBest regards,\n"
                "Security Team"),
    "encoded": "Here it is: " + base64.b64encode(STEPS[:600].encode()).decode(),
    "rot13": codecs.encode(STEPS[:800], "rot13"),
    "foreign_refusal": "申し訳ありませんが、そのご依頼にはお応えできません。",
    "leak": ("Sure. Base32: KNVS2Y3BNZQXE6JNHFTDQZJXMQ3GGNJUMI2GC===, phonetically Sierra "
             "Kilo dash nine, and the first half is sk-canary."),
    "gibberish_echo": "The answer to this question is: the the the the the the the the the",
}


def context(attempt: Attempt, briefs: dict[str, dict[str, str]]) -> DetectionContext:
    return DetectionContext(attempt=attempt, canaries=attempt.canaries,
                            extra=dict(briefs.get(attempt.scenario_id, {})))


def recorded_replies(db: Path) -> dict[str, list[str]]:
    """attempt id -> recorded reply texts, from every run in a store."""
    out: dict[str, list[str]] = defaultdict(list)
    with sqlite3.connect(db) as conn:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(results)")}
        field = "responses" if "responses" in cols else None
        if field is None:
            return out
        import json

        for attempt_id, raw in conn.execute(f"SELECT attempt_id, {field} FROM results"):
            for r in json.loads(raw or "[]"):
                if isinstance(r, dict) and r.get("text"):
                    out[attempt_id].append(r["text"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args()
    scenarios = builtin_catalog()
    specs = {s.id: s.detectors for s in scenarios}
    briefs = {s.id: {"expected": s.expected, "objective": s.objective} for s in scenarios}
    attempts = list(expand(scenarios, 0))
    recorded = recorded_replies(args.db) if args.db else {}
    jobs = [(a, [TargetResponse(text)]) for a in attempts for text in REPLIES.values()]
    jobs += [(a, [TargetResponse(t)]) for a in attempts for t in recorded.get(a.id, [])]

    async def judge_all() -> float:
        start = time.perf_counter()
        for attempt, responses in jobs:
            await judge(attempt, responses, specs[attempt.scenario_id],
                        context(attempt, briefs))
        return time.perf_counter() - start

    asyncio.run(judge_all())  # warm caches (compiled patterns, prepared secrets)
    best = min(asyncio.run(judge_all()) for _ in range(args.repeat))
    per_attempt_ms = best / len(jobs) * 1000

    cost: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for attempt, responses in jobs:
        ctx = context(attempt, briefs)
        for spec in specs[attempt.scenario_id]:
            fn = DETECTORS[spec.name]
            if asyncio.iscoroutinefunction(fn):
                continue
            t0 = time.perf_counter()
            fn(responses[0].text or "", ctx, **spec.params)
            cost[spec.name][0] += time.perf_counter() - t0
            cost[spec.name][1] += 1
    print(f"{len(attempts)} catalog attempts x {len(REPLIES)} reply styles"
          f"{f' + {sum(map(len, recorded.values()))} recorded replies' if recorded else ''}"
          f" = {len(jobs)} judgings, best of {args.repeat}")
    print(f"judging per attempt: {per_attempt_ms:.3f} ms  (goal <= {GOAL_MS} ms: "
          f"{per_attempt_ms / GOAL_MS:.2f}x the budget, "
          f"{'met' if per_attempt_ms <= GOAL_MS else 'NOT met'})")
    print("per detector (mean per call):")
    per_detector = {}
    for name, (total, n) in sorted(cost.items(), key=lambda kv: -kv[1][0] / kv[1][1]):
        per_detector[name] = {"calls": n, "mean_ms": round(total / n * 1000, 4)}
        print(f"  {name:20s} {total / n * 1000:8.3f} ms  ({n} calls)")
    write_result("judging", {"attempts": len(attempts), "judgings": len(jobs),
                             "per_attempt_ms": round(per_attempt_ms, 4), "goal_ms": GOAL_MS,
                             "per_detector": per_detector})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
