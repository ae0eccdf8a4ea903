"""A small HTTP/1.1 client for the HTTP targets: a keep-alive pool over asyncio streams.

Why not httpx here: its connection pool (httpcore 1.0.9) re-examines every pooled connection
for every waiting request on each request, so at 64 connections a request costs ~10 ms of CPU
and a scan reaches a tenth of what a 100 ms target can serve (bench/http_latency.py, notes).
It is the one HTTP client of the package: targets, the pipelines' HTTP stages, the demo app's
remote stages and the fault proxy all use it; `on_request` is the tracing hook (the cascade
experiments tag each request with its workload index, see `redline.pipeline.trace`).
Targets need a small part of HTTP: one request with a JSON body, then the status, headers and
body (content-length, chunked, or up to the close), keep-alive and TLS. There are no
redirects, proxies, cookies or compression (no Accept-Encoding is sent), and nothing is retried
behind the engine's back: a failure is an exception the engine counts as a try.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from redline import __version__

MAX_HEADER_BYTES = 1 << 20
# What a target may return by default (targets' `max_response_bytes`): far above any chat reply,
# and small enough that a hostile endpoint streaming garbage to every request in flight
# cannot hold more than concurrency x this in memory.
MAX_BODY_BYTES = 1 << 20
USER_AGENT = f"redline/{__version__}"


class HTTPError(Exception):
    """Anything that kept a request from getting a complete response."""


class TransportError(HTTPError):
    """The connection failed, was reset or closed early, or the reply was not HTTP: retryable."""


class Timeout(TransportError):
    """No complete response within the client's time-out."""


class ResponseTooLarge(HTTPError):
    """The body is over the size limit; not retried, since it would be again. The connection
    is dropped with the rest of the body unread, so nothing over the cap is ever held."""

    def __init__(self, limit: int, length: int | None = None):
        size = f"of {length} bytes " if length is not None else ""
        super().__init__(f"response body {size}is over the max_response_bytes cap of "
                         f"{limit} bytes; the rest was discarded")


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@lru_cache(maxsize=64)
def split_url(url: str) -> tuple[Origin, str]:
    """(origin, request target) of an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(parts.scheme, parts.hostname, port), target


def _check_header(name: str, value: str) -> None:
    if any(c in name for c in "\r\n:") or any(c in value for c in "\r\n"):
        raise ValueError(f"header {name!r} holds a line break or colon")


@dataclass(slots=True)
class Response:
    status_code: int
    headers: dict[str, str]  # lower-case names; repeated fields joined with ", "
    content: bytes

    @property
    def text(self) -> str:
        ctype = self.headers.get("content-type", "")
        charset = "utf-8"
        for param in ctype.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


@dataclass(slots=True)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, str, dict[str, str]]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise TransportError("server closed the connection without a response") from None
        raise TransportError("connection closed in the middle of the response head") from None
    except asyncio.LimitOverrunError:
        raise TransportError("response head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise TransportError(f"not an HTTP/1.x response: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise TransportError(f"malformed header line {line[:80]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(code), version, headers


async def _read_chunked(reader: asyncio.StreamReader, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise TransportError(f"bad chunk size line {line[:40]!r}") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields
            return b"".join(parts)
        total += size
        if total > limit:
            raise ResponseTooLarge(limit)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise TransportError("chunk not followed by CRLF")


async def _read_to_eof(reader: asyncio.StreamReader, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while chunk := await reader.read(min(65536, limit - total + 1)):
        total += len(chunk)
        if total > limit:
            raise ResponseTooLarge(limit)
        parts.append(chunk)
    return b"".join(parts)


async def _read_body(reader: asyncio.StreamReader, status: int, method: str,
                     headers: dict[str, str], limit: int) -> tuple[bytes, bool]:
    """The body, and whether the connection ends with it."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b"", False
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader, limit), False
    if "content-length" in headers:
        try:
            length = int(headers["content-length"].split(",")[0])
        except ValueError:
            raise TransportError("bad content-length") from None
        if length < 0:
            raise TransportError("bad content-length")
        if length > limit:
            raise ResponseTooLarge(limit, length)
        try:
            return await reader.readexactly(length), False
        except asyncio.IncompleteReadError as exc:
            raise TransportError(
                f"connection closed after {len(exc.partial)} of {length} body bytes") from None
    return await _read_to_eof(reader, limit), True


