"""What every part of the store runs its SQL through, and the transaction rule.

The store's SQL is written once, with `?` placeholders, in the SQL that SQLite and
PostgreSQL share; a backend implements the few primitives below (and the dialect hooks its
subclass overrides). All writes of one logical change happen in `transaction()`: SQLite
takes the write lock at BEGIN (BEGIN IMMEDIATE), PostgreSQL serializes each run's chain
appends with an advisory lock, so two writers never chain onto the same head.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import Any

Row = tuple[Any, ...]


class SqlAccess:
    """The primitives a backend provides; the store's methods use nothing else."""

    location: str
    _lock: threading.RLock
    _depth: int
    _heads: dict[str, tuple[int, str] | None]

    def _init_access(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._heads = {}

    # --- implemented by a backend ------------------------------------------------------

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> Iterator[Row]:
        raise NotImplementedError

    def _stream(self, sql: str, args: Iterable[Any] = ()) -> Iterator[Row]:
        """A read that may be as large as a run: rows come as they are fetched, never all at
        once (SQLite's cursor already streams; PostgreSQL's fetches everything on execute,
        so its backend reads through a server-side cursor)."""
        return self._rows(sql, args)

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> None:
        raise NotImplementedError

    def _many(self, sql: str, rows: Iterable[Row]) -> None:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _lock_chain(self, run_id: str) -> None:
        """Inside a transaction: make this writer the only one appending to run_id's chain
        until the transaction ends (SQLite already is: it holds the write lock)."""

    def close(self) -> None:
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------

    def _row(self, sql: str, args: Iterable[Any] = ()) -> Row | None:
        return next(iter(self._rows(sql, args)), None)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write; nested calls join the outer transaction. Chain heads are read
        afresh in each transaction, so other writers' appends are always seen."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            self._heads.clear()
            try:
                yield
            except BaseException:
                self._heads.clear()
                self._rollback()
                raise
            else:
                try:
                    self._commit()
                except BaseException:
                    self._heads.clear()
                    self._rollback()
                    raise
            finally:
                self._depth = 0
                self._heads.clear()

    def __enter__(self) -> SqlAccess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
