"""A fault-injecting reverse proxy for an HTTP dependency, on 127.0.0.1 only.

The system's dependency URL points at the proxy; the proxy forwards to the real service and,
on the requests its armed fault picks, injects instead:

* latency: waits, then forwards;       * timeout: holds the request (504 if the caller waits);
* error: answers `status` itself (optionally repeating the request in the body, as
  validation errors and debug pages do);
* down: forwards to a port where nothing listens, so the connection is really refused (502);
* wrong_output / partial: forwards, then rewrites the reply, knowing the dependency's shape
  (chat completion, moderation verdict, retrieval result; anything else: cut bytes);
* stale: replays the last good reply it saw for that path.

Every request is logged with what was done to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.pipeline.loopback import LoopbackServer, dead_url
from redline.pipeline.trace import HEADER, header_index
from redline.plugins.fault_spec import FaultSpec
from redline.plugins.faults import ArmedFault, poison_document
from redline.plugins.targets.http_client import HttpClient, HTTPError

Shape = Literal["chat", "moderation", "retrieval", "generic"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
HOP_HEADERS = {"host", "content-length", "connection", "keep-alive", "transfer-encoding",
               "accept-encoding", HEADER}


def _cut(text: str, keep: float) -> str:
    return text[: int(len(text) * keep)]


def rewrite(shape: Shape, data: Any, spec: FaultSpec) -> Any:
    """The dependency's reply made wrong (wrong_output) or partial; None if it does not apply."""
    partial = spec.kind == "partial"
    if shape == "moderation" and isinstance(data, dict) and "flagged" in data:
        if partial:
            return {k: v for k, v in data.items() if k != "flagged"}
        flagged = not data["flagged"] if spec.mode == "flip" else False
        return {**data, "flagged": flagged, **({} if flagged else {"rule": None, "match": None})}
    if shape == "retrieval" and isinstance(data, dict) and isinstance(data.get("documents"), list):
        docs = data["documents"]
        if partial:
            docs = [{**d, "text": _cut(str(d.get("text", "")), spec.keep)} for d in docs]
        elif spec.mode == "poison":
            docs = [asdict(poison_document(spec)), *docs[:1]]
        elif spec.mode == "empty":
            docs = []
        return {**data, "documents": docs}
    if shape == "chat" and isinstance(data, dict):
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            return None
        text = str(message.get("content") or "")
        message["content"] = _cut(text, spec.keep) if partial else (spec.text or "OK.")
        return data
    return None


class FaultProxy:
    def __init__(self, name: str, upstream: str, shape: Shape = "generic"):
        self.name = name
        self.upstream = upstream.rstrip("/")
        self.shape = shape
        self.faults: list[ArmedFault] = []
        self.log: list[dict[str, Any]] = []
        self.cache: dict[str, tuple[int, bytes, str]] = {}
        self._client: HttpClient | None = None
        self._dead = dead_url()
        self.server: LoopbackServer | None = None
        self.app = Starlette(
            routes=[Route("/{path:path}", self.handle, methods=METHODS)], lifespan=self._life)

    @contextlib.asynccontextmanager
    async def _life(self, app: Starlette) -> AsyncIterator[None]:
        self._client = HttpClient(timeout_s=600, max_connections=512)
        try:
            yield
        finally:
            await self._client.aclose()

    def start(self) -> FaultProxy:
        self.server = LoopbackServer(self.app, f"proxy-{self.name}").start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None, "proxy not started"
        return self.server.url

    def arm(self, fault: ArmedFault) -> None:
        self.faults = [*self.faults, fault]

    def disarm(self) -> None:
        for fault in self.faults:
            fault.disarm()
        self.faults = []

    def _pick(self, tag: int | None) -> tuple[ArmedFault, Any] | None:
        """The first armed fault that fires for this request, with its decision."""
        for fault in self.faults:
            decision = fault.decide(tag)
            if decision is not None:
                return fault, decision
        return None

    async def _forward(self, request: Request, body: bytes, base: str) -> Response:
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            resp = await self._client.request(request.method, url, content=body, headers=headers)
        except (HTTPError, OSError) as exc:
            detail = f"upstream connect error: {type(exc).__name__}"
            return _json(502, {"error": {"message": detail, "type": "bad_gateway"}})
        return Response(resp.content, resp.status_code,
                        media_type=resp.headers.get("content-type", "application/json"))

    async def _hold(self, request: Request, seconds: float) -> Response:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await request.is_disconnected():
                break
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return _json(504, {"error": {"message": "upstream timed out", "type": "timeout"}})

    async def _inject(self, fault: ArmedFault, request: Request, body: bytes, rng: Any) -> Response:
        spec = fault.spec
        if spec.kind == "latency":
            await asyncio.sleep(fault.delay_s(rng))
            return await self._forward(request, body, self.upstream)
        if spec.kind == "timeout":
            return await self._hold(request, spec.hang_ms / 1000)
        if spec.kind == "down":
            return await self._forward(request, body, self._dead)
        if spec.kind == "error":
            if spec.echo_request:
                prefix = b'{"error":{"message":"invalid request","type":"invalid_request_error",'
                echoed = body if _is_json(body) else json.dumps(body.decode(errors="replace"))
                content = prefix + b'"request":' + (echoed if isinstance(echoed, bytes)
                                                    else echoed.encode()) + b"}}"
                return Response(content, spec.status, media_type="application/json")
            return _json(spec.status, {"error": {"message": "injected failure",
                                                 "type": "server_error"}})
        if spec.kind == "stale":
            cached = self.cache.get(request.url.path)
            if cached is not None:
                return Response(cached[1], cached[0], media_type=cached[2])
            return await self._forward(request, body, self.upstream)
        resp = await self._forward(request, body, self.upstream)  # wrong_output, partial
        if resp.status_code != 200:
            return resp
        try:
            data = json.loads(resp.body)
        except ValueError:
            data = None
        changed = rewrite(self.shape, data, spec) if data is not None else None
        if changed is not None:
            return _json(200, changed)
        if spec.kind == "partial":
            return Response(resp.body[: int(len(resp.body) * spec.keep)], 200,
                            media_type=resp.media_type)
        return resp

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        tag = header_index(request.headers.get(HEADER))
        picked = self._pick(tag)
        started = time.perf_counter()
        if picked is None:
            resp = await self._forward(request, body, self.upstream)
            if resp.status_code == 200:
                self.cache[request.url.path] = (200, bytes(resp.body), resp.media_type or "")
        else:
            fault, decision = picked
            fault.record(decision, f"via proxy {self.name}")
            resp = await self._inject(fault, request, body, decision.rng)
        self.log.append({"index": tag, "path": request.url.path,
                         "fault": picked[0].label if picked else None,
                         "status": resp.status_code,
                         "ms": round((time.perf_counter() - started) * 1000, 3)})
        return resp


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _json(status: int, data: Any) -> Response:
    return Response(json.dumps(data, separators=(",", ":")), status,
                    media_type="application/json")
