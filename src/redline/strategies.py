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
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable

from redline.models import Attempt, Message, TargetRequest, TargetResponse
from redline.registry import plugin

Conversation = AsyncGenerator[TargetRequest, TargetResponse]
Strategy = Callable[[Attempt], Conversation]


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
