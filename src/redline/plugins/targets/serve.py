"""`redline serve`: any target as an OpenAI-compatible chat endpoint, on loopback only."""

from __future__ import annotations

import ipaddress
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.core.errors import UsageError
from redline.core.models import Message, TargetRequest
from redline.plugins.targets.base import Target


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def parse_messages(body: Any) -> list[Message] | str:
    """The request's messages, or a reason why the body is not a chat request."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list"
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            return f"messages[{i}] needs a role of system, user or assistant"
        content = m.get("content")
        if isinstance(content, list):  # OpenAI content parts: keep the text parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            return f"messages[{i}].content must be text"
        out.append(Message(m["role"], content))
    return out


def build_app(target: Target, model_name: str) -> Starlette:
    async def chat(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body is not valid JSON")
        messages = parse_messages(body)
        if isinstance(messages, str):
            return _error(400, messages)
        if body.get("stream"):
            return _error(400, "streaming is not supported; send stream=false")
        resp = await target.send(TargetRequest(tuple(messages)))
        if not resp.ok:
            return _error(502, f"target error: {resp.error}", "upstream_error")
        text = resp.text or ""
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_name,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": None, "completion_tokens": resp.tokens,
                      "total_tokens": None},
        })

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [
            {"id": model_name, "object": "model", "owned_by": "redline"}]})

    return Starlette(routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ])


def check_loopback(host: str) -> str:
    """Only loopback addresses: a red-team target must not be exposed to the network."""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        raise UsageError(f"refusing to listen on {host!r}: redline serve binds loopback only")
    return host


def run_server(target: Target, host: str, port: int, model_name: str) -> None:
    import uvicorn

    uvicorn.run(build_app(target, model_name), host=check_loopback(host), port=port,
                log_level="warning", access_log=False)
