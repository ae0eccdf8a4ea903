"""One failure-rate definition: failures over judged attempts, in the report and the gate."""

from __future__ import annotations

from pathlib import Path

from redline.analysis.summary import ScenarioInfo, summarise
from redline.core.models import Attempt, AttemptResult, Message, TargetResponse
from redline.gate.evidence import outcome_counts
from redline.store import BatchWriter, Store


def result(seq: int, outcome: str) -> AttemptResult:
    attempt = Attempt(id=f"a{seq}", seq=seq, scenario_id="s", scenario_version=1,
                      category="prompt_injection", severity="high", input_index=seq, chain=(),
                      messages=(Message("user", "hi"),))
    ok = outcome != "error"
    return AttemptResult(attempt=attempt, outcome=outcome, transcript=[],  # type: ignore[arg-type]
                         responses=[TargetResponse(text="x" if ok else None,
                                                   error=None if ok else "boom")],
                         verdicts=[], error=None if ok else "boom")


def test_report_and_gate_share_one_failure_rate(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    try:
        store.create_run("r1", "t", "suite", 0, 4, {}, {}, [("s", 1, {"title": "s"})])
        writer = BatchWriter(store, "r1")
        for i, outcome in enumerate(("pass", "fail", "error", "error")):
            writer.add(result(i, outcome))
        writer.flush()
        store.finish_run("r1", "completed", {})
        info = {"s": ScenarioInfo("s", "prompt_injection", "high", 0.0)}
        report = summarise(store.outcome_rows("r1"), info, 4).scenarios["s"]
        gate = outcome_counts(store, "r1")["s"][2]
    finally:
        store.close()
    # failures over judged (pass + fail): 1/2; errors over attempts: 2/4
    assert report.failure_rate == gate.failure_rate == 0.5
    assert report.error_rate == gate.error_rate == 0.5
    assert report.to_dict()["judged"] == 2
