"""How the guarded demo app is assembled for a cascade experiment (a scenario's `system:`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from redline.catalog.schema import Strict


class BreakerSpec(Strict):
    failures: int = Field(3, ge=1, le=1000)
    open_for_calls: int | None = Field(4, ge=1, le=100_000)
    open_for_s: float | None = Field(None, gt=0, le=3600)


class SystemSpec(Strict):
    """How the guarded assistant app is assembled for the experiment."""

    remote: list[Literal["input_filter", "retrieval", "model"]] = Field(
        default_factory=lambda: ["model"],
        description="stages whose dependency runs as an HTTP service behind a fault proxy")
    timeout_ms: dict[Literal["input_filter", "retrieval", "model"], float] = Field(
        default_factory=dict, description="client time-out per remote dependency")
    breaker: BreakerSpec | None = Field(None, description="circuit breaker around the model")
    fallback: bool = Field(False, description="canned reply when the model stage fails")
    moderation_on_error: Literal["local", "block"] = "local"
