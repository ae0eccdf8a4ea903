"""One HTTP client for targets, pipelines and the fault proxy (issue 10 item 7).

Real loopback servers: a raw asyncio server that records the headers it receives, and the
cascade's own fault proxy in front of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from redline.core.models import Message, TargetRequest
from redline.pipeline.system import TracedChatTarget
from redline.pipeline.trace import HEADER, REQUEST, traced_client

REPLY = json.dumps({"choices": [{"message": {"content": "hello"}}]}).encode()


@contextlib.asynccontextmanager
async def recording_server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines if line)}
                await reader.readexactly(int(headers.get("content-length", "0")))
                seen.append(headers)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n" % len(REPLY) + REPLY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with srv:
        yield f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}", seen
        srv.close()


def _dead_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_traced_client_tags_each_request_with_the_workload_index() -> None:
    async with recording_server() as (url, seen):
        client = traced_client(5.0)
        try:
            await client.request("POST", url + "/x", json={})
            token = REQUEST.set(7)
            try:
                await client.request("POST", url + "/x", json={})
            finally:
                REQUEST.reset(token)
        finally:
            await client.aclose()
    assert HEADER not in seen[0]
    assert seen[1][HEADER] == "7"


async def test_traced_chat_target_returns_errors_instead_of_raising() -> None:
    target = TracedChatTarget(base_url=f"http://127.0.0.1:{_dead_port()}/v1", model="m",
                              api_key_env=None, timeout_s=2)
    try:
        resp = await target.send(TargetRequest((Message("user", "hi"),), "a1"))
    finally:
        await target.aclose()
    assert not resp.ok and resp.retryable
    assert "cannot connect" in (resp.error or "")


async def test_traced_chat_target_tags_requests_through_the_shared_client() -> None:
    async with recording_server() as (url, seen):
        target = TracedChatTarget(base_url=url + "/v1", model="m", api_key_env=None,
                                  timeout_s=5, headers={"x-extra": "1"})
        token = REQUEST.set(3)
        try:
            resp = await target.send(TargetRequest((Message("user", "hi"),), "a1"))
        finally:
            REQUEST.reset(token)
            await target.aclose()
    assert resp.ok and resp.text == "hello"
    assert seen[0][HEADER] == "3" and seen[0]["x-extra"] == "1"


def test_no_module_of_the_package_imports_httpx() -> None:
    from pathlib import Path

    import redline

    root = Path(redline.__file__).parent
    users = [p.relative_to(root) for p in root.rglob("*.py")
             if "import httpx" in p.read_text() or "from httpx" in p.read_text()]
    assert users == []
