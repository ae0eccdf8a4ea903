"""redline against a real loopback HTTP target with 100 ms latency, at 1/16/64/256 in flight.

    python bench/http_latency.py [--latency 0.1] [--levels 1,16,64,256] [--seconds 10]

The target is a minimal asyncio HTTP/1.1 server (keep-alive, JSON in and out) in its own
process on 127.0.0.1 that sleeps `latency` before it answers, so one in-flight request can
do at most 1/latency requests a second and the ideal rate is concurrency / latency.
redline runs in another fresh process (redline.core.scan.scan with an http: target, store, judging
and reports included) and the figure is its attempts/s, counted from the first request to the
last result, as a fraction of that ideal; plus the peak RSS of the redline process (wait4).
For reference, a plain load loop (raw HTTP over asyncio streams, no judging, no store) runs
against the same server at the same concurrency right after: what this machine allows.
Goal: >= 90% of ideal at 64 in flight with < 200 MB RSS. Writes bench/results/http_latency.json.

    python bench/http_latency.py --clients redline,httpx,aiohttp [--levels 64] [--seconds 10]

compares HTTP client libraries instead, each in its own fresh process against the same server:
N workers share one client and post JSON as fast as replies come back, with no scan around
them. Per client: requests/s, CPU ms per request (the client process's user+system time over
the load loop only) and the fraction of ideal. Writes bench/results/http_clients.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, make_suite, redline_python, run_child, write_result

GOAL_FRACTION = 0.90
GOAL_RSS_MB = 200.0
GOAL_LEVEL = 64


# --- the target server (run with --serve) -----------------------------------------------------

async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b"{}"
            prompt = str(json.loads(body).get("prompt", ""))
            await asyncio.sleep(latency)
            reply = json.dumps({"response": f"You said: {prompt[:200]}"}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                         b"content-length: " + str(len(reply)).encode() + b"\r\n\r\n" + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(latency: float) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, latency), "127.0.0.1", 0,
                                        backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


# --- the redline side (run with --client, in a fresh process) ---------------------------------

def client(url: str, suite: str, concurrency: int, base: str) -> None:
    from redline.core.config import ScanConfig, parse_target
    from redline.core.scan import scan

    marks: dict[str, float] = {}

    def on_start(run_id: str, planned: int) -> None:
        marks["start"] = time.perf_counter()

    def on_result(result: object) -> None:
        marks["last"] = time.perf_counter()

    cfg = ScanConfig(target=parse_target(f"http:{url}"), suite=suite, concurrency=concurrency,
                     db=f"{base}/r.db", out=f"{base}/out", timeout_s=30, retries=0,
                     max_error_rate=1.0)
    result = scan(cfg, on_result=on_result, on_start=on_start)
    t = result.summary.total
    print(json.dumps({"attempts": t.attempts, "errors": t.errors,
                      "run_s": marks["last"] - marks["start"], "wall_s": result.wall_s}))


# --- the reference: a plain load loop, raw HTTP over asyncio streams, nothing else --------------

async def plain_loop(url: str, concurrency: int, requests: int) -> float:
    """Requests/s a bare client gets from the same server: what the machine allows."""
    host, port = "127.0.0.1", int(url.split(":")[2].split("/")[0])
    todo = iter(range(requests))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        for i in todo:
            body = json.dumps({"prompt": f"plain {i}"}).encode()
            writer.write(b"POST /chat HTTP/1.1\r\nhost: x\r\ncontent-length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            json.loads(await reader.readexactly(length))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


# --- one HTTP client library alone (run with --load CLIENT, in a fresh process) ---------------

async def _load(kind: str, url: str, concurrency: int, requests: int) -> None:
    todo = iter(range(requests))
    if kind == "redline":
        from redline.plugins.targets.http_client import HttpClient

        client = HttpClient(max_connections=concurrency)

        async def post(body: dict) -> object:
            return (await client.request("POST", url, json=body)).json()

        close = client.aclose
    elif kind == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=concurrency,
                              max_keepalive_connections=concurrency)
        hx = httpx.AsyncClient(limits=limits, trust_env=False, timeout=60)

        async def post(body: dict) -> object:
            return (await hx.post(url, json=body)).json()

        close = hx.aclose
    elif kind == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency), trust_env=False)

        async def post(body: dict) -> object:
            async with session.post(url, json=body) as resp:
                return await resp.json()

        close = session.close
    else:
        raise SystemExit(f"unknown client {kind!r}")

    async def worker() -> None:
        for i in todo:
            await post({"prompt": f"load {i}"})

    await asyncio.gather(*(post({"prompt": "warm"}) for _ in range(concurrency)))
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await close()
    print(json.dumps({"requests": requests, "wall_s": wall, "cpu_s": cpu}))


def measure_client(kind: str, url: str, concurrency: int, latency: float,
                   seconds: float) -> dict:
    ideal = concurrency / latency
    requests = max(50, int(ideal * seconds))
    run = run_child([redline_python(), __file__, "--load", kind, "--client", url,
                     "--concurrency", str(concurrency), "--requests", str(requests)],
                    timeout=seconds * 20 + 120)
    if run["rc"] != 0:
        raise SystemExit(f"{kind} load loop failed at {concurrency}: {run['stderr'][-2000:]}")
    out = json.loads(run["stdout"].strip().splitlines()[-1])
    rate = out["requests"] / out["wall_s"]
    return {"client": kind, "concurrency": concurrency, "requests": out["requests"],
            "requests_per_s": round(rate, 1), "ideal_per_s": round(ideal, 1),
            "fraction_of_ideal": round(rate / ideal, 4),
            "cpu_ms_per_request": round(1000 * out["cpu_s"] / out["requests"], 3),
            "peak_rss_mb": round(run["peak_rss_mb"], 1)}


def compare_clients(args: argparse.Namespace) -> int:
    server, url = start_server(args.latency)
    rows = []
    try:
        for level in (int(x) for x in args.levels.split(",")):
            for kind in args.clients.split(","):
                row = measure_client(kind, url, level, args.latency, args.seconds)
                rows.append(row)
                print(f"{kind:>8} at {level:>4} in flight: {row['requests_per_s']:8.1f} req/s "
                      f"of ideal {row['ideal_per_s']:7.1f} = {row['fraction_of_ideal']:6.1%}, "
                      f"{row['cpu_ms_per_request']:.3f} ms CPU/request, "
                      f"peak RSS {row['peak_rss_mb']:.1f} MB", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    write_result("http_clients", {
        "command": " ".join(["python", "bench/http_latency.py", *sys.argv[1:]]),
        "latency_s": args.latency, "cpu_count": os.cpu_count(), "rows": rows})
    return 0


# --- the driver --------------------------------------------------------------------------------

def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--latency", str(latency)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}/chat"


def measure(url: str, concurrency: int, latency: float, seconds: float) -> dict:
    ideal = concurrency / latency
    planned = max(50, int(ideal * seconds) // 10 * 10)
    base = WORK / f"http-{concurrency}"
    shutil.rmtree(base, ignore_errors=True)
    planned = make_suite(base / "suite", planned)
    run = run_child([redline_python(), __file__, "--client", url, "--suite",
                     str(base / "suite"), "--concurrency", str(concurrency), "--base",
                     str(base)], timeout=seconds * 20 + 120)
    shutil.rmtree(base, ignore_errors=True)
    if run["rc"] != 0:
        raise SystemExit(f"redline client failed at {concurrency}: {run['stderr'][-2000:]}")
    out = json.loads(run["stdout"].strip().splitlines()[-1])
    rate = out["attempts"] / out["run_s"]
    plain = asyncio.run(plain_loop(url, concurrency, min(planned, max(50, int(ideal * 3)))))
    return {"concurrency": concurrency, "attempts": out["attempts"], "errors": out["errors"],
            "run_s": round(out["run_s"], 2), "ideal_per_s": round(ideal, 1),
            "attempts_per_s": round(rate, 1), "fraction_of_ideal": round(rate / ideal, 4),
            "plain_loop_per_s": round(plain, 1), "fraction_of_plain": round(rate / plain, 4),
            "peak_rss_mb": round(run["peak_rss_mb"], 1), "cpu_s": round(run["cpu_s"], 2),
            "cpu_ms_per_attempt": round(1000 * run["cpu_s"] / out["attempts"], 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--levels", default="1,16,64,256")
    ap.add_argument("--seconds", type=float, default=10.0, help="target run time per level")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--suite", help=argparse.SUPPRESS)
    ap.add_argument("--concurrency", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--clients", help="compare these HTTP clients (redline,httpx,aiohttp)")
    ap.add_argument("--load", help=argparse.SUPPRESS)
    ap.add_argument("--requests", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--result-name", default="http_latency",
                    help="results file name (bench/results/NAME.json)")
    args = ap.parse_args()
    if args.serve:
        asyncio.run(serve(args.latency))
        return 0
    if args.load:
        asyncio.run(_load(args.load, args.client, args.concurrency, args.requests))
        return 0
    if args.clients:
        return compare_clients(args)
    if args.client:
        client(args.client, args.suite, args.concurrency, args.base)
        return 0

    server, url = start_server(args.latency)
    rows = []
    try:
        for level in (int(x) for x in args.levels.split(",")):
            row = measure(url, level, args.latency, args.seconds)
            rows.append(row)
            print(f"{level:>4} in flight: {row['attempts_per_s']:8.1f} att/s of ideal "
                  f"{row['ideal_per_s']:7.1f} = {row['fraction_of_ideal']:6.1%} "
                  f"(plain loop {row['plain_loop_per_s']:7.1f}/s: redline "
                  f"{row['fraction_of_plain']:6.1%} of it), "
                  f"peak RSS {row['peak_rss_mb']:6.1f} MB, "
                  f"{row['cpu_ms_per_attempt']:.2f} ms CPU/attempt, {row['errors']} errors")
    finally:
        server.terminate()
        server.wait(timeout=10)
    at_goal = next((r for r in rows if r["concurrency"] == GOAL_LEVEL), None)
    met = bool(at_goal and at_goal["fraction_of_ideal"] >= GOAL_FRACTION
               and at_goal["peak_rss_mb"] < GOAL_RSS_MB)
    if at_goal:
        print(f"goal (>= {GOAL_FRACTION:.0%} of ideal at {GOAL_LEVEL} with < "
              f"{GOAL_RSS_MB:.0f} MB): {'met' if met else 'NOT met'}")
    write_result(args.result_name, {
        "command": " ".join(["python", "bench/http_latency.py", *sys.argv[1:]]),
        "latency_s": args.latency, "cpu_count": os.cpu_count(), "levels": rows,
        "goal": f">= {GOAL_FRACTION:.0%} of ideal at {GOAL_LEVEL} in flight, "
                f"peak RSS < {GOAL_RSS_MB:.0f} MB",
        "goal_met": met,
    })
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
