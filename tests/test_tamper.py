"""The tamper suite: every kind of edit to a store or a bundle is detected.

One real scan (a real SQLite file), signed, with a gate decision recorded after the signed
head. Each kind of edit is applied to a fresh copy as an attacker with write access would
(raw SQL, or redline's own store API to append well-chained rows), then checked twice:
unsigned (`Store.verify`, integrity only: expected to catch every edit that does not rebuild
the chain) and signed (`verify_run` with the public key: must catch every edit).
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from redline.core.config import ScanConfig
from redline.core.errors import RedlineError
from redline.core.scan import scan
from redline.evidence.keys import init_keys, read_public
from redline.evidence.verify import export_bundle, sign_run, verify_bundle, verify_run
from redline.gate.policy import load_policy
from redline.gate.runner import evaluate
from redline.store import RESULT_NAMES, Store
from redline.store.audit import link_hash, record_digest

ECHO = "redline.plugins.targets.toys:echo"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("pristine")
    db = base / "r.db"
    cfg = ScanConfig.model_validate({"target": {"kind": "python", "callable": ECHO},
                                     "suite": "all", "db": str(db), "out": str(base / "out")})
    run_id = scan(cfg).run.id
    private, public = init_keys(base / "k" / "key")
    _, other_public = init_keys(base / "k2" / "key")
    store = Store(db)
    sign_run(store, run_id, private)
    decision = evaluate(store, run_id, None, load_policy()).decision
    store.record_decision(run_id, decision.to_dict())
    bundles = {"full": base / "full.tgz", "redacted": base / "redacted.tgz"}
    export_bundle(store, run_id, bundles["full"])
    export_bundle(store, run_id, bundles["redacted"], redact=True, key_path=private)
    store.close()
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    PRISTINE_OTHER_KEY[:] = [other_public.with_suffix("")]
    return {"db": db, "run_id": run_id, "pem": read_public(public), "private": private,
            "other_private": other_public.with_suffix(""), "verdict": decision.verdict,
            "bundles": bundles}


def copy_db(pristine: dict[str, Any], tmp_path: Path) -> Path:
    db = tmp_path / "r.db"
    shutil.copy(pristine["db"], db)
    return db


def sql(*statements: str) -> Callable[[sqlite3.Connection, str], None]:
    def edit(con: sqlite3.Connection, run_id: str) -> None:
        for st in statements:
            con.execute(st.replace("$RUN", run_id))
    return edit


def nth(con: sqlite3.Connection, run_id: str, n: int, outcome: str | None = None) -> str:
    where = " AND outcome = ?" if outcome else ""
    args: tuple[Any, ...] = (run_id, outcome) if outcome else (run_id,)
    return con.execute(f"SELECT attempt_id FROM results WHERE run_id = ?{where} ORDER BY seq"
                       f" LIMIT 1 OFFSET {n}", args).fetchone()[0]


def on_result(column_sql: str, n: int = 5,
              outcome: str | None = None) -> Callable[[sqlite3.Connection, str], None]:
    def edit(con: sqlite3.Connection, run_id: str) -> None:
        aid = nth(con, run_id, n, outcome)
        con.execute(f"UPDATE results SET {column_sql} WHERE run_id = ? AND attempt_id = ?",
                    (run_id, aid))
    return edit


def rechain(db: Path, run_id: str) -> None:
    """What an attacker without the key does after an edit: rebuild every hash."""
    store = Store(db)
    events = store.event_payloads(run_id)
    decisions = store.decision_records(run_id)
    prev = "0" * 64
    rows = []
    for ln in store.links(run_id):
        if ln.kind == "result":
            record: Any = store.result_record(run_id, ln.ref)
        elif ln.kind == "run":
            record = store.run_record(run_id)
        elif ln.kind == "decision":
            record = decisions.get(ln.ref)
        else:
            record = events.get(ln.ref)
        sha = record_digest(record) if record is not None else ln.record_sha256
        new = link_hash(prev, run_id, ln.seq, ln.kind, ln.ref, ln.ts, sha)
        rows.append((sha, prev, new, run_id, ln.seq))
        prev = new
    store.close()
    with sqlite3.connect(db) as con:
        con.executemany("UPDATE chain SET record_sha256 = ?, prev = ?, hash = ? WHERE run_id = ?"
                        " AND seq = ?", rows)


def then_rechain(edit: Callable[[sqlite3.Connection, str], None]) -> Callable[..., None]:
    def both(con: sqlite3.Connection, run_id: str, db: Path) -> None:
        edit(con, run_id)
        con.commit()
        rechain(db, run_id)
    both.needs_db = True  # type: ignore[attr-defined]
    return both


def append_forged_passes(n: int) -> Callable[..., None]:
    """Well-chained forged passing results after the signed head, via redline's own API."""
    def edit(con: sqlite3.Connection, run_id: str, db: Path) -> None:
        con.commit()
        store = Store(db)
        template = next(store.results(run_id, "pass"))
        base = store.result_record(run_id, template["attempt_id"])
        assert base is not None
        rows = [tuple(dict(base, attempt_id=f"forged-{i:05d}", seq=100000 + i)[k]
                      for k in RESULT_NAMES) for i in range(n)]
        store.add_results(rows)
        store.close()
    edit.needs_db = True  # type: ignore[attr-defined]
    return edit


