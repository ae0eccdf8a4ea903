"""Secrets never reach evidence (issue 17 item 8): the values of every configured credential
(header values, the `api_key_env` key, URL userinfo and query keys) are masked in the SQLite
file, the reports, the gate files, exported bundles (plain and --redact) and the terminal,
even when the target reflects them in a 5xx error body.

A real loopback HTTP server that answers 500 with the request line and every header it got.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from redline.evidence.credentials import MASK, Masker, config_secrets, redact_url, redacted_config

LITERAL = "LITERAL-CRED-998877"  # under a header name no pattern would call secret
ENV_TOKEN = "ENV-TOKEN-556677"
API_KEY = "sk-APIKEY-443322"
URL_PASSWORD = "pa55word-xyz"
QUERY_KEY = "QKEY-123456"
SECRETS = (LITERAL, ENV_TOKEN, API_KEY, URL_PASSWORD, QUERY_KEY)


class Reflect(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        body = (f"upstream rejected {self.requestline}\n{self.headers}\n"
                f"debug: key={API_KEY} pass={URL_PASSWORD} q={QUERY_KEY}").encode()
        self.send_response(500)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def reflecting_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Reflect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_masker_and_stored_config() -> None:
    cfg = {"target": {"kind": "openai", "model": "m", "api_key_env": "RL_TEST_KEY",
                      "base_url": f"http://u:{URL_PASSWORD}@h/v1?api_key={QUERY_KEY}&x=1",
                      "headers": {"X-Client-Credential": LITERAL, "X-Env": "${RL_TEST_ENV}",
                                  "X-Trace": "trace-7"},
                      "safe_headers": ["X-Trace"]}}
    env = {"RL_TEST_KEY": API_KEY, "RL_TEST_ENV": f"Bearer {ENV_TOKEN}"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        secrets = config_secrets(cfg)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
    assert set(SECRETS) <= set(secrets) and "trace-7" not in secrets
    mask = Masker.of(secrets)
    assert mask.text(f"x {LITERAL} y {ENV_TOKEN}") == f"x {MASK} y {MASK}"
    stored = redacted_config(cfg)["target"]
    assert stored["headers"] == {"X-Client-Credential": MASK, "X-Env": "${RL_TEST_ENV}",
                                 "X-Trace": "trace-7"}
    assert URL_PASSWORD not in stored["base_url"] and QUERY_KEY not in stored["base_url"]
    assert "x=1" in stored["base_url"]
    assert redact_url("http://h/p?a=1") == "http://h/p?a=1"


@pytest.mark.parametrize("kind", ["openai", "http"])
def test_no_configured_secret_reaches_db_reports_gate_bundles_or_terminal(
        tmp_path: Path, kind: str) -> None:
    with reflecting_server() as port:
        url = f"http://user:{URL_PASSWORD}@127.0.0.1:{port}/v1?api_key={QUERY_KEY}"
        block = (f"  kind: openai\n  base_url: \"{url}\"\n  model: m\n"
                 f"  api_key_env: RL_TEST_KEY\n" if kind == "openai" else
                 f"  kind: http\n  url: \"{url}\"\n")
        (tmp_path / "cfg.yaml").write_text(
            f"target:\n{block}"
            f"  headers: {{X-Client-Credential: {LITERAL},"
            f" Authorization: \"Bearer ${{RL_ENV}}\""
            + (", X-Api-Key: \"${RL_TEST_KEY}\"" if kind == "http" else "") + "}\n"
            "suite: jb-dan-persona\nretries: 0\nconcurrency: 1\n")
        env = {**os.environ, "RL_TEST_KEY": API_KEY, "RL_ENV": ENV_TOKEN}

        def redline(*args: str) -> str:
            proc = subprocess.run([sys.executable, "-m", "redline", *args], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=120)
            assert "Traceback" not in proc.stderr, proc.stderr
            return proc.stdout + proc.stderr

        terminal = redline("scan", "--config", "cfg.yaml", "--db", "r.db", "--out", "out",
                           "--no-progress")
        terminal += redline("gate", "latest", "--db", "r.db", "-o", "gate")
        terminal += redline("runs", "show", "latest", "--db", "r.db")
        terminal += redline("export", "latest", "--db", "r.db", "-o", "full.tgz")
        terminal += redline("export", "latest", "--db", "r.db", "-o", "red.tgz", "--redact")
    assert "HTTP 500" in terminal or "500" in (tmp_path / "r.db").read_bytes().decode(
        "utf-8", "replace")
    evidence = {p: p.read_bytes() for p in tmp_path.rglob("*")
                if p.is_file() and p.name != "cfg.yaml"}
    for bundle in ("full.tgz", "red.tgz"):
        with tarfile.open(tmp_path / bundle) as tar:
            for member in tar.getmembers():
                data = tar.extractfile(member)
                if data is not None:
                    evidence[Path(bundle) / member.name] = data.read()
    assert any(p.name == "r.db" for p in evidence) and any(p.suffix == ".html" for p in evidence)
    for secret in SECRETS:
        assert secret not in terminal, secret
        for path, data in evidence.items():
            assert secret.encode() not in data, (secret, path)
    stored = b"".join(data for path, data in evidence.items() if path.name.startswith("r.db"))
    assert MASK.encode() in stored
