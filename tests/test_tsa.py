"""Trusted time: `sign --tsa` gets an RFC 3161 token from a real TSA on 127.0.0.1 and
`verify --tsa-cert` checks it (signature, signed digest, imprint) and reports its genTime."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from redline.core.config import ScanConfig
from redline.core.errors import RedlineError
from redline.core.scan import scan
from redline.evidence.keys import init_keys, read_public
from redline.evidence.tsa import load_tsa_cert
from redline.evidence.verify import export_bundle, sign_run, verify_bundle, verify_run
from redline.store import Store
from tsa_server import new_authority, serve_tsa


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("tsa")
    db = base / "r.db"
    cfg = ScanConfig.model_validate({"target": {"kind": "python",
                                                "callable": "redline.plugins.targets.toys:echo"},
                                     "suite": "benign", "db": str(db), "out": str(base / "o")})
    run_id = scan(cfg).run.id
    private, public = init_keys(base / "key")
    return {"db": db, "run_id": run_id, "private": private, "pem": read_public(public),
            "base": base}


def fresh(run: dict[str, Any], tmp_path: Path) -> Store:
    db = tmp_path / "r.db"
    db.write_bytes(run["db"].read_bytes())
    return Store(db)


def test_signed_head_gets_a_token_that_verifies(run: dict[str, Any], tmp_path: Path) -> None:
    store = fresh(run, tmp_path)
    before = datetime.now(UTC).replace(microsecond=0)
    with serve_tsa() as (url, authority, seen):
        signed = sign_run(store, run["run_id"], run["private"], tsa_url=url)
    assert len(seen) == 1 and signed["timestamp"]["gen_time"]
    cert = load_tsa_cert(authority.cert_pem, "cert")
    report = verify_run(store, run["run_id"], run["pem"], tsa_cert=cert)
    assert report.ok, report.notes
    (check,) = report.timestamps
    assert check.ok and check.seq == signed["seq"]
    assert datetime.fromisoformat(check.gen_time.replace("Z", "+00:00")) >= before
    # another authority's certificate does not authenticate it
    other = load_tsa_cert(new_authority("impostor").cert_pem, "cert")
    assert not verify_run(store, run["run_id"], run["pem"], tsa_cert=other).ok
    store.close()


def test_no_token_fails_when_a_tsa_is_required(run: dict[str, Any], tmp_path: Path) -> None:
    store = fresh(run, tmp_path)
    sign_run(store, run["run_id"], run["private"])
    cert = load_tsa_cert(new_authority().cert_pem, "cert")
    report = verify_run(store, run["run_id"], run["pem"], tsa_cert=cert)
    assert not report.ok and any("no time-stamp" in n for n in report.notes)
    store.close()


def test_a_token_moved_to_a_rewritten_head_fails(run: dict[str, Any], tmp_path: Path) -> None:
    """The key holder rewrites the run and re-signs it, keeping the old (earlier) token."""
    store = fresh(run, tmp_path)
    with serve_tsa() as (url, authority, _):
        sign_run(store, run["run_id"], run["private"], tsa_url=url)
    store.close()
    db = tmp_path / "r.db"
    with sqlite3.connect(db) as con:
        old = con.execute("SELECT token FROM timestamps").fetchone()[0]
        con.execute("DELETE FROM signatures")
        con.execute("DELETE FROM timestamps")
    store = Store(db)
    store.mark_resumed(run["run_id"])  # the "rewrite": the head moves on
    store.finish_run(run["run_id"], "completed", store.get_run(run["run_id"]).summary)
    signed = sign_run(store, run["run_id"], run["private"])
    store.db.execute("INSERT INTO timestamps (run_id, seq, hash, tsa, token, gen_time) VALUES "
                     "(?, ?, ?, 'old', ?, '')", (run["run_id"], signed["seq"], signed["hash"],
                                                 old))
    cert = load_tsa_cert(authority.cert_pem, "cert")
    report = verify_run(store, run["run_id"], run["pem"], tsa_cert=cert)
    assert not report.ok
    assert "another head" in report.timestamps[0].reason
    store.close()


def test_an_altered_token_fails(run: dict[str, Any], tmp_path: Path) -> None:
    store = fresh(run, tmp_path)
    with serve_tsa() as (url, authority, _):
        sign_run(store, run["run_id"], run["private"], tsa_url=url)
    import base64

    (token,) = store.db.execute("SELECT token FROM timestamps").fetchone()
    raw = bytearray(base64.b64decode(token))
    marker = raw.find(b"20")  # the first digits of a GeneralizedTime: genTime
    raw[marker + 3] = ord("0") if raw[marker + 3] != ord("0") else ord("1")
    store.db.execute("UPDATE timestamps SET token = ?", (base64.b64encode(raw).decode(),))
    cert = load_tsa_cert(authority.cert_pem, "cert")
    report = verify_run(store, run["run_id"], run["pem"], tsa_cert=cert)
    assert not report.ok and not report.timestamps[0].ok
    store.close()


def test_refusing_tsa_is_a_clear_error_and_stores_nothing(run: dict[str, Any],
                                                          tmp_path: Path) -> None:
    store = fresh(run, tmp_path)
    with serve_tsa() as (url, _, _seen), pytest.raises(RedlineError, match="refused"):
        sign_run(store, run["run_id"], run["private"], tsa_url=url.replace("/tsa", "/refuse"))
    assert store.signatures(run["run_id"]) == []
    with pytest.raises(RedlineError, match="time-stamping authority"):
        sign_run(store, run["run_id"], run["private"], tsa_url="http://127.0.0.1:9/tsa")
    store.close()


def test_bundle_carries_and_checks_the_token(run: dict[str, Any], tmp_path: Path) -> None:
    store = fresh(run, tmp_path)
    with serve_tsa() as (url, authority, _):
        sign_run(store, run["run_id"], run["private"], tsa_url=url)
    bundle = tmp_path / "b.tgz"
    export_bundle(store, run["run_id"], bundle)
    store.close()
    cert = load_tsa_cert(authority.cert_pem, "cert")
    _, report = verify_bundle(bundle, run["pem"], tsa_cert=cert)
    assert report.ok and report.timestamps[0].ok


def test_cli_sign_tsa_and_verify_tsa_cert(run: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    db.write_bytes(run["db"].read_bytes())
    key = run["private"]
    with serve_tsa() as (url, authority, _):
        proc = subprocess.run([sys.executable, "-m", "redline", "sign", run["run_id"], "--db",
                               str(db), "--key", str(key), "--tsa", url], text=True,
                              capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "time-stamped" in proc.stdout
    cert = tmp_path / "tsa.pem"
    cert.write_bytes(authority.cert_pem)
    pub = tmp_path / "key.pub"
    pub.write_text(run["pem"])
    proc = subprocess.run([sys.executable, "-m", "redline", "verify", run["run_id"], "--db",
                           str(db), "--pubkey", str(pub), "--tsa-cert", str(cert)], text=True,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "timestamp" in proc.stdout and "valid" in proc.stdout
