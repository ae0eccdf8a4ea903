"""`redline view`'s judging pages over HTTP: the gate decision with its reasons and
intervals, the difference between two runs, the risk register and chain verification,
each checked against what the store and the gate code say."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from redline.gate.policy import load_policy
from redline.gate.runner import evaluate
from redline.store import Store
from redline.view.server import viewer_thread
from view_fixtures import scanned_store


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return scanned_store(tmp_path_factory.mktemp("decisions"))


@pytest.fixture(scope="module")
def url(scanned: dict[str, object]) -> Iterator[str]:
    with viewer_thread(lambda: Store(Path(str(scanned["db"])))) as base:
        yield base


def test_gate_page_shows_the_verdict_reasons_and_intervals(url: str, scanned: dict) -> None:
    leaky = scanned["leaky"]
    store = Store(Path(str(scanned["db"])))
    decision = evaluate(store, leaky, None, load_policy()).decision
    page = httpx.get(url + f"/runs/{leaky}/gate").text
    assert decision.verdict in ("block", "rollback")
    assert decision.headline() in page
    breach = next(r for r in decision.reasons if r.kind == "breach")
    f = breach.evidence["failure_rate"]
    assert f"{f['k']}/{f['n']}" in page and "Wilson" in page and "exact" in page
    assert breach.rule in page
    assert "No decision recorded" in page
    decision_id = store.record_decision(leaky, decision.to_dict())
    store.close()
    again = httpx.get(url + f"/runs/{leaky}/gate").text
    assert f'<td class="num">{decision_id}</td>' in again and "No decision recorded" not in again
    against = httpx.get(url + f"/runs/{scanned['patched']}/gate",
                        params={"baseline": leaky}).text
    assert f"against <a href=\"/runs/{leaky}\">" in against
    same = httpx.get(url + f"/runs/{leaky}/gate", params={"baseline": leaky})
    assert same.status_code == 400 and "same run" in same.text


def test_compare_page_lists_fixed_and_newly_failing(url: str, scanned: dict) -> None:
    leaky, patched = scanned["leaky"], scanned["patched"]
    store = Store(Path(str(scanned["db"])))
    fixed = list(store.transitions(leaky, patched, "fail", "pass"))
    broken = list(store.transitions(leaky, patched, "pass", "fail"))
    store.close()
    assert fixed and broken  # the refusing patch fixes the attacks, breaks the benign ones
    page = httpx.get(url + "/compare", params={"base": leaky, "cand": patched}).text
    assert f'id="fixed-count">{len(fixed)}<' in page
    assert f'id="newly-count">{len(broken)}<' in page
    for _, aid in fixed + broken:
        assert f"/runs/{patched}/attempts/{aid}" in page
    assert {s for s, _ in broken} == {"benign-q"} and {s for s, _ in fixed} == {"xss-probe"}
    assert httpx.get(url + "/compare", params={"base": leaky}).status_code == 400
    assert httpx.get(url + "/compare", params={"base": leaky, "cand": "nope"}
                     ).status_code == 404


def test_risk_register_page_lists_open_findings_only(url: str, scanned: dict) -> None:
    page = httpx.get(url + "/risks").text
    assert "<code>benign-q</code>" in page  # failing in the latest run that judged it
    assert "<code>xss-probe</code>" not in page  # the latest run passed it: closed
    other = httpx.get(url + "/risks", params={"target": "nothing-like-this"}).text
    assert "No open findings." in other


def test_verify_page_reports_an_intact_and_a_tampered_chain(scanned: dict,
                                                           tmp_path: Path) -> None:
    copy = tmp_path / "tampered.db"
    shutil.copy(str(scanned["db"]), copy)
    leaky = scanned["leaky"]
    with viewer_thread(lambda: Store(copy)) as base:
        assert "VERIFIED" in httpx.get(base + f"/runs/{leaky}/verify").text
        db = sqlite3.connect(copy)
        with db:
            db.execute("UPDATE results SET outcome = 'pass' WHERE run_id = ? AND outcome ="
                       " 'fail' AND seq = (SELECT min(seq) FROM results WHERE run_id = ? AND"
                       " outcome = 'fail')", (leaky, leaky))
        db.close()
        page = httpx.get(base + f"/runs/{leaky}/verify").text
        assert "FAILED" in page and 'id="problems"' in page
        assert "VERIFIED" in httpx.get(base + f"/runs/{scanned['patched']}/verify").text


def test_pages_served_from_the_cache_follow_every_write(scanned: dict, tmp_path: Path) -> None:
    """The gate decision and the run page are computed once per state of the store: a
    label recorded and an edit made behind redline's back while the viewer runs both show on
    the next load (the gate blocks on the broken chain)."""
    from redline.evidence.review import record_label

    copy = tmp_path / "live.db"
    shutil.copy(str(scanned["db"]), copy)
    patched = scanned["patched"]
    with viewer_thread(lambda: Store(copy)) as base:
        gate = base + f"/runs/{patched}/gate"
        first = httpx.get(gate).text
        assert "fails verification" not in first and httpx.get(gate).text == first
        run_page = httpx.get(base + f"/runs/{patched}").text
        assert "reviewed label(s)" not in run_page and "→ reviewed" not in run_page
        writer = Store(copy)
        aid = next(writer.results(patched))["attempt_id"]
        record_label(writer, patched, aid, "fail", "ann", "leaks on a closer look")
        relabelled = httpx.get(base + f"/runs/{patched}").text
        assert "1 reviewed label(s)" in relabelled and "→ reviewed fail" in relabelled
        db = sqlite3.connect(copy)
        with db:
            db.execute("UPDATE results SET latency_ms = latency_ms + 1 WHERE run_id = ? AND"
                       " seq = 0", (patched,))
        db.close()
        assert "fails verification" in httpx.get(gate).text
        writer.close()


def test_one_verification_per_run_serves_every_page_and_thread(
        scanned: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The verify, gate (alone and against a baseline) and compare pages, loaded again and
    at once from several threads, verify each run once while the store is unchanged."""
    from concurrent.futures import ThreadPoolExecutor

    from redline.evidence import verify as evidence

    leaky, patched = scanned["leaky"], scanned["patched"]
    real, calls = evidence.verify_run, []

    def counted(store: Store, run_id: str, *args: object) -> evidence.Report:
        calls.append(run_id)
        return real(store, run_id, *args)

    monkeypatch.setattr(evidence, "verify_run", counted)
    with viewer_thread(lambda: Store(Path(str(scanned["db"])))) as base:
        paths = [f"/runs/{leaky}/verify", f"/runs/{leaky}/gate",
                 f"/runs/{leaky}/gate?baseline={patched}",
                 f"/compare?base={patched}&cand={leaky}", f"/runs/{patched}/verify"]
        for path in paths:
            assert httpx.get(base + path).status_code == 200
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda p: httpx.get(base + p).status_code, paths * 4))
    assert codes == [200] * len(codes)
    assert sorted(calls) == sorted([leaky, patched])
