"""Evidence files on disk: key files written safely, malformed bundles refused with exit 2,
bundles written atomically."""

from __future__ import annotations

import gzip
import io
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from redline.evidence.bundle import MEMBERS, BundleError, read_bundle, write_bundle


def redline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120)


def clean_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    assert "Traceback" not in out and "internal error" not in out and "Aborted" not in out
    assert "error:" in out
    return out


# --- keys --------------------------------------------------------------------------------

def test_force_over_a_world_readable_key_writes_0600(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_text("old key\n")
    key.chmod(0o644)
    proc = redline("keys", "init", "--path", str(key), "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert not list(tmp_path.glob(".k.*"))  # no temporary file left behind


def test_force_does_not_write_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours\n")
    key = tmp_path / "k"
    key.symlink_to(victim)
    (tmp_path / "k.pub").symlink_to(victim)
    proc = redline("keys", "init", "--path", str(key), "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert victim.read_text() == "not yours\n"
    assert not key.is_symlink() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not (tmp_path / "k.pub").is_symlink()


def test_existing_symlink_needs_force(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.symlink_to(tmp_path / "dangling")
    out = clean_error(redline("keys", "init", "--path", str(key), cwd=tmp_path))
    assert "already exists" in out


def test_key_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    out = clean_error(redline("keys", "init", "--path", str(tmp_path / "nope" / "k"),
                              cwd=tmp_path))
    assert "no directory" in out and "nope" in out
    (tmp_path / "file").write_text("x")
    clean_error(redline("keys", "init", "--path", str(tmp_path / "file" / "k"), cwd=tmp_path))
    # the default place is still created on first use
    proc = redline("keys", "init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / ".redline" / "keys" / "redline_ed25519").is_file()


# --- malformed bundles -------------------------------------------------------------------

def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


GOOD_META = (b'{"format":"redline-evidence/1","run_id":"r1","redacted":false,"links":0,'
             b'"head":null}')


def members(**overrides: bytes) -> dict[str, bytes]:
    base = {"bundle.json": GOOD_META, "run.json": b"{}", "results.jsonl": b"",
            "chain.jsonl": b"", "decisions.json": b"{}", "signatures.json": b"[]"}
    return {**base, **overrides}


MALFORMED: dict[str, bytes] = {
    "empty file": b"",
    "not gzip": b"PK\x03\x04 this is a zip, not a bundle",
    "gzip but not a tar": gzip.compress(b"hello, not a tar archive" * 40),
    "truncated gzip": tar_gz(members(**{"results.jsonl": b"x" * 50000}))[:400],
    "missing members": tar_gz({"bundle.json": GOOD_META}),
    "bad JSON": tar_gz(members(**{"bundle.json": b"{not json"})),
    "bundle.json not an object": tar_gz(members(**{"bundle.json": b"[1, 2]"})),
    "unknown format": tar_gz(members(**{"bundle.json": b'{"format": "x", "run_id": "r"}'})),
    "results line not an object": tar_gz(members(**{"results.jsonl": b"[1]\n"})),
    "chain line missing fields": tar_gz(members(**{"chain.jsonl": b'{"seq": 0}\n'})),
    "signature missing fields": tar_gz(members(**{"signatures.json": b'[{"seq": 0}]'})),
    "bad UTF-8": tar_gz(members(**{"run.json": b'{"a": "\xff"}'})),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_bundle_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "b.tgz"
    path.write_bytes(MALFORMED[kind])
    with pytest.raises(BundleError) as err:
        read_bundle(path)
    assert str(path) in str(err.value) and err.value.exit_code == 2


def test_malformed_bundles_exit_2_on_the_command_line(tmp_path: Path) -> None:
    for kind in ("truncated gzip", "gzip but not a tar", "missing members", "bad JSON",
                 "chain line missing fields"):
        path = tmp_path / "b.tgz"
        path.write_bytes(MALFORMED[kind])
        out = clean_error(redline("verify", "--bundle", str(path), cwd=tmp_path))
        assert "b.tgz" in out, kind


# --- atomic export -----------------------------------------------------------------------

def test_an_interrupted_export_leaves_the_old_file_and_no_partial(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "e.tgz"
    dest.write_bytes(b"previous bundle")
    calls = []

    def boom(self: tarfile.TarFile, info: tarfile.TarInfo, fileobj: object = None) -> None:
        calls.append(info.name)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process is stopped half-way through
        original(self, info, fileobj)  # type: ignore[arg-type]

    original = tarfile.TarFile.addfile
    monkeypatch.setattr(tarfile.TarFile, "addfile", boom)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(dest, {name: b"{}" for name in MEMBERS})
    assert dest.read_bytes() == b"previous bundle"
    assert [p.name for p in tmp_path.iterdir()] == ["e.tgz"]
    monkeypatch.undo()
    write_bundle(dest, {name: b"{}" for name in MEMBERS})
    with tarfile.open(dest) as tar:
        assert sorted(tar.getnames()) == sorted(MEMBERS)


def test_export_destination_errors(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="is a directory"):
        write_bundle(tmp_path, {})
    with pytest.raises(BundleError, match="no directory"):
        write_bundle(tmp_path / "missing" / "e.tgz", {})
