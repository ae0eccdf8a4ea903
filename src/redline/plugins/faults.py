"""Seeded, scheduled faults, and the one middleware that injects them in-process.

A fault is middleware around an async call: `around(call, fault, actions)` lets the call
through untouched unless the fault's schedule picks the request, and otherwise records the
injection and hands the call to the action for the fault's kind. Latency and timeout act
the same everywhere; what an error or a wrong output looks like depends on the layer, so a
layer supplies its own actions: around a pipeline stage (`inject`: the stage raises, or
its output is wrong, partial or stale) or around a target (`FaultyTarget`: an error
response). The HTTP fault proxy (`redline.pipeline.proxy`) takes the same decisions.

`ArmedFault` decides, per request, whether the fault fires: the request must fall inside the
schedule's window (request indices and/or seconds since arming) and pass a draw against the
schedule's fraction. The draw comes from a `random.Random` seeded by (seed, stage, kind,
request index), so the same seed faults the same requests in any execution order; nothing
reads the global `random` state. The same object serves the in-process wrapper below and the
HTTP fault proxy (`redline.pipeline.proxy`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redline.core.attempts import seeded_rng
from redline.core.models import TargetRequest, TargetResponse
from redline.core.registry import register
from redline.demo.data import KNOWLEDGE_BASE, Document
from redline.demo.pipeline import REFUSAL, Stage, Turn
from redline.pipeline.stages import StageInfo
from redline.pipeline.trace import REQUEST
from redline.plugins.fault_spec import FaultSpec, Schedule
from redline.plugins.targets.base import Target

POISONED = next(d for d in KNOWLEDGE_BASE if d.id == "kb-partner")


def poison_document(spec: FaultSpec) -> Document:
    """The planted document: the bundled poisoned partner article unless the fault gives text."""
    if spec.text:
        return Document("kb-injected", "Help-centre update", spec.text)
    return POISONED


class InjectedFault(RuntimeError):
    """An in-process stage failing the way a bug or a broken library would."""


@dataclass(frozen=True)
class Decision:
    index: int  # the request's index in the whole experiment
    rng: random.Random


@dataclass
class ArmedFault:
    stage: str
    spec: FaultSpec
    schedule: Schedule
    seed: int
    offset: int = 0  # experiment index of the fault phase's first request
    clock: Callable[[], float] = time.monotonic
    armed_at: float = field(default=0.0)
    active: bool = True
    injections: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.armed_at = self.armed_at or self.clock()
        self._arrivals = itertools.count()
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return self.spec.label()

    def decide(self, tag: int | None) -> Decision | None:
        """Fire for this request? `tag` is its experiment index (None: count arrivals)."""
        if not self.active:
            return None
        index = tag - self.offset if tag is not None else next(self._arrivals)
        if index < 0 or not self.schedule.covers(index, self.clock() - self.armed_at):
            return None
        rng = seeded_rng("fault", self.seed, self.stage, self.spec.kind, index)
        if rng.random() >= self.schedule.fraction:
            return None
        return Decision(index + self.offset, rng)

    def record(self, decision: Decision, detail: str = "") -> None:
        with self._lock:
            self.injections.append({"index": decision.index, "t": self.clock(),
                                    "stage": self.stage, "fault": self.label, "detail": detail})

    def delay_s(self, rng: random.Random) -> float:
        return (self.spec.latency_ms + self.spec.jitter_ms * rng.random()) / 1000

    def disarm(self) -> None:
        self.active = False

    def faulted_indices(self) -> set[int]:
        with self._lock:
            return {i["index"] for i in self.injections}


# --- the middleware ------------------------------------------------------------------------

Call = Callable[[Any], Awaitable[Any]]
# an action: (the wrapped call, its argument, the decision) -> the call's result
Action = Callable[[Call, Any, Decision], Awaitable[Any]]


def delayed(fault: ArmedFault) -> Action:
    """latency and timeout: wait (the fault's delay, or its hang), then make the call."""
    async def act(call: Call, arg: Any, decision: Decision) -> Any:
        wait = fault.spec.hang_ms / 1000 if fault.spec.kind == "timeout" \
            else fault.delay_s(decision.rng)
        await asyncio.sleep(wait)
        return await call(arg)
    return act


def around(call: Call, fault: ArmedFault, actions: dict[str, Action],
           passed: Callable[[Any, Any], None] | None = None) -> Call:
    """`call` with `fault` injected on the requests its schedule picks (`passed(arg, result)`
    sees every call the fault let through)."""
    async def wrapped(arg: Any) -> Any:
        decision = fault.decide(REQUEST.get())
        if decision is None:
            out = await call(arg)
            if passed is not None:
                passed(arg, out)
            return out
        fault.record(decision)
        action = actions.get(fault.spec.kind) or delayed(fault)
        return await action(call, arg, decision)
    return wrapped


# every fault kind, registered (`redline plugins fault`) with its parameters
FAULT_KINDS = {
    "latency": "adds latency_ms (+ uniform 0..jitter_ms) before the call",
    "timeout": "hangs for hang_ms: whoever waits gives up first",
    "error": "the call fails (a stage raises; a target or dependency answers HTTP status)",
    "down": "the dependency refuses connections",
    "wrong_output": "the output is wrong (mode: flip, allow, poison, empty, replace)",
    "partial": "only a share (keep) of the data gets through",
    "stale": "serves the last good output again",
}
for _kind, _what in FAULT_KINDS.items():
    register("fault", _kind, around, params=FaultSpec, description=_what)


# --- around a target ------------------------------------------------------------------------

TARGET_KINDS = ("latency", "error", "timeout", "down")


def target_actions(fault: ArmedFault) -> dict[str, Action]:
    async def error(call: Call, arg: Any, decision: Decision) -> TargetResponse:
        return TargetResponse(text=None, error=f"HTTP {fault.spec.status}: injected",
                              status=fault.spec.status)

    async def down(call: Call, arg: Any, decision: Decision) -> TargetResponse:
        return TargetResponse(text=None, error="ConnectError: connection refused")

    return {"error": error, "down": down}


@dataclass
class FaultyTarget:
    """A target whose calls armed faults can delay, fail, hang or refuse, in-process."""

    inner: Target
    faults: list[ArmedFault] = field(default_factory=list)

    async def send(self, request: TargetRequest) -> TargetResponse:
        call: Call = self.inner.send
        for fault in self.faults:
            call = around(call, fault, target_actions(fault))
        return await call(request)


# --- around a pipeline stage ----------------------------------------------------------------

def _mark(turn: Turn, name: str, label: str, action: str = "pass", detail: str = "") -> None:
    """Tag the stage's last event with the fault (or log one if the stage logged nothing)."""
    if turn.events and turn.events[-1]["stage"] == name:
        turn.events[-1]["fault"] = label
    else:
        turn.events.append({"stage": name, "action": action, "detail": detail, "fault": label})


def _cut(text: str, keep: float) -> str:
    return text[: int(len(text) * keep)]


async def _flip(name: str, stage: Stage, turn: Turn, label: str) -> Turn:
    turn = await stage(turn)
    last = turn.events[-1] if turn.events and turn.events[-1]["stage"] == name else None
    if last is not None and last["action"] == "block":
        turn.reply, turn.done = None, False
        last.update(action="pass", detail="", fault=label)
    elif last is not None and last["action"] == "pass":
        turn.reply, turn.done = REFUSAL, True
        last.update(action="block", detail="flagged", fault=label)
    return turn


async def _wrong(name: str, stage: Stage, turn: Turn, spec: FaultSpec, label: str) -> Turn:
    if spec.mode == "flip":
        return await _flip(name, stage, turn, label)
    if spec.mode == "allow":  # the filter says "allow" without looking
        turn.events.append({"stage": name, "action": "pass", "detail": "", "fault": label})
        return turn
    if spec.mode in ("poison", "empty"):
        turn = await stage(turn)
        turn.documents = [poison_document(spec), *turn.documents[:1]] if spec.mode == "poison" \
            else []
        _mark(turn, name, label)
        turn.events[-1]["detail"] = ",".join(d.id for d in turn.documents)
        return turn
    turn.reply = spec.text or "OK."  # replace: the model's output, wrong
    turn.events.append({"stage": name, "action": "pass", "detail": f"{len(turn.reply)} chars",
                        "fault": label})
    return turn


def _cut_outputs(turn: Turn, outputs: tuple[str, ...], keep: float) -> None:
    """Keep only the start of what the stage produced (documents, prompt, reply)."""
    if "documents" in outputs:
        turn.documents = [Document(d.id, d.title, _cut(d.text, keep)) for d in turn.documents]
    if "prompt" in outputs and turn.prompt:
        first = turn.prompt[0]
        turn.prompt[0] = type(first)(first.role, _cut(first.content, keep))
    if "reply" in outputs and turn.reply:
        turn.reply = _cut(turn.reply, keep)


async def _partial(info: StageInfo, stage: Stage, turn: Turn, keep: float, label: str) -> Turn:
    if info.cuts == "input":  # the stage sees only the start of the message
        full, turn.user_text = turn.user_text, _cut(turn.user_text, keep)
        turn = await stage(turn)
        turn.user_text = full
    elif info.cuts == "output":  # only the start of the reply goes through the stage
        reply = turn.reply or ""
        head, tail = reply[: int(len(reply) * keep)], reply[int(len(reply) * keep):]
        turn.reply = head
        turn = await stage(turn)
        if not turn.done:
            turn.reply = (turn.reply or "") + tail
    else:
        turn = await stage(turn)
        _cut_outputs(turn, info.outputs, keep)
    _mark(turn, info.name, label)
    return turn


def stage_actions(info: StageInfo, stage: Stage, fault: ArmedFault,
                  cache: dict[str, Any]) -> dict[str, Action]:
    """What each kind of fault does at a stage of a pipeline, as the pipeline declares it."""
    name, spec, label = info.name, fault.spec, fault.label

    async def slow(call: Call, turn: Turn, decision: Decision) -> Turn:
        turn = await delayed(fault)(call, turn, decision)
        _mark(turn, name, label)
        return turn

    async def fail(call: Call, turn: Turn, decision: Decision) -> Turn:
        kind = spec.kind
        why = "dependency down: connection refused" if kind == "down" else "injected failure"
        _mark(turn, name, label, action="error", detail=why)
        if kind == "down":
            raise ConnectionRefusedError(f"{name}: {why}")
        raise InjectedFault(f"{name}: {why}")

    async def wrong(call: Call, turn: Turn, decision: Decision) -> Turn:
        return await _wrong(name, stage, turn, spec, label)

    async def partial(call: Call, turn: Turn, decision: Decision) -> Turn:
        return await _partial(info, stage, turn, spec.keep, label)

    async def stale(call: Call, turn: Turn, decision: Decision) -> Turn:
        if not cache:  # nothing cached yet: the call goes through
            return await stage(turn)
        for key, value in cache.items():
            setattr(turn, key, copy.deepcopy(value))
        turn.events.append({"stage": name, "action": "pass", "detail": "served from cache",
                            "fault": label})
        return turn

    return {"latency": slow, "timeout": slow, "error": fail, "down": fail,
            "wrong_output": wrong, "partial": partial, "stale": stale}


def inject(name: str, stage: Stage, fault: ArmedFault, info: StageInfo | None = None) -> Stage:
    """`stage` with `fault` injected on the requests the fault's schedule picks. `info`: the
    stage as its pipeline declares it (what it produces, for a stale cache to replay and a
    partial fault to cut; default: nothing declared)."""
    declared = info if info is not None else StageInfo(name)
    cache: dict[str, Any] = {}

    def remember(_: Turn, turn: Turn) -> None:
        if turn.error is None:
            cache.update({k: copy.deepcopy(getattr(turn, k)) for k in declared.outputs})

    return around(stage, fault, stage_actions(declared, stage, fault, cache), remember)
