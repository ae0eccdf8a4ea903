"""The monitor's store methods on both backends (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

from redline.store import Store


def _hit(key: str, sid: str | None, unsafe: int, ts: str) -> dict:
    return {"key": key, "at_record": 1, "location": f"log:{key}", "logged_at": ts,
            "scenario_id": sid, "scenario_version": 1, "first_run": None, "source": "catalog",
            "view": "plain", "containment": 1.0, "severity": "high", "unsafe": unsafe,
            "detectors": ["harmful_compliance"] if unsafe else [], "prompt": "p", "reply": "r"}


def test_production_hits_are_stored_once_and_counted(db_location: str) -> None:
    store = Store(db_location)
    try:
        assert store.production_hit_stats() == {}
        rows = [_hit("a", "s1", 1, "2026-12-01T00:00:00Z"),
                _hit("b", "s1", 0, "2026-12-02T00:00:00Z"), _hit("c", None, 1, "t")]
        assert store.add_production_hits(rows) == 3
        assert store.add_production_hits(rows[:2]) == 0  # the same log read again
        assert store.production_hit_stats() == {"s1": {
            "recurrences": 2, "unsafe": 1, "first_seen": "2026-12-01T00:00:00Z",
            "last_seen": "2026-12-02T00:00:00Z"}}
        assert store.first_failing_runs() == {} and list(store.failing_attempts()) == []
        assert store.last_approved_run("demo", "default") is None
    finally:
        store.close()
