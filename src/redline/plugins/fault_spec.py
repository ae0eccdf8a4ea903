"""What a fault is: its kind and parameters, and when it is on (its schedule).

A cascade scenario's `fault:` and `schedule:` and a load run's `--faults` are these models;
the middleware that injects a fault into a target or a stage is `redline.plugins.faults`,
the HTTP proxy that injects it into a dependency is `redline.pipeline.proxy`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from redline.catalog.schema import Strict

FaultKind = Literal["latency", "error", "timeout", "wrong_output", "partial", "stale", "down"]
WrongMode = Literal["flip", "allow", "poison", "empty", "replace"]

class FaultSpec(Strict):
    kind: FaultKind
    latency_ms: float = Field(0.0, ge=0, le=600_000, description="latency: delay added")
    jitter_ms: float = Field(0.0, ge=0, le=600_000, description="latency: extra, uniform 0..j")
    hang_ms: float = Field(30_000.0, gt=0, le=600_000,
                           description="timeout: how long the stage or dependency hangs")
    status: int = Field(503, ge=400, le=599, description="error: HTTP status (dependencies)")
    echo_request: bool = Field(False, description="error: the error body repeats the request")
    mode: WrongMode | None = Field(None, description="wrong_output: how the output is wrong")
    text: str | None = Field(None, description="wrong_output: replacement or poison text")
    keep: float = Field(0.5, ge=0, lt=1, description="partial: share of the data kept")

    @model_validator(mode="after")
    def _mode(self) -> FaultSpec:
        if (self.kind == "wrong_output") != (self.mode is not None):
            raise ValueError("'mode' is required for wrong_output faults and only for them")
        if self.kind == "latency" and not (self.latency_ms or self.jitter_ms):
            raise ValueError("a latency fault needs latency_ms or jitter_ms")
        return self

    def label(self) -> str:
        extra = {"latency": f"{self.latency_ms:g}ms", "error": str(self.status),
                 "timeout": f"{self.hang_ms:g}ms", "wrong_output": self.mode or "",
                 "partial": f"keep={self.keep:g}"}.get(self.kind, "")
        return f"{self.kind}:{extra}" if extra else self.kind


class Schedule(Strict):
    at_request: int = Field(0, ge=0, description="first request (of the fault phase) to fault")
    for_requests: int | None = Field(None, ge=1, description="how many requests; default all")
    at_s: float | None = Field(None, ge=0, description="or: seconds after the fault is armed")
    for_s: float | None = Field(None, gt=0, description="or: for this many seconds")
    fraction: float = Field(1.0, gt=0, le=1, description="share of requests in the window")

    def covers(self, index: int, elapsed_s: float) -> bool:
        if index < self.at_request:
            return False
        if self.for_requests is not None and index >= self.at_request + self.for_requests:
            return False
        start = self.at_s or 0.0
        if elapsed_s < start:
            return False
        return self.for_s is None or elapsed_s < start + self.for_s

    @property
    def timed(self) -> bool:
        return self.at_s is not None or self.for_s is not None
