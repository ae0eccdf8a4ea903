"""What every detector sees and returns.

A detector is a plain function `(text, ctx, **params) -> Verdict` registered under a name.
`Verdict.detected` is True when the detector saw the bad thing it looks for (a leak, a
harmful compliance, an over-refusal...); an attempt fails when any of its detectors detects.
Async detectors (the optional LLM judge) are coroutine functions with the same signature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redline.models import Attempt

Detector = Callable[..., Any]
DETECTORS: dict[str, Detector] = {}


def detector(name: str) -> Callable[[Detector], Detector]:
    def register(fn: Detector) -> Detector:
        DETECTORS[name] = fn
        return fn

    return register


@dataclass(frozen=True, slots=True)
class DetectionContext:
    """What a detector may know besides the response text."""

    attempt: Attempt
    canaries: tuple[str, ...] = ()
    system_prompt: str | None = None
    judge: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_text(self) -> str:
        """What the user side sent (not the system prompt), so detectors can ignore what the
        model merely echoed back; data planted in a system prompt still counts as a leak."""
        parts = [m.content for m in self.attempt.messages if m.role != "system"]
        parts.extend(self.attempt.followups)
        return "\n".join(parts)
