"""A target may return at most `max_response_bytes`: a longer body is an error attempt that
names the cap, and the rest of it is never read (issue 16 item 5).

A real asyncio HTTP server on 127.0.0.1 streams bodies of every framing: close-delimited
(including one that never ends), content-length and chunked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from redline.core.config import ScanConfig, parse_target
from redline.core.engine import EngineSettings, Throttle, call_with_retries
from redline.core.models import Message, TargetRequest
from redline.plugins.targets.http_client import MAX_BODY_BYTES
from redline.plugins.targets.spec import build_target

CHUNK = b"x" * 65536


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  mode: str, size: int) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        if mode == "endless":  # close-delimited, never ends: only the cap stops the client
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n")
            while True:
                writer.write(CHUNK)
                await writer.drain()
        body = json.dumps({"response": "y" * size}).encode()
        if mode == "close":
            writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + body)
        elif mode == "length":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        elif mode == "chunked":
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 65536):
                part = body[i:i + 65536]
                writer.write(b"%x\r\n" % len(part) + part + b"\r\n")
            writer.write(b"0\r\n\r\n")
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def server(mode: str, size: int = 0) -> AsyncIterator[str]:
    srv = await asyncio.start_server(lambda r, w: _handle(r, w, mode, size), "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield f"http://127.0.0.1:{port}/chat"
        srv.close()


async def send(url: str, **target: object):
    cfg = parse_target(f"http:{url}").model_copy(update=target)
    t = build_target(cfg)
    try:
        return await call_with_retries(t, TargetRequest((Message("user", "hi"),), "a1"),
                                       EngineSettings(timeout_s=20, retries=2), Throttle(None),
                                       "a1")
    finally:
        await t.aclose()


@pytest.mark.parametrize("mode", ["close", "length", "chunked", "endless"])
async def test_an_oversized_body_is_an_error_naming_the_cap(mode: str) -> None:
    async with server(mode, size=3 * MAX_BODY_BYTES) as url:
        resp, tries = await asyncio.wait_for(send(url), 30)
    assert not resp.ok and resp.text is None
    assert f"max_response_bytes cap of {MAX_BODY_BYTES} bytes" in (resp.error or "")
    assert tries == 1  # not retried: it would be too large again


async def test_the_cap_is_configurable_per_target() -> None:
    async with server("close", size=200_000) as url:
        small, _ = await send(url, max_response_bytes=100_000)
        large, _ = await send(url, max_response_bytes=300_000)
    assert "cap of 100000 bytes" in (small.error or "")
    assert large.ok and large.text == "y" * 200_000


def test_the_cap_is_a_validated_config_field() -> None:
    cfg = ScanConfig.model_validate(
        {"target": {"kind": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m",
                    "max_response_bytes": 5000}})
    assert cfg.target.max_response_bytes == 5000
    with pytest.raises(ValueError, match="max_response_bytes"):
        ScanConfig.model_validate(
            {"target": {"kind": "http", "url": "http://127.0.0.1:1/", "max_response_bytes": 0}})
