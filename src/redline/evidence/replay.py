"""Replay: re-judge a recorded run from its cassette and compare it with the original."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redline.core.config import ScanConfig
from redline.core.scan import scan, stored_summary
from redline.report import report_digest
from redline.store import Store


@dataclass(frozen=True)
class ReplayComparison:
    source_id: str
    replay_id: str
    wall_s: float
    attempts: int
    changed: list[tuple[str, str | None, str | None]]  # attempt id, original, replayed
    source_digest: str
    replay_digest: str

    @property
    def same_digest(self) -> bool:
        return self.source_digest == self.replay_digest

    @property
    def ok(self) -> bool:
        return not self.changed and self.same_digest


def replay_run(db: str | Path, run: str, out: Path) -> ReplayComparison:
    """Re-run `run` from its recording (no target) and diff verdicts and report digests."""
    store = Store(db)
    try:
        source = store.get_run(run)
        original = {a: o for a, o, _ in store.verdict_rows(source.id)}
    finally:
        store.close()
    cfg = ScanConfig.model_validate({**source.config, "db": str(db), "out": str(out)})
    result = scan(cfg, replay_of=source.id)
    store = Store(db)
    try:
        replayed = {a: o for a, o, _ in store.verdict_rows(result.run.id)}
        # the detectors' verdicts on both sides: people's labels are not the detectors'
        digests = [report_digest(stored_summary(store, info, reviewed=False), store, info.id)
                   for info in (source, result.run)]
    finally:
        store.close()
    changed = [(k, original.get(k), replayed.get(k))
               for k in sorted(original.keys() | replayed.keys())
               if original.get(k) != replayed.get(k)]
    return ReplayComparison(source.id, result.run.id, result.wall_s, len(replayed), changed,
                            digests[0], digests[1])
