"""The judging pages: the gate decision, the difference between two runs, the risk register
and the chain's verification, each computed by the same code as the commands."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any

from redline.core.errors import UsageError
from redline.gate.decision import Reason
from redline.gate.policy import Policy
from redline.gate.risks import open_findings
from redline.gate.runner import evaluate
from redline.store import Store
from redline.view.cache import StoreCache
from redline.view.pages import pretty, run_row, text_param

if TYPE_CHECKING:
    from redline.evidence.verify import Report

MAX_LISTED = 200  # transitions listed per kind; the counts cover them all


def _reason(r: Reason) -> dict[str, Any]:
    d = r.to_dict()
    d["describe"] = r.action.describe()
    d["failure_rate"] = r.evidence.get("failure_rate")
    d["test"] = r.evidence.get("test")
    d["attempts"] = list(r.evidence.get("failing_attempts") or [])[:5]
    d["evidence_json"] = pretty(r.evidence)
    return d


def stored_decisions(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The decisions recorded in the run's chain (`redline gate`), newest first."""
    out = []
    for key, rec in store.decision_records(run_id).items():
        try:
            doc = json.loads(rec.get("decision") or "{}")
        except ValueError:
            doc = {}
        out.append({"id": key, "verdict": rec.get("verdict"), "created_at": rec.get("created_at"),
                    "baseline": rec.get("baseline_id"), "exit_code": rec.get("exit_code"),
                    "headline": doc.get("headline"),
                    "reasons": [r.get("message") for r in doc.get("reasons", [])][:20]})
    return sorted(out, key=lambda d: str(d["created_at"]), reverse=True)


def gate_page(store: Store, cache: StoreCache, policy: Policy, ref: str,
              params: Mapping[str, str]) -> dict[str, Any]:
    """The decision (which verifies both runs) is computed once per state of the store."""
    baseline = text_param(params, "baseline")
    run = store.get_run(ref)
    base_id = store.get_run(baseline).id if baseline is not None else None
    if base_id == run.id:
        raise UsageError(f"the baseline and the candidate are the same run {run.id}")
    decision = cache.get(("gate", policy.digest, run.id, base_id),
                         lambda: evaluate(store, run.id, base_id, policy,
                                          verify=verifier(cache)).decision)
    return {"run": run_row(run), "d": decision.to_dict(),
            "reasons": [_reason(r) for r in decision.reasons],
            "scenario_rows": [s.to_dict() for s in decision.scenarios],
            "stored": stored_decisions(store, run.id), "baseline": baseline or "",
            "other_runs": [r.id for r in store.runs(50) if r.id != run.id]}


def compare_page(store: Store, cache: StoreCache, policy: Policy,
                 params: Mapping[str, str]) -> dict[str, Any]:
    base_ref, cand_ref = text_param(params, "base"), text_param(params, "cand")
    if base_ref is None or cand_ref is None:
        raise UsageError("compare needs a baseline run (base=) and a candidate run (cand=)")
    base, cand = store.get_run(base_ref), store.get_run(cand_ref)
    if base.id == cand.id:
        raise UsageError(f"the baseline and the candidate are the same run {base.id}")
    result = cache.get(("compare", policy.digest, base.id, cand.id),
                       lambda: evaluate(store, cand.id, base.id, policy,
                                        verify=verifier(cache)))
    assert result.comparison is not None
    comparison = result.comparison.to_dict()
    return {
        "base": run_row(base), "cand": run_row(cand), "c": comparison,
        "d": result.decision.to_dict(),
        "reasons": [_reason(r) for r in result.decision.reasons],
        "newly_failing": list(islice(store.transitions(base.id, cand.id, "pass", "fail"),
                                     MAX_LISTED)),
        "fixed": list(islice(store.transitions(base.id, cand.id, "fail", "pass"), MAX_LISTED)),
        "max_listed": MAX_LISTED, "benign": sorted(policy.benign_categories),
    }


def risks_page(store: Store, cache: StoreCache, policy: Policy,
               params: Mapping[str, str]) -> dict[str, Any]:
    target = text_param(params, "target")
    risks = cache.get(("risks", policy.digest, target),
                      lambda: [r.to_dict() for r in open_findings(store, policy, target)])
    return {"risks": risks,
            "target": target or "", "policy": policy.files}


def verifier(cache: StoreCache) -> Callable[[Store, str], Report]:
    """verify_run once per run and state of the store, shared by the verify, gate and
    compare pages: any committed write, an edit behind redline's back included, moves the
    store's change token, and the next load verifies afresh."""
    def verify(store: Store, run_id: str) -> Report:
        from redline.evidence.verify import verify_run

        return cache.get(("verify", run_id), lambda: verify_run(store, run_id))
    return verify


def verify_page(store: Store, cache: StoreCache, ref: str) -> dict[str, Any]:
    run = store.get_run(ref)
    report = verifier(cache)(store, run.id)
    chain = report.chain
    return {"run": run_row(run), "ok": report.ok, "signed": report.signed,
            "links": chain.links, "head": chain.head,
            "problems": [str(p) for p in chain.problems[:200]],
            "problem_count": len(chain.problems),
            "unsigned": [str(p) for p in report.unsigned[:50]],
            "signatures": [s.__dict__ for s in report.signatures],
            "timestamps": [t.to_dict() for t in report.timestamps], "notes": list(report.notes)}
