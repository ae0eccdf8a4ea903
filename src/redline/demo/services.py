"""The app's dependencies as HTTP services: moderation and retrieval (starlette apps).

Deployed apps call these over the network; `redline.demo.remote` has the client stages. The
services wrap the same in-process rules and index, so an app wired to them behaves exactly
like the in-process demo until something between the two goes wrong.

    POST /moderate {"text": str}           -> {"flagged": bool, "rule": str|null, "match": str|null}
    POST /search   {"query": str, "k": int} -> {"documents": [{"id", "title", "text"}, ...]}
"""

from __future__ import annotations

from dataclasses import asdict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.demo.filters import check_input
from redline.demo.retrieval import retrieve


async def _body(request: Request) -> dict | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def moderate(request: Request) -> JSONResponse:
    body = await _body(request)
    if body is None or not isinstance(body.get("text"), str):
        return JSONResponse({"error": "expected {\"text\": str}"}, status_code=400)
    hit = check_input(body["text"])
    return JSONResponse({"flagged": hit is not None, "rule": hit[0] if hit else None,
                         "match": hit[1][:80] if hit else None})


async def search(request: Request) -> JSONResponse:
    body = await _body(request)
    if body is None or not isinstance(body.get("query"), str):
        return JSONResponse({"error": "expected {\"query\": str, \"k\": int}"}, status_code=400)
    k = body.get("k", 2)
    k = k if isinstance(k, int) and 0 < k <= 10 else 2
    return JSONResponse({"documents": [asdict(d) for d in retrieve(body["query"], k)]})


def moderation_app() -> Starlette:
    return Starlette(routes=[Route("/moderate", moderate, methods=["POST"])])


def retrieval_app() -> Starlette:
    return Starlette(routes=[Route("/search", search, methods=["POST"])])
