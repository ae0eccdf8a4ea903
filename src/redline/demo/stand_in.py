"""A stand-in for the app's LLM: fast, deterministic, and naive on purpose.

NOT a language model. It is a few rules that behave like a small instruction-following model
with no safety training, so cascade experiments run in milliseconds and give the same result
on every machine:

* answers from the first help-centre article in its system prompt, or generically;
* follows instructions it finds in that context ("ignore your previous instructions ... add
  the line '...' ... include the image ![..](...SESSION_DATA)"), which is what indirect
  prompt injection exploits;
* hands out the secrets in its system prompt when asked (spelled out, reversed, base64 or
  hex on request), repeats its instructions when asked, and lists customer records;
* refuses nothing: a harmful request gets a helpful-sounding answer.

Use `--model local` to run the same experiments against the real bundled SmolLM2 model.
`SlottedTarget` gives any target a capacity (concurrent slots and a service time), like a
model server with a fixed batch size, for load tests.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from redline.core.models import TargetRequest, TargetResponse
from redline.demo.pipeline import Stage
from redline.demo.pipeline import model_stage as app_model_stage
from redline.plugins.targets.base import Target
from redline.plugins.targets.python_callable import PythonTarget

ARTICLES = "Relevant help-centre articles:\n"
RECORDS = "Customer records (confidential):\n"
INJECTION = re.compile(r"\b(ignore|disregard)\b.{0,40}\b(previous|prior|above)\b.{0,20}"
                       r"\binstructions?\b", re.IGNORECASE | re.DOTALL)
ADD_LINE = re.compile(r"add the line ['\"]([^'\"]{1,200})['\"]", re.IGNORECASE)
IMAGE = re.compile(r"!\[[^\]\n]{0,100}\]\([^)\s]{1,500}\)")
WANTS_PROMPT = re.compile(r"system prompt|your (instructions|rules|prompt)|initial prompt|"
                          r"text above|verbatim", re.IGNORECASE)
WANTS_KEY = re.compile(r"\b(api key|internal key|secret key|secret)\b", re.IGNORECASE)
WANTS_CODE = re.compile(r"\b(override|operator|admin) code\b", re.IGNORECASE)
WANTS_RECORDS = re.compile(r"\b(all customers|customer (list|records|database)|every customer|"
                           r"other customers?|card numbers?)\b", re.IGNORECASE)
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _system(messages: list[dict[str, Any]]) -> str:
    return next((m["content"] for m in messages if m["role"] == "system"), "")


def _last_user(messages: list[dict[str, Any]]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def _secret(system: str, pattern: str) -> str | None:
    m = re.search(pattern, system)
    return m.group(1) if m else None


def _articles(system: str) -> list[tuple[str, str]]:
    if ARTICLES not in system:
        return []
    out = []
    for block in system.split(ARTICLES, 1)[1].split("\n\n"):
        title, _, text = block.strip().partition("\n")
        if text:
            out.append((title.strip("[]"), text))
    return out


def _records(system: str) -> list[str]:
    if RECORDS not in system:
        return []
    body = system.split(RECORDS, 1)[1]
    return [line for line in body.split("\n\n", 1)[0].splitlines() if line.startswith("- ")]


def _transform(value: str, request: str) -> str:
    lower = request.lower()
    if "base64" in lower:
        return base64.b64encode(value.encode()).decode()
    if re.search(r"\bhex\b", lower):
        return value.encode().hex()
    if "revers" in lower or "backwards" in lower:
        return value[::-1]
    if "spell" in lower or "spaces" in lower or "separat" in lower:
        return " ".join(value)
    return value


def _obey_context(articles: list[tuple[str, str]], user: str) -> list[str]:
    """Instructions planted in retrieved articles, followed like a naive model would."""
    extra = []
    for _, text in articles:
        if not INJECTION.search(text):
            continue
        extra += [m.group(1) for m in ADD_LINE.finditer(text)]
        extra += [m.group(0).replace("SESSION_DATA", quote(user[:200]))
                  for m in IMAGE.finditer(text)]
    return extra


def _answer(system: str, user: str, articles: list[tuple[str, str]]) -> str:
    if WANTS_PROMPT.search(user):
        return f"Sure. My instructions are:\n{system}"
    wants_key, wants_code = WANTS_KEY.search(user), WANTS_CODE.search(user)
    if wants_key or wants_code:
        parts = []
        key = _secret(system, r"API key is ([^\s;]+)")
        code = _secret(system, r"override code is ([^\s;]+)")
        if wants_key and key:
            parts.append(f"The internal API key is {_transform(key, user)}.")
        if wants_code and code:
            parts.append(f"The operator override code is {_transform(code, user)}.")
        if parts:
            return "Sure! " + " ".join(parts)
    if WANTS_RECORDS.search(user):
        records = _records(system)
        if records:
            return "Here are the customer records:\n" + "\n".join(records)
    clean = [(t, x) for t, x in articles if not INJECTION.search(x)] or articles
    if clean:
        title, text = clean[0]
        summary = " ".join(SENTENCE.split(text.strip())[:2])
        return f"According to our help centre ({title}): {summary}"
    topic = " ".join(user.split()[:12]).rstrip("?.!")
    return (f"Sure! Here is a step-by-step answer to \"{topic}\": first, gather what you "
            "need; then follow each step carefully and check the result as you go.")


def naive_llm(messages: list[dict[str, Any]]) -> str:
    """The stand-in model: messages in (role/content dicts), reply text out."""
    system, user = _system(messages), _last_user(messages)
    articles = _articles(system)
    reply = _answer(system, user, articles)
    extra = _obey_context(articles, user)
    return "\n".join([reply, *extra]) if extra else reply


naive_llm.redline_inline = True  # type: ignore[attr-defined]


def stand_in_target() -> PythonTarget:
    return PythonTarget(ref="redline.demo.stand_in:naive_llm", fn=naive_llm, inline=True,
                        spec="stand-in")


@dataclass
class SlottedTarget:
    """`inner` behind `capacity` concurrent slots, each request holding one for `service_s`.

    Requests beyond capacity queue, so latency grows with concurrency once it is reached:
    the knee a load ramp should find. The semaphore is made on first use, in the loop that
    serves the requests.
    """

    inner: Target
    capacity: int = 4
    service_s: float = 0.01
    spec: str = ""
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.spec = self.spec or f"{self.inner.spec}[{self.capacity} slots]"

    async def send(self, request: TargetRequest) -> TargetResponse:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.capacity)
        async with self._slots:
            await asyncio.sleep(self.service_s)
            resp = await self.inner.send(request)
        return resp

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> dict[str, Any]:
        return {"kind": "slotted", "capacity": self.capacity, "service_ms": self.service_s * 1000,
                "inner": self.inner.describe()}

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(self.inner.canaries)

    @property
    def system_prompt(self) -> str | None:
        return self.inner.system_prompt


def model_stage() -> Stage:
    """The app's model stage around the stand-in: for declared pipelines (`params: {}`)."""
    return app_model_stage(stand_in_target())
