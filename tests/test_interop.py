"""redline's OpenAI target against real servers: its own `redline serve`, and a third party's
(`transformers serve` on a converted copy of the bundled model)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import LoadedModel

SUITE = "bc-haiku-*"  # two benign attempts: any working chat endpoint answers them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy after {timeout_s}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def redline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=600)


def scan_report(tmp_path: Path, spec: str | None, *extra: str) -> dict:
    target = ("-t", spec) if spec else ()
    proc = redline("scan", *target, *extra, "--suite", SUITE, "-c", "2", "--no-progress",
                   "--db", "r.db", "--out", "out", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    (run_dir,) = (tmp_path / "out").iterdir()
    return json.loads((run_dir / "report.json").read_text())


@pytest.fixture
def redline_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "redline", "serve",
                             "python:redline.plugins.targets.toys:echo", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/v1/models", proc, 60)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)


def test_redline_serve_is_openai_compatible_and_loopback_only(redline_server: str,
                                                              tmp_path: Path) -> None:
    reply = httpx.post(f"{redline_server}/chat/completions", json={
        "model": "x", "messages": [{"role": "user", "content": "ping <b>"}]}, timeout=10)
    body = reply.json()
    assert reply.status_code == 200 and body["choices"][0]["message"]["content"] == "ping <b>"
    assert body["object"] == "chat.completion"
    bad = httpx.post(f"{redline_server}/chat/completions", json={"messages": "nope"}, timeout=10)
    assert bad.status_code == 400
    report = scan_report(tmp_path, f"openai:{redline_server}#echo")
    assert report["summary"]["total"]["attempts"] == 2
    assert report["summary"]["total"]["errors"] == 0
    refused = redline("serve", "echo", "--host", "0.0.0.0", cwd=tmp_path)
    assert refused.returncode == 2 and "loopback" in refused.stderr


@pytest.fixture(scope="module")
def converted_model(smollm2: LoadedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled GGUF (as redline loads it, de-quantised) saved as a plain checkpoint."""
    out = tmp_path_factory.mktemp("smollm2-hf")
    model, config = smollm2.model, smollm2.model.config
    quantizer, quantization = model.hf_quantizer, config.__dict__.pop("quantization_config", None)
    model.hf_quantizer = None  # a de-quantised copy is a plain checkpoint; restored below
    try:
        model.save_pretrained(out)
    finally:
        model.hf_quantizer = quantizer
        if quantization is not None:
            config.quantization_config = quantization
    smollm2.tokenizer.save_pretrained(out)
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()
    return out


@pytest.mark.slow
def test_openai_target_against_transformers_serve(converted_model: Path, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("transformers")
    if not cli.exists():
        pytest.skip("transformers CLI not installed")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}
    proc = subprocess.Popen([str(cli), "serve", str(converted_model), "--host", "127.0.0.1",
                             "--port", str(port), "--device", "cpu"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", proc, 180)
        config = tmp_path / "redline.yaml"
        config.write_text(json.dumps({"target": {
            "kind": "openai", "base_url": f"http://127.0.0.1:{port}/v1",
            "model": str(converted_model), "max_tokens": 24, "timeout_s": 300}}))
        report = scan_report(tmp_path, None, "--config", str(config))
    finally:
        stop(proc)
    total = report["summary"]["total"]
    assert total["attempts"] == 2 and total["errors"] == 0, report["summary"]
    with sqlite3.connect(tmp_path / "r.db") as db:
        rows = [json.loads(r) for (r,) in db.execute("SELECT responses FROM results")]
    texts = [turn["text"] for row in rows for turn in row]
    assert len(texts) == 2 and all(t and t.strip() for t in texts)
