"""Trusted time for a signed chain head: RFC 3161 time-stamp tokens.

`redline sign --tsa URL` sends the SHA-256 of the signed head message (run id, position and
hash) to a time-stamping authority and stores the token it returns. `verify --tsa-cert FILE`
checks each token: its CMS signature against the TSA's certificate, the signed
message-digest attribute against the token's TSTInfo, and the message imprint against the
head; it reports the TSA's genTime. A key holder who rewrites a run and signs it again
cannot get a token dated before the rewrite.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from redline.core.errors import RedlineError, UsageError
from redline.evidence.keys import head_message

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
TIMEOUT_S = 30.0


class Reply(core.Sequence):
    """TimeStampResp as RFC 3161 defines it: the token is absent when the TSA refuses
    (asn1crypto's own model makes it mandatory)."""

    _fields = [("status", tsp.PKIStatusInfo),
               ("time_stamp_token", cms.ContentInfo, {"optional": True})]


class TimestampError(RedlineError):
    """The TSA could not be reached or gave no usable token."""


def imprint(run_id: str, seq: int, head: str) -> bytes:
    """What is time-stamped: SHA-256 of the same message the Ed25519 signature covers."""
    return hashlib.sha256(head_message(run_id, seq, head)).digest()


def build_request(digest: bytes, nonce: int) -> bytes:
    return tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
        "nonce": nonce, "cert_req": True}).dump()


def _post(url: str, body: bytes) -> Any:
    """One POST through redline's own HTTP client (the one client of the package)."""
    import asyncio

    from redline.plugins.targets.http_client import HttpClient

    async def go() -> Any:
        client = HttpClient(timeout_s=TIMEOUT_S, headers={
            "content-type": "application/timestamp-query",
            "accept": "application/timestamp-reply"})
        try:
            return await client.request("POST", url, content=body)
        finally:
            await client.aclose()

    return asyncio.run(go())


def request_token(url: str, digest: bytes) -> bytes:
    """Ask the TSA at `url` for a token over `digest`; returns the token's DER."""
    from redline.plugins.targets.http_client import HTTPError

    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--tsa must be an http(s) URL, got {url!r}")
    nonce = secrets.randbits(63)
    try:
        resp = _post(url, build_request(digest, nonce))
    except (HTTPError, OSError, ValueError) as exc:
        raise TimestampError(f"time-stamping authority {url}: {exc}") from exc
    if resp.status_code != 200:
        raise TimestampError(f"time-stamping authority {url}: HTTP {resp.status_code}")
    try:
        reply = Reply.load(resp.content)
        status = reply["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = reply["status"]["status_string"].native
            raise TimestampError(f"time-stamping authority {url} refused: {status} "
                                 f"{' '.join(text or [])}".rstrip())
        token = reply["time_stamp_token"]
        info = tst_info(token)
        got_digest = info["message_imprint"]["hashed_message"].native
        got_nonce = info["nonce"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"time-stamping authority {url}: unreadable reply ({exc})") from exc
    if got_digest != digest or got_nonce != nonce:
        raise TimestampError(f"time-stamping authority {url}: the token is for another "
                             "request (imprint or nonce differs)")
    return token.dump()


def tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    signed = token["content"]
    eci = signed["encap_content_info"]
    if token["content_type"].native != "signed_data" or eci["content_type"].native != "tst_info":
        raise ValueError("not an RFC 3161 time-stamp token")
    return tsp.TSTInfo.load(eci["content"].contents)


@dataclass(frozen=True)
class TimestampCheck:
    seq: int
    ok: bool
    gen_time: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ok": self.ok, "gen_time": self.gen_time, "reason": self.reason}


def _verify_signature(cert: x509.Certificate, signature: bytes, data: bytes,
                      digest: str, algorithm: str) -> None:
    key = cert.public_key()
    hash_cls = HASHES.get(digest)
    if hash_cls is None:
        raise InvalidSignature(f"unsupported digest {digest}")
    if isinstance(key, rsa.RSAPublicKey):
        if algorithm == "rsassa_pss":
            key.verify(signature, data, padding.PSS(padding.MGF1(hash_cls()),
                                                     padding.PSS.AUTO), hash_cls())
        else:
            key.verify(signature, data, padding.PKCS1v15(), hash_cls())
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hash_cls()))
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    else:
        raise InvalidSignature(f"unsupported TSA key type {type(key).__name__}")


def check_token(token_der: bytes, expected: bytes, cert: x509.Certificate | None,
                seq: int) -> TimestampCheck:
    """Check one token over `expected`; with `cert`, also its signature by that TSA."""
    try:
        token = cms.ContentInfo.load(token_der)
        info = tst_info(token)
        gen: datetime = info["gen_time"].native
        gen_time = gen.isoformat().replace("+00:00", "Z")
        mi = info["message_imprint"]
        if mi["hash_algorithm"]["algorithm"].native != "sha256" or (
                mi["hashed_message"].native != expected):
            return TimestampCheck(seq, False, gen_time, "token is for another head (message "
                                  "imprint differs)")
        if cert is None:
            return TimestampCheck(seq, True, gen_time, "imprint matches; TSA signature not "
                                  "checked (give --tsa-cert)")
        signers = token["content"]["signer_infos"]
        if len(signers) != 1:
            return TimestampCheck(seq, False, gen_time, "token must have exactly one signer")
        signer = signers[0]
        attrs = signer["signed_attrs"]
        found = {a["type"].native: a["values"][0].native for a in attrs}
        digest = signer["digest_algorithm"]["algorithm"].native
        raw_info = token["content"]["encap_content_info"]["content"].contents
        if found.get("content_type") != "tst_info" or found.get("message_digest") != (
                hashlib.new(digest, raw_info).digest()):
            return TimestampCheck(seq, False, gen_time, "token content does not match its "
                                  "signed digest (altered)")
        signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over as a SET, not [0] IMPLICIT
        _verify_signature(cert, signer["signature"].native, signed_bytes, digest,
                          signer["signature_algorithm"]["algorithm"].native)
    except InvalidSignature as exc:
        return TimestampCheck(seq, False, None, f"bad TSA signature {exc}".strip())
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return TimestampCheck(seq, False, None, f"unreadable time-stamp token ({exc})")
    return TimestampCheck(seq, True, gen_time, "valid")


def load_tsa_cert(pem: bytes, where: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise UsageError(f"{where}: not a PEM X.509 certificate ({exc})") from exc


def encode(token: bytes) -> str:
    return base64.b64encode(token).decode()


def decode(token: str) -> bytes:
    return base64.b64decode(token, validate=True)

