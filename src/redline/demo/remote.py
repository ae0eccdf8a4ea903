"""Stages that call the app's dependencies over HTTP (see `redline.demo.services`).

What each does when its dependency fails (time-out, error status, malformed reply):

* moderation: `on_error="local"` (default) falls back to the in-process rules, so plain
  attacks are still blocked; `on_error="block"` refuses the request. Never lets it through
  unchecked, and a reply without a boolean `flagged` counts as a failure, not as "not flagged".
* retrieval: answers without help-centre articles (the request goes on, less well informed).

Both log an `error` event before degrading, so the app's own trace shows the failure.
"""

from __future__ import annotations

from typing import Any, Literal

from redline.demo.data import Document
from redline.demo.pipeline import ASK_AGAIN, REFUSAL, Stage, Turn, input_filter
from redline.plugins.targets.http_client import HttpClient, HTTPError, Timeout


def _client(client: HttpClient | None, timeout_s: float) -> HttpClient:
    return client if client is not None else HttpClient(timeout_s=timeout_s)


async def _post(client: HttpClient, url: str, body: dict[str, Any],
                timeout_s: float) -> tuple[Any, str | None]:
    """(JSON reply, None) or (None, why it failed)."""
    try:
        resp = await client.request("POST", url, json=body, timeout_s=timeout_s)
    except Timeout:
        return None, f"timed out after {timeout_s * 1000:g} ms"
    except (HTTPError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:200]
    if resp.status_code != 200:
        return None, f"HTTP {resp.status_code}"
    try:
        return resp.json(), None
    except ValueError:
        return None, "reply is not JSON"


def moderation_stage(base_url: str, *, timeout_s: float = 2.0,
                     on_error: Literal["local", "block"] = "local",
                     client: HttpClient | None = None) -> Stage:
    url = base_url.rstrip("/") + "/moderate"
    http = _client(client, timeout_s)

    async def moderation(turn: Turn) -> Turn:
        if not turn.user_text.strip():
            turn.reply, turn.done = ASK_AGAIN, True
            turn.log("input_filter", "answer", "empty message")
            return turn
        data, why = await _post(http, url, {"text": turn.user_text}, timeout_s)
        if why is None and not (isinstance(data, dict) and isinstance(data.get("flagged"), bool)):
            why = "malformed moderation reply"
        if why is not None:
            turn.log("input_filter", "error", f"moderation service: {why}")
            if on_error == "local":
                return await input_filter(turn)
            turn.reply, turn.done = REFUSAL, True
            turn.log("input_filter", "block", "moderation unavailable: refusing")
            return turn
        if data["flagged"]:
            turn.reply, turn.done = REFUSAL, True
            turn.log("input_filter", "block", f"{data.get('rule')}: {data.get('match') or ''}")
        else:
            turn.log("input_filter", "pass", "moderation service")
        return turn

    return moderation


def _documents(data: Any) -> list[Document] | None:
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        return None
    docs = []
    for d in data["documents"]:
        if not (isinstance(d, dict) and all(isinstance(d.get(k), str)
                                            for k in ("id", "title", "text"))):
            return None
        docs.append(Document(d["id"], d["title"], d["text"]))
    return docs


def retrieval_stage(base_url: str, *, timeout_s: float = 2.0, k: int = 2,
                    client: HttpClient | None = None) -> Stage:
    url = base_url.rstrip("/") + "/search"
    http = _client(client, timeout_s)

    async def remote_retrieval(turn: Turn) -> Turn:
        data, why = await _post(http, url, {"query": turn.user_text, "k": k}, timeout_s)
        docs = _documents(data) if why is None else None
        if docs is None:
            turn.documents = []
            turn.log("retrieval", "error",
                     f"retrieval service: {why or 'malformed reply'}; answering without articles")
            return turn
        turn.documents = docs
        turn.log("retrieval", "pass", ",".join(d.id for d in docs))
        return turn

    return remote_retrieval
