"""Black-box strategies for classifiers: each attempt's turns are queries of one row.

Every strategy first sends the row as it is; then, while the decision holds, perturbed
copies of it, each request carrying `perturbation: {method, size}` beside the features
(recorded, not given to the model). All randomness comes from a generator seeded by the
attempt, so given the recorded replies (a cassette) the same queries are made again.

- `evasion-noise`: for each budget b (ascending), `samples` draws of uniform noise in the
  L-inf ball of radius b (in standard deviations of each feature); stops at the first flip.
- `evasion-boundary`: HopSkipJump-style decision-based search (Chen et al. 2020): a random
  adversarial start, a binary search to the decision boundary, then `iterations` steps
  along a gradient direction estimated from `directions` probes, each projected back to the
  boundary by binary search; sizes are L2 norms in standard deviations.
- `evasion-categorical`: k categories changed at once, for each budget k.
- `evasion-text`: for text models, k edits per try for each budget k: keyboard typos,
  swapped adjacent letters, synonyms from the shipped list (`synonyms.txt`).
- `counterfactual`: the row again with only a sensitive feature changed, for each other
  value.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from redline.classic.estimator import probabilities_of
from redline.core.attempts import seeded_rng
from redline.core.models import Attempt, TargetRequest, TargetResponse
from redline.core.registry import Params, plugin
from redline.core.strategies import Conversation


def decision(reply: TargetResponse, classes: list[str] | None = None) -> str:
    """The class a reply decides (the most probable); a ValueError if it is not one."""
    probs = probabilities_of(reply.payload if reply.payload is not None else reply.content,
                             classes)
    return max(probs, key=lambda c: probs[c])


def query(attempt: Attempt, features: Mapping[str, Any], method: str, size: float,
          **about: Any) -> TargetRequest:
    return TargetRequest(attempt_id=attempt.id, payload={
        "features": dict(features),
        "perturbation": {"method": method, "size": round(size, 6), **about}})


def _start(attempt: Attempt) -> tuple[dict[str, Any], str, list[str] | None]:
    ref = attempt.reference or {}
    payload = attempt.payload or {}
    return dict(payload.get("features", {})), str(ref.get("label")), ref.get("classes")


class BudgetParams(Params):
    """The perturbation budgets every evasion strategy is run at."""

    budgets: list[float] = Field(min_length=1)


class SampledParams(BudgetParams):
    """Budgets, and how many random tries each budget gets."""

    samples: int = Field(8, ge=1)


class NoiseParams(SampledParams):
    scales: dict[str, float]


@plugin("strategy", "evasion-noise", params=NoiseParams)
async def noise(attempt: Attempt, budgets: list[float], samples: int,
                scales: dict[str, float]) -> Conversation:
    """Uniform L-inf noise per budget, ascending; stops at the first flipped decision."""
    rng = seeded_rng("evasion-noise", attempt.id)
    base, label, classes = _start(attempt)
    clean = decision((yield query(attempt, base, "none", 0.0)), classes)
    if clean != label:
        return
    for budget in budgets:
        for _ in range(samples):
            x = {**base, **{f: float(base[f]) + rng.uniform(-budget, budget) * s
                            for f, s in scales.items()}}
            if decision((yield query(attempt, x, "noise", budget)), classes) != clean:
                return


class CategoricalParams(SampledParams):
    categories: dict[str, list[str]]


@plugin("strategy", "evasion-categorical", params=CategoricalParams)
async def categorical(attempt: Attempt, budgets: list[float], samples: int,
                      categories: dict[str, list[str]]) -> Conversation:
    """k categorical features changed at once (k = each budget); stops at the first flip."""
    rng = seeded_rng("evasion-categorical", attempt.id)
    base, label, classes = _start(attempt)
    clean = decision((yield query(attempt, base, "none", 0.0)), classes)
    names = [f for f in categories if len(categories[f]) > 1]
    if clean != label or not names:
        return
    for budget in budgets:
        k = min(int(budget), len(names))
        for x in _flips(base, categories, names, k, samples, rng):
            if decision((yield query(attempt, x, "categorical", budget)), classes) != clean:
                return


def _flips(base: dict[str, Any], categories: dict[str, list[str]], names: list[str], k: int,
           samples: int, rng: random.Random) -> list[dict[str, Any]]:
    if k == 1:  # every single change, in a seeded order
        every = [{**base, f: v} for f in names for v in categories[f] if v != base[f]]
        rng.shuffle(every)
        return every[:samples]
    out = []
    for _ in range(samples):
        chosen = rng.sample(names, k)
        out.append({**base, **{f: rng.choice([v for v in categories[f] if v != base[f]])
                               for f in chosen}})
    return out


class BoundaryParams(BudgetParams):
    iterations: int = Field(4, ge=0)
    directions: int = Field(12, ge=2)
    scales: dict[str, float]


@plugin("strategy", "evasion-boundary", params=BoundaryParams)
async def boundary(attempt: Attempt, budgets: list[float], iterations: int, directions: int,
                   scales: dict[str, float]) -> Conversation:
    """HopSkipJump-style decision-boundary search in standardised feature space (L2)."""
    rng = seeded_rng("evasion-boundary", attempt.id)
    base, label, classes = _start(attempt)
    names = list(scales)
    clean = decision((yield query(attempt, base, "none", 0.0)), classes)
    if clean != label or not names:
        return

    def point(delta: list[float]) -> dict[str, Any]:
        return {**base, **{f: float(base[f]) + d * scales[f] for f, d in zip(names, delta,
                                                                           strict=True)}}

    start = None  # a random adversarial point at a growing radius
    for radius in (0.5, 1.0, 2.0, 4.0, 8.0):
        for _ in range(2):
            delta = _scaled(_unit(rng, len(names)), radius)
            if decision((yield query(attempt, point(delta), "boundary", radius)),
                        classes) != clean:
                start = delta
                break
        if start is not None:
            break
    if start is None:
        return
    best = start
    for step in range(iterations + 1):
        # binary search on the segment from the row to `best`: the boundary point
        lo, hi = 0.0, 1.0
        for _ in range(8):
            mid = (lo + hi) / 2
            x = _scaled(best, mid)
            if decision((yield query(attempt, point(x), "boundary", _norm(x))),
                        classes) != clean:
                hi = mid
            else:
                lo = mid
        best = _scaled(best, hi)
        if step == iterations:
            return
        dist = _norm(best)
        probe = 0.05 * dist
        signs, units = [], []
        for _ in range(directions):
            u = _unit(rng, len(names))
            x = [b + probe * ui for b, ui in zip(best, u, strict=True)]
            adv = decision((yield query(attempt, point(x), "boundary", _norm(x))),
                           classes) != clean
            signs.append(1.0 if adv else -1.0)
            units.append(u)
        mean = sum(signs) / len(signs)
        grad = [sum((s - mean) * u[i] for s, u in zip(signs, units, strict=True))
                for i in range(len(names))]
        if _norm(grad) == 0:
            return
        grad = _scaled(grad, 1 / _norm(grad))
        eps = dist / math.sqrt(step + 1)
        for _ in range(6):  # geometric step-size search: stay adversarial
            x = [b + eps * g for b, g in zip(best, grad, strict=True)]
            if decision((yield query(attempt, point(x), "boundary", _norm(x))),
                        classes) != clean:
                best = x
                break
            eps /= 2


def _unit(rng: random.Random, n: int) -> list[float]:
    v = [rng.gauss(0.0, 1.0) for _ in range(n)]
    return _scaled(v, 1 / (_norm(v) or 1.0))


def _norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def _scaled(v: list[float], k: float) -> list[float]:
    return [x * k for x in v]


class CounterfactualParams(Params):
    sensitive: dict[str, list[str]]


@plugin("strategy", "counterfactual", params=CounterfactualParams)
async def counterfactual(attempt: Attempt, sensitive: dict[str, list[str]]) -> Conversation:
    """The row as it is, then with each other value of each sensitive feature."""
    base, _, _ = _start(attempt)
    yield query(attempt, base, "none", 0.0)
    for feature, values in sensitive.items():
        for value in values:
            if value != base.get(feature):
                yield query(attempt, {**base, feature: value}, "counterfactual", 1.0,
                            feature=feature, value=value)


# --- text models ------------------------------------------------------------------------

KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours(ch: str) -> str:
    for r, row in enumerate(KEYBOARD):
        c = row.find(ch.lower())
        if c < 0:
            continue
        near = row[max(0, c - 1):c] + row[c + 1:c + 2]
        for other in (r - 1, r + 1):
            if 0 <= other < len(KEYBOARD):
                near += KEYBOARD[other][max(0, c - 1):c + 2]
        return near
    return ""


def edit(text: str, rng: random.Random, synonyms: Mapping[str, list[str]]) -> str:
    """One edit: a keyboard typo, two adjacent letters swapped, or a word replaced by a
    synonym from the shipped list (a kind that cannot apply falls to the next)."""
    words = text.split(" ")
    kinds = ["synonym", "typo", "swap"]
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "synonym":
            spots = [i for i, w in enumerate(words) if w.lower().strip(".,!?") in synonyms]
            if spots:
                i = rng.choice(spots)
                core = words[i].lower().strip(".,!?")
                words[i] = words[i].lower().replace(core, rng.choice(synonyms[core]))
                return " ".join(words)
            continue
        spots = [i for i, ch in enumerate(text) if ch.isalpha()
                 and (kind == "typo" or (i + 1 < len(text) and text[i + 1].isalpha()))]
        if not spots:
            continue
        i = rng.choice(spots)
        if kind == "swap":
            return text[:i] + text[i + 1] + text[i] + text[i + 2:]
        near = _neighbours(text[i])
        if near:
            return text[:i] + rng.choice(near) + text[i + 1:]
    return text


class TextParams(SampledParams):
    synonyms: dict[str, list[str]]


@plugin("strategy", "evasion-text", params=TextParams)
async def text_edits(attempt: Attempt, budgets: list[float], samples: int,
                     synonyms: dict[str, list[str]]) -> Conversation:
    """k edits (typos, swapped letters, synonyms) for each budget k; stops at the first
    flip. Requests carry `{"text": ...}`."""
    rng = seeded_rng("evasion-text", attempt.id)
    ref = attempt.reference or {}
    base = str((attempt.payload or {}).get("text", ""))
    label, classes = str(ref.get("label")), ref.get("classes")

    def ask(text: str, size: float) -> TargetRequest:
        return TargetRequest(attempt_id=attempt.id, payload={
            "text": text, "perturbation": {"method": "text" if size else "none",
                                           "size": size}})

    clean = decision((yield ask(base, 0.0)), classes)
    if clean != label:
        return
    for budget in budgets:
        for _ in range(samples):
            text = base
            for _ in range(int(budget)):
                text = edit(text, rng, synonyms)
            if decision((yield ask(text, budget)), classes) != clean:
                return
