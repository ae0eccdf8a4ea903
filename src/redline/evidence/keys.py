"""Ed25519 keys for signing a run's chain head, so a verifier elsewhere can trust it."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redline.core.errors import RedlineError, UsageError
from redline.store.audit import canonical

DEFAULT_KEY = Path(".redline") / "keys" / "redline_ed25519"


def public_path(private: Path) -> Path:
    return private.with_name(private.name + ".pub")


def key_id(public_pem: str) -> str:
    """A short, stable name for a public key: SHA-256 of its raw bytes."""
    raw = load_public_pem(public_pem).public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write a new file beside `path` with `mode` from the start, then rename it over `path`:
    never a partial key, never a link followed, never the old file's permissions kept."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def init_keys(path: Path, force: bool = False, make_parents: bool = True) -> tuple[Path, Path]:
    """Write a new private key (mode 0600) and its public key beside it, each atomically;
    an existing file or symlink at either path is replaced, not written through."""
    pub = public_path(path)
    for p in (path, pub):
        if p.is_dir() and not p.is_symlink():
            raise UsageError(f"{p} is a directory; give the key's file name")
    if os.path.lexists(path) and not force:
        raise UsageError(f"{path} already exists; pass --force to replace it")
    if not path.parent.is_dir():
        if not make_parents or (path.parent.exists() or path.parent.is_symlink()):
            raise UsageError(f"no directory {path.parent} for the key {path.name}; "
                             "create it first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {path.parent}: {exc.strerror}") from exc
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        _write_atomic(path, pem, 0o600)
        _write_atomic(pub, public, 0o644)
    except OSError as exc:
        raise UsageError(f"cannot write the key {path}: {exc.strerror}") from exc
    return path, pub


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise UsageError(f"no signing key at {path}; create one with `redline keys init`") from exc
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: not an Ed25519 key")
    return key


def load_public_pem(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise UsageError(f"not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError("not an Ed25519 public key")
    return key


def read_public(path: Path) -> str:
    try:
        pem = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read public key {path}: {exc.strerror}") from exc
    load_public_pem(pem)
    return pem


def head_message(run_id: str, seq: int, head: str) -> bytes:
    return canonical({"redline_chain_head": 1, "run_id": run_id, "seq": seq, "hash": head})


@dataclass(frozen=True)
class Signature:
    seq: int
    hash: str
    key_id: str
    public_key: str
    signature: str


def public_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign_head(key: Ed25519PrivateKey, run_id: str, seq: int, head: str) -> Signature:
    pem = public_pem(key)
    sig = key.sign(head_message(run_id, seq, head))
    return Signature(seq, head, key_id(pem), pem, base64.b64encode(sig).decode())


def check_signature_message(public_pem: str, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        load_public_pem(public_pem).verify(raw, message)
    except (InvalidSignature, ValueError):
        return False
    except RedlineError:
        return False
    return True


def check_signature(public_pem: str, run_id: str, seq: int, head: str, signature: str) -> bool:
    return check_signature_message(public_pem, head_message(run_id, seq, head), signature)
