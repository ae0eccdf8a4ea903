"""The guarded assistant app as a redline target (`demo`, the default target)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redline.core.models import TargetRequest, TargetResponse
from redline.demo.data import ADMIN_CODE, CANARY, system_prompt
from redline.demo.pipeline import STAGE_NAMES, GuardedApp
from redline.plugins.targets.base import Target


@dataclass
class GuardedAppTarget:
    model: Target
    app: GuardedApp
    spec: str = "demo"

    @classmethod
    def create(cls, model: Target) -> GuardedAppTarget:
        """The app around `model` (the `demo` target kind builds the default model)."""
        spec = "demo" if model.spec.startswith("local") else f"demo:{model.spec}"
        return cls(model=model, app=GuardedApp.around(model), spec=spec)

    async def send(self, request: TargetRequest) -> TargetResponse:
        started = time.perf_counter()
        turn = await self.app.handle(list(request.messages))
        latency = time.perf_counter() - started
        meta = {"trace": turn.events}
        if turn.error is not None:
            return TargetResponse(text=None, error=turn.error, latency_s=latency, meta=meta)
        return TargetResponse(text=turn.reply or "", latency_s=latency, tokens=turn.tokens,
                              meta=meta)

    async def aclose(self) -> None:
        await self.model.aclose()

    def describe(self) -> dict[str, Any]:
        return {"kind": "demo", "stages": list(STAGE_NAMES), "model": self.model.describe()}

    @property
    def canaries(self) -> tuple[str, ...]:
        return (CANARY, ADMIN_CODE)

    @property
    def system_prompt(self) -> str | None:
        return system_prompt()
