"""Strategies: what drives an attempt's turns.

A strategy is a function from an attempt to a conversation: an async generator that yields
the next request, is sent the target's response to it (`asend`), and returns to stop.

    async def my_strategy(attempt: Attempt) -> Conversation:
        reply = yield TargetRequest(attempt.messages, attempt.id)
        while not done(reply):
            reply = yield TargetRequest(next_messages(reply), attempt.id)

The engine owns everything around it (retries, time-outs, rate limits, stopping at an
error response, recording). An adaptive strategy reads each reply before it chooses the
next message; it must draw any randomness from `seeded_rng(...)` keyed by the attempt, so
that, given the recorded replies (a cassette), it yields the same requests again and a
replay is deterministic. Every request it yields is recorded in the transcript.

Built in: `static` (one turn: the attempt's messages) and `scripted` (the attempt's
follow-up turns, fixed in advance).

A strategy is a `strategy` plugin. A scenario names one (`strategy: NAME` or
`strategy: {NAME: {params}}`; default static, or scripted when an input has follow-ups) and
its params are checked against the plugin's parameter model when the file loads. The
registered object is either a function `f(attempt, **params) -> Conversation`, or a class:
`cls(**params)` is made once per scenario per run, and the instance is called with each
attempt (`instance(attempt) -> Conversation`); an instance with an `aclose()` coroutine is
closed when the run ends (an attacker model's connection, say). A strategy object with a
`report(attempt_id) -> StrategyReport | None` method hands the engine, once the attempt is
judged, a verdict of its own (an attack's tree, `redline.attack`) and, when it could not do
its job (a broken attacker), an error: the attempt is then an error, never a pass.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redline.core import registry
from redline.core.models import Attempt, Message, Outcome, TargetRequest, TargetResponse, Verdict
from redline.core.registry import plugin
from redline.plugins.targets.base import close_client

Conversation = AsyncGenerator[TargetRequest, TargetResponse]
Strategy = Callable[[Attempt], Conversation]


@dataclass(frozen=True)
class StrategyReport:
    """What a strategy says about an attempt once it is judged: its own verdict (stored with
    the detectors'), and why the strategy failed, if it did."""

    verdict: Verdict
    error: str | None = None

    def settle(self, outcome: Outcome, verdicts: list[Verdict], error: str | None
               ) -> tuple[Outcome, list[Verdict], str | None]:
        """The attempt's outcome with this report: a strategy that failed makes an error of
        anything but a finding; its verdict can fail or make unclear what passed."""
        verdicts = [*verdicts, self.verdict]
        if outcome == "error":  # the strategy's own reason first: it is why nothing was sent
            return outcome, verdicts, self.error or error
        if outcome == "fail":
            return outcome, verdicts, error
        if self.error is not None:
            return "error", verdicts, self.error
        if self.verdict.detected:
            return "fail", verdicts, error
        if self.verdict.unclear:
            return "unclear", verdicts, error
        return outcome, verdicts, error


@plugin("strategy", "static")
async def static(attempt: Attempt) -> Conversation:
    """One turn: the attempt's messages, once."""
    yield TargetRequest(attempt.messages, attempt.id)


@plugin("strategy", "scripted")
async def scripted(attempt: Attempt) -> Conversation:
    """Multi-turn with the follow-ups written in advance: each goes after the last reply."""
    history = attempt.messages
    reply = yield TargetRequest(history, attempt.id)
    for followup in attempt.followups:
        history = (*history, Message("assistant", reply.content), Message("user", followup))
        reply = yield TargetRequest(history, attempt.id)


STRATEGIES: dict[str, Strategy] = {"static": static, "scripted": scripted}


def strategy_for(attempt: Attempt) -> Strategy:
    """The built-in strategy an attempt asks for: scripted when it has follow-ups."""
    return scripted if attempt.followups else static


def resolve(name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """The registered strategy `name` with its (already validated) parameters bound."""
    obj = registry.get("strategy", name).obj
    if isinstance(obj, type):
        return obj(**dict(params or {}))  # type: ignore[no-any-return]
    return functools.partial(obj, **params) if params else obj  # type: ignore[no-any-return]


def selector(chosen: Mapping[str, tuple[str, Mapping[str, Any]] | None],
             bound: Mapping[str, Strategy] | None = None,
             ) -> tuple[Callable[[Attempt], Strategy], list[Strategy]]:
    """Per scenario id, the strategy its file names (None: the built-in default), or one the
    run has already bound (`bound`: an attack scenario's driver). Returns the engine's
    `attempt -> strategy` function and the resolved strategies (to close)."""
    bound = bound or {}
    resolved = {sid: bound.get(sid) or resolve(*spec) for sid, spec in chosen.items()
                if spec is not None}

    def select(attempt: Attempt) -> Strategy:
        found = resolved.get(attempt.scenario_id)
        return strategy_for(attempt) if found is None else found

    return select, list(resolved.values())


async def aclose_all(strategies: Iterable[Strategy]) -> None:
    """Close the strategies that hold something open (an `aclose()` coroutine)."""
    for strategy in strategies:
        await close_client(strategy)


def extend_transcript(transcript: list[Message], request: TargetRequest) -> None:
    """Record a request: the messages it adds to the conversation so far (all of them if
    the strategy started a fresh conversation, so that no request it made is lost)."""
    if request.payload is not None and not request.messages:
        transcript.append(Message("user", json.dumps(dict(request.payload), sort_keys=True,
                                                     ensure_ascii=False, default=str)))
        return
    sent, n = request.messages, len(transcript)
    if n and len(sent) >= n and tuple(transcript) == sent[:n]:
        transcript.extend(sent[n:])
    else:
        transcript.extend(sent)