def truncate_and_refinish(con: sqlite3.Connection, run_id: str, db: Path) -> None:
    """Cut the last 10 results (and everything after them) and finish the run again."""
    cut = con.execute("SELECT seq FROM chain WHERE run_id = ? AND kind = 'result' ORDER BY seq"
                      " DESC LIMIT 1 OFFSET 9", (run_id,)).fetchone()[0]
    refs = [r[0] for r in con.execute("SELECT ref FROM chain WHERE run_id = ? AND seq >= ? AND "
                                      "kind = 'result'", (run_id, cut))]
    con.executemany("DELETE FROM results WHERE run_id = ? AND attempt_id = ?",
                    [(run_id, r) for r in refs])
    con.execute("DELETE FROM chain WHERE run_id = ? AND seq >= ?", (run_id, cut))
    con.execute("DELETE FROM decisions WHERE run_id = ?", (run_id,))
    con.execute("UPDATE sqlite_sequence SET seq = 0 WHERE name = 'decisions'")
    con.commit()
    store = Store(db)
    store.finish_run(run_id, "completed", {"exit_code": 0, "failures": 0})
    store.close()


truncate_and_refinish.needs_db = True  # type: ignore[attr-defined]


def resign_with_other_key(con: sqlite3.Connection, run_id: str, db: Path,
                          key: list[Path]) -> None:
    con.execute("DELETE FROM signatures WHERE run_id = ?", (run_id,))
    con.commit()
    store = Store(db)
    sign_run(store, run_id, key[0])
    store.close()


