"""Writing results as a scan produces them: batched, off the event loop, in order."""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from redline.core.models import AttemptResult
from redline.store.base import Store
from redline.store.records import result_row


class BatchWriter:
    """Buffers result rows and writes them in one transaction per batch or per interval.

    The writes (the store and the audit chain) run in order on one background thread, so a
    batch does not stall the engine's event loop (it took 30-80 ms per 256 rows, during which
    every reply in flight waited); at most `max_pending` batches wait to be written, then
    add() waits for the oldest. A write error surfaces at the next add() or flush().
    flush() writes what is buffered and returns once everything is in the store.
    """

    def __init__(self, store: Store, run_id: str, batch: int = 256, interval_s: float = 1.0,
                 max_pending: int = 4):
        self.store = store
        self.run_id = run_id
        self.batch = batch
        self.interval_s = interval_s
        self.max_pending = max_pending
        self.rows: list[tuple[Any, ...]] = []
        self.last_flush = time.monotonic()
        self.written = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[Future[None], int]] = deque()

    def add(self, result: AttemptResult) -> None:
        self.rows.append(result_row(self.run_id, result))
        if len(self.rows) >= self.batch or time.monotonic() - self.last_flush >= self.interval_s:
            self._submit()
            while self._pending and (len(self._pending) > self.max_pending
                                     or self._pending[0][0].done()):
                self._settle()

    def _submit(self) -> None:
        rows, self.rows = self.rows, []
        self.last_flush = time.monotonic()
        if not rows:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redline-store")
        self._pending.append((self._pool.submit(self.store.add_results, rows), len(rows)))

    def _settle(self) -> None:
        future, n = self._pending.popleft()
        future.result()  # re-raises the write's error here, in the caller's thread
        self.written += n

    def flush(self) -> None:
        self._submit()
        error: Exception | None = None
        while self._pending:
            try:
                self._settle()
            except Exception as exc:  # wait for the later batches all the same
                error = error or exc
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if error is not None:
            raise error
