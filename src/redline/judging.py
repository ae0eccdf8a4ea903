"""Judge an attempt's responses with its scenario's detectors: pass, fail, unclear or error."""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence

from redline.catalog.schema import DetectorSpec
from redline.detectors import DETECTORS, DetectionContext
from redline.models import Attempt, Outcome, TargetResponse, Verdict

# control characters other than tab, newline and carriage return, and U+FFFD
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def unusable_reason(text: str) -> str | None:
    """Why a reply cannot be judged (empty or garbage), or None if it can."""
    if not text.strip():
        return "empty reply"
    sample = text[:2000]
    bad = len(_UNREADABLE.findall(sample))
    if bad / len(sample) > 0.3:
        return "garbage reply (mostly control or replacement characters)"
    return None


def _merge(per_turn: list[Verdict]) -> Verdict:
    """One verdict per detector across turns: the worst turn wins, evidence names it."""
    worst = max(
        range(len(per_turn)),
        key=lambda i: (per_turn[i].detected, per_turn[i].unclear, per_turn[i].score),
    )
    v = per_turn[worst]
    if len(per_turn) == 1:
        return v
    return Verdict(v.detector, v.detected, v.score, {**v.evidence, "turn": worst}, v.unclear)


async def judge(
    attempt: Attempt,
    responses: Sequence[TargetResponse],
    specs: Sequence[DetectorSpec],
    ctx: DetectionContext,
) -> tuple[Outcome, list[Verdict], str | None]:
    """Fail closed: any error in a response or a detector makes the outcome an error."""
    for i, resp in enumerate(responses):
        if not resp.ok:
            return "error", [], f"turn {i}: {resp.error}"
        reason = unusable_reason(resp.text or "")
        if reason:
            return "error", [], f"turn {i}: {reason}"
    verdicts: list[Verdict] = []
    for spec in specs:
        fn = DETECTORS[spec.name]
        per_turn = []
        for resp in responses:
            try:
                out = fn(resp.text or "", ctx, **spec.params)
                if inspect.isawaitable(out):
                    out = await out
            except Exception as exc:  # a detector bug must never turn into a pass
                why = f"detector {spec.name} failed: {type(exc).__name__}: {exc}"
                return "error", verdicts, why
            per_turn.append(out)
        verdicts.append(_merge(per_turn))
    skipped = [v for v in verdicts if v.evidence.get("unavailable")]
    if skipped and len(skipped) == len(verdicts):
        return "error", verdicts, "no detector could judge this attempt"
    outcome: Outcome
    if any(v.detected for v in verdicts):
        outcome = "fail"
    elif any(v.unclear for v in verdicts):
        outcome = "unclear"
    else:
        outcome = "pass"
    return outcome, verdicts, None