# kind -> (edit, detected without the signature?)
STORE_EDITS: dict[str, tuple[Callable[..., None], bool]] = {
    "result outcome fail->pass": (on_result("outcome = 'pass'", 0, "fail"), True),
    "result error text": (on_result("error = 'forged'"), True),
    "result tries": (on_result("tries = tries + 1"), True),
    "result latency": (on_result("latency_ms = latency_ms + 1"), True),
    "result tokens": (on_result("tokens = coalesce(tokens, 0) + 1"), True),
    "result transcript": (on_result("transcript = '[]'"), True),
    "result responses": (on_result("responses = '[]'"), True),
    "result verdicts": (on_result("verdicts = '[]'"), True),
    "result attempt json": (on_result("attempt = '{}'"), True),
    "result category": (on_result("category = 'x-forged'"), True),
    "result severity": (on_result("severity = 'x-forged'"), True),
    "result scenario id": (on_result("scenario_id = 'other'"), True),
    "result scenario version": (on_result("scenario_version = scenario_version + 1"), True),
    "result seq": (on_result("seq = seq + 100000"), True),
    "result mutator chain": (on_result("chain = '[]'"), True),
    "result recorded_at": (on_result("recorded_at = '2000-01-01T00:00:00Z'"), True),
    "result attempt id renamed": (on_result("attempt_id = 'renamed'"), True),
    "result deleted": (sql("DELETE FROM results WHERE run_id = '$RUN' AND seq = 3"), True),
    "result and its chain entry deleted": (sql(
        "DELETE FROM chain WHERE run_id = '$RUN' AND ref = (SELECT attempt_id FROM results"
        " WHERE run_id = '$RUN' AND seq = 3)",
        "DELETE FROM results WHERE run_id = '$RUN' AND seq = 3"), True),
    "result inserted unchained": (sql(
        "INSERT INTO results SELECT run_id, 'forged', seq + 100000, scenario_id,"
        " scenario_version, category, severity, chain, outcome, error, tries, latency_ms,"
        " tokens, attempt, transcript, responses, verdicts, recorded_at FROM results"
        " WHERE run_id = '$RUN' AND seq = 0"), True),
    "one forged pass appended, chained": (append_forged_passes(1), True),
    "9600 forged passes appended, chained": (append_forged_passes(9600), True),
    "run status": (sql("UPDATE runs SET status = 'aborted' WHERE id = '$RUN'"), True),
    "run summary (exit_code 0, failures 0)": (sql(
        "UPDATE runs SET summary = json_set(summary, '$.exit_code', 0, '$.total.failures', 0)"
        " WHERE id = '$RUN'"), True),
    "run finished_at": (sql("UPDATE runs SET finished_at = '2000-01-01' WHERE id = '$RUN'"),
                        True),
    "run planned": (sql("UPDATE runs SET planned = planned + 1 WHERE id = '$RUN'"), True),
    "run seed": (sql("UPDATE runs SET seed = seed + 1 WHERE id = '$RUN'"), True),
    "run target": (sql("UPDATE runs SET target = 'other' WHERE id = '$RUN'"), True),
    "run config": (sql("UPDATE runs SET config = '{}' WHERE id = '$RUN'"), True),
    "run manifest": (sql("UPDATE runs SET manifest = '{}' WHERE id = '$RUN'"), True),
    "run created_at": (sql("UPDATE runs SET created_at = '2000-01-01' WHERE id = '$RUN'"), True),
    "scenario definition": (sql(
        "UPDATE scenarios SET definition = json_set(definition, '$.success.max_failure_rate',"
        " 1.0) WHERE run_id = '$RUN'"), True),
    "scenario deleted": (sql("DELETE FROM scenarios WHERE rowid = (SELECT min(rowid) FROM"
                             " scenarios WHERE run_id = '$RUN')"), True),
    "scenario inserted": (sql("INSERT INTO scenarios VALUES ('$RUN', 'zz-new', 1, '{}')"), True),
    "chain entries reordered": (sql(
        "UPDATE chain SET seq = -1 WHERE run_id = '$RUN' AND seq = 5",
        "UPDATE chain SET seq = 5 WHERE run_id = '$RUN' AND seq = 6",
        "UPDATE chain SET seq = 6 WHERE run_id = '$RUN' AND seq = -1"), True),
    "chain entry timestamp": (sql("UPDATE chain SET ts = 'x' WHERE run_id = '$RUN' AND seq = 9"),
                              True),
    "chain entry record digest": (sql(
        "UPDATE chain SET record_sha256 = hash WHERE run_id = '$RUN' AND seq = 9"), True),
    "finish entry deleted": (sql("DELETE FROM chain WHERE run_id = '$RUN' AND kind = 'finish'"),
                             True),
    "finish payload summary": (sql(
        "UPDATE chain SET payload = json_set(payload, '$.status', 'x') WHERE run_id = '$RUN'"
        " AND kind = 'finish'"), True),
    "truncated and finished again": (truncate_and_refinish, True),
    "plan entry replaced": (sql("UPDATE plan SET attempt_id = 'other' WHERE run_id = '$RUN'"
                                " AND seq = 4"), True),
    "plan deleted": (sql("DELETE FROM plan WHERE run_id = '$RUN'"), True),
    "decision verdict": (sql("UPDATE decisions SET verdict = 'approve' WHERE run_id = '$RUN'"),
                         True),
    "decision deleted": (sql("DELETE FROM decisions WHERE run_id = '$RUN'"), True),
    "decision and its chain entry deleted": (sql(
        "DELETE FROM decisions WHERE run_id = '$RUN'",
        "DELETE FROM chain WHERE run_id = '$RUN' AND kind = 'decision'"), True),
    "decision inserted": (sql(
        "INSERT INTO decisions (run_id, verdict, exit_code, policy_digest, created_at, decision)"
        " VALUES ('$RUN', 'approve', 0, '', '', '{}')"), True),
    # an attacker who rebuilds the chain defeats integrity alone: only the signature holds
    "result outcome + chain rebuilt": (
        then_rechain(on_result("outcome = 'pass'", 0, "fail")), False),
    "run summary + finish payload + chain rebuilt": (then_rechain(sql(
        "UPDATE runs SET summary = json_set(summary, '$.exit_code', 0) WHERE id = '$RUN'",
        "UPDATE chain SET payload = json_set(payload, '$.summary', (SELECT summary FROM runs"
        " WHERE id = '$RUN')) WHERE run_id = '$RUN' AND kind = 'finish'")), False),
    "scenario threshold + chain rebuilt": (then_rechain(sql(
        "UPDATE scenarios SET definition = json_set(definition, '$.success.max_failure_rate',"
        " 1.0) WHERE run_id = '$RUN'")), False),
    "signature deleted": (sql("DELETE FROM signatures WHERE run_id = '$RUN'"), False),
    "signature bytes": (sql("UPDATE signatures SET signature = 'AAAA' WHERE run_id = '$RUN'"),
                        False),
    "signature moved to a later head": (sql(
        "UPDATE signatures SET seq = (SELECT max(seq) FROM chain WHERE run_id = '$RUN'), hash ="
        " (SELECT hash FROM chain WHERE run_id = '$RUN' ORDER BY seq DESC LIMIT 1)"
        " WHERE run_id = '$RUN'"), False),
    "re-signed with another key": (resign_with_other_key, False),
}


