"""Run an ASGI app on an ephemeral 127.0.0.1 port in a background thread (uvicorn).

Each server has its own thread and event loop, like a separate service: a dependency that
hangs never blocks the experiment's loop. Several servers stop in parallel (uvicorn takes
about 0.1-0.2 s to notice a stop request).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import uvicorn

from redline.core.errors import RunAborted

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0


class LoopbackServer:
    def __init__(self, app: Any, name: str):
        self.app = app
        self.name = name
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> LoopbackServer:
        config = uvicorn.Config(self.app, host=HOST, port=0, log_level="error", access_log=False,
                                lifespan="on", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"redline-{self.name}",
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RunAborted(f"could not start the {self.name} server on {HOST}")
            time.sleep(0.002)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def request_stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None


def stop_all(servers: Iterable[LoopbackServer]) -> None:
    servers = list(servers)
    for s in servers:
        s.request_stop()
    for s in servers:
        s.join()


def dead_url() -> str:
    """A loopback URL where nothing listens (a port just bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    return f"http://{HOST}:{port}"
