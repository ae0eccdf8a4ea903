"""Real HTTP servers on 127.0.0.1 for tests: an OpenAI-compatible endpoint that can misbehave.

The first path segment picks the behaviour: /ok, /error500, /hang, /ratelimit (429 with
Retry-After on the first N calls), /garbage, /emptybody, /emptytext, /wrongshape, /slow.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[list[dict[str, Any]]], str]


def default_reply(messages: list[dict[str, Any]]) -> str:
    last = messages[-1]["content"] if messages else ""
    return f"You said: {last[:200]}"


def make_handler(reply: Reply, calls: Counter, ratelimit_first: int, hang_s: float):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a time-out under test): nothing to send to

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            payload = json.loads(self.rfile.read(length) or b"{}")
            mode = self.path.strip("/").split("/")[0]
            calls[mode] += 1
            calls["auth:" + self.headers.get("authorization", "")] += 1
            messages = payload.get("messages") or [{"role": "user",
                                                    "content": payload.get("prompt", "")}]
            ok = {"choices": [{"message": {"role": "assistant", "content": reply(messages)}}],
                  "usage": {"completion_tokens": 7}, "response": reply(messages)}
            if mode == "ok":
                self._send(200, json.dumps(ok).encode())
            elif mode == "error500":
                self._send(500, b'{"error": "boom"}')
            elif mode == "hang":
                time.sleep(hang_s)
                self._send(200, json.dumps(ok).encode())
            elif mode == "ratelimit":
                if calls[mode] <= ratelimit_first:
                    self._send(429, b'{"error": "slow down"}', {"retry-after": "1"})
                else:
                    self._send(200, json.dumps(ok).encode())
            elif mode == "garbage":
                self._send(200, b"{not json at all")
            elif mode == "emptybody":
                self._send(200, b"")
            elif mode == "emptytext":
                ok["choices"][0]["message"]["content"] = "   "
                self._send(200, json.dumps(ok).encode())
            elif mode == "wrongshape":
                self._send(200, b'{"choices": []}')
            elif mode == "slow":
                time.sleep(0.1)
                self._send(200, json.dumps(ok).encode())
            else:
                self._send(404, b'{"error": "no such mode"}')

    return Handler


@contextmanager
def serve(reply: Reply = default_reply, ratelimit_first: int = 1,
          hang_s: float = 5.0) -> Iterator[tuple[str, Counter]]:
    """Yield (base URL, call counter) for a server running on an ephemeral loopback port."""
    calls: Counter = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(reply, calls, ratelimit_first,
                                                                hang_s))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()