def apply_store_edit(pristine: dict[str, Any], tmp_path: Path, kind: str) -> Path:
    db = copy_db(pristine, tmp_path)
    edit, _ = STORE_EDITS[kind]
    con = sqlite3.connect(db)
    try:
        if kind == "re-signed with another key":
            edit(con, pristine["run_id"], db, [pristine["other_private"]])
        elif getattr(edit, "needs_db", False):
            edit(con, pristine["run_id"], db)
        else:
            edit(con, pristine["run_id"])
        con.commit()
    finally:
        con.close()
    return db


def detection(db: Path, run_id: str, pem: str) -> tuple[bool, bool]:
    """(caught without the signature, caught with it)."""
    store = Store(db)
    try:
        return not store.verify(run_id).ok, not verify_run(store, run_id, pem).ok
    finally:
        store.close()


def test_pristine_store_verifies_signed_and_unsigned(pristine: dict[str, Any]) -> None:
    assert detection(pristine["db"], pristine["run_id"], pristine["pem"]) == (False, False)
    assert pristine["verdict"] == "block"


@pytest.mark.parametrize("kind", sorted(STORE_EDITS))
def test_store_edit_is_detected(pristine: dict[str, Any], tmp_path: Path, kind: str) -> None:
    db = apply_store_edit(pristine, tmp_path, kind)
    unsigned, signed = detection(db, pristine["run_id"], pristine["pem"])
    assert signed, f"{kind}: passes verify --pubkey"
    if STORE_EDITS[kind][1]:
        assert unsigned, f"{kind}: passes integrity verification"


def test_store_edit_kinds_counted() -> None:
    assert len(STORE_EDITS) >= 34
    assert sum(1 for _, unsigned in STORE_EDITS.values() if unsigned) >= 34


