"""redline against a GPU-served model: its throughput as a fraction of the server's raw throughput.

    # a server you started (vLLM, `transformers serve`, TGI, llama.cpp ... OpenAI-compatible):
    python bench/gpu_target.py --base-url http://127.0.0.1:8000/v1 --model MODEL
    # or let the script start one and stop it afterwards:
    python bench/gpu_target.py --model Qwen/Qwen2.5-0.5B-Instruct \\
        --server-cmd "vllm serve {model} --port {port}"
    python bench/gpu_target.py --model MODEL --server-cmd "transformers serve --port {port}"

Without a GPU (no `nvidia-smi`) and without --base-url it prints why and exits 0 having
measured nothing. With one: the same N prompts at the same concurrency and max_tokens go
(1) through a plain asyncio load loop that only POSTs chat completions and reads the replies
(the server's raw throughput), then (2) through `redline scan` in-process with an openai:
target (engine, judging, store and reports included), alternating `--repeats` times. The
figure is redline's requests/s over the plain loop's, measured in the same run.
Writes bench/results/gpu_target.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, prompts, scenario_yaml, write_result


def gpu_description() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    proc = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total",
                           "--format=csv,noheader"], capture_output=True, text=True)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"server at {base_url} not ready after {timeout:.0f}s")


# --- the plain load loop: raw HTTP/1.1 over asyncio streams, nothing else ----------------------

async def plain_post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                     path: str, body: bytes) -> dict[str, Any]:
    writer.write(f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
                 f"content-length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    length = None
    chunked = "transfer-encoding: chunked" in head
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            length = int(line.split(":")[1])
    if length is not None:
        data = await reader.readexactly(length)
    elif chunked:
        parts = []
        while (size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        data = b"".join(parts)
    else:
        data = await reader.read()
    return json.loads(data)


async def plain_loop(base_url: str, model: str, items: list[str], concurrency: int,
                     max_tokens: int) -> dict[str, float]:
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path.rstrip("/") + "/chat/completions"
    queue = iter(items)
    tokens = 0

    async def worker() -> None:
        nonlocal tokens
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for prompt in queue:
                body = json.dumps({"model": model, "temperature": 0.0, "max_tokens": max_tokens,
                                   "messages": [{"role": "user", "content": prompt}]}).encode()
                reply = await plain_post(reader, writer, f"{host}:{port}", path, body)
                tokens += (reply.get("usage") or {}).get("completion_tokens") or 0
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {"requests": len(items), "wall_s": wall, "per_s": len(items) / wall,
            "tokens_per_s": tokens / wall}


# --- redline ---------------------------------------------------------------------------------

def redline_run(base_url: str, model: str, items: list[str], concurrency: int,
                max_tokens: int, base: Path) -> dict[str, float]:
    from redline.core.config import ScanConfig, parse_target
    from redline.core.scan import scan

    shutil.rmtree(base, ignore_errors=True)
    suite = base / "suite"
    suite.mkdir(parents=True)
    doc = json.loads(scenario_yaml("bench-gpu", items, [["identity"]]))
    (suite / "gpu.yaml").write_text(json.dumps(doc))
    target = parse_target(f"openai:{base_url}#{model}").model_copy(
        update={"max_tokens": max_tokens, "api_key_env": None})
    cfg = ScanConfig(target=target, suite=str(suite), concurrency=concurrency,
                     db=str(base / "r.db"), out=str(base / "out"), timeout_s=600,
                     max_error_rate=1.0)
    started = time.perf_counter()
    result = scan(cfg)
    wall = time.perf_counter() - started
    t = result.summary.total
    return {"requests": t.attempts, "errors": t.errors, "wall_s": wall,
            "per_s": t.attempts / wall, "tokens_per_s": result.summary.tokens / wall}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", help="an OpenAI-compatible server already running")
    ap.add_argument("--server-cmd", help="command that starts one; {model} and {port} filled in")
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", type=int, default=512)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--ready-timeout", type=float, default=900)
    args = ap.parse_args()

    gpu = gpu_description()
    if gpu is None and not args.base_url:
        print("skipped: no GPU here (nvidia-smi not found) and no --base-url given; "
              "nothing measured")
        return 0
    server = None
    base_url = args.base_url
    if base_url is None:
        if not args.server_cmd:
            raise SystemExit("give --base-url or --server-cmd")
        port = free_port()
        cmd = args.server_cmd.format(model=args.model, port=port)
        server = subprocess.Popen(shlex.split(cmd), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=os.environ.copy())
        base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_ready(base_url, args.ready_timeout)
        items = prompts(args.prompts)
        asyncio.run(plain_loop(base_url, args.model, items[:args.concurrency],
                               args.concurrency, args.max_tokens))  # warm-up
        plain, red = [], []
        for i in range(args.repeats):
            plain.append(asyncio.run(plain_loop(base_url, args.model, items, args.concurrency,
                                                args.max_tokens)))
            red.append(redline_run(base_url, args.model, items, args.concurrency,
                                   args.max_tokens, WORK / f"gpu-{i}"))
            print(f"round {i}: plain {plain[-1]['per_s']:.1f} req/s, redline "
                  f"{red[-1]['per_s']:.1f} att/s ({red[-1]['errors']} errors)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    p = statistics.median(r["per_s"] for r in plain)
    r = statistics.median(x["per_s"] for x in red)
    print(f"server raw {p:.1f} req/s; redline {r:.1f} att/s = {r / p:.1%} of raw "
          f"(concurrency {args.concurrency}, max_tokens {args.max_tokens}, GPU {gpu})")
    write_result("gpu_target", {
        "command": " ".join(["python", "bench/gpu_target.py", *sys.argv[1:]]),
        "gpu": gpu, "model": args.model, "base_url": base_url, "prompts": args.prompts,
        "concurrency": args.concurrency, "max_tokens": args.max_tokens,
        "plain_loop": plain, "redline": red, "plain_per_s": round(p, 2),
        "redline_per_s": round(r, 2), "fraction_of_raw": round(r / p, 4),
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
