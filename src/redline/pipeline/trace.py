"""Which workload request is being served, carried to in-process stages and HTTP dependencies.

The experiment sets `REQUEST` before each request; in-process fault wrappers read it, and
HTTP clients built with `traced_client` send it as the `x-redline-request` header, which the
fault proxy uses to apply a schedule by request index (so faults land on the same requests
whatever the timing). Without a tag, the proxy counts arrivals instead.
"""

from __future__ import annotations

from contextvars import ContextVar

from redline.plugins.targets.http_client import HttpClient

HEADER = "x-redline-request"
REQUEST: ContextVar[int | None] = ContextVar("redline_request", default=None)


def trace_headers() -> dict[str, str]:
    """The tracing hook of `HttpClient`: the current workload request's index, if any."""
    index = REQUEST.get()
    return {HEADER: str(index)} if index is not None else {}


def traced_client(timeout_s: float, max_connections: int = 256,
                  headers: dict[str, str] | None = None) -> HttpClient:
    return HttpClient(headers=headers or {}, timeout_s=timeout_s,
                      max_connections=max_connections, on_request=trace_headers)


def header_index(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