def test_forged_passes_after_the_signed_head_do_not_approve(pristine: dict[str, Any],
                                                            tmp_path: Path) -> None:
    db = apply_store_edit(pristine, tmp_path, "9600 forged passes appended, chained")
    store = Store(db)
    try:
        report = verify_run(store, pristine["run_id"], pristine["pem"])
        assert not report.ok and len(report.unsigned) == 9600
        assert any("UNSIGNED: 9600" in n for n in report.notes)
        decision = evaluate(store, pristine["run_id"], None, load_policy()).decision
        assert decision.verdict == "block"
        kinds = {r.kind for r in decision.reasons}
        assert {"integrity", "unsigned"} <= kinds
    finally:
        store.close()


def test_unsigned_tail_is_allowed_only_by_policy(pristine: dict[str, Any],
                                                 tmp_path: Path) -> None:
    """A resumed-after-signing style tail: well-chained, within the plan, but unsigned."""
    db = copy_db(pristine, tmp_path)
    store = Store(db)
    run_id = pristine["run_id"]
    store.mark_resumed(run_id)
    store.finish_run(run_id, "completed", store.get_run(run_id).summary)
    assert store.verify(run_id).ok
    assert not verify_run(store, run_id, pristine["pem"]).ok
    kinds = {r.kind for r in evaluate(store, run_id, None, load_policy()).decision.reasons}
    assert "unsigned" in kinds
    policy = tmp_path / "allow.yaml"
    policy.write_text("version: 1\nevidence:\n  unsigned: allow\n")
    kinds = {r.kind for r in evaluate(store, run_id, None, load_policy([policy])
                                      ).decision.reasons}
    assert "unsigned" not in kinds and "integrity" not in kinds
    store.close()


# --- bundles -------------------------------------------------------------------------------

Members = dict[str, bytes]


def read_members(path: Path) -> Members:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore


def write_members(path: Path, members: Members) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def jl(data: bytes) -> list[Any]:
    return [json.loads(x) for x in data.decode().splitlines() if x]


