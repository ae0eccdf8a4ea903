"""Drive a Monitor over its sources: once (cron, CI) or following them until stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from redline.core.errors import UsageError
from redline.monitor.logs import LogLine, Source
from redline.monitor.watch import DriftCheck, Monitor

BATCH = 2000


def _batches(lines: Iterator[LogLine], size: int = BATCH) -> Iterator[list[LogLine]]:
    batch: list[LogLine] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_reference(monitor: Monitor, path: str) -> None:
    source = Source(path)
    if source.is_stdin:
        raise UsageError("--reference must be a file or directory, not standard input")
    monitor.load_reference(source.poll(final=True), path)
    if not monitor.reference.kinds:
        raise UsageError(f"--reference {path}: no usable records in it")


def read_once(monitor: Monitor, sources: Sequence[Source],
              on_checks: Callable[[list[DriftCheck]], None] | None = None) -> None:
    """Everything the sources hold now (standard input to its end), then the final check."""
    for source in sources:
        for batch in _batches(source.poll(final=True)):
            checks = monitor.process(batch)
            if on_checks and checks:
                on_checks(checks)
    last = monitor.finish()
    if on_checks and last is not None:
        on_checks([last])


@dataclass
class Follow:
    interval_s: float = 1.0
    max_idle_polls: int | None = None  # stop after this many empty polls in a row (tests)


def follow(monitor: Monitor, sources: Sequence[Source], settings: Follow,
           on_tick: Callable[[list[DriftCheck]], None]) -> None:
    """Poll the sources until stopped (Ctrl-C), standard input ends, or idle long enough."""
    idle = 0
    while True:
        got = 0
        for source in sources:
            for batch in _batches(source.poll()):
                got += len(batch)
                on_tick(monitor.process(batch))
        if got == 0:
            idle += 1
            on_tick([])
            if sources and all(s.is_stdin and s.exhausted for s in sources):
                break
            if settings.max_idle_polls is not None and idle >= settings.max_idle_polls:
                break
            time.sleep(settings.interval_s)
        else:
            idle = 0
    last = monitor.finish()
    on_tick([last] if last is not None else [])
