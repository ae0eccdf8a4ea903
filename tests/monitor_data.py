"""Generated production logs for the monitor tests: seeded, with drift planted on request."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

TOPICS = {
    "billing": ["invoice", "refund", "charge", "payment", "subscription"],
    "travel": ["flight", "hotel", "booking", "luggage", "airport"],
    "cooking": ["recipe", "oven", "bread", "pasta", "dinner"],
    "coding": ["python", "function", "error", "compile", "script"],
}
REPLIES = ["Sure, here is what you can do: check the settings page and follow the steps.",
           "Happy to help. First open the account menu, then choose the option you need.",
           "Here is a short answer: it depends on the plan, but usually it takes two days."]
REFUSAL = "I'm sorry, but I can't help with that."


def chat_line(rng: random.Random, mix: dict[str, float], refuse_rate: float = 0.02,
              long: bool = False) -> dict[str, Any]:
    topic = rng.choices(list(mix), weights=list(mix.values()))[0]
    words = TOPICS[topic]
    n = rng.randint(8, 20) * (4 if long else 1)
    prompt = "Please help me with my " + " ".join(rng.choice(words) for _ in range(n)) + "?"
    reply = REFUSAL if rng.random() < refuse_rate else rng.choice(REPLIES)
    return {"ts": "2026-12-02T10:00:00Z", "prompt": prompt, "response": reply}


def classifier_line(rng: random.Random, shift: float = 0.0) -> dict[str, Any]:
    return {"features": {"age": rng.gauss(40 + shift, 10), "income": rng.lognormvariate(10, 1),
                         "region": rng.choice(["n", "s", "e", "w"]),
                         "tenure": rng.randint(0, 20)},
            "prediction": rng.choice(["churn", "stay"]), "score": rng.random()}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def chat_rows(n: int, seed: int = 0, mix: dict[str, float] | None = None,
              **kw: Any) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    m = mix or {"billing": 0.4, "travel": 0.3, "cooking": 0.2, "coding": 0.1}
    return [chat_line(rng, m, **kw) for _ in range(n)]
