"""Verifying a run's evidence, signing its chain head, and exporting it as one archive.

A bundle is a .tar.gz holding the run record, every result, the chain, any decisions and
signatures. `verify_bundle` needs nothing but the file (and, to authenticate it, the signer's
public key). With `redact=True`, PII and canaries are masked in the shipped records and each
masked field carries its original digest, so the chain of the unredacted original verifies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redline import __version__
from redline.core.errors import RedlineError
from redline.evidence import tsa
from redline.evidence.bundle import BUNDLE_FORMAT, BundleData, read_bundle, write_bundle
from redline.evidence.keys import check_signature, key_id, sign_head
from redline.evidence.redaction import (
    REDACTED_FIELDS,
    canary_patterns,
    entries_of,
    redact_record,
    sign_manifest,
    signed_entries,
    substitutes,
)
from redline.evidence.tsa import TimestampCheck
from redline.store import Store, dumps, utc_now
from redline.store.audit import (
    Link,
    Problem,
    Verification,
    chained_state,
    plan_digest,
    state_problems,
    verify_links,
)

if TYPE_CHECKING:
    from cryptography import x509



@dataclass(frozen=True)
class SignatureCheck:
    key_id: str
    seq: int
    ok: bool
    reason: str


@dataclass(frozen=True)
class Report:
    """What `redline verify` says about one run."""

    chain: Verification
    signatures: tuple[SignatureCheck, ...] = ()
    pubkey_id: str | None = None
    unsigned_tail: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    unsigned: tuple[Problem, ...] = ()  # evidence records after the signed head
    timestamps: tuple[TimestampCheck, ...] = ()
    tsa_required: bool = False  # a TSA certificate was given: trusted time is required
    signed_upto: int = -1

    @property
    def signed(self) -> bool:
        return any(s.ok for s in self.signatures)

    @property
    def ok(self) -> bool:
        if not self.chain.ok or (self.signed and self.unsigned):
            return False
        if any(not t.ok for t in self.timestamps):
            return False
        if self.tsa_required and not any(t.ok and t.seq == self.signed_upto
                                         for t in self.timestamps):
            return False
        if self.pubkey_id is not None:
            return any(s.ok and s.key_id == self.pubkey_id for s in self.signatures)
        return all(s.ok for s in self.signatures)


def check_signatures(run_id: str, links: list[Link], signatures: Iterable[Mapping[str, Any]],
                     pubkey_pem: str | None) -> tuple[tuple[SignatureCheck, ...], str | None, int]:
    """Each stored signature checked against the chain; with a public key, only its own.
    Returns the checks, the wanted key id and the position of the last validly signed head
    (-1 when none)."""
    by_seq = {ln.seq: ln.hash for ln in links}
    wanted = key_id(pubkey_pem) if pubkey_pem else None
    checks, signed_upto = [], -1
    for sig in signatures:
        if wanted is not None and sig["key_id"] != wanted:
            continue
        pem = pubkey_pem or str(sig["public_key"])
        if by_seq.get(sig["seq"]) != sig["hash"]:
            reason = f"signed head #{sig['seq']} is not in the chain (truncated or rewritten)"
            checks.append(SignatureCheck(str(sig["key_id"]), sig["seq"], False, reason))
        elif not check_signature(pem, run_id, sig["seq"], str(sig["hash"]),
                                 str(sig["signature"])):
            checks.append(SignatureCheck(str(sig["key_id"]), sig["seq"], False, "bad signature"))
        else:
            checks.append(SignatureCheck(str(sig["key_id"]), sig["seq"], True, "valid"))
            signed_upto = max(signed_upto, sig["seq"])
    return tuple(checks), wanted, signed_upto


def unsigned_records(links: list[Link], signed_upto: int) -> tuple[list[Problem], int]:
    """Records chained after the last signed head: evidence ones (results, run events) are
    problems for a signed run; later gate decisions are only counted."""
    if signed_upto < 0:
        return [], 0
    tail = [ln for ln in links if ln.seq > signed_upto]
    evidence = [Problem(ln.seq, ln.kind, ln.ref, f"recorded after the signed head "
                        f"#{signed_upto}: not covered by any signature")
                for ln in tail if ln.kind != "decision"]
    return evidence, len(tail) - len(evidence)


def check_timestamps(run_id: str, links: list[Link], stamps: Iterable[Mapping[str, Any]],
                     cert: x509.Certificate | None) -> tuple[TimestampCheck, ...]:
    """Each stored token checked against the head at its position in the chain as it is now,
    so a token cannot be carried over to a rewritten chain."""
    by_seq = {ln.seq: ln.hash for ln in links}
    out = []
    for stamp in stamps:
        seq = stamp.get("seq")
        head = by_seq.get(seq) if isinstance(seq, int) else None
        if head is None:
            out.append(TimestampCheck(-1 if not isinstance(seq, int) else seq, False, None,
                                      "time-stamped head is not in the chain"))
            continue
        try:
            token = tsa.decode(str(stamp.get("token")))
        except ValueError:
            out.append(TimestampCheck(seq, False, None, "token is not base64"))
            continue
        out.append(tsa.check_token(token, tsa.imprint(run_id, seq, head), cert, seq))
    return tuple(out)


def verify_run(store: Store, run_id: str, pubkey_pem: str | None = None,
               tsa_cert: x509.Certificate | None = None) -> Report:
    chain = store.verify(run_id)
    links = store.links(run_id)
    checks, wanted, upto = check_signatures(run_id, links, store.signatures(run_id), pubkey_pem)
    stamps = check_timestamps(run_id, links, store.timestamps(run_id), tsa_cert)
    return _report(chain, checks, wanted, links, upto, stamps, tsa_cert is not None)


def _report(chain: Verification, checks: tuple[SignatureCheck, ...], wanted: str | None,
            links: list[Link], signed_upto: int, stamps: tuple[TimestampCheck, ...] = (),
            tsa_required: bool = False) -> Report:
    notes = []
    if tsa_required and not any(t.ok and t.seq == signed_upto for t in stamps):
        notes.append(f"no time-stamp by the given TSA over the signed head #{signed_upto}; "
                     "sign with `redline sign --tsa URL`")
    if wanted is not None and not checks:
        notes.append(f"no signature by key {wanted}")
    if not checks and wanted is None:
        notes.append("unsigned: integrity only (anyone who can write the store could rebuild "
                     "the chain); sign with `redline sign` and verify with --pubkey")
    unsigned, decisions = unsigned_records(links, signed_upto)
    if unsigned:
        notes.append(f"UNSIGNED: {len(unsigned)} record(s) after the signed head are not "
                     f"evidence until signed again; first: {unsigned[0]}")
    if decisions:
        notes.append(f"{decisions} gate decision(s) after the signed head are unsigned")
    tail = len(links) - 1 - signed_upto if signed_upto >= 0 else 0
    return Report(chain, checks, wanted, tail, tuple(notes), tuple(unsigned), stamps,
                  tsa_required, signed_upto)


def sign_run(store: Store, run_id: str, key_path: Path, tsa_url: str | None = None,
             ) -> dict[str, Any]:
    """Sign the chain head; with `tsa_url`, also get an RFC 3161 token over it (before
    anything is stored, so a failing TSA leaves no half-signed run)."""
    from redline.evidence.keys import load_private

    key = load_private(key_path)
    links = store.links(run_id)
    if not links:
        raise RedlineError(f"run {run_id} has no audit chain to sign")
    head = links[-1]
    sig = sign_head(key, run_id, head.seq, head.hash)
    out: dict[str, Any] = {"run_id": run_id, "seq": sig.seq, "hash": sig.hash,
                           "key_id": sig.key_id}
    stamp = None
    if tsa_url is not None:
        digest = tsa.imprint(run_id, head.seq, head.hash)
        token = tsa.request_token(tsa_url, digest)
        check = tsa.check_token(token, digest, None, head.seq)
        stamp = (tsa.encode(token), check.gen_time or "")
        out["timestamp"] = {"tsa": tsa_url, "gen_time": check.gen_time}
    with store.transaction():
        store.add_signature(run_id, sig.seq, sig.hash, sig.key_id, sig.public_key,
                            sig.signature)
        if stamp is not None:
            store.add_timestamp(run_id, head.seq, head.hash, str(tsa_url), *stamp)
    return out


# --- bundles ---------------------------------------------------------------------------------

def run_canaries(store: Store, run_id: str) -> list[str]:
    info = store.get_run(run_id)
    found = set(info.manifest.get("target_canaries", []))
    for definition in store.scenario_definitions(run_id).values():
        found.update(definition.get("canaries") or [])
    return sorted(found)


def export_bundle(store: Store, run_ref: str, path: Path, redact: bool = False,
                  key_path: Path | None = None) -> dict[str, Any]:
    """Write a run's evidence as one archive; with `redact`, mask PII and canaries, and with
    `key_path` sign the list of substitutions so a verifier with --pubkey accepts them."""
    info = store.get_run(run_ref)
    run_id = info.id
    patterns = canary_patterns(run_canaries(store, run_id)) if redact else []
    results = []
    for ref in sorted(store.done_attempt_ids(run_id)):
        record = store.result_record(run_id, ref) or {}
        fields, given = redact_record(record, patterns) if redact else (record, {})
        results.append({"fields": fields, "digests": given})
    links = store.links(run_id)
    payloads = store.event_payloads(run_id)
    meta = {"format": BUNDLE_FORMAT, "run_id": run_id, "redacted": redact,
            "redacted_fields": list(REDACTED_FIELDS) if redact else [],
            "exported_at": utc_now(), "redline_version": __version__, "links": len(links),
            "head": links[-1].hash if links else None, "status": info.status,
            "finished_at": info.finished_at, "summary": info.summary}
    members = {
        "bundle.json": dumps(meta), "run.json": dumps(store.run_record(run_id) or {}),
        "results.jsonl": "".join(dumps(r) + "\n" for r in results),
        "chain.jsonl": "".join(dumps({**ln.to_dict(), "payload": payloads.get(ln.ref)}) + "\n"
                               for ln in links),
        "decisions.json": dumps(store.decision_records(run_id)),
        "signatures.json": dumps(store.signatures(run_id)),
        "plan.jsonl": "".join(dumps(a) + "\n" for a in store.plan_ids(run_id)),
        "timestamps.json": dumps(store.timestamps(run_id)),
    }
    if redact and key_path is not None:
        members["redactions.json"] = dumps(sign_manifest(run_id, entries_of(results), key_path))
    write_bundle(path, {name: text.encode("utf-8", "surrogatepass")
                        for name, text in members.items()})
    return meta


def _bundle_results(d: BundleData, pubkey_pem: str | None
                    ) -> tuple[dict[str, tuple[dict[str, Any], dict[str, str]]], list[Problem]]:
    by_attempt: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
    authenticated, problems = signed_entries(d.meta["run_id"], d.redactions, pubkey_pem)
    if authenticated is None and pubkey_pem is not None:
        authenticated = set()  # with a key to trust, only signed redactions count
    for line, r in enumerate(d.results, 1):
        aid = r["fields"].get("attempt_id")
        if not isinstance(aid, str):
            problems.append(Problem(None, "result", f"results.jsonl:{line}",
                                    "has no attempt id (inserted)"))
            continue
        if aid in by_attempt:
            problems.append(Problem(None, "result", aid,
                                    f"appears more than once (results.jsonl:{line})"))
            continue
        given, bad = substitutes(d.meta, aid, r, authenticated)
        problems += bad
        by_attempt[aid] = (r["fields"], given)
    return by_attempt, problems


def _bundle_state(d: BundleData, links: list[Link], events: dict[str, Any],
                  results: dict[str, tuple[dict[str, Any], dict[str, str]]]) -> list[Problem]:
    run_id = d.meta["run_id"]
    state, problems = chained_state(links, events)
    try:
        chained_summary = json.loads(state["summary"]) if state["summary"] else None
    except (TypeError, ValueError):
        chained_summary = state["summary"]
    stored = {"status": d.meta.get("status"), "summary": d.meta.get("summary"),
              "finished_at": d.meta.get("finished_at", state["finished_at"])}
    chained = {**state, "summary": chained_summary}
    planned = d.run.get("planned")
    problems += state_problems(run_id, stored, chained,
                               planned if isinstance(planned, int) else 0, len(results))
    if d.meta.get("links") != len(links) or d.meta.get("head") != (
            links[-1].hash if links else None):
        problems.append(Problem(None, "run", run_id, "bundle.json's chain length or head "
                                "differs from chain.jsonl (edited)"))
    try:
        committed = json.loads(d.run.get("manifest") or "{}").get("plan")
    except (TypeError, ValueError, AttributeError):
        committed = None
    if isinstance(committed, dict):
        problems += _bundle_plan(d, committed, results)
    return problems


def _bundle_plan(d: BundleData, committed: Mapping[str, Any],
                 results: dict[str, tuple[dict[str, Any], dict[str, str]]]) -> list[Problem]:
    run_id = d.meta["run_id"]
    plan = d.plan or []
    if d.plan is None or plan_digest(plan) != (committed.get("attempts"),
                                               committed.get("sha256")):
        return [Problem(None, "plan", run_id, "plan.jsonl is missing or differs from the plan "
                        "committed in the run record (edited)")]
    return [Problem(None, "result", aid, "is not an attempt of the run's plan")
            for aid, (fields, _) in results.items()
            if not (isinstance(fields.get("seq"), int) and 0 <= fields["seq"] < len(plan)
                    and plan[fields["seq"]] == aid)]


def verify_bundle(path: Path, pubkey_pem: str | None = None,
                  tsa_cert: x509.Certificate | None = None) -> tuple[dict[str, Any], Report]:
    d = read_bundle(path)
    run_id = d.meta["run_id"]
    links = d.links
    events = {row["ref"]: row["payload"] for row in d.chain if row.get("payload") is not None}
    by_attempt, extra = _bundle_results(d, pubkey_pem)

    def lookup(kind: str, ref: str) -> tuple[Mapping[str, Any], Mapping[str, str]] | None:
        if kind == "result":
            return by_attempt.get(ref)
        if kind == "run":
            return (d.run, {}) if ref == run_id and d.run else None
        if kind == "decision":
            return (d.decisions[ref], {}) if ref in d.decisions else None
        return (events[ref], {}) if ref in events else None

    present = {"result": set(by_attempt), "run": {run_id}, "decision": set(d.decisions)}
    found = verify_links(run_id, links, lookup, present)
    extra += _bundle_state(d, links, events, by_attempt)
    chain = Verification(run_id, found.links, found.head, found.problems + tuple(extra))
    checks, wanted, upto = check_signatures(run_id, links, d.signatures, pubkey_pem)
    stamps = check_timestamps(run_id, links, [s for s in d.timestamps if isinstance(s, dict)],
                              tsa_cert)
    report = _report(chain, checks, wanted, links, upto, stamps, tsa_cert is not None)
    if d.meta.get("redacted") is True and d.redactions is None:
        report = replace(report, notes=(*report.notes, (
            "redactions are not signed: a verifier with --pubkey refuses every substitute "
            "digest (export with --redact --key KEY)")))
    return d.meta, report
