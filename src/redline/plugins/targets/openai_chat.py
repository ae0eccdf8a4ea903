"""An OpenAI-compatible chat-completions endpoint.

A request's structured `payload` adds fields to the completion request (`tools`,
`tool_choice`, `response_format`, ...; never the ones the target sets itself). A reply's
tool calls become the response payload (`{"tool_calls": [{"id", "name", "arguments"}]}`,
arguments parsed from their JSON text), and when the request asked for a JSON
`response_format` the parsed content is the payload's `json`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from redline.core.models import TargetRequest, TargetResponse
from redline.plugins.targets.base import NoSecrets, PooledHttp, garbage, send_json

# what the target itself puts in a completion request: a payload may not override them
OWN_FIELDS = frozenset({"model", "messages", "stream", "n"})


def _tool_calls(message: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A reply's tool calls (or legacy function call), arguments parsed when they are JSON;
    None when it made none. Raises TypeError/KeyError for a malformed list."""
    calls = message.get("tool_calls")
    if not calls and isinstance(message.get("function_call"), dict):
        calls = [{"id": None, "function": message["function_call"]}]
    if not calls:
        return None
    out = []
    for call in calls:
        fn = call["function"]
        args = fn.get("arguments")
        if isinstance(args, str):
            with contextlib.suppress(ValueError):  # else kept as written: evidence too
                args = json.loads(args)
        out.append({"id": call.get("id"), "name": fn["name"], "arguments": args})
    return out


def _wants_json(request: TargetRequest) -> bool:
    fmt = request.payload.get("response_format") if request.payload is not None else None
    return isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")


@dataclass
class OpenAIChatTarget(PooledHttp, NoSecrets):
    base_url: str
    model: str
    api_key_env: str | None = "OPENAI_API_KEY"
    headers: dict[str, str] = field(default_factory=dict)
    temperature: float = 0.0
    max_tokens: int | None = 256
    seed: int | None = None
    spec: str = ""

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.spec:
            self.spec = f"openai:{self.base_url}#{self.model}"

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", **self.headers}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["authorization"] = f"Bearer {key}"
        return headers

    def payload(self, request: TargetRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in request.messages],
            "temperature": self.temperature,
        }
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.seed is not None:
            body["seed"] = self.seed
        if request.payload is not None:
            clash = sorted(OWN_FIELDS & set(request.payload))
            if clash:
                raise ValueError(f"the request payload sets {', '.join(clash)}, which the "
                                 "openai target sets itself")
            body.update(request.payload)
        return body

    async def send(self, request: TargetRequest) -> TargetResponse:
        started = time.perf_counter()
        try:
            body = self.payload(request)
        except ValueError as exc:
            return TargetResponse(text=None, error=f"cannot build the request: {exc}",
                                  latency_s=time.perf_counter() - started)
        resp = await send_json(self.client(), "POST", f"{self.base_url}/chat/completions",
                               body, started)
        if isinstance(resp, TargetResponse):
            return resp
        try:
            data = resp.json()
            message = data["choices"][0]["message"]
            text = message.get("content")
            calls = _tool_calls(message)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            return garbage(f"not a chat completion ({type(exc).__name__})", resp, started)
        payload: dict[str, Any] | None = None if calls is None else {"tool_calls": calls}
        if text is not None and not isinstance(text, str):
            return garbage("message content is not text", resp, started)
        if text is None and payload is None:
            return garbage("message content is not text", resp, started)
        if text is not None and _wants_json(request):
            try:
                payload = {**(payload or {}), "json": json.loads(text)}
            except ValueError:
                return garbage("a JSON response_format was asked for; the content is not "
                               "JSON", resp, started)
        usage = data.get("usage") if isinstance(data, dict) else None
        tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        return TargetResponse(
            text=text,
            status=resp.status_code,
            latency_s=time.perf_counter() - started,
            tokens=tokens if isinstance(tokens, int) else None,
            payload=payload,
        )

    def describe(self) -> dict[str, Any]:
        return {"kind": "openai", "base_url": self.base_url, "model": self.model,
                "header_names": sorted(self.headers)}