def to_jl(rows: list[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def results_edit(fn: Callable[[list[dict[str, Any]]], None]) -> Callable[[Members], None]:
    def edit(m: Members) -> None:
        rows = jl(m["results.jsonl"])
        fn(rows)
        m["results.jsonl"] = to_jl(rows)
    return edit


def chain_edit(fn: Callable[[list[dict[str, Any]]], None]) -> Callable[[Members], None]:
    def edit(m: Members) -> None:
        rows = jl(m["chain.jsonl"])
        fn(rows)
        m["chain.jsonl"] = to_jl(rows)
    return edit


def json_edit(name: str, fn: Callable[[Any], Any]) -> Callable[[Members], None]:
    def edit(m: Members) -> None:
        m[name] = json.dumps(fn(json.loads(m[name]))).encode()
    return edit


def failing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["fields"]["outcome"] == "fail"]


def flip_all(with_digests: bool) -> Callable[[list[dict[str, Any]]], None]:
    """Flip every failing row to pass; optionally ship the original digests as if redacted."""
    from redline.store.audit import field_digests

    def fn(rows: list[dict[str, Any]]) -> None:
        for r in failing(rows):
            original = field_digests(r["fields"])
            r["fields"]["outcome"] = "pass"
            r["fields"]["verdicts"] = "[]"
            if with_digests:
                r["digests"].update(outcome=original["outcome"], verdicts=original["verdicts"])
    return fn


def forged_duplicate_first(rows: list[dict[str, Any]]) -> None:
    genuine = failing(rows)[0]
    forged = json.loads(json.dumps(genuine))
    forged["fields"]["outcome"] = "pass"
    rows.insert(0, forged)


def unmasked_substitute(rows: list[dict[str, Any]]) -> None:
    from redline.store.audit import field_digests

    r = failing(rows)[0]
    original = field_digests(r["fields"])["transcript"]
    r["fields"]["transcript"] = "[]"
    r["digests"]["transcript"] = original


def fake_mask(rows: list[dict[str, Any]]) -> None:
    """Edit a redactable field of an unredacted row, dress it up as a redaction and ship the
    original digest: only the signed redaction manifest can tell."""
    from redline.store.audit import field_digests

    r = next(r for r in rows if not r["digests"])
    original = field_digests(r["fields"])["verdicts"]
    r["fields"]["verdicts"] = '[{"detected": false, "note": "[PII:email]"}]'
    r["digests"]["verdicts"] = original


def resign_redactions_after(fn: Callable[[list[dict[str, Any]]], None]
                            ) -> Callable[[Members], None]:
    def edit(m: Members) -> None:
        from redline.evidence.redaction import entries_of, sign_manifest

        results_edit(fn)(m)
        meta = json.loads(m["bundle.json"])
        entries = entries_of(jl(m["results.jsonl"]))
        m["redactions.json"] = json.dumps(sign_manifest(
            meta["run_id"], entries, PRISTINE_OTHER_KEY[0])).encode()
    return edit


PRISTINE_OTHER_KEY: list[Path] = []


def set_summary(meta: dict[str, Any]) -> dict[str, Any]:
    meta["summary"]["exit_code"] = 0
    meta["summary"]["total"]["failures"] = 0
    return meta


def payload_summary(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        if r["kind"] == "finish":
            r["payload"]["status"] = "aborted"


def resign_bundle(private: Path) -> Callable[[Members], None]:
    def edit(m: Members) -> None:
        from redline.evidence.keys import load_private, sign_head

        meta = json.loads(m["bundle.json"])
        last = jl(m["chain.jsonl"])[-1]
        sig = sign_head(load_private(private), meta["run_id"], last["seq"], last["hash"])
        m["signatures.json"] = json.dumps([{**sig.__dict__, "signed_at": "x"}]).encode()
    return edit


def rebuild_bundle_chain(m: Members) -> None:
    """Flip one outcome and rebuild every hash: only the signature catches it."""
    rows = jl(m["results.jsonl"])
    target = failing(rows)[0]
    target["fields"]["outcome"] = "pass"
    m["results.jsonl"] = to_jl(rows)
    chain = jl(m["chain.jsonl"])
    meta = json.loads(m["bundle.json"])
    prev = "0" * 64
    for ln in chain:
        if ln["ref"] == target["fields"]["attempt_id"]:
            ln["record_sha256"] = record_digest(target["fields"])
        ln["prev"] = prev
        ln["hash"] = prev = link_hash(prev, meta["run_id"], ln["seq"], ln["kind"], ln["ref"],
                                      ln["ts"], ln["record_sha256"])
    meta["head"] = prev
    m["chain.jsonl"] = to_jl(chain)
    m["bundle.json"] = json.dumps(meta).encode()


# kind -> (edit, bundle, detected without the signature?)
BUNDLE_EDITS: dict[str, tuple[Callable[[Members], None], str, bool]] = {
    "one outcome flipped": (results_edit(lambda rows: failing(rows)[0]["fields"].update(
        outcome="pass")), "full", True),
    "every failure flipped + original digests": (results_edit(flip_all(True)), "full", True),
    "every failure flipped + digests, redacted bundle": (
        results_edit(flip_all(True)), "redacted", True),
    "every failure flipped, no digests": (results_edit(flip_all(False)), "full", True),
    "substitute digest without a mask, redacted bundle": (
        results_edit(unmasked_substitute), "redacted", True),
    "forged duplicate before the genuine row": (results_edit(forged_duplicate_first), "full",
                                                True),
    "extra row without an attempt id": (results_edit(lambda rows: rows.append(
        {"fields": {"outcome": "pass"}, "digests": {}})), "full", True),
    "extra row with a new attempt id": (results_edit(lambda rows: rows.append(
        {"fields": {**rows[0]["fields"], "attempt_id": "forged"}, "digests": {}})), "full",
        True),
    "result row deleted": (results_edit(lambda rows: rows.pop(3)), "full", True),
    "result error edited": (results_edit(lambda rows: rows[2]["fields"].update(error="x")),
                            "full", True),
    "bundle summary edited": (json_edit("bundle.json", set_summary), "full", True),
    "bundle status edited": (json_edit("bundle.json", lambda d: {**d, "status": "completed!"}),
                             "full", True),
    "bundle head edited": (json_edit("bundle.json", lambda d: {**d, "head": "0" * 64}), "full",
                           True),
    "run planned edited": (json_edit("run.json", lambda d: {**d, "planned": d["planned"] + 1}),
                           "full", True),
    "run manifest edited": (json_edit("run.json", lambda d: {**d, "manifest": "{}"}), "full",
                            True),
    "run scenarios edited": (json_edit("run.json", lambda d: {**d, "scenarios": []}), "full",
                             True),
    "chain lines reordered": (chain_edit(lambda rows: rows.insert(5, rows.pop(6))), "full",
                              True),
    "chain line deleted": (chain_edit(lambda rows: rows.pop(7)), "full", True),
    "chain tail truncated": (chain_edit(lambda rows: rows.__delitem__(slice(-3, None))),
                             "full", True),
    "finish payload edited": (chain_edit(payload_summary), "full", True),
    "link timestamp edited": (chain_edit(lambda rows: rows[4].update(ts="x")), "full", True),
    "decision edited": (json_edit("decisions.json", lambda d: {
        k: {**v, "verdict": "approve"} for k, v in d.items()}), "full", True),
    "decision deleted": (json_edit("decisions.json", lambda d: {}), "full", True),
    "decision added": (json_edit("decisions.json", lambda d: {**d, "999": {"verdict": "x"}}),
                       "full", True),
    "plan entry edited": (lambda m: m.update({"plan.jsonl": m["plan.jsonl"].replace(
        m["plan.jsonl"].split(b"\n")[0], b'"other"')}), "full", True),
    "plan removed": (lambda m: m.pop("plan.jsonl"), "full", True),
    "redacted field edited in a redacted bundle": (results_edit(
        lambda rows: next(r for r in rows if r["digests"])["fields"].update(error="x")),
        "redacted", True),
    "fake mask + original digest in a redacted bundle": (
        results_edit(fake_mask), "redacted", False),
    "redaction manifest entry removed": (
        json_edit("redactions.json", lambda d: {**d, "entries": d["entries"][1:]}), "redacted",
        True),
    "redaction manifest dropped": (lambda m: m.pop("redactions.json"), "redacted", False),
    "fake mask + manifest re-signed by another key": (
        resign_redactions_after(fake_mask), "redacted", False),
    "outcome flipped + chain rebuilt": (rebuild_bundle_chain, "full", False),
    "signatures dropped": (json_edit("signatures.json", lambda d: []), "full", False),
    "signature bytes edited": (json_edit("signatures.json", lambda d: [
        {**s, "signature": "AAAA"} for s in d]), "full", False),
}


@pytest.mark.parametrize("kind", sorted(BUNDLE_EDITS))
def test_bundle_edit_is_detected(pristine: dict[str, Any], tmp_path: Path, kind: str) -> None:
    edit, which, unsigned_expected = BUNDLE_EDITS[kind]
    members = read_members(pristine["bundles"][which])
    edit(members)
    path = tmp_path / "edited.tgz"
    write_members(path, members)
    try:
        _, plain = verify_bundle(path)
        _, signed = verify_bundle(path, pristine["pem"])
    except RedlineError:
        pytest.fail(f"{kind}: raised instead of reporting")
    assert not signed.ok, f"{kind}: passes verify --bundle --pubkey"
    if unsigned_expected:
        assert not plain.chain.ok, f"{kind}: passes integrity verification"


def test_bundle_re_signed_with_another_key_is_detected(pristine: dict[str, Any],
                                                       tmp_path: Path) -> None:
    members = read_members(pristine["bundles"]["full"])
    rebuild_bundle_chain(members)
    resign_bundle(pristine["other_private"])(members)
    path = tmp_path / "resigned.tgz"
    write_members(path, members)
    _, plain = verify_bundle(path)
    assert plain.ok  # self-consistent, signed by someone: integrity alone cannot tell
    _, signed = verify_bundle(path, pristine["pem"])
    assert not signed.ok


def test_pristine_bundles_verify(pristine: dict[str, Any]) -> None:
    for path in pristine["bundles"].values():
        _, report = verify_bundle(path, pristine["pem"])
        assert report.ok, report.chain.problems


def test_bundle_edit_kinds_counted() -> None:
    assert len(BUNDLE_EDITS) + 1 >= 24
