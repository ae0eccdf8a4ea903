"""Reading and writing the evidence bundle archive: one .tar.gz, written atomically, read with
every member checked for shape, so a damaged or hostile file is a clear error (exit 2), never
a crash. What the members mean is checked in `redline.evidence.verify`."""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.core.errors import RedlineError
from redline.store.audit import Link

BUNDLE_FORMAT = "redline-evidence/1"
MEMBERS = ("bundle.json", "run.json", "results.jsonl", "chain.jsonl", "decisions.json",
           "signatures.json")
OPTIONAL = ("plan.jsonl", "timestamps.json", "redactions.json")
LINK_FIELDS = ("run_id", "seq", "kind", "ref", "ts", "record_sha256", "prev", "hash")
SIGNATURE_FIELDS = ("seq", "hash", "key_id", "public_key", "signature")
MAX_MEMBER = 1 << 34  # 16 GiB: a bound, not a limit anyone should meet


class BundleError(RedlineError):
    """A bundle that cannot be read as one."""


@dataclass
class BundleData:
    meta: dict[str, Any]
    run: dict[str, Any]
    results: list[dict[str, Any]]
    chain: list[dict[str, Any]]
    decisions: dict[str, dict[str, Any]]
    signatures: list[dict[str, Any]]
    plan: list[str] | None
    timestamps: list[dict[str, Any]]
    redactions: Any = None  # the signed redaction manifest, checked in redline.evidence.redaction

    @property
    def links(self) -> list[Link]:
        return [Link(**{k: row[k] for k in LINK_FIELDS}) for row in self.chain]


def write_bundle(path: Path, members: dict[str, bytes]) -> None:
    """Write the archive beside its destination and move it into place: a killed export
    leaves the old file (or nothing), never a partial archive."""
    if path.is_dir():
        raise BundleError(f"{path} is a directory; give the bundle's file name")
    parent = path.parent
    if not parent.is_dir():
        raise BundleError(f"no directory {parent} for the bundle {path.name}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                tar.addfile(info, io.BytesIO(data))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _members(path: Path) -> dict[str, bytes]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            out = {}
            for member in tar.getmembers():
                if member.name in MEMBERS + OPTIONAL:
                    if not member.isfile() or member.size > MAX_MEMBER:
                        raise BundleError(f"{path}: {member.name} is not a regular file")
                    if member.name in out:
                        raise BundleError(f"{path}: {member.name} appears twice")
                    fh = tar.extractfile(member)
                    assert fh is not None
                    out[member.name] = fh.read()
    except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise BundleError(f"{path}: not a readable evidence bundle (a gzip-compressed tar "
                          f"archive): {exc}") from exc
    missing = [m for m in MEMBERS if m not in out]
    if missing:
        raise BundleError(f"{path}: not a redline evidence bundle: missing {', '.join(missing)}")
    return out


def _json(path: Path, name: str, data: bytes, line: int | None = None) -> Any:
    where = f"{path}: {name}" + (f":{line}" if line else "")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleError(f"{where}: not valid JSON ({exc})") from exc


def _lines(path: Path, name: str, data: bytes) -> list[Any]:
    return [_json(path, name, line, i) for i, line in enumerate(data.split(b"\n"), 1)
            if line.strip()]


def _need(ok: bool, path: Path, where: str, what: str) -> None:
    if not ok:
        raise BundleError(f"{path}: {where}: {what}")


def _check_shapes(path: Path, d: BundleData) -> None:
    _need(d.meta.get("format") == BUNDLE_FORMAT, path, "bundle.json",
          f"unknown bundle format {d.meta.get('format')!r}")
    _need(isinstance(d.meta.get("run_id"), str), path, "bundle.json", "run_id is missing")
    for i, r in enumerate(d.results, 1):
        _need(isinstance(r, dict) and isinstance(r.get("fields"), dict)
              and isinstance(r.get("digests", {}), dict), path, f"results.jsonl:{i}",
              "each line must be an object with `fields` and `digests` objects")
        _need(all(isinstance(v, str) for v in r.get("digests", {}).values()), path,
              f"results.jsonl:{i}", "digests must be strings")
    for i, row in enumerate(d.chain, 1):
        _need(isinstance(row, dict) and all(k in row for k in LINK_FIELDS)
              and isinstance(row["seq"], int) and all(isinstance(row[k], str)
                                                      for k in LINK_FIELDS if k != "seq"),
              path, f"chain.jsonl:{i}", f"each line must have {', '.join(LINK_FIELDS)}")
        _need(row.get("payload") is None or isinstance(row["payload"], dict), path,
              f"chain.jsonl:{i}", "payload must be an object")
    _need(all(isinstance(v, dict) for v in d.decisions.values()), path, "decisions.json",
          "each decision must be an object")
    for i, sig in enumerate(d.signatures, 1):
        _need(isinstance(sig, dict) and all(k in sig for k in SIGNATURE_FIELDS)
              and isinstance(sig["seq"], int), path, f"signatures.json[{i}]",
              f"each signature must have {', '.join(SIGNATURE_FIELDS)}")
    _need(d.plan is None or all(isinstance(a, str) for a in d.plan), path, "plan.jsonl",
          "each line must be an attempt id")


def read_bundle(path: Path) -> BundleData:
    if not path.is_file():
        raise BundleError(f"no bundle at {path}")
    raw = _members(path)
    typed: dict[str, tuple[str, type]] = {
        "bundle.json": ("meta", dict), "run.json": ("run", dict),
        "decisions.json": ("decisions", dict), "signatures.json": ("signatures", list),
    }
    parsed: dict[str, Any] = {}
    for name, (key, kind) in typed.items():
        parsed[key] = _json(path, name, raw[name])
        _need(isinstance(parsed[key], kind), path, name, f"must be a JSON {kind.__name__}")
    stamps = _json(path, "timestamps.json", raw["timestamps.json"]) if (
        "timestamps.json" in raw) else []
    _need(isinstance(stamps, list), path, "timestamps.json", "must be a JSON list")
    data = BundleData(
        results=_lines(path, "results.jsonl", raw["results.jsonl"]),
        chain=_lines(path, "chain.jsonl", raw["chain.jsonl"]),
        plan=_lines(path, "plan.jsonl", raw["plan.jsonl"]) if "plan.jsonl" in raw else None,
        timestamps=stamps, redactions=_json(path, "redactions.json", raw["redactions.json"])
        if "redactions.json" in raw else None, **parsed)
    _check_shapes(path, data)
    return data
