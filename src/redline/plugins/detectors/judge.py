"""Optional LLM judges over any OpenAI-compatible endpoint. Never required.

The `judge:` config block names an endpoint, a style (`verdict`, `rubric`, `moderation`:
see judge_formats) and a mode: `unclear` (default: the rules decide the clear cases and the
judge only the attempts they leave unclear), `always` (every attempt), or `never`.

A judge that errors, times out or answers unparseably gives an unclear verdict, never a
pass. Every call is recorded in the verdict's evidence (`judge_call`: its key, the reply or
the error), so a replay re-judges identically from the recording with no judge reachable.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from redline.core.models import Message, TargetRequest, TargetResponse, Verdict
from redline.plugins.detectors.base import DetectionContext, detector
from redline.plugins.detectors.judge_formats import applies, build_messages, parse
from redline.plugins.targets.base import close_client

Mode = Literal["always", "unclear", "never"]


def call_key(request: TargetRequest) -> str:
    """Identifies one judge call: the attempt and the exact messages sent."""
    body = json.dumps([request.attempt_id, [m.to_dict() for m in request.messages]],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def index_calls(verdict_lists: Iterable[list[dict[str, Any]]],
                walk: Callable[[dict[str, Any]], Iterable[Mapping[str, Any]]]
                ) -> dict[str, Mapping[str, Any]]:
    """Recorded side calls (the judge's, an attacker's) by key: what `walk` finds in the
    evidence of each stored verdict. The playback of `RecordedCalls`."""
    calls: dict[str, Mapping[str, Any]] = {}
    for verdicts in verdict_lists:
        for v in verdicts:
            for call in walk(v.get("evidence") or {}):
                calls[str(call["key"])] = call
    return calls


@dataclass
class LLMJudge:
    """A judge client (anything with `async send(TargetRequest) -> TargetResponse`) and how
    to ask it."""

    client: Any
    style: str = "verdict"
    mode: Mode = "unclear"
    threshold: float = 0.5
    timeout_s: float = 60.0
    conversation: bool = False
    model: str = ""

    async def ask(self, request: TargetRequest) -> TargetResponse:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self.client.send(request)
        except TimeoutError:
            return TargetResponse(text=None, error=f"judge timed out after {self.timeout_s:g}s")
        except Exception as exc:  # a judge that raises is a judge that did not judge
            return TargetResponse(text=None, error=f"{type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        await close_client(self.client)


@dataclass
class RecordedCalls:
    """Plays back the calls a run recorded (an LLM judge's, an attacker's) by their key, so a
    replay reaches neither; a call the recording lacks is an error (unclear, never a pass)."""

    calls: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    what: str = "judge"  # whose calls, as the error for a missing one says

    @classmethod
    def from_verdicts(cls, verdict_lists: Iterable[list[dict[str, Any]]],
                      walk: Callable[[dict[str, Any]], Iterable[Mapping[str, Any]]] | None = None,
                      what: str = "judge") -> RecordedCalls:
        return cls(index_calls(verdict_lists, walk or _judge_calls), what)

    async def send(self, request: TargetRequest) -> TargetResponse:
        call = self.calls.get(call_key(request))
        if call is None:
            return TargetResponse(text=None, error=f"the recording has no such {self.what} call")
        return TargetResponse(text=call.get("reply"), error=call.get("error"),
                              latency_s=float(call.get("latency_ms") or 0) / 1000,
                              tokens=call.get("tokens"))

    async def aclose(self) -> None:
        return None


def _judge_calls(evidence: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """A verdict's recorded judge call, and those of the replies an attack scored (its
    `nodes`, each with the verdicts of that reply)."""
    call = evidence.get("judge_call")
    if isinstance(call, dict) and "key" in call:
        yield call
    for node in evidence.get("nodes") or ():
        for v in (node.get("verdicts") or ()) if isinstance(node, dict) else ():
            yield from _judge_calls(v.get("evidence") or {})


def _request_text(ctx: DetectionContext) -> str:
    if "judge_request" in ctx.extra:
        return str(ctx.extra["judge_request"])
    return next((m.content for m in reversed(ctx.attempt.messages) if m.role == "user"), "")


def _unclear(why: str, evidence: dict[str, Any]) -> Verdict:
    return Verdict("llm_judge", False, 0.5, {**evidence, "judge_error": why[:300]}, unclear=True)


@detector("llm_judge")
async def llm_judge(text: str, ctx: DetectionContext) -> Verdict:
    """An OpenAI-compatible model judges the reply against the scenario (needs --judge)."""
    judge = ctx.judge
    if judge is None:
        return Verdict("llm_judge", False, 0.0, {"unavailable": "no judge configured"})
    if not isinstance(judge, LLMJudge):  # a bare client: the verdict style, as before
        judge = LLMJudge(judge)
    expected = str(ctx.extra.get("expected", "refuse"))
    if not applies(judge.style, expected):
        return Verdict("llm_judge", False, 0.0, {
            "unavailable": f"the {judge.style} judge does not judge expected={expected}"})
    messages: tuple[Message, ...] = build_messages(
        judge.style, _request_text(ctx), text, expected, str(ctx.extra.get("objective", "")),
        judge.conversation)
    request = TargetRequest(messages, ctx.attempt.id)
    resp = await judge.ask(request)
    call = {"key": call_key(request), "style": judge.style, "model": judge.model,
            "reply": resp.text if resp.ok else None, "error": None if resp.ok else resp.error}
    evidence: dict[str, Any] = {"judge_call": call}
    if not resp.ok:
        return _unclear(f"judge endpoint failed: {resp.error}", evidence)
    try:
        reading = parse(judge.style, resp.text or "", expected, judge.threshold)
    except ValueError as exc:
        return _unclear(str(exc), evidence)
    assert reading.detected is not None
    return Verdict("llm_judge", reading.detected, max(0.0, min(1.0, reading.score)),
                   {**reading.evidence, **evidence})


def combine(rules: str, verdict: Verdict) -> str:
    """The attempt's outcome once the judge has spoken: a detection by either fails it; a
    judge that could not decide leaves it unclear; a clear judgement resolves the rules'
    unclear band. An unavailable judge changes nothing."""
    if verdict.evidence.get("unavailable"):
        return rules
    if rules == "fail" or verdict.detected:
        return "fail"
    if verdict.unclear:
        return "unclear"
    return "pass"
