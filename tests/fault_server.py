"""A loopback chat server that misbehaves on purpose, at a seeded rate, and logs what it did.

Every request is answered either properly or with one injected fault: a 5xx, a time-out (no
reply before the client gives up), a 429 with Retry-After, a connection reset, a body cut
short, garbage JSON, an empty body, or a reply that trickles in slower than the client waits.
The choice is a pure function of (seed, prompt, how many times this prompt was seen), so it
does not depend on the order in which concurrent requests arrive, and the server keeps a log
of (prompt, fault) per request for the tests to check every stored outcome against.

It speaks both shapes the HTTP targets use: OpenAI chat completions (`messages`) and the
generic JSON endpoint (`prompt` in, `response` out).
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("http_500", "http_502", "http_503", "timeout", "ratelimit", "reset", "truncated",
          "garbage_json", "empty_body", "trickle")
# what the engine may retry; the others are an answer, just an unusable one
RETRYABLE = {"http_500", "http_502", "http_503", "timeout", "ratelimit", "reset", "truncated",
             "trickle"}
REPLY = "I can't help with that request."


@dataclass
class FaultLog:
    """What the server did, per prompt, in arrival order."""

    seed: int
    rate: float
    stall_s: float
    by_prompt: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def choose(self, prompt: str) -> str:
        with self.lock:
            k = len(self.by_prompt[prompt])
            digest = hashlib.sha256(f"{self.seed}|{k}|{prompt}".encode()).digest()
            u = int.from_bytes(digest[:8], "big") / 2**64
            v = int.from_bytes(digest[8:16], "big") % len(FAULTS)
            fault = FAULTS[v] if u < self.rate else "ok"
            self.by_prompt[prompt].append(fault)
            return fault

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for faults in self.by_prompt.values():
            for f in faults:
                out[f] += 1
        return dict(out)


def _prompt(payload: Any) -> str:
    if isinstance(payload, dict):
        if isinstance(payload.get("messages"), list) and payload["messages"]:
            return str(payload["messages"][-1].get("content", ""))
        return str(payload.get("prompt", ""))
    return ""


def make_handler(log: FaultLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def _head(self, status: int, length: int, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(length))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()

        def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
            self._head(status, len(body), extra)
            self.wfile.write(body)

        def _reset(self) -> None:
            # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                payload = {}
            fault = log.choose(_prompt(payload))
            good = json.dumps({
                "choices": [{"message": {"role": "assistant", "content": REPLY}}],
                "usage": {"completion_tokens": 7}, "response": REPLY,
            }).encode()
            try:
                self._answer(fault, good)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up first, as it should

        def _answer(self, fault: str, good: bytes) -> None:
            if fault == "ok":
                self._send(200, good)
            elif fault.startswith("http_"):
                self._send(int(fault[5:]), b'{"error": "injected"}')
            elif fault == "ratelimit":
                self._send(429, b'{"error": "slow down"}', {"retry-after": "0"})
            elif fault == "timeout":
                time.sleep(log.stall_s)
                self._send(200, good)
            elif fault == "reset":
                self._reset()
            elif fault == "truncated":
                self._head(200, len(good))
                self.wfile.write(good[: len(good) // 3])
                self.wfile.flush()
                self.close_connection = True
            elif fault == "garbage_json":
                self._send(200, b'{"choices": [{"message": {"content": "half')
            elif fault == "empty_body":
                self._send(200, b"")
            elif fault == "trickle":
                self._head(200, len(good))
                pause = log.stall_s / 10
                for i in range(len(good)):
                    self.wfile.write(good[i : i + 1])
                    self.wfile.flush()
                    time.sleep(pause)

    return Handler


class Server(ThreadingHTTPServer):
    # the default listen backlog of 5 drops SYNs when 16 connections open at once, and the
    # kernel's 1 s SYN retry would then look like a time-out the server never saw
    request_queue_size = 256


@contextmanager
def fault_server(seed: int = 0, rate: float = 0.3,
                 stall_s: float = 1.5) -> Iterator[tuple[str, FaultLog]]:
    """Yield (base URL, log) for a faulty server on an ephemeral loopback port.

    `stall_s` is how long a time-out fault waits before it answers, and about a tenth of how
    long a trickled reply takes per byte: keep it well over the client's time-out.
    """
    log = FaultLog(seed=seed, rate=rate, stall_s=stall_s)
    server = Server(("127.0.0.1", 0), make_handler(log))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
