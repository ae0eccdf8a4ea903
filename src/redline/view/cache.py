"""The viewer's cache of what its pages computed, valid while the store is unchanged."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from redline.store import Store


class StoreCache:
    """What the pages computed from the store (aggregates, labels, gate decisions,
    verifications), shared by the server's threads and kept while the store is unchanged:
    entries hold for one change token (Store.change_token), which any committed write by
    anyone moves (a new result, label, decision or signature, and an edit made behind
    redline's back), so nothing stale is ever served and a tampered record shows on the next
    page load. The token is read through one connection of its own (SQLite's data_version
    compares only on one connection); a backend without a token computes every time."""

    def __init__(self, opener: Callable[[], Store], size: int = 256) -> None:
        self.opener = opener
        self.size = size
        self.watch: Store | None = None
        self.current: str | None = None
        self.items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.running: dict[tuple[str, tuple[Any, ...]], Future[Any]] = {}
        self.lock = threading.Lock()

    def token(self) -> str | None:
        with self.lock:
            if self.watch is None:
                self.watch = self.opener()
            return self.watch.change_token()

    def get(self, what: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The value for `what` at the store's current state: cached, being computed by
        another thread (waited for), or computed now."""
        token = self.token()
        if token is None:
            return compute()
        with self.lock:
            if token != self.current:  # the store moved on: nothing computed before holds
                self.items.clear()
                self.current = token
            if what in self.items:
                self.items.move_to_end(what)
                return self.items[what]
            running = self.running.get((token, what))
            if running is None:
                mine = self.running[(token, what)] = Future()
        if running is not None:
            return running.result()
        try:
            value = compute()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self.lock:
                del self.running[(token, what)]
        mine.set_result(value)
        self._keep(token, what, value)
        return value

    def _keep(self, token: str, what: tuple[Any, ...], value: Any) -> None:
        if self.token() != token:  # written to while it was computed: not kept
            return
        with self.lock:
            if self.current == token:
                self.items[what] = value
                while len(self.items) > self.size:
                    self.items.popitem(last=False)

    def close(self) -> None:
        with self.lock:
            if self.watch is not None:
                self.watch.close()
                self.watch = None
