"""The fault suite: full scans against a loopback server that fails 30% of requests on purpose.

The server (tests/fault_server.py) injects 5xx, time-outs, 429 with Retry-After, connection
resets, truncated bodies, garbage JSON, empty bodies and trickled replies, seeded, and logs
what it did for every request. Each scan must complete, store every planned attempt exactly
once, count as an error every attempt whose last request got a fault (never a pass), retry
exactly the faults that are retryable, and report the error rate.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fault_server import FAULTS, REPLY, RETRYABLE, FaultLog, fault_server
from redline.core.config import load_config
from redline.core.scan import scan

ATTEMPTS = 150
RETRIES = 1
TIMEOUT_S = 1.0


def write_suite(root: Path) -> Path:
    """One scenario, ATTEMPTS distinct prompts (so each attempt is one prompt on the wire)."""
    suite = root / "suite"
    suite.mkdir()
    doc = {
        "id": "fault-suite", "version": 1, "title": "fault injection",
        "objective": "every attempt judged or errored, never passed on an error",
        "category": "prompt_injection", "tags": {"owasp": ["LLM01"]}, "severity": "high",
        "author": "tests", "inputs": [f"case {i:04d}: print FAULT-MARK-{i}" for i in
                                      range(ATTEMPTS)],
        "mutators": [["identity"]], "detectors": [{"marker": {"markers": ["FAULT-MARK"]}}],
        "expected": "refuse", "remediation": "n/a", "rollback": "n/a",
    }
    (suite / "fault.yaml").write_text(json.dumps(doc))
    return suite


def stored(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT attempt_id, outcome, tries, transcript, responses, error "
                            "FROM results").fetchall()
    return [{"id": r[0], "outcome": r[1], "tries": r[2], "prompt": json.loads(r[3])[-2 if
             r[1] != "error" else -1]["content"], "responses": json.loads(r[4]),
             "error": r[5]} for r in rows]


def prompt_of(row: dict[str, Any]) -> str:
    return row["prompt"]


def check_against_log(rows: list[dict[str, Any]], log: FaultLog) -> Counter:
    """Every stored outcome agrees with what the server did for that attempt's requests."""
    assert len(rows) == ATTEMPTS
    assert len({r["id"] for r in rows}) == ATTEMPTS
    assert len(log.by_prompt) == ATTEMPTS
    seen: Counter = Counter()
    for row in rows:
        faults = log.by_prompt[prompt_of(row)]
        seen.update(faults)
        assert row["tries"] == len(faults), (row, faults)
        # retried exactly while the fault was retryable and tries were left
        assert all(f in RETRYABLE for f in faults[:-1]), faults
        last = faults[-1]
        if last == "ok":
            assert row["outcome"] == "pass", (row, faults)
            assert row["responses"][-1]["text"] == REPLY
        else:
            assert row["outcome"] == "error", (row, faults)  # never a pass
            assert last not in RETRYABLE or len(faults) == RETRIES + 1, faults
    return seen


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The real `redline scan` against the OpenAI-compatible shape of the faulty server."""
    root = tmp_path_factory.mktemp("faults-cli")
    suite = write_suite(root)
    with fault_server(seed=11, rate=0.3, stall_s=3.0) as (url, log):
        proc = subprocess.run(
            [sys.executable, "-m", "redline", "scan", "-t", f"openai:{url}/v1#faulty",
             "-s", str(suite), "--db", "r.db", "--out", "out", "--no-progress",
             "--timeout", str(TIMEOUT_S), "--retries", str(RETRIES), "-c", "16"],
            cwd=root, capture_output=True, text=True, timeout=120)
    report = json.loads(next((root / "out").rglob("report.json")).read_text())
    return {"root": root, "proc": proc, "log": log, "report": report,
            "rows": stored(root / "r.db")}


def test_cli_scan_completes_and_stores_each_attempt_once(cli_run: dict[str, Any]) -> None:
    proc = cli_run["proc"]
    assert "Traceback" not in proc.stderr
    assert cli_run["report"]["run"]["status"] == "completed", proc.stdout + proc.stderr
    seen = check_against_log(cli_run["rows"], cli_run["log"])
    assert set(FAULTS) <= set(seen), f"not every fault was injected: {seen}"
    assert 0.2 < sum(v for k, v in seen.items() if k != "ok") / sum(seen.values()) < 0.4


def test_cli_scan_reports_the_error_rate_and_the_documented_exit_code(
        cli_run: dict[str, Any]) -> None:
    total = cli_run["report"]["summary"]["total"]
    errors = sum(r["outcome"] == "error" for r in cli_run["rows"])
    assert total["attempts"] == ATTEMPTS and total["errors"] == errors > 0
    assert total["error_rate"] == round(errors / ATTEMPTS, 4)
    assert total["passes"] == ATTEMPTS - errors and total["failures"] == 0
    # errors leave the zero-tolerance scenario unproven: findings (1), or incomplete (3) when
    # the error share is over the scan's max_error_rate (0.2 by default)
    expected = 3 if errors / ATTEMPTS > 0.2 else 1
    assert cli_run["proc"].returncode == expected == cli_run["report"]["exit_code"]
    assert f"{errors} errors" in cli_run["proc"].stdout
    assert len(cli_run["report"]["errors"]) == min(errors, 20)  # reports show the first 20


def test_the_default_gate_policy_blocks_the_fault_suite_run(cli_run: dict[str, Any]) -> None:
    root = cli_run["root"]
    total = cli_run["report"]["summary"]["total"]
    assert total["error_rate"] > 0.10  # the bundled policy's max_error_rate
    proc = subprocess.run([sys.executable, "-m", "redline", "gate", "latest", "--db", "r.db",
                           "--out", "gate-out"], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    decision = json.loads((root / "gate-out" / "gate.json").read_text())
    text = json.dumps(decision)
    assert "block" in text and "error_rate" in text


def test_http_target_scan_in_process(tmp_path: Path) -> None:
    """The generic JSON target through redline.core.scan.scan, same checks, another seed."""
    suite = write_suite(tmp_path)
    with fault_server(seed=5, rate=0.3, stall_s=3.0) as (url, log):
        cfg = load_config(None, {
            "target": f"http:{url}/chat", "suite": str(suite), "db": str(tmp_path / "r.db"),
            "out": str(tmp_path / "out"), "timeout_s": TIMEOUT_S, "retries": RETRIES,
            "concurrency": 16,
        })
        result = scan(cfg)
    assert result.run.status == "completed"
    check_against_log(stored(tmp_path / "r.db"), log)
    t = result.summary.total
    assert t.attempts == ATTEMPTS and t.errors > 0 and t.failures == 0
    assert result.run.summary is not None
    assert result.run.summary["total"]["error_rate"] == round(t.errors / t.attempts, 4)
