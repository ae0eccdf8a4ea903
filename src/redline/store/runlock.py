"""One process at a time per run: a scan or a resume holds its run's lock until it ends.

The lock is an flock on a small file beside the store (`<db>.locks/<digest of run id>`), so
the kernel releases it when the process dies however it dies (SIGKILL included): a stale lock
cannot outlive its holder, and a run left `running` by a killed scan can be resumed at once.
The file holds the holder's pid, for the message that refuses a second one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from redline.core.errors import RedlineError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking, as before
    fcntl = None  # type: ignore[assignment]


class RunBusy(RedlineError):
    """Another live process is running or resuming this run."""


def lock_path(db: Path, run_id: str) -> Path:
    digest = hashlib.sha256(run_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return db.with_name(db.name + ".locks") / f"{digest}.lock"


@contextlib.contextmanager
def hold_run(db: Path, run_id: str) -> Iterator[None]:
    """Hold `run_id`'s lock for the body; RunBusy at once if another process holds it."""
    if fcntl is None:
        yield
        return
    path = lock_path(db, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise RunBusy(f"run {run_id} is being run or resumed by another process "
                          f"(pid {holder}); wait for it to end, or stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
