"""The attacker: any target kind asked for the next attack prompt, every call recorded.

`Attacker.ask` sends the attacker's conversation, seeded from the run seed and the attempt
(an OpenAI-compatible attacker gets the seed in the request; the local model seeds from the
run seed and the prompt, which names the attempt's objective), and returns an
`AttackerCall`: the reply, or why it is no usable attack prompt (an error, an empty reply,
a refusal to attack, a prompt off the objective). `RecordedAttacker` plays the recorded
calls back by key, so a replay needs no attacker; a call it lacks is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from redline.core.attempts import digest
from redline.core.models import Message, TargetRequest, TargetResponse
from redline.plugins.detectors.judge import call_key, close_client, index_calls
from redline.plugins.detectors.refusal import is_refusal
from redline.plugins.detectors.wording import topic_terms

MAX_PROMPT_CHARS = 8000


@dataclass(frozen=True)
class AttackerCall:
    """One attacker call as recorded: its key, the reply or the error, and what it cost."""

    key: str
    reply: str | None
    error: str | None = None
    latency_ms: float = 0.0
    tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "reply": self.reply, "error": self.error,
                "latency_ms": self.latency_ms, "tokens": self.tokens}


def extract_prompt(reply: str) -> str:
    """The attack prompt in an attacker reply: the `prompt` field of a JSON object in it
    (PAIR's format), else the whole reply."""
    start, end = reply.find("{"), reply.rfind("}")
    if 0 <= start < end:
        try:
            data = json.loads(reply[start:end + 1])
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("prompt"), str):
            return data["prompt"].strip()
    return reply.strip()


def unusable(call: AttackerCall, prompt: str, objective: str) -> str | None:
    """Why an attacker call gave no usable attack prompt, or None if it did."""
    if call.error is not None or call.reply is None:
        return f"attacker error: {call.error or 'no reply'}"
    if not prompt.strip():
        return "attacker returned an empty prompt"
    if is_refusal(prompt):
        return f"attacker refused to attack: {prompt[:120]!r}"
    goal = topic_terms(objective)  # the objective's topic words (stemmed), as detectors read
    if goal and not goal & topic_terms(prompt):
        return f"attacker prompt is off the objective: {prompt[:120]!r}"
    return None


def clock(latency_s: float) -> float:
    """A latency as recorded (ms, 3 decimals): budgets count these, live and on replay."""
    return round(latency_s * 1000, 3)


@dataclass
class Attacker:
    """A client (anything with `async send(TargetRequest) -> TargetResponse`) asked for
    attack prompts; `seeded` clients get a per-call seed in the request payload."""

    client: Any
    run_seed: int = 0
    seeded: bool = False
    describe: dict[str, Any] = field(default_factory=dict)

    async def ask(self, attempt_id: str, messages: tuple[Message, ...], n: int
                  ) -> AttackerCall:
        payload = None
        if self.seeded:
            payload = {"seed": int(digest("attacker", self.run_seed, attempt_id, n)[:8], 16)}
        # each call its own key (two branches may ask the same thing): attempt and call index
        request = TargetRequest(messages, f"{attempt_id}/attacker/{n}", payload)
        try:
            resp: TargetResponse = await self.client.send(request)
        except Exception as exc:  # an attacker that raises did not attack
            resp = TargetResponse(text=None, error=f"{type(exc).__name__}: {exc}")
        text = (resp.text or "")[:MAX_PROMPT_CHARS] if resp.ok else None
        return AttackerCall(call_key(request), text, None if resp.ok else resp.error,
                            clock(resp.latency_s), resp.tokens)

    async def aclose(self) -> None:
        await close_client(self.client)


def _walk_calls(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, dict):
        calls = value.get("attacker_calls")
        if isinstance(calls, list):
            yield from (c for c in calls if isinstance(c, dict) and "key" in c)


@dataclass
class RecordedAttacker:
    """Plays back a run's recorded attacker calls; a call it lacks is an attacker error."""

    calls: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_verdicts(cls, verdict_lists: Iterable[list[dict[str, Any]]]) -> RecordedAttacker:
        return cls(index_calls(verdict_lists, _walk_calls))

    async def send(self, request: TargetRequest) -> TargetResponse:
        call = self.calls.get(call_key(request))
        if call is None:
            return TargetResponse(text=None, error="the recording has no such attacker call")
        return TargetResponse(text=call.get("reply"), error=call.get("error"),
                              latency_s=float(call.get("latency_ms") or 0) / 1000,
                              tokens=call.get("tokens"))

    async def aclose(self) -> None:
        return None
