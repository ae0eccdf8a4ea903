"""Wire a gate together: runs from the store, the policy, the comparison, the decision."""

from __future__ import annotations

from dataclasses import dataclass

from redline.core.errors import UsageError
from redline.gate.compare import Comparison, compare_runs
from redline.gate.correction import JudgeAccuracy
from redline.gate.decision import decide
from redline.gate.evidence import Verifier, load_run
from redline.gate.policy import Policy
from redline.gate.verdict import Decision
from redline.store import Store


@dataclass
class GateResult:
    decision: Decision
    comparison: Comparison | None


def evaluate(store: Store, run_ref: str, baseline_ref: str | None, policy: Policy,
             accuracy: dict[str, JudgeAccuracy] | None = None,
             verify: Verifier | None = None) -> GateResult:
    """Decide on a stored run, against a stored baseline run if one is given; `verify`
    checks each run's chain (default: afresh, redline.evidence.verify.verify_run)."""
    candidate = load_run(store, run_ref, verify)
    comparison = None
    if baseline_ref is not None:
        baseline = load_run(store, baseline_ref, verify)
        if baseline.run.id == candidate.run.id:
            raise UsageError(f"the baseline and the candidate are the same run {baseline.run.id}")
        comparison = compare_runs(store, baseline, candidate)
    return GateResult(decide(policy, candidate, comparison, accuracy), comparison)
