"""A generic HTTP JSON endpoint: a templated request body and a path to the reply."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from redline.core.errors import UsageError
from redline.core.models import Message, TargetRequest, TargetResponse
from redline.plugins.targets.base import NoSecrets, PooledHttp, garbage, send_json

DEFAULT_BODY: dict[str, Any] = {"prompt": "{{prompt}}"}


class PayloadMismatch(ValueError):
    """The request's payload and the body template do not fit together."""


_PAYLOAD_REF = re.compile(r"\{\{payload((?:\.[A-Za-z0-9_-]+)*)\}\}")


def uses_payload(template: Any) -> bool:
    """Whether a body template has a `{{payload}}` or `{{payload.FIELD}}` placeholder."""
    if isinstance(template, str):
        return _PAYLOAD_REF.search(template) is not None
    if isinstance(template, dict):
        return any(uses_payload(v) for v in template.values())
    if isinstance(template, list):
        return any(uses_payload(v) for v in template)
    return False


def _field(payload: Mapping[str, Any] | None, dotted: str) -> Any:
    if payload is None:
        raise PayloadMismatch(f"the body template uses {{{{payload{dotted}}}}} but the "
                              "request carries no payload")
    value: Any = payload
    for part in dotted.split(".")[1:]:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise PayloadMismatch(f"the request payload has no field {dotted[1:]!r} "
                                  "(named in the body template)")
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def render_body(template: Any, messages: tuple[Message, ...],
                payload: Mapping[str, Any] | None = None) -> Any:
    """Substitute placeholders by value, so JSON escaping is always right.

    A string that is exactly "{{prompt}}" (last user message), "{{messages}}" (the list
    of role/content dicts), "{{system}}", "{{history}}", "{{payload}}" (the request's
    structured payload) or "{{payload.FIELD.SUB}}" (one field of it; list items by index)
    is replaced by that value; inside a longer string the placeholder is replaced by text
    (JSON for a value that is not text). A payload field that is not there raises
    PayloadMismatch.
    """
    last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    system = next((m.content for m in messages if m.role == "system"), "")
    values: dict[str, Any] = {
        "{{prompt}}": last_user,
        "{{messages}}": [m.to_dict() for m in messages],
        "{{system}}": system,
        "{{history}}": "\n".join(f"{m.role}: {m.content}" for m in messages),
    }
    return _render(template, values, payload)


def _render(template: Any, values: dict[str, Any], payload: Mapping[str, Any] | None) -> Any:
    if isinstance(template, str):
        if template in values:
            return values[template]
        if "{{payload" in template:
            whole = _PAYLOAD_REF.fullmatch(template)
            if whole is not None:
                return _field(payload, whole.group(1))
            template = _PAYLOAD_REF.sub(lambda m: _as_text(_field(payload, m.group(1))),
                                        template)
        for key, val in values.items():
            if key in template and isinstance(val, str):
                template = template.replace(key, val)
        return template
    if isinstance(template, dict):
        return {k: _render(v, values, payload) for k, v in template.items()}
    if isinstance(template, list):
        return [_render(v, values, payload) for v in template]
    return template


@dataclass
class HttpJsonTarget(PooledHttp, NoSecrets):
    url: str
    body: Any = field(default_factory=lambda: dict(DEFAULT_BODY))
    reply_path: str = "response"
    # where a structured reply is (JMESPath): its value becomes the response's payload
    payload_path: str | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    spec: str = ""

    def __post_init__(self) -> None:
        try:
            self._path = jmespath.compile(self.reply_path)
        except JMESPathError as exc:
            raise UsageError(f"bad reply_path {self.reply_path!r}: {exc}") from exc
        try:
            self._payload_path = (jmespath.compile(self.payload_path)
                                  if self.payload_path is not None else None)
        except JMESPathError as exc:
            raise UsageError(f"bad payload_path {self.payload_path!r}: {exc}") from exc
        self._uses_payload = uses_payload(self.body)
        if not self.spec:
            self.spec = f"http:{self.url}"

    def _headers(self) -> dict[str, str]:
        return self.headers

    async def send(self, request: TargetRequest) -> TargetResponse:
        started = time.perf_counter()
        try:
            if request.payload is not None and not self._uses_payload:
                raise PayloadMismatch("the request carries a payload but the body template "
                                      "has no {{payload}} placeholder: it would be dropped")
            body = render_body(self.body, request.messages, request.payload)
        except PayloadMismatch as exc:
            return TargetResponse(text=None, error=f"cannot build the request: {exc}",
                                  latency_s=time.perf_counter() - started)
        resp = await send_json(self.client(), self.method, self.url, body, started)
        if isinstance(resp, TargetResponse):
            return resp
        try:
            data = resp.json()
        except ValueError:
            return garbage("not JSON", resp, started)
        text = self._path.search(data)
        if self._payload_path is None:
            if not isinstance(text, str):
                return garbage(f"no text at {self.reply_path!r}", resp, started)
            return TargetResponse(text=text, status=resp.status_code,
                                  latency_s=time.perf_counter() - started)
        found = self._payload_path.search(data)
        if found is None:
            return garbage(f"nothing at payload_path {self.payload_path!r}", resp, started)
        return TargetResponse(
            text=text if isinstance(text, str) else None, status=resp.status_code,
            payload=found if isinstance(found, dict) else {"value": found},
            latency_s=time.perf_counter() - started)

    def describe(self) -> dict[str, Any]:
        out = {"kind": "http", "url": self.url, "reply_path": self.reply_path,
               "header_names": sorted(self.headers)}
        if self.payload_path is not None:
            out["payload_path"] = self.payload_path
        return out
