"""A target that plays back a recorded run: no network, no model, the same responses.

Responses are keyed by attempt id and turn, so playback does not depend on the order or
concurrency of the replay. An attempt the recording lacks is an error, never a pass.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from redline.core.models import TargetRequest, TargetResponse
from redline.store import Store


@dataclass
class CassetteTarget:
    recording: dict[str, list[dict[str, Any]]]
    source_run: str
    recorded_target: dict[str, Any]
    target_canaries: tuple[str, ...] = ()
    target_system_prompt: str | None = None
    spec: str = "cassette"
    _turns: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    @classmethod
    def from_store(cls, store: Store, run_ref: str) -> CassetteTarget:
        info = store.get_run(run_ref)
        recording = store.recorded_responses(info.id)
        judged = info.manifest.get("judging", {})
        return cls(
            recording=recording, source_run=info.id,
            recorded_target=info.manifest.get("target", {}),
            target_canaries=tuple(judged.get("target_canaries", ())),
            target_system_prompt=judged.get("target_system_prompt"),
            spec=f"cassette:{info.id}",
        )

    async def send(self, request: TargetRequest) -> TargetResponse:
        turns = self.recording.get(request.attempt_id)
        turn = self._turns[request.attempt_id]
        self._turns[request.attempt_id] += 1
        if turns is None or turn >= len(turns):
            return TargetResponse(
                text=None, error=f"cassette {self.source_run} has no recording of attempt "
                f"{request.attempt_id} turn {turn}")
        r = turns[turn]
        return TargetResponse(text=r["text"], error=r["error"], status=r["status"],
                              latency_s=r["latency_ms"] / 1000, tokens=r["tokens"],
                              payload=r.get("payload"))

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": "cassette", "source_run": self.source_run,
                "recorded_target": self.recorded_target}

    @property
    def canaries(self) -> tuple[str, ...]:
        return self.target_canaries

    @property
    def system_prompt(self) -> str | None:
        return self.target_system_prompt
