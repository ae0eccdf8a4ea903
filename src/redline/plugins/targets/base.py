"""The target interface: the system under test behind one async call."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable

from redline.core.models import TargetRequest, TargetResponse
from redline.plugins.targets.http_client import (
    MAX_BODY_BYTES,
    HttpClient,
    HTTPError,
    Response,
    TransportError,
)


@runtime_checkable
class Target(Protocol):
    """Request in, response out. Errors are returned as TargetResponse.error, not raised."""

    spec: str

    async def send(self, request: TargetRequest) -> TargetResponse: ...

    async def aclose(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        """Fingerprint material: kind, endpoint, model; never secrets."""
        ...

    @property
    def canaries(self) -> tuple[str, ...]:
        """Secrets the target itself holds, so leak detectors can look for them."""
        ...

    @property
    def system_prompt(self) -> str | None: ...


def is_cancellation(exc: BaseException) -> bool:
    """True when `exc` is this task being cancelled (Ctrl-C, SIGTERM, a time-out), as
    opposed to a target that raised CancelledError on its own."""
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raised_by_target(exc: BaseException, latency_s: float) -> TargetResponse:
    """The attempt's error for an exception from target code. SystemExit and GeneratorExit
    from inside a target are the target's failure too: they must neither end the run early
    nor look like a clean exit. (KeyboardInterrupt is not passed here: it stops the run.)"""
    kind = type(exc).__name__
    text = f"{kind}: {exc}" if str(exc) else kind
    if not isinstance(exc, Exception):
        text += " (raised by the target)"
    return TargetResponse(text=None, error=text, latency_s=latency_s)


RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))


def http_error(resp: Response, started: float) -> TargetResponse:
    body = resp.text[:300] if resp.content else ""
    return TargetResponse(
        text=None,
        error=f"HTTP {resp.status_code}: {body}".strip(),
        status=resp.status_code,
        latency_s=time.perf_counter() - started,
        retry_after_s=parse_retry_after(resp.headers.get("retry-after")),
        retryable=resp.status_code in RETRYABLE_STATUS,
    )


def _is_transport(exc: Exception) -> bool:
    """A connection-level failure, worth a retry."""
    return isinstance(exc, TransportError | OSError)


def transport_error(exc: Exception, started: float) -> TargetResponse:
    kind = type(exc).__name__
    retryable = _is_transport(exc)
    return TargetResponse(
        text=None,
        error=f"{kind}: {exc}" if str(exc) else kind,
        latency_s=time.perf_counter() - started,
        retryable=retryable,
    )


def garbage(reason: str, resp: Response, started: float) -> TargetResponse:
    snippet = resp.text[:200] if resp.content else "<empty body>"
    return TargetResponse(
        text=None,
        error=f"unusable reply: {reason}: {snippet}",
        status=resp.status_code,
        latency_s=time.perf_counter() - started,
        retryable=False,
    )


async def send_json(client: HttpClient, method: str, url: str, payload: Any,
                    started: float) -> Response | TargetResponse:
    """Send one JSON request; a transport failure, an HTTP error status or an empty body
    comes back as the attempt's error response, anything else as the raw response."""
    try:
        resp = await client.request(method, url, json=payload)
        content = resp.content
    except (HTTPError, OSError, ValueError) as exc:
        return transport_error(exc, started)
    if resp.status_code >= 400:
        return http_error(resp, started)
    if not content:
        return garbage("empty body", resp, started)
    return resp


class NoSecrets:
    """Mixin for targets that hold no secrets of their own."""

    @property
    def canaries(self) -> tuple[str, ...]:
        return ()

    @property
    def system_prompt(self) -> str | None:
        return None


async def close_client(client: Any) -> None:
    """Close a target, judge or attacker client, or a strategy, if it holds something open
    (an `aclose()` coroutine)."""
    close = getattr(client, "aclose", None)
    if close is not None:
        await close()


@dataclass(kw_only=True)
class PooledHttp:
    """Mixin for targets that talk HTTP: one pooled client, made on first use with the
    target's `_headers()`, closed by `aclose`."""

    timeout_s: float = 60.0
    max_connections: int = 256
    max_response_bytes: int = MAX_BODY_BYTES
    _client: HttpClient | None = field(default=None, init=False, repr=False)

    def _headers(self) -> dict[str, str]:
        return {}

    def client(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(headers=self._headers(), timeout_s=self.timeout_s,
                                      max_connections=self.max_connections,
                                      max_body_bytes=self.max_response_bytes)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
