"""A generic HTTP JSON endpoint: a templated request body and a path to the reply."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from redline.errors import UsageError
from redline.models import Message, TargetRequest, TargetResponse
from redline.targets.base import NoSecrets, garbage, send_json
from redline.targets.http_client import MAX_BODY_BYTES, HttpClient

DEFAULT_BODY: dict[str, Any] = {"prompt": "{{prompt}}"}


def render_body(template: Any, messages: tuple[Message, ...]) -> Any:
    """Substitute placeholders by value, so JSON escaping is always right.

    A string that is exactly "{{prompt}}" (last user message), "{{messages}}" (the list
    of role/content dicts), "{{system}}" or "{{history}}" is replaced by that value;
    inside a longer string the placeholder is replaced by text.
    """
    last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    system = next((m.content for m in messages if m.role == "system"), "")
    values: dict[str, Any] = {
        "{{prompt}}": last_user,
        "{{messages}}": [m.to_dict() for m in messages],
        "{{system}}": system,
        "{{history}}": "\n".join(f"{m.role}: {m.content}" for m in messages),
    }
    if isinstance(template, str):
        if template in values:
            return values[template]
        for key, val in values.items():
            if key in template and isinstance(val, str):
                template = template.replace(key, val)
        return template
    if isinstance(template, dict):
        return {k: render_body(v, messages) for k, v in template.items()}
    if isinstance(template, list):
        return [render_body(v, messages) for v in template]
    return template


@dataclass
class HttpJsonTarget(NoSecrets):
    url: str
    body: Any = field(default_factory=lambda: dict(DEFAULT_BODY))
    reply_path: str = "response"
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0
    max_connections: int = 256
    max_response_bytes: int = MAX_BODY_BYTES
    spec: str = ""
    _client: HttpClient | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._path = jmespath.compile(self.reply_path)
        except JMESPathError as exc:
            raise UsageError(f"bad reply_path {self.reply_path!r}: {exc}") from exc
        if not self.spec:
            self.spec = f"http:{self.url}"

    def client(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(headers=self.headers, timeout_s=self.timeout_s,
                                      max_connections=self.max_connections,
                                      max_body_bytes=self.max_response_bytes)
        return self._client

    async def send(self, request: TargetRequest) -> TargetResponse:
        started = time.perf_counter()
        resp = await send_json(self.client(), self.method, self.url,
                               render_body(self.body, request.messages), started)
        if isinstance(resp, TargetResponse):
            return resp
        try:
            data = resp.json()
        except ValueError:
            return garbage("not JSON", resp, started)
        text = self._path.search(data)
        if not isinstance(text, str):
            return garbage(f"no text at {self.reply_path!r}", resp, started)
        return TargetResponse(text=text, status=resp.status_code,
                              latency_s=time.perf_counter() - started)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "http", "url": self.url, "reply_path": self.reply_path,
                "header_names": sorted(self.headers)}
