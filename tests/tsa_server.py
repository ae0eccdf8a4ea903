"""A real RFC 3161 time-stamping authority on 127.0.0.1 for tests.

It answers `application/timestamp-query` POSTs with a CMS SignedData token (TSTInfo with the
request's imprint and nonce, signed attributes, ECDSA P-256 over SHA-256) from a self-signed
certificate with the critical timeStamping extended key usage, as real TSAs issue. The
genTime can be shifted (`clock`) to play a TSA that back-dates, and the path /refuse answers
with a rejection status.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def new_authority(name: str = "redline test TSA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return Authority(key, cert)


def issue(authority: Authority, request: bytes, serial: int, gen_time: datetime) -> bytes:
    """A TimeStampResp granting a token for the DER TimeStampReq `request`."""
    req = tsp.TimeStampReq.load(request)
    info = {"version": "v1", "policy": "1.3.6.1.4.1.99999.1",
            "message_imprint": req["message_imprint"], "serial_number": serial,
            "gen_time": gen_time}
    if req["nonce"].native is not None:
        info["nonce"] = req["nonce"].native
    tst_der = tsp.TSTInfo(info).dump()
    attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [hashlib.sha256(tst_der).digest()]}),
    ])
    signature = authority.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    cert = asn1_x509.Certificate.load(authority.cert.public_bytes(serialization.Encoding.DER))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": {"algorithm": "sha256"}, "signed_attrs": attrs,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"}, "signature": signature})
    signed = cms.SignedData({
        "version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info",
                               "content": core.ParsableOctetString(tst_der)},
        "certificates": [cert], "signer_infos": [signer]})
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return tsp.TimeStampResp({"status": {"status": "granted"},
                              "time_stamp_token": token}).dump()


class StatusOnly(core.Sequence):
    """A TimeStampResp without a token (asn1crypto's own model makes the token mandatory)."""

    _fields = [("status", tsp.PKIStatusInfo)]


def refusal() -> bytes:
    return StatusOnly({"status": {"status": "rejection",
                                  "status_string": ["bad request"]}}).dump()


@contextmanager
def serve_tsa(authority: Authority | None = None,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC).replace(microsecond=0)
              ) -> Iterator[tuple[str, Authority, list[bytes]]]:
    """(url, authority, requests seen); the server stops when the block ends."""
    authority = authority or new_authority()
    seen: list[bytes] = []
    serials = count(1)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            seen.append(body)
            if self.headers.get("content-type") != "application/timestamp-query":
                reply, status = b"wrong content type", 415
            elif self.path == "/refuse":
                reply, status = refusal(), 200
            else:
                reply, status = issue(authority, body, next(serials), clock()), 200
            self.send_response(status)
            self.send_header("content-type", "application/timestamp-reply")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", authority, seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