def _keep_alive(version: str, headers: dict[str, str]) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


@dataclass
class HttpClient:
    """Keep-alive HTTP/1.1 connections, at most `max_connections` requests in flight."""

    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0
    max_connections: int = 256
    max_body_bytes: int = MAX_BODY_BYTES
    # called as each request is built; the headers it returns are sent with that request
    on_request: Callable[[], Mapping[str, str]] | None = None
    _idle: dict[Origin, list[_Conn]] = field(default_factory=dict, init=False, repr=False)
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)
    _ssl: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for name, value in self.headers.items():
            _check_header(name, value)

    async def request(self, method: str, url: str, *, json: Any = None,
                      content: bytes | None = None,
                      headers: Mapping[str, str] | None = None,
                      timeout_s: float | None = None) -> Response:
        origin, target = split_url(url)
        if self.on_request is not None:
            headers = {**self.on_request(), **(headers or {})}
        # ASCII JSON: lone surrogates from worst-case inputs travel as \\u escapes
        body = content if content is not None else (
            jsonlib.dumps(json).encode("ascii") if json is not None else b"")
        head = self._head(method, origin, target, len(body), headers)
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, self.max_connections))
        limit = self.timeout_s if timeout_s is None else timeout_s
        async with self._slots:
            try:
                async with asyncio.timeout(limit):
                    return await self._exchange(origin, method, head + body)
            except TimeoutError:
                raise Timeout(f"timed out after {limit:g}s waiting for the response") from None

    def _head(self, method: str, origin: Origin, target: str, length: int,
              extra: Mapping[str, str] | None) -> bytes:
        fields = {"host": origin.host_header, "user-agent": USER_AGENT,
                  "accept": "application/json", "content-type": "application/json"}
        for source in (self.headers, extra or {}):
            for name, value in source.items():
                _check_header(name, value)
                fields[name.lower()] = value
        fields["content-length"] = str(length)
        lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in fields.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    async def _exchange(self, origin: Origin, method: str, payload: bytes) -> Response:
        conn = self._checkout(origin) or await self._connect(origin)
        try:
            conn.writer.write(payload)
            await conn.writer.drain()
            status, version, headers = await _read_head(conn.reader)
            while 100 <= status < 200:  # interim responses (100 Continue): read on
                status, version, headers = await _read_head(conn.reader)
            content, ends = await _read_body(conn.reader, status, method, headers,
                                             self.max_body_bytes)
        except BaseException as exc:  # a half-used connection is never reused
            conn.close()
            if isinstance(exc, OSError | asyncio.IncompleteReadError | asyncio.LimitOverrunError):
                raise TransportError(f"{type(exc).__name__}: {exc}") from None
            raise
        if ends or not _keep_alive(version, headers):
            conn.close()
        else:
            self._idle.setdefault(origin, []).append(conn)
        return Response(status, headers, content)

    def _checkout(self, origin: Origin) -> _Conn | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.usable():  # the server may have closed it while it was idle
                return conn
            conn.close()
        return None

    async def _connect(self, origin: Origin) -> _Conn:
        context = None
        if origin.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        try:
            reader, writer = await asyncio.open_connection(
                origin.host, origin.port, ssl=context, limit=MAX_HEADER_BYTES,
                server_hostname=origin.host if context else None)
        except OSError as exc:
            raise TransportError(f"cannot connect to {origin.host_header}: {exc}") from None
        return _Conn(reader, writer)

    async def aclose(self) -> None:
        conns = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            with contextlib.suppress(OSError, ssl.SSLError):
                await conn.writer.wait_closed()
