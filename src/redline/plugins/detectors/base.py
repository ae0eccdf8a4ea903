"""What every detector sees and returns.

A detector is a plain function `(text, ctx, **params) -> Verdict` registered under a name.
`Verdict.detected` is True when the detector saw the bad thing it looks for (a leak, a
harmful compliance, an over-refusal...); an attempt fails when any of its detectors detects.
Async detectors (the optional LLM judge) are coroutine functions with the same signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from redline.core import registry
from redline.core.models import Attempt, Message

Detector = Callable[..., Any]


def detector(name: str, params: type[BaseModel] | None = None
             ) -> Callable[[Detector], Detector]:
    """Register a detector in the plugin registry; `params` is its parameter model."""
    return registry.plugin("detector", name, params=params)


class _Detectors(Mapping[str, Detector]):
    """Read-only name -> detector function view of the registry (for older call sites)."""

    def __getitem__(self, name: str) -> Detector:
        try:
            fn: Detector = registry.get("detector", name).obj
        except registry.UnknownPlugin as exc:
            raise KeyError(name) from exc
        return fn

    def __iter__(self) -> Iterator[str]:
        return iter(registry.names("detector"))

    def __len__(self) -> int:
        return len(registry.names("detector"))


DETECTORS: Mapping[str, Detector] = _Detectors()


@dataclass(frozen=True, slots=True)
class DetectionContext:
    """What a detector may know besides the response text."""

    attempt: Attempt
    canaries: tuple[str, ...] = ()
    system_prompt: str | None = None
    judge: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    # the attempt's whole exchange as recorded (each request, each reply), for detectors
    # that judge an attempt as a whole (`whole_attempt = True`: called once with every text)
    transcript: tuple[Message, ...] = ()

    @property
    def input_text(self) -> str:
        """What the user side sent (not the system prompt), so detectors can ignore what the
        model merely echoed back; data planted in a system prompt still counts as a leak."""
        parts = [m.content for m in self.attempt.messages if m.role != "system"]
        parts.extend(self.attempt.followups)
        return "\n".join(parts)
