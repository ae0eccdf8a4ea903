"""The monitor loop: lines -> records -> rows -> drift checks (and the hooks that act on them).

The reference window is a file read first, or the first `reference_records` records of the
stream. After it, rows go into a sliding current window of `window` records; every `step`
records (once the window is full) the window is compared with the reference. When the input
ends, a window that has grown since the last check is checked once more if it holds at least
`min_records` rows.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from redline.core.models import Verdict
from redline.monitor.columns import (
    ColumnKind,
    ReplyJudge,
    Row,
    TopicVocabulary,
    column_kinds,
    column_values,
    row_of,
    verdict_row,
)
from redline.monitor.drift import ColumnDrift, DriftSettings, compare
from redline.monitor.logs import BadLine, ChatRecord, Kind, LogLine, Record, parse_line

KEEP_BAD = 100


@dataclass(frozen=True)
class MonitorSettings:
    kind: Kind | None = None
    reference_records: int = 5000
    window: int = 5000
    step: int = 1000
    drift: DriftSettings = field(default_factory=DriftSettings)
    canaries: tuple[str, ...] = ()


@dataclass
class DriftCheck:
    at_record: int
    where: str
    columns: list[ColumnDrift]

    @property
    def drifted(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {"at_record": self.at_record, "where": self.where, "drifted": self.drifted,
                "columns": [c.to_dict() for c in self.columns]}


@dataclass
class Seen:
    """One parsed record and what the reply detectors said about it."""

    index: int
    record: Record
    verdicts: list[Verdict]
    problem: str | None


Hook = Callable[[Seen], Awaitable[None]]


@dataclass
class Reference:
    records: list[tuple[Record, Row]] = field(default_factory=list)
    kinds: dict[str, ColumnKind] = field(default_factory=dict)
    values: dict[str, list[Any]] = field(default_factory=dict)
    vocab: TopicVocabulary = field(default_factory=TopicVocabulary)
    source: str = ""
    complete: bool = False

    def close(self, record_kind: str) -> None:
        prompts = [r.prompt for r, _ in self.records if isinstance(r, ChatRecord)]
        self.vocab = TopicVocabulary.learn(prompts)
        rows = [{**row_of(r, self.vocab, []), **vrow} for r, vrow in self.records]
        self.kinds = column_kinds(rows, record_kind)
        self.values = {n: column_values(rows, n, k) for n, k in self.kinds.items()}
        self.records = []  # the rows are all that is kept
        self.complete = True


class Monitor:
    def __init__(self, settings: MonitorSettings, hooks: Iterable[Hook] = ()):
        self.settings = settings
        self.kind: Kind | None = settings.kind
        self.judge = ReplyJudge(settings.canaries)
        self.reference = Reference(source=f"first {settings.reference_records} records")
        self.window: deque[Row] = deque(maxlen=settings.window)
        self.hooks = list(hooks)
        self.records = 0
        self.bad: list[BadLine] = []
        self.bad_count = 0
        self.judge_errors = 0
        self.checks = 0
        self.alarm_checks = 0
        self.first_alarm: DriftCheck | None = None
        self.latest: DriftCheck | None = None
        self._since_check = 0
        self._last_where = ""
        self._loop = asyncio.new_event_loop()

    def close(self) -> None:
        self._loop.close()

    # -- input ---------------------------------------------------------------------------

    def _bad(self, bad: BadLine) -> None:
        self.bad_count += 1
        if len(self.bad) < KEEP_BAD:
            self.bad.append(bad)

    def parse(self, line: LogLine) -> Record | None:
        parsed = parse_line(line, self.kind)
        if isinstance(parsed, BadLine):
            self._bad(parsed)
            return None
        if self.kind is None:
            self.kind = "chat" if isinstance(parsed, ChatRecord) else "classifier"
        return parsed

    def load_reference(self, lines: Iterable[LogLine], source: str) -> None:
        """A reference window from a file: every record in it, then closed."""
        self.reference.source = source
        records = [r for r in (self.parse(line) for line in lines) if r is not None]
        verdicts = self._loop.run_until_complete(self._judge_all(records))
        for record, (vs, _problem) in zip(records, verdicts, strict=True):
            self.reference.records.append((record, verdict_row(vs)))
        self.reference.close(self.kind or "chat")

    async def _judge_all(self, records: list[Record]) -> list[tuple[list[Verdict], str | None]]:
        out = []
        for r in records:
            out.append(await self.judge.verdicts(r) if isinstance(r, ChatRecord) else ([], None))
        return out

    def process(self, lines: Iterable[LogLine]) -> list[DriftCheck]:
        """Feed lines; returns the drift checks they completed."""
        return self._loop.run_until_complete(self._process(lines))

    async def _process(self, lines: Iterable[LogLine]) -> list[DriftCheck]:
        checks = []
        for line in lines:
            record = self.parse(line)
            if record is None:
                continue
            check = await self._feed(record)
            if check is not None:
                checks.append(check)
        return checks

    async def _feed(self, record: Record) -> DriftCheck | None:
        verdicts: list[Verdict] = []
        problem = None
        if isinstance(record, ChatRecord):
            verdicts, problem = await self.judge.verdicts(record)
            if problem:
                self.judge_errors += 1
        self.records += 1
        self._last_where = record.where
        seen = Seen(self.records, record, verdicts, problem)
        for hook in self.hooks:
            await hook(seen)
        ref = self.reference
        if not ref.complete:
            ref.records.append((record, verdict_row(verdicts)))
            if len(ref.records) >= self.settings.reference_records:
                ref.close(self.kind or "chat")
            return None
        self.window.append({**row_of(record, ref.vocab, []), **verdict_row(verdicts)})
        self._since_check += 1
        if len(self.window) == self.window.maxlen and self._since_check >= self.settings.step:
            return self.check()
        return None

    # -- checks --------------------------------------------------------------------------

    def check(self) -> DriftCheck:
        ref = self.reference
        cols = {name: (kind, ref.values[name], column_values(self.window, name, kind))
                for name, kind in ref.kinds.items()}
        result = DriftCheck(self.records, self._last_where, compare(cols, self.settings.drift))
        self._since_check = 0
        self.checks += 1
        self.latest = result
        if result.drifted:
            self.alarm_checks += 1
            if self.first_alarm is None:
                self.first_alarm = result
        return result

    def finish(self) -> DriftCheck | None:
        """The input ended: check what the window gained since the last check."""
        if not self.reference.complete and self.reference.records:
            return None
        if self._since_check and len(self.window) >= self.settings.drift.min_records:
            return self.check()
        return None

    @property
    def ready(self) -> bool:
        return self.checks > 0

    def report(self) -> dict[str, Any]:
        s = self.settings
        return {
            "kind": self.kind,
            "records": self.records,
            "reference": {"source": self.reference.source,
                          "complete": self.reference.complete,
                          "columns": dict(self.reference.kinds)},
            "malformed": {"count": self.bad_count, "lines": [b.to_dict() for b in self.bad]},
            "judge_errors": self.judge_errors,
            "drift": {
                "settings": {"window": s.window, "step": s.step, **s.drift.__dict__},
                "checks": self.checks, "alarms": self.alarm_checks,
                "first_alarm": self.first_alarm.to_dict() if self.first_alarm else None,
                "latest": self.latest.to_dict() if self.latest else None,
            },
        }
