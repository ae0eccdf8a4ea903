"""Verifying a run's evidence, signing its chain head, and exporting it as one archive.

A bundle is a .tar.gz holding the run record, every result, the chain, any decisions and
signatures. `verify_bundle` needs nothing but the file (and, to authenticate it, the signer's
public key). With `redact=True`, PII and canaries are masked in the shipped records and each
masked field carries its original digest, so the chain of the unredacted original verifies.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline import __version__
from redline.audit import Link, Verification, field_digests, verify_links
from redline.detectors.pii import find_pii
from redline.errors import RedlineError
from redline.keys import check_signature, key_id, sign_head
from redline.store import Store, dumps, utc_now

BUNDLE_FORMAT = "redline-evidence/1"
REDACTED_FIELDS = ("attempt", "transcript", "responses", "verdicts", "error")
CANARY_MASK = "[REDACTED-SECRET]"


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

    @property
    def ok(self) -> bool:
        if not self.chain.ok:
            return False
        if self.pubkey_id is not None:
            return any(s.ok and s.key_id == self.pubkey_id for s in self.signatures)
        return all(s.ok for s in self.signatures)


def check_signatures(run_id: str, links: list[Link], signatures: Iterable[Mapping[str, Any]],
                     pubkey_pem: str | None) -> tuple[tuple[SignatureCheck, ...], str | None, int]:
    """Each stored signature checked against the chain; with a public key, only its own."""
    by_seq = {ln.seq: ln.hash for ln in links}
    wanted = key_id(pubkey_pem) if pubkey_pem else None
    checks, signed_upto = [], -1
    for sig in signatures:
        if wanted is not None and sig["key_id"] != wanted:
            continue
        pem = pubkey_pem or sig["public_key"]
        if by_seq.get(sig["seq"]) != sig["hash"]:
            reason = f"signed head #{sig['seq']} is not in the chain (truncated or rewritten)"
            checks.append(SignatureCheck(sig["key_id"], sig["seq"], False, reason))
        elif not check_signature(pem, run_id, sig["seq"], sig["hash"], sig["signature"]):
            checks.append(SignatureCheck(sig["key_id"], sig["seq"], False, "bad signature"))
        else:
            checks.append(SignatureCheck(sig["key_id"], sig["seq"], True, "valid"))
            signed_upto = max(signed_upto, sig["seq"])
    tail = len(links) - 1 - signed_upto if signed_upto >= 0 else 0
    return tuple(checks), wanted, tail


def verify_run(store: Store, run_id: str, pubkey_pem: str | None = None) -> Report:
    chain = store.verify(run_id)
    links = store.links(run_id)
    checks, wanted, tail = check_signatures(run_id, links, store.signatures(run_id), pubkey_pem)
    return _report(chain, checks, wanted, tail)


def _report(chain: Verification, checks: tuple[SignatureCheck, ...], wanted: str | None,
            tail: int) -> Report:
    notes = []
    if wanted is not None and not checks:
        notes.append(f"no signature by key {wanted}")
    if not checks and wanted is None:
        notes.append("unsigned: integrity only (anyone who can write the store could rebuild "
                     "the chain); sign with `redline sign` and verify with --pubkey")
    if tail:
        notes.append(f"{tail} record(s) after the signed head (e.g. later decisions)")
    return Report(chain, checks, wanted, tail, tuple(notes))


def sign_run(store: Store, run_id: str, key_path: Path) -> dict[str, Any]:
    from redline.keys import load_private

    key = load_private(key_path)
    links = store.links(run_id)
    if not links:
        raise RedlineError(f"run {run_id} has no audit chain to sign")
    head = links[-1]
    sig = sign_head(key, run_id, head.seq, head.hash)
    store.add_signature(run_id, sig.seq, sig.hash, sig.key_id, sig.public_key, sig.signature)
    return {"run_id": run_id, "seq": sig.seq, "hash": sig.hash, "key_id": sig.key_id}


# --- redaction -------------------------------------------------------------------------------

def _canary_patterns(secrets: Iterable[str]) -> list[re.Pattern[str]]:
    out = []
    for s in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        out.append(re.compile(re.escape(s), re.IGNORECASE))
        escaped = json.dumps(s)[1:-1]
        if escaped != s:
            out.append(re.compile(re.escape(escaped), re.IGNORECASE))
    return out


def redact_text(text: str, canaries: list[re.Pattern[str]]) -> str:
    for rx in canaries:
        text = rx.sub(CANARY_MASK, text)
    for found in reversed(find_pii(text)):
        lo, hi = found["span"]
        text = text[:lo] + f"[PII:{found['kind']}]" + text[hi:]
    return text


def redact_record(record: Mapping[str, Any], canaries: list[re.Pattern[str]],
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    """A record with PII and secrets masked, plus the original digests of changed fields."""
    originals = field_digests(record)
    out, given = dict(record), {}
    for name in REDACTED_FIELDS:
        value = record.get(name)
        if isinstance(value, str):
            masked = redact_text(value, canaries)
            if masked != value:
                out[name] = masked
                given[name] = originals[name]
    return out, given


def run_canaries(store: Store, run_id: str) -> list[str]:
    info = store.get_run(run_id)
    found = set(info.manifest.get("target_canaries", []))
    for definition in store.scenario_definitions(run_id).values():
        found.update(definition.get("canaries") or [])
    return sorted(found)


# --- bundles ---------------------------------------------------------------------------------

def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def export_bundle(store: Store, run_ref: str, path: Path, redact: bool = False) -> dict[str, Any]:
    info = store.get_run(run_ref)
    run_id = info.id
    patterns = _canary_patterns(run_canaries(store, run_id)) if redact else []
    run_record = store.run_record(run_id) or {}
    results = []
    for ref in sorted(store.done_attempt_ids(run_id)):
        record = store.result_record(run_id, ref) or {}
        fields, given = redact_record(record, patterns) if redact else (record, {})
        results.append({"fields": fields, "digests": given})
    links = store.links(run_id)
    payloads = store.event_payloads(run_id)
    meta = {"format": BUNDLE_FORMAT, "run_id": run_id, "redacted": redact,
            "exported_at": utc_now(), "redline_version": __version__, "links": len(links),
            "head": links[-1].hash if links else None,
            "status": info.status, "summary": info.summary}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "bundle.json", dumps(meta).encode())
        _add(tar, "run.json", dumps(run_record).encode())
        _add(tar, "results.jsonl", "".join(dumps(r) + "\n" for r in results).encode())
        _add(tar, "chain.jsonl", "".join(dumps({**ln.to_dict(), "payload": payloads.get(ln.ref)})
                                         + "\n" for ln in links).encode())
        _add(tar, "decisions.json", dumps(store.decision_records(run_id)).encode())
        _add(tar, "signatures.json", dumps(store.signatures(run_id)).encode())
    return meta


def _read_member(tar: tarfile.TarFile, name: str) -> str:
    try:
        member = tar.extractfile(name)
    except KeyError as exc:
        raise RedlineError(f"not a redline evidence bundle: {name} is missing") from exc
    if member is None:
        raise RedlineError(f"not a redline evidence bundle: {name} is not a file")
    return member.read().decode("utf-8")


def verify_bundle(path: Path, pubkey_pem: str | None = None) -> tuple[dict[str, Any], Report]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            meta = json.loads(_read_member(tar, "bundle.json"))
            run_record = json.loads(_read_member(tar, "run.json"))
            results = [json.loads(line) for line in
                       _read_member(tar, "results.jsonl").splitlines() if line]
            chain_rows = [json.loads(line) for line in
                          _read_member(tar, "chain.jsonl").splitlines() if line]
            decisions = json.loads(_read_member(tar, "decisions.json"))
            signatures = json.loads(_read_member(tar, "signatures.json"))
    except (OSError, tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RedlineError(f"{path}: not a readable evidence bundle ({exc})") from exc
    if meta.get("format") != BUNDLE_FORMAT:
        raise RedlineError(f"{path}: unknown bundle format {meta.get('format')!r}")
    run_id = meta["run_id"]
    links = [Link(**{k: v for k, v in row.items() if k != "payload"}) for row in chain_rows]
    events = {row["ref"]: row["payload"] for row in chain_rows if row.get("payload") is not None}
    by_attempt = {r["fields"].get("attempt_id"): r for r in results}

    def lookup(kind: str, ref: str) -> tuple[Mapping[str, Any], Mapping[str, str]] | None:
        if kind == "result":
            r = by_attempt.get(ref)
            return (r["fields"], r["digests"]) if r else None
        if kind == "run":
            return (run_record, {}) if ref == run_id and run_record else None
        if kind == "decision":
            return (decisions[ref], {}) if ref in decisions else None
        return (events[ref], {}) if ref in events else None

    present = {"result": set(by_attempt) - {None}, "run": {run_id}, "decision": set(decisions)}
    chain = verify_links(run_id, links, lookup, present)
    checks, wanted, tail = check_signatures(run_id, links, signatures, pubkey_pem)
    return meta, _report(chain, checks, wanted, tail)
