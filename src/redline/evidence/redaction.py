"""Redacted bundles: PII and canaries masked, each masked field shipped with its original
digest so the chain of the unredacted run still verifies, and a redaction manifest signed
with the run's key that lists every substitution, so nobody else can pass an edited field
off as a redacted one."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from redline.evidence.keys import check_signature_message, key_id, load_private, public_pem
from redline.plugins.detectors.pii import find_pii
from redline.store.audit import Problem, canonical, field_digests, sha256

REDACTED_FIELDS = ("attempt", "transcript", "responses", "verdicts", "error")
CANARY_MASK = "[REDACTED-SECRET]"
Entry = tuple[str, str, str, str]  # attempt id, field, original digest, shipped value digest


def canary_patterns(secrets: Iterable[str]) -> list[re.Pattern[str]]:
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


def entries_of(results: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Every substitution in a list of shipped results ({"fields", "digests"})."""
    out = []
    for r in results:
        aid = str(r["fields"].get("attempt_id"))
        for name, digest in sorted(r["digests"].items()):
            out.append((aid, name, digest, sha256(canonical(r["fields"].get(name)))))
    return out


def _message(run_id: str, entries: list[Entry]) -> bytes:
    return canonical({"redline_redactions": 1, "run_id": run_id,
                      "entries": [list(e) for e in entries]})


def sign_manifest(run_id: str, entries: list[Entry], key_path: Path) -> dict[str, Any]:
    key = load_private(key_path)
    pem = public_pem(key)
    return {"run_id": run_id, "entries": [list(e) for e in entries], "key_id": key_id(pem),
            "public_key": pem,
            "signature": base64.b64encode(key.sign(_message(run_id, entries))).decode()}


def signed_entries(run_id: str, manifest: Any, pubkey_pem: str | None
                   ) -> tuple[set[Entry] | None, list[Problem]]:
    """The substitutions a redaction manifest authenticates (by `pubkey_pem` if given, else
    by the key it names), or None when there is no manifest."""
    if manifest is None:
        return None, []
    bad = [Problem(None, "redactions", run_id, "the redaction manifest is malformed or its "
                   "signature does not verify (forged)")]
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), list):
        return set(), bad
    try:
        entries = [(str(a), str(b), str(c), str(d)) for a, b, c, d in manifest["entries"]]
    except (TypeError, ValueError):
        return set(), bad
    pem = pubkey_pem or str(manifest.get("public_key"))
    if manifest.get("run_id") != run_id or not check_signature_message(
            pem, _message(run_id, entries), str(manifest.get("signature"))):
        return set(), bad
    return set(entries), []


def substitutes(meta: Mapping[str, Any], aid: str, r: Mapping[str, Any],
                authenticated: set[Entry] | None) -> tuple[dict[str, str], list[Problem]]:
    """The original digests a shipped result may use: only for fields the bundle declares
    redacted, that show a mask and, when a redaction manifest is required or present, that
    it lists with these exact digests."""
    allowed = set(REDACTED_FIELDS) & set(meta.get("redacted_fields") or []) if (
        meta.get("redacted") is True) else set()
    given, problems = {}, []
    for name, digest in r["digests"].items():
        value = r["fields"].get(name)
        if name not in allowed:
            why = "which this bundle does not redact"
        elif not (isinstance(value, str) and (CANARY_MASK in value or "[PII:" in value)):
            why = "but the field shows no redaction"
        elif authenticated is not None and (
                aid, name, digest, sha256(canonical(value))) not in authenticated:
            why = "not listed in the signed redaction manifest"
        else:
            given[name] = digest
            continue
        problems.append(Problem(None, "result", aid,
                                f"carries a substitute digest for {name!r}, {why} (forged)"))
    return given, problems
