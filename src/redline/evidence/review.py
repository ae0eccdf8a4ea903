"""Human review: a person's label of an attempt, chained like any record.

A label (`pass` or `fail`, who, when, why) is a `label` event in the run's audit chain
(Store.append_event), so `verify` covers it. The latest label of an attempt overrides the
detectors in reports and in the gate (Store.labels). Reviewed labels export to the labeled
JSONL that `redline judges eval --labels FILE` reads.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from redline.core.errors import UsageError
from redline.store import Store, dumps, utc_now

LABELS = ("pass", "fail")
JUDGES = ("llm_judge",)  # the LLM judge is not a rule detector a team measures here


def resolve_attempt(store: Store, run_id: str, ref: str) -> dict[str, Any]:
    """A stored result by attempt id or unique id prefix."""
    found = store.attempt_ids_like(run_id, ref)
    if not found:
        raise UsageError(f"run {run_id} has no attempt {ref!r}")
    if len(found) > 1:
        raise UsageError(f"attempt id prefix {ref!r} is ambiguous in run {run_id}")
    return next(store.results_for(run_id, found))


def parse_label(text: str) -> tuple[str, str, str | None]:
    """`ATTEMPT=fail` or `ATTEMPT=fail:DETECTOR` -> (attempt ref, label, detector)."""
    ref, sep, rest = text.partition("=")
    label, _, detector = rest.partition(":")
    if not sep or not ref or label not in LABELS:
        raise UsageError(f"--label {text!r}: expected ATTEMPT=pass or ATTEMPT=fail "
                         "(optionally ATTEMPT=fail:DETECTOR)")
    return ref, label, detector or None


def record_label(store: Store, run_id: str, attempt_ref: str, label: str, reviewer: str,
                 reason: str, detector: str | None = None) -> dict[str, Any]:
    """Chain one reviewed label; returns the stored record."""
    if label not in LABELS:
        raise UsageError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    if not reviewer.strip():
        raise UsageError("a label needs a reviewer (--reviewer NAME)")
    if not reason.strip():
        raise UsageError("a label needs a reason (--reason TEXT)")
    rec = resolve_attempt(store, run_id, attempt_ref)
    names = [v["detector"] for v in rec["verdicts"]]
    if detector is not None and detector not in names:
        raise UsageError(f"attempt {rec['attempt_id']} was not judged by {detector!r} "
                         f"(its detectors: {', '.join(names) or 'none'})")
    fields = {"attempt_id": rec["attempt_id"], "label": label, "was": rec["outcome"],
              "detector": detector, "reviewer": reviewer.strip(), "reason": reason.strip(),
              "at": utc_now()}
    store.append_event(run_id, "label", fields)
    return fields


def review_queue(store: Store, run_id: str, sample: int, seed: int) -> list[str]:
    """Attempt ids to review: every unclear one not yet labelled, then a seeded random
    sample of `sample` decided (pass or fail) ones, so a person also checks the detectors'
    clear calls."""
    labelled = store.labels(run_id)
    unclear, decided = [], []
    for aid, outcome in store.attempt_outcomes(run_id):
        if aid in labelled:
            continue
        if outcome == "unclear":
            unclear.append(aid)
        elif outcome in LABELS:
            decided.append(aid)
    rng = random.Random(f"review:{run_id}:{seed}")
    return unclear + rng.sample(decided, min(sample, len(decided)))


def _request_reply(rec: dict[str, Any]) -> tuple[str, str]:
    users = [m["content"] for m in rec["transcript"] if m["role"] == "user"]
    reply = next((r["text"] for r in reversed(rec["responses"]) if r.get("text") is not None),
                 "")
    return (users[-1] if users else ""), reply


def export_lines(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    """One labeled line per (reviewed attempt, detector): `label` is true when the detector
    should have detected. A `fail` label names its detector, or else falls on the detectors
    that detected or were unclear (all of them if none did); a `pass` label clears every
    detector of the attempt."""
    labels = store.labels(run_id)
    info = store.get_run(run_id)
    target_secrets = list((info.manifest.get("judging") or {}).get("target_canaries", []))
    for rec in store.results_for(run_id, list(labels)):
        review = labels[rec["attempt_id"]]
        verdicts = [v for v in rec["verdicts"] if v["detector"] not in JUDGES]
        names = [v["detector"] for v in verdicts]
        if review["label"] == "fail":
            flagged = ([review["detector"]] if review.get("detector") else
                       [v["detector"] for v in verdicts if v["detected"] or v.get("unclear")])
            positive = set(flagged or names)
        else:
            positive = set()
        request, reply = _request_reply(rec)
        secrets = list(rec["attempt"].get("canaries", [])) + target_secrets
        for name in names:
            line: dict[str, Any] = {"detector": name, "request": request, "reply": reply,
                                    "label": name in positive}
            if secrets:
                line["secrets"] = secrets
            line["provenance"] = {"source": "redline review", "run": run_id,
                                  "attempt": rec["attempt_id"], "reviewer": review["reviewer"],
                                  "at": review["at"], "reason": review["reason"],
                                  "detectors_said": review["was"]}
            yield line


def export_labels(store: Store, run_id: str, path: Path) -> int:
    """Write the run's reviewed labels as labeled JSONL; returns the number of lines."""
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for line in export_lines(store, run_id):
            fh.write(dumps(line) + "\n")
            n += 1
    return n


def describe(rec: dict[str, Any]) -> dict[str, Any]:
    """What a reviewer is shown of one attempt."""
    request, reply = _request_reply(rec)
    return {"attempt": rec["attempt_id"], "scenario": rec["scenario_id"],
            "outcome": rec["outcome"], "request": request, "reply": reply,
            "verdicts": [{k: v.get(k) for k in ("detector", "detected", "unclear", "score")}
                         for v in rec["verdicts"]]}
