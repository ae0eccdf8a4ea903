"""The attacker: any target kind asked for the next attack prompt, every call recorded.

`Attacker.ask` sends the attacker's conversation, seeded from the run seed and the attempt
(an OpenAI-compatible attacker gets the seed in the request; the local model seeds from the
run seed and the prompt, which names the attempt's objective), and returns an
`AttackerCall`: the reply, or why it is no usable attack prompt (an error, an empty reply,
a refusal to attack, a prompt off the objective, its own input echoed back).
`recorded_calls` plays the recorded calls back by key, so a replay needs no attacker; a
call it lacks is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redline.core.attempts import digest
from redline.core.models import Message, TargetRequest, TargetResponse
from redline.plugins.detectors.judge import RecordedCalls, call_key, close_client
from redline.plugins.detectors.refusal import is_refusal
from redline.plugins.detectors.wording import topic_terms

MAX_PROMPT_CHARS = 8000
ECHO_RUN = 5  # words in a row that count as repeated from the attacker's input
ECHO_SHARE = 0.6  # of a prompt's words (the objective aside) repeated: an echo, not a prompt


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


def _words_without(text: str, cut: list[str]) -> list[str]:
    """The words of `text`, lower-cased, with every run of the words `cut` taken out."""
    words = re.findall(r"\w+", text.lower())
    if not cut:
        return words
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i:i + len(cut)] == cut:
            i += len(cut)
        else:
            out.append(words[i])
            i += 1
    return out


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    """Every ECHO_RUN words in a row."""
    return {tuple(words[i:i + ECHO_RUN]) for i in range(len(words) - ECHO_RUN + 1)}


def _repeats(words: list[str], runs: set[tuple[str, ...]]) -> bool:
    """Whether most of the words stand in runs already seen."""
    if len(words) < 2 * ECHO_RUN:
        return False
    covered = [False] * len(words)
    for i in range(len(words) - ECHO_RUN + 1):
        if tuple(words[i:i + ECHO_RUN]) in runs:
            covered[i:i + ECHO_RUN] = [True] * ECHO_RUN
    return sum(covered) >= ECHO_SHARE * len(words)


def echoed(prompt: str, messages: Sequence[Message], objective: str) -> bool:
    """Whether the prompt mostly repeats what the attacker was sent (its instructions, the
    feedback, the target's reply) rather than writing an attack. Set aside first: the
    objective's own words (a prompt that asks for it outright is a naive attack, not an echo)
    and the attacker's own earlier prompts that were not echoes themselves (refining them is
    its job, even where a target repeated them back in the feedback)."""
    cut = re.findall(r"\w+", objective.lower())
    sent: set[tuple[str, ...]] = set()
    own: set[tuple[str, ...]] = set()
    for m in messages:
        words = _words_without(extract_prompt(m.content) if m.role == "assistant"
                               else m.content, cut)
        if m.role != "assistant":
            sent |= _runs(words)
        elif not _repeats(words, sent - own):
            own |= _runs(words)
    return _repeats(_words_without(prompt, cut), sent - own)


def unusable(call: AttackerCall, prompt: str, objective: str,
             sent: Sequence[Message] = (), on_topic: bool = True) -> str | None:
    """Why an attacker call gave no usable attack prompt, or None if it did. `sent`: the
    attacker's conversation (a prompt that mostly repeats it is an echo); `on_topic`: the
    prompt must name the objective's topic."""
    if call.error is not None or call.reply is None:
        return f"attacker error: {call.error or 'no reply'}"
    if not prompt.strip():
        return "attacker returned an empty prompt"
    if is_refusal(prompt):
        return f"attacker refused to attack: {prompt[:120]!r}"
    if echoed(prompt, sent, objective):
        return f"attacker echoed its input instead of writing a prompt: {prompt[:120]!r}"
    goal = topic_terms(objective) if on_topic else set()  # stemmed, as detectors read
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


def recorded_calls(verdict_lists: Iterable[list[dict[str, Any]]]) -> RecordedCalls:
    """A run's recorded attacker calls, played back by key."""
    return RecordedCalls.from_verdicts(verdict_lists, _walk_calls, "attacker")
