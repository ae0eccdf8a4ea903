"""Plain data that flows between the stages: attempts, requests, responses, verdicts.

A request carries chat messages, or a structured payload for targets that are not chat
models (a classifier's features, a tool call), or both; a response carries text, or a
structured payload (class probabilities, a tool call), or both. Detectors judge the text,
or the payload's canonical JSON when there is no text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# unclear: the detectors could not decide; never counted as a pass (nor silently as a fail)
Outcome = Literal["pass", "fail", "error", "unclear"]


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One planned interaction, fully determined by scenario, input, mutator chain and seed."""

    id: str
    seq: int
    scenario_id: str
    scenario_version: int
    category: str
    severity: str
    input_index: int
    chain: tuple[str, ...]
    messages: tuple[Message, ...]
    followups: tuple[str, ...] = ()
    canaries: tuple[str, ...] = ()
    original: str = ""
    # a structured input sent with the first request (a classifier's features)
    payload: Mapping[str, Any] | None = None
    # what the detectors compare with and the target never sees (a true label, a group)
    reference: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.payload is not None:
            extra["payload"] = dict(self.payload)
        if self.reference is not None:
            extra["reference"] = dict(self.reference)
        return {
            "id": self.id,
            "seq": self.seq,
            "scenario_id": self.scenario_id,
            "scenario_version": self.scenario_version,
            "category": self.category,
            "severity": self.severity,
            "input_index": self.input_index,
            "chain": list(self.chain),
            "messages": [m.to_dict() for m in self.messages],
            "followups": list(self.followups),
            "canaries": list(self.canaries),
            "original": self.original,
            **extra,
        }


@dataclass(frozen=True, slots=True)
class TargetRequest:
    messages: tuple[Message, ...] = ()
    attempt_id: str = ""
    payload: Mapping[str, Any] | None = None  # structured input: features, a tool call

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"messages": [m.to_dict() for m in self.messages]}
        if self.payload is not None:
            out["payload"] = dict(self.payload)
        return out


@dataclass(slots=True)
class TargetResponse:
    """What one call to a target gave back; `error` set means there is no usable reply."""

    text: str | None
    error: str | None = None
    status: int | None = None
    latency_s: float = 0.0
    tokens: int | None = None
    retry_after_s: float | None = None
    retryable: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] | None = None  # structured output: probabilities, a tool call

    @property
    def ok(self) -> bool:
        return self.error is None and (self.text is not None or self.payload is not None)

    @property
    def content(self) -> str:
        """What detectors read: the text, or the payload as canonical JSON."""
        if self.text is not None or self.payload is None:
            return self.text or ""
        return json.dumps(self.payload, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One detector's judgement of one response: detected means the bad thing was seen.

    Three-valued: detected, not detected, or unclear (the evidence is too weak to say either
    way; `detected` is then False). Unclear is never a pass.
    """

    detector: str
    detected: bool
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
    unclear: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "detected": self.detected,
            "score": round(self.score, 4),
            "evidence": self.evidence,
            **({"unclear": True} if self.unclear else {}),
        }


@dataclass(slots=True)
class AttemptResult:
    attempt: Attempt
    outcome: Outcome
    transcript: list[Message]
    responses: list[TargetResponse]
    verdicts: list[Verdict]
    error: str | None = None
    tries: int = 1
    started_at: float = 0.0
    latency_s: float = 0.0

    @property
    def response_text(self) -> str:
        last = self.responses[-1] if self.responses else None
        return (last.text or "") if last else ""
