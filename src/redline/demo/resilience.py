"""Optional resilience around a stage that calls a dependency: time-out, circuit breaker, fallback.

Off by default (the demo target does not use it). With it, a failing model stage stops being
called after `failures_to_open` failures in a row (the breaker opens), the user gets the
fallback instead of an error, and after a cool-down one trial call is let through (half-open):
a success closes the breaker, a failure opens it again.

The cool-down is counted in seconds (`open_for_s`, the usual choice) or in rejected calls
(`open_for_calls`, deterministic: what cascade experiments use so that the same seed gives the
same journal however fast the machine is).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from redline.demo.pipeline import Stage, Turn

BreakerState = Literal["closed", "open", "half_open"]
FALLBACK_REPLY = (
    "Our assistant is temporarily unavailable. Please try again in a few minutes, or contact "
    "support by chat from 8:00 to 20:00 CET."
)


@dataclass
class CircuitBreaker:
    failures_to_open: int = 3
    open_for_s: float | None = None
    open_for_calls: int | None = None
    clock: Callable[[], float] = time.monotonic
    state: BreakerState = "closed"
    failures: int = 0
    opened_at: float = 0.0
    rejected: int = 0
    trial_in_flight: bool = False
    transitions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.open_for_s is None and self.open_for_calls is None:
            self.open_for_s = 1.0

    def _move(self, to: BreakerState, why: str) -> None:
        self.transitions.append({"t": self.clock(), "from": self.state, "to": to, "why": why})
        self.state = to

    def _cooled_down(self) -> bool:
        if self.open_for_calls is not None:
            return self.rejected >= self.open_for_calls
        return self.clock() - self.opened_at >= (self.open_for_s or 0.0)

    def allow(self) -> bool:
        """May the dependency be called now? Counts a rejection when it may not."""
        if self.state == "open" and self._cooled_down():
            self._move("half_open", "cool-down over: one trial call")
        if self.state == "closed":
            return True
        if self.state == "half_open" and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        self.rejected += 1
        return False

    def success(self) -> None:
        self.failures = 0
        if self.state == "half_open":
            self.trial_in_flight = False
            self._move("closed", "trial call succeeded")

    def failure(self) -> None:
        self.failures += 1
        if self.state == "half_open":
            self.trial_in_flight = False
            self._open("trial call failed")
        elif self.state == "closed" and self.failures >= self.failures_to_open:
            self._open(f"{self.failures} failures in a row")

    def _open(self, why: str) -> None:
        self.opened_at, self.rejected = self.clock(), 0
        self._move("open", why)


Fallback = Callable[[Turn], Turn]


def canned_reply(text: str = FALLBACK_REPLY) -> Fallback:
    """Fallback for the model stage: a fixed, safe reply; the request ends there."""

    def use(turn: Turn) -> Turn:
        turn.error, turn.reply, turn.done = None, text, True
        return turn

    return use


def resilient(name: str, stage: Stage, *, timeout_s: float | None = None,
              breaker: CircuitBreaker | None = None, fallback: Fallback | None = None) -> Stage:
    """Wrap `stage`: bound its time, count its failures, and degrade instead of erroring.

    A failure is a time-out, an exception, or the stage setting `turn.error`. Without a
    fallback the failure reaches the user as an error (as without the wrapper).
    """

    def failed(turn: Turn, action: str, why: str) -> Turn:
        if action != "stage_error":
            turn.log(name, action, why)
        if fallback is not None:
            turn = fallback(turn)
            turn.log(name, "fallback", why)
            return turn
        turn.error, turn.done = turn.error or f"{name}: {why}", True
        return turn

    async def guarded(turn: Turn) -> Turn:
        if breaker is not None and not breaker.allow():
            return failed(turn, "breaker_open", "circuit open: dependency not called")
        try:
            async with asyncio.timeout(timeout_s):
                turn = await stage(turn)
        except asyncio.CancelledError:  # the caller gave up: free a half-open trial slot
            if breaker is not None:
                breaker.failure()
            raise
        except TimeoutError:
            outcome = ("timeout", f"no reply within {timeout_s * 1000:g} ms")
        except Exception as exc:  # the dependency's failure, not ours
            outcome = ("error", f"{type(exc).__name__}: {exc}"[:200])
        else:
            if turn.error is None:
                if breaker is not None:
                    breaker.success()
                return turn
            outcome = ("stage_error", turn.error)
        if breaker is not None:
            breaker.failure()
        return failed(turn, *outcome)

    return guarded
