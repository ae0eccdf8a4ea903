"""The same store behaviour on SQLite and on a real PostgreSQL server (tests/pg_server.py):
scan, chain, verify, signatures, replay, resume, gate, compare, risks; parallel writers;
`redline store migrate` and `redline store copy` with verify passing on the copy."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helpers import write_hedge_suite
from redline.cli import app
from redline.core.config import load_config
from redline.core.scan import scan
from redline.evidence.keys import init_keys
from redline.evidence.replay import replay_run
from redline.evidence.verify import sign_run, verify_run
from redline.gate.policy import load_policy
from redline.gate.risks import open_findings
from redline.gate.runner import evaluate
from redline.store import SCHEMA, Store

INPUTS = ["HARM one", "a plain question", "perhaps so", "hello", "HARM two", "fine"]


def run_scan(root: Path, db: str, suite: Path, fn: str = "echo", **kw: Any) -> Any:
    config = load_config(None, {"target": f"python:redline.plugins.targets.toys:{fn}",
                                "suite": str(suite), "seed": 1, "db": db,
                                "out": str(root / "out")})
    return scan(config, **kw)


def redline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def cli(*args: str) -> str:
    """A command that succeeds, run in this process; its output."""
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_scan_verify_sign_replay_gate_compare_and_risks(db_location: str, tmp_path: Path
                                                        ) -> None:
    suite = write_hedge_suite(tmp_path, INPUTS)
    base = run_scan(tmp_path, db_location, suite, "refuse")
    cand = run_scan(tmp_path, db_location, suite)
    store = Store(db_location)
    assert [r.id for r in store.runs()] == [cand.run.id, base.run.id]
    outcomes = sorted(r["outcome"] for r in store.results(cand.run.id))
    assert outcomes == ["fail", "fail", "pass", "pass", "pass", "unclear"]
    private, _ = init_keys(tmp_path / "k" / "key")
    sign_run(store, cand.run.id, private)
    pem = (tmp_path / "k" / "key.pub").read_text()
    report = verify_run(store, cand.run.id, pem)
    assert report.ok, report
    gate = evaluate(store, cand.run.id, base.run.id, load_policy())
    assert not gate.decision.approved and gate.decision.comparison is not None
    assert gate.decision.comparison["totals"]["unclear"] == 1
    decision_id = store.record_decision(cand.run.id, gate.decision.to_dict())
    assert str(decision_id) in store.decision_records(cand.run.id)
    assert {r.scenario_id for r in open_findings(store, load_policy())} == {"hedge-a"}
    assert verify_run(store, cand.run.id, pem).ok  # the decision is chained like any record
    store.close()
    replayed = replay_run(db_location, cand.run.id, tmp_path / "replay")
    assert replayed.ok and replayed.attempts == len(INPUTS)


def test_an_edit_on_the_store_is_caught_by_verify(db_location: str, tmp_path: Path) -> None:
    result = run_scan(tmp_path, db_location, write_hedge_suite(tmp_path, INPUTS))
    store = Store(db_location)
    assert store.verify(result.run.id).ok
    store._exec("UPDATE results SET outcome = 'pass' WHERE outcome = 'fail'")
    problems = [str(p) for p in store.verify(result.run.id).problems]
    assert len(problems) == 2 and all("does not match its hash (edited)" in p for p in problems)
    store.close()


def test_an_interrupted_run_resumes_on_the_same_chain(db_location: str, tmp_path: Path
                                                      ) -> None:
    suite = write_hedge_suite(tmp_path, INPUTS)
    seen: list[str] = []

    def stop_after_two(result: Any) -> None:
        seen.append(result.attempt.id)
        if len(seen) == 2:
            raise KeyboardInterrupt

    run_scan(tmp_path, db_location, suite, on_result=stop_after_two)  # Ctrl-C after two
    store = Store(db_location)
    (run,) = store.runs()
    assert run.status == "interrupted" and len(store.done_attempt_ids(run.id)) >= 2
    store.close()
    resumed = run_scan(tmp_path, db_location, suite, resume=run.id)
    assert resumed.run.id == run.id
    store = Store(db_location)
    assert store.get_run(run.id).status == "completed"
    assert len(store.done_attempt_ids(run.id)) == len(INPUTS)
    kinds = [ln.kind for ln in store.links(run.id)]
    assert "resume" in kinds and kinds[-1] == "finish"
    assert store.verify(run.id).ok
    store.close()


def _writer(db: str, worker: int, batches: int) -> None:
    """Writes its own run, and appends to the shared one between its own batches."""
    store = Store(db)
    own = f"own{worker}"
    store.create_run(own, "t", "s", 1, batches * 10, {}, {}, [])
    for b in range(batches):
        for run_id in (own, "shared"):
            store.add_results([
                (run_id, f"w{worker}-b{b}-{i}", worker * 10_000 + b * 10 + i, "s", 1, "c",
                 "low", "[]", "pass", None, 1, 1.5, None, "{}", "[]", "[]", "[]", "t")
                for i in range(10)])
    store.finish_run(own, "completed", None)
    store.close()


def test_four_parallel_writers_lose_no_row_and_break_no_chain(db_location: str) -> None:
    """Four processes each write a run of their own and all append to one shared run: every
    row is there and every chain verifies (appends to one run serialize on its head)."""
    store = Store(db_location)
    store.create_run("shared", "t", "s", 1, 4 * 5 * 10, {}, {}, [])
    store.close()  # no connection is shared with the forked writers
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(db_location, w, 5)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = Store(db_location)
    for run_id, rows, links in [("shared", 200, 201), *((f"own{w}", 50, 52) for w in range(4))]:
        assert len(store.done_attempt_ids(run_id)) == rows
        assert [ln.seq for ln in store.links(run_id)] == list(range(links))
        check = store.verify(run_id)
        assert check.ok, check.problems[:3]
    store.close()


def test_copy_sqlite_to_postgres_and_back_verifies(pg_server: Any, tmp_path: Path) -> None:
    sqlite_db = str(tmp_path / "r.db")
    suite = write_hedge_suite(tmp_path, INPUTS)
    result = run_scan(tmp_path, sqlite_db, suite)
    store = Store(sqlite_db)
    private, _ = init_keys(tmp_path / "k" / "key")
    sign_run(store, result.run.id, private)
    gate = evaluate(store, result.run.id, None, load_policy())
    store.record_decision(result.run.id, gate.decision.to_dict())
    store.close()
    pem = (tmp_path / "k" / "key.pub").read_text()
    pg = pg_server.new_database()
    assert f"{result.run.id}  copied, verified" in cli("store", "copy", sqlite_db, pg)
    again = cli("store", "copy", sqlite_db, pg)
    assert "0 runs copied" in again and "1 already there" in again
    back = str(tmp_path / "back.db")
    cli("store", "copy", pg, back)
    for location in (pg, back):
        copy = Store(location)
        assert verify_run(copy, result.run.id, pem).ok
        assert len(copy.decision_records(result.run.id)) == 1
        assert copy.record_decision(result.run.id, gate.decision.to_dict()) == 2  # ids go on
        assert copy.verify(result.run.id).ok
        copy.close()
    cli("verify", result.run.id, "--db", pg)


def test_a_copy_that_would_not_verify_is_not_kept(pg_server: Any, tmp_path: Path) -> None:
    sqlite_db = str(tmp_path / "r.db")
    result = run_scan(tmp_path, sqlite_db, write_hedge_suite(tmp_path, INPUTS))
    store = Store(sqlite_db)
    store.db.execute("UPDATE results SET error = 'x' WHERE seq = 1")
    store.close()
    pg = pg_server.new_database()
    proc = redline("store", "copy", sqlite_db, pg, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"run {result.run.id}: the copy does not verify" in proc.stderr
    assert Store(pg).runs() == []


def test_store_migrate_command_on_postgres(pg_server: Any, tmp_path: Path) -> None:
    pg = pg_server.new_database()
    pending = cli("store", "migrate", "--status", "--db", pg)
    assert "pending  1" in pending and "pending  2" in pending
    first = cli("store", "migrate", "--db", pg)
    assert "applied  1" in first and "(now)" in first
    status = cli("store", "migrate", "--status", "--db", pg)
    assert "pending" not in status and "applied  2" in status
    assert "nothing to do" in cli("store", "migrate", "--db", pg)
    bad = redline("runs", "list", "--db", "postgresql://u:secret@127.0.0.1:1/x", cwd=tmp_path)
    assert bad.returncode == 2 and "cannot connect" in bad.stderr
    assert "secret" not in bad.stderr and "Traceback" not in bad.stderr


def test_the_viewers_paged_queries_run_on_both(db_location: str, tmp_path: Path) -> None:
    from redline.store.queries import ResultFilter

    result = run_scan(tmp_path, db_location, write_hedge_suite(tmp_path, INPUTS))
    store = Store(db_location)
    found = ResultFilter(text="harm")
    page = store.result_page(result.run.id, found)
    assert [r["outcome"] for r in page] == ["fail", "fail"]
    assert store.result_count(result.run.id, found) == 2
    assert store.result_count(result.run.id, ResultFilter(text="100%_")) == 0
    store.close()


def test_a_run_is_held_by_one_holder_at_a_time(db_location: str) -> None:
    """The resume lock: a file lock on SQLite, a session advisory lock on PostgreSQL."""
    from redline.store.runlock import RunBusy

    first, second = Store(db_location), Store(db_location)
    with first.hold_run("r1"):
        busy = second.hold_run("r1")
        with pytest.raises(RunBusy, match="being run or resumed by another process"):
            busy.__enter__()
        with second.hold_run("r2"):  # another run is free
            pass
    with second.hold_run("r1"):  # released with its holder
        pass
    first.close()
    second.close()


def test_the_change_token_moves_with_every_write_by_anyone(db_location: str,
                                                           tmp_path: Path) -> None:
    """What the viewer caches is keyed by it: reads leave it, any committed write (a label,
    a signature, an edit behind redline's back) moves it, and a cached verification is
    redone and sees the edit."""
    from redline.evidence.review import record_label
    from redline.view.cache import StoreCache

    run_id = run_scan(tmp_path, db_location, write_hedge_suite(tmp_path, INPUTS)).run.id
    viewer, other = Store(db_location), Store(db_location)
    cache, verified = StoreCache(lambda: Store(db_location)), []

    def verify() -> bool:
        return cache.get(("verify", run_id),
                         lambda: verified.append(1) or viewer.verify(run_id).ok)

    token = viewer.change_token()
    assert token is not None and verify() and verify() and len(verified) == 1
    list(viewer.results(run_id))
    assert viewer.change_token() == token
    aid = next(viewer.results(run_id))["attempt_id"]
    record_label(other, run_id, aid, "pass", "ann", "checked by hand")
    assert viewer.change_token() != token
    assert verify() and len(verified) == 2
    token = viewer.change_token()
    other.add_signature(run_id, 0, "0" * 64, "k", "pem", "sig")
    assert viewer.change_token() != token
    token = viewer.change_token()
    other._exec("UPDATE results SET outcome = 'pass' WHERE outcome = 'fail'")
    assert viewer.change_token() != token
    assert not verify() and len(verified) == 3
    cache.close()
    viewer.close()
    other.close()


def _result_indexes(store: Store) -> set[str]:
    if "postgresql" in store.location:
        rows = store._rows("SELECT indexname FROM pg_indexes WHERE tablename = 'results'")
    else:
        rows = store._rows("SELECT name FROM sqlite_master WHERE type = 'index'"
                           " AND tbl_name = 'results'")
    return {name for (name,) in rows} & {"results_by_outcome", "results_outcome_by_attempt"}


def test_a_version_2_store_gets_the_result_indexes_and_still_verifies(
        db_location: str, tmp_path: Path) -> None:
    """Migration 3 on a store with runs in it, as `redline store migrate` applies it."""
    from redline.store.sqlite_open import schema_id

    run_id = run_scan(tmp_path, db_location, write_hedge_suite(tmp_path, INPUTS)).run.id
    store = Store(db_location)
    assert len(_result_indexes(store)) == 2
    with store.transaction():  # back to schema version 2, as an older redline left it
        store._exec("DROP INDEX results_by_outcome")
        store._exec("DROP INDEX results_outcome_by_attempt")
        store._exec("DELETE FROM schema_migrations WHERE version = 3")
    if "postgresql" not in store.location:
        store._exec(f"PRAGMA user_version = {schema_id(SCHEMA, 2)}")
    groups = sorted(store.outcome_groups(run_id))
    store.close()
    old = Store(db_location, migrate=False)
    assert not _result_indexes(old) and [m.version for m in old.pending_migrations()] == [3]
    old.close()
    assert "applied  3" in cli("store", "migrate", "--db", db_location)
    store = Store(db_location)
    assert len(_result_indexes(store)) == 2 and store.pending_migrations() == []
    assert sorted(store.outcome_groups(run_id)) == groups and store.verify(run_id).ok
    if "postgresql" not in store.location:
        plan = " ".join(str(r) for r in store._rows(
            "EXPLAIN QUERY PLAN SELECT scenario_id, category, severity, outcome, count(*)"
            " FROM results WHERE run_id = ? GROUP BY scenario_id, category, severity, outcome",
            (run_id,)))
        assert "COVERING INDEX results_by_outcome" in plan
    store.close()


def test_run_sized_reads_stream_between_other_statements(db_location: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """On PostgreSQL through a server-side cursor, two rows per fetch here: other reads and
    a write run between fetches, a read left half-way does not get in the way, and every
    row comes back as written."""
    from redline.evidence.review import record_label
    from redline.store import postgres

    monkeypatch.setattr(postgres, "STREAM_ROWS", 2)
    run_id = run_scan(tmp_path, db_location, write_hedge_suite(tmp_path, INPUTS)).run.id
    store = Store(db_location)
    whole = [r["attempt_id"] for r in store.results(run_id)]
    abandoned = store.verdict_rows(run_id)
    assert next(abandoned)[0] == whole[0]
    if "postgresql" in store.location:  # the read half-way is a cursor on the server
        (open_cursors,) = store._row("SELECT count(*) FROM pg_cursors WHERE name LIKE"
                                     " 'redline_stream_%'")
        assert open_cursors == 1
    seen = []
    for rec in store.results(run_id):
        seen.append(rec["attempt_id"])
        assert store.get_run(run_id).id == run_id
        if len(seen) == 3:
            record_label(store, run_id, rec["attempt_id"], "pass", "ann", "fine")
    assert seen == whole and len(whole) == len(INPUTS)
    assert [a for a, _ in store.attempt_outcomes(run_id)] == whole
    assert store.verify(run_id).ok
    del abandoned
    store.close()
