"""Which workload request is being served, carried to in-process stages and HTTP dependencies.

The experiment sets `REQUEST` before each request; in-process fault wrappers read it, and
HTTP clients built with `traced_client` send it as the `x-redline-request` header, which the
fault proxy uses to apply a schedule by request index (so faults land on the same requests
whatever the timing). Without a tag, the proxy counts arrivals instead.
"""

from __future__ import annotations

from contextvars import ContextVar

import httpx

HEADER = "x-redline-request"
REQUEST: ContextVar[int | None] = ContextVar("redline_request", default=None)


async def _tag(request: httpx.Request) -> None:
    index = REQUEST.get()
    if index is not None:
        request.headers[HEADER] = str(index)


def traced_client(timeout_s: float, max_connections: int = 256) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections,
                          max_keepalive_connections=max_connections)
    return httpx.AsyncClient(timeout=timeout_s, limits=limits, trust_env=False,
                             event_hooks={"request": [_tag]})


def header_index(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
