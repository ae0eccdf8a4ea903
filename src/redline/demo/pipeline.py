"""The guarded assistant as an explicit pipeline of named stages.

input_filter -> retrieval -> prompt -> model -> output_filter. Each stage is an async
function Turn -> Turn; `GuardedApp.replace` swaps one out, which is how cascade
scenarios inject a fault at a single stage.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from redline.core.models import Message, TargetRequest
from redline.demo.data import Document, system_prompt
from redline.demo.filters import check_input, filter_output
from redline.demo.retrieval import retrieve
from redline.plugins.targets.base import Target

REFUSAL = "I'm sorry, I can't help with that request."
ASK_AGAIN = (
    "Could you tell me what you need help with? I can help with orders, shipping and returns."
)


@dataclass
class Turn:
    """One request's state as it moves through the stages."""

    history: list[Message]
    user_text: str
    documents: list[Document] = field(default_factory=list)
    prompt: list[Message] = field(default_factory=list)
    reply: str | None = None
    error: str | None = None
    done: bool = False
    tokens: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def log(self, stage: str, action: str, detail: str = "") -> None:
        self.events.append({"stage": stage, "action": action, "detail": detail})


Stage = Callable[[Turn], Awaitable[Turn]]
STAGE_NAMES = ("input_filter", "retrieval", "prompt", "model", "output_filter")


async def input_filter(turn: Turn) -> Turn:
    if not turn.user_text.strip():
        turn.reply, turn.done = ASK_AGAIN, True
        turn.log("input_filter", "answer", "empty message")
        return turn
    hit = check_input(turn.user_text)
    if hit:
        turn.reply, turn.done = REFUSAL, True
        turn.log("input_filter", "block", f"{hit[0]}: {hit[1][:80]}")
    else:
        turn.log("input_filter", "pass")
    return turn


async def retrieval(turn: Turn) -> Turn:
    turn.documents = retrieve(turn.user_text)
    turn.log("retrieval", "pass", ",".join(d.id for d in turn.documents))
    return turn


async def build_prompt(turn: Turn) -> Turn:
    system = system_prompt()
    if turn.documents:
        articles = "\n\n".join(f"[{d.title}]\n{d.text}" for d in turn.documents)
        system += f"\n\nRelevant help-centre articles:\n{articles}"
    turn.prompt = [Message("system", system), *turn.history]
    turn.log("prompt", "pass", f"{sum(len(m.content) for m in turn.prompt)} chars")
    return turn


def model_stage(model: Target) -> Stage:
    async def call_model(turn: Turn) -> Turn:
        resp = await model.send(TargetRequest(tuple(turn.prompt)))
        turn.tokens = resp.tokens
        if not resp.ok:
            turn.error, turn.done = f"model: {resp.error}", True
            turn.log("model", "error", resp.error or "")
        else:
            turn.reply = resp.text
            turn.log("model", "pass", f"{len(resp.text or '')} chars")
        return turn

    return call_model


async def output_filter(turn: Turn) -> Turn:
    text, actions = filter_output(turn.reply or "")
    if any(a.startswith("block:") for a in actions):
        turn.reply = REFUSAL
        turn.log("output_filter", "block", ",".join(actions))
    elif actions:
        turn.reply = text
        turn.log("output_filter", "redact", ",".join(actions))
    else:
        turn.log("output_filter", "pass")
    return turn


def start_turn(messages: list[Message]) -> Turn:
    history = [m for m in messages if m.role in ("user", "assistant")]
    last_user = next((m.content for m in reversed(history) if m.role == "user"), "")
    return Turn(history=history, user_text=last_user)


@dataclass(frozen=True)
class GuardedApp:
    stages: tuple[tuple[str, Stage], ...]

    @classmethod
    def around(cls, model: Target) -> GuardedApp:
        return cls((
            ("input_filter", input_filter),
            ("retrieval", retrieval),
            ("prompt", build_prompt),
            ("model", model_stage(model)),
            ("output_filter", output_filter),
        ))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.stages)

    def stage(self, name: str) -> Stage:
        found = dict(self.stages)
        if name not in found:
            raise KeyError(f"no stage {name!r}; stages: {list(self.names)}")
        return found[name]

    def replace(self, name: str, stage: Stage) -> GuardedApp:
        if name not in dict(self.stages):
            raise KeyError(f"no stage {name!r}; stages: {[n for n, _ in self.stages]}")
        return replace(self, stages=tuple((n, stage if n == name else s) for n, s in self.stages))

    def wrap(self, name: str, wrapper: Callable[[Stage], Stage]) -> GuardedApp:
        """The same app with one stage wrapped (a fault, a time-out, a circuit breaker)."""
        return self.replace(name, wrapper(self.stage(name)))

    async def handle(self, messages: list[Message]) -> Turn:
        """Serve one request. Client-sent system messages are dropped: users cannot set them."""
        return await self.run(start_turn(messages))

    async def run(self, turn: Turn) -> Turn:
        """Move a turn through the stages; a caller that keeps `turn` sees partial progress
        (its events) even when a stage raises or the caller gives up waiting."""
        for name, stage in self.stages:
            started = time.perf_counter()
            turn = await stage(turn)
            if turn.events and turn.events[-1]["stage"] == name:
                turn.events[-1]["ms"] = round((time.perf_counter() - started) * 1000, 3)
            if turn.done:
                break
        return turn
