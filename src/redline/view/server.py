"""Serving the viewer: in the foreground for the command, in a thread for tests and benches."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from redline.gate.policy import Policy
from redline.store import Store
from redline.view.app import build_app
from redline.view.guard import check_bind


def _config(opener: Callable[[], Store], host: str, port: int, token: str | None,
            policy: Policy | None):
    import uvicorn

    return uvicorn.Config(build_app(opener, token, policy), host=host, port=port,
                          log_level="warning", access_log=False, lifespan="on")


def run_viewer(opener: Callable[[], Store], host: str, port: int, token: str | None,
               policy: Policy | None = None) -> None:
    import uvicorn

    uvicorn.Server(_config(opener, host, port, token, policy)).run()


@contextlib.contextmanager
def viewer_thread(opener: Callable[[], Store], host: str = "127.0.0.1", token: str | None = None,
                  policy: Policy | None = None, expose: bool = False) -> Iterator[str]:
    """The viewer on a free port in a background thread; yields its base URL."""
    import uvicorn

    check_bind(host, expose)
    server = uvicorn.Server(_config(opener, host, 0, token, policy))
    thread = threading.Thread(target=server.run, name="redline-view", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the viewer did not start")
        time.sleep(0.02)
    sock_host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield f"http://{'[' + sock_host + ']' if ':' in sock_host else sock_host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
