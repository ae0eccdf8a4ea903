"""Judge an attempt's responses with its scenario's detectors: pass, fail, unclear or error."""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from redline.catalog.schema import DetectorSpec
from redline.core.models import Attempt, Outcome, TargetResponse, Verdict
from redline.plugins.detectors import DETECTORS, DetectionContext
from redline.plugins.detectors.judge import LLMJudge, combine, llm_judge

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


async def detect(
    texts: Sequence[str], specs: Sequence[DetectorSpec], ctx: DetectionContext,
) -> tuple[list[Verdict], str | None]:
    """Every detector over every text (one per turn): one merged verdict per detector.

    The second value is why judging failed (a detector raised), or None: a detector bug is an
    error, never a pass, in every kind of run."""
    verdicts: list[Verdict] = []
    for spec in specs:
        fn = DETECTORS[spec.name]
        # a detector that judges the attempt as a whole sees every turn's text at once
        inputs: Sequence[Any] = [texts] if getattr(fn, "whole_attempt", False) else texts
        per_turn = []
        for text in inputs:
            try:
                out = fn(text, ctx, **spec.params)
                if inspect.isawaitable(out):
                    out = await out
            except Exception as exc:  # a detector bug must never turn into a pass
                return verdicts, f"detector {spec.name} failed: {type(exc).__name__}: {exc}"
            per_turn.append(out)
        verdicts.append(_merge(per_turn))
    return verdicts, None


def outcome_of(verdicts: Sequence[Verdict]) -> Outcome:
    """fail if any detector saw the bad thing, unclear if one could not tell, else pass."""
    if any(v.detected for v in verdicts):
        return "fail"
    if any(v.unclear for v in verdicts):
        return "unclear"
    return "pass"


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
        reason = unusable_reason(resp.content)
        if reason:
            return "error", [], f"turn {i}: {reason}"
    verdicts, problem = await detect([r.content for r in responses], specs, ctx)
    if problem is not None:
        return "error", verdicts, problem
    skipped = [v for v in verdicts if v.evidence.get("unavailable")]
    if skipped and len(skipped) == len(verdicts):
        return "error", verdicts, "no detector could judge this attempt"
    for v in skipped:  # a detector the scenario relies on had nothing to check
        if v.evidence.get("fail_closed"):
            return "error", verdicts, f"detector {v.detector} could not judge: " \
                f"{v.evidence['unavailable']}"
    outcome = await second_opinion(outcome_of(verdicts), verdicts, responses[-1].text or "",
                                   _last_request(attempt, len(responses)), specs, ctx)
    return outcome, verdicts, None


async def second_opinion(outcome: Outcome, verdicts: list[Verdict], reply: str, request: str,
                         specs: Sequence[DetectorSpec], ctx: DetectionContext) -> Outcome:
    """The LLM judge of `ctx.judge` (when its mode says so) on top of the detectors' outcome:
    its verdict joins `verdicts`, and the outcome is the two combined."""
    llm = ctx.judge if isinstance(ctx.judge, LLMJudge) else None
    if llm is None or any(s.name == "llm_judge" for s in specs):
        return outcome  # none, or the scenario asks for the judge itself: it already judged
    if llm.mode != "always" and not (llm.mode == "unclear" and outcome == "unclear"):
        return outcome
    verdict = await llm_judge(reply, replace(ctx, extra={**ctx.extra, "judge_request": request}))
    verdicts.append(verdict)
    return combine(outcome, verdict)  # type: ignore[return-value]


def _last_request(attempt: Attempt, turns: int) -> str:
    """The user message the last judged reply answered."""
    if turns >= 2 and len(attempt.followups) >= turns - 1:
        return attempt.followups[turns - 2]
    return next((m.content for m in reversed(attempt.messages) if m.role == "user"), "")
