"""What stands between the viewer and the network: the interface check, the Host check, the
access token and the security headers, as one ASGI middleware."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from redline.core.errors import UsageError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
COOKIE = "redline_view_token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def check_bind(host: str, expose: bool) -> None:
    """Loopback, unless the operator asked for another interface with --expose."""
    if not is_loopback(host) and not expose:
        raise UsageError(f"refusing to listen on {host!r}: redline view binds loopback only; "
                         "pass --expose to serve another interface (a token is then required)")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _host_name(value: str) -> str:
    """The name part of a Host header: `[::1]:8080` -> `::1`, `localhost:80` -> `localhost`."""
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """Read-only methods; loopback Host names (or, when exposed, the token); safe headers."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        if refusal is not None:
            await _plain(send_with_headers, *refusal)
            return
        if self.token is not None and self._query_token(scope):
            await _redirect_with_cookie(send_with_headers, scope, self.token)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, "redline view is read-only", [(b"allow", b"GET, HEAD")]
        headers = dict(scope.get("headers") or [])
        host = _host_name(headers.get(b"host", b"").decode("latin-1").lower())
        if self.token is None:
            if host not in LOOPBACK_NAMES:  # a page of another site resolving to 127.0.0.1
                return 421, "this viewer answers only to a loopback Host name", []
            return None
        if self._query_token(scope) or self._has_token(headers):
            return None
        return 401, "an access token is required (open the URL printed by redline view)", []

    def _has_token(self, headers: dict[bytes, bytes]) -> bool:
        assert self.token is not None
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.startswith("Bearer ") and secrets.compare_digest(auth[7:], self.token):
            return True
        for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and secrets.compare_digest(value, self.token):
                return True
        return False

    def _query_token(self, scope: Scope) -> bool:
        assert self.token is not None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        given = query.get("token")
        return given is not None and secrets.compare_digest(given, self.token)


async def _plain(send: Send, status: int, text: str,
                 headers: list[tuple[bytes, bytes]]) -> None:
    body = text.encode() + b"\n"
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def _redirect_with_cookie(send: Send, scope: Scope, token: str) -> None:
    """`?token=` once: the token moves into a cookie and out of the address bar."""
    query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
             if k != "token"]
    location = quote(scope.get("path", "/")) + (f"?{urlencode(query)}" if query else "")
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send({"type": "http.response.start", "status": 303, "headers": [
        (b"location", location.encode("latin-1", "replace")), (b"set-cookie", cookie.encode()),
        (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
