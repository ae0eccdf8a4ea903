"""An OpenAI-compatible chat-completions endpoint."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from redline.models import TargetRequest, TargetResponse
from redline.targets.base import NoSecrets, garbage, send_json
from redline.targets.http_client import MAX_BODY_BYTES, HttpClient


@dataclass
class OpenAIChatTarget(NoSecrets):
    base_url: str
    model: str
    api_key_env: str | None = "OPENAI_API_KEY"
    headers: dict[str, str] = field(default_factory=dict)
    temperature: float = 0.0
    max_tokens: int | None = 256
    seed: int | None = None
    timeout_s: float = 60.0
    max_connections: int = 256
    max_response_bytes: int = MAX_BODY_BYTES
    spec: str = ""
    _client: HttpClient | None = field(default=None, init=False, repr=False)

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

    def client(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(headers=self._headers(), timeout_s=self.timeout_s,
                                      max_connections=self.max_connections,
                                      max_body_bytes=self.max_response_bytes)
        return self._client

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
        return body

    async def send(self, request: TargetRequest) -> TargetResponse:
        started = time.perf_counter()
        resp = await send_json(self.client(), "POST", f"{self.base_url}/chat/completions",
                               self.payload(request), started)
        if isinstance(resp, TargetResponse):
            return resp
        try:
            data = resp.json()
            text = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return garbage(f"not a chat completion ({type(exc).__name__})", resp, started)
        if not isinstance(text, str):
            return garbage("message content is not text", resp, started)
        usage = data.get("usage") if isinstance(data, dict) else None
        tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        return TargetResponse(
            text=text,
            status=resp.status_code,
            latency_s=time.perf_counter() - started,
            tokens=tokens if isinstance(tokens, int) else None,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "openai", "base_url": self.base_url, "model": self.model,
                "header_names": sorted(self.headers)}
