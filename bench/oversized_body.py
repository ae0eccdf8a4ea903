"""Peak RSS of a scan whose target answers every request with an oversized body.

    python bench/oversized_body.py [--concurrency 32] [--attempts 96] [--body-mb 40]

The target (its own process, 127.0.0.1) answers each request with a close-delimited body of
`--body-mb` MB: no content-length, so a client learns the size only by reading it. redline
runs `scan()` in a fresh process with an http: target at `--concurrency` in flight, twice:
once with `max_response_bytes` at 32 MiB (the client's fixed limit before the cap became a
target setting) and once at the default cap, and the figure is each run's peak RSS
(wait4) and their ratio. Every attempt ends as an error naming the cap (and the run aborts
after the engine's 25 errors in a row, with every worker's request in flight by then).

`--only default` with PYTHONPATH pointing at an older tree measures that tree's own default
(the field is not set). Writes bench/results/oversized_body.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, make_suite, redline_python, run_child, write_result

OLD_LIMIT = 32 << 20
CHUNK = b"x" * (1 << 16)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n")
        sent = 0
        while sent < size:
            writer.write(CHUNK)
            sent += len(CHUNK)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def serve(size: int) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, size), "127.0.0.1", 0,
                                        backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def client(url: str, suite: str, concurrency: int, base: str, cap: int) -> None:
    from redline.core.config import ScanConfig, parse_target
    from redline.core.scan import scan

    target = parse_target(f"http:{url}")
    if cap:
        target = target.model_copy(update={"max_response_bytes": cap})
    cfg = ScanConfig(target=target, suite=suite, concurrency=concurrency, db=f"{base}/r.db",
                     out=f"{base}/out", timeout_s=120, retries=0, max_error_rate=1.0)
    result = scan(cfg)
    t = result.summary.total
    print(json.dumps({"attempts": t.attempts, "errors": t.errors, "wall_s": result.wall_s}))


def measure(url: str, label: str, cap: int, concurrency: int, attempts: int) -> dict:
    base = WORK / f"oversized-{label}"
    shutil.rmtree(base, ignore_errors=True)
    planned = make_suite(base / "suite", attempts)
    run = run_child([redline_python(), __file__, "--client", url, "--suite",
                     str(base / "suite"), "--concurrency", str(concurrency), "--base",
                     str(base), "--cap", str(cap)], timeout=900)
    shutil.rmtree(base, ignore_errors=True)
    if run["rc"] != 0:
        raise SystemExit(f"redline client failed ({label}): {run['stderr'][-2000:]}")
    out = json.loads(run["stdout"].strip().splitlines()[-1])
    # the engine aborts after 25 errors in a row with no success; all 32 were in flight by then
    assert out["errors"] == out["attempts"] >= min(planned, 25), out
    return {"label": label, "max_response_bytes": cap or "code default",
            "attempts": out["attempts"], "errors": out["errors"],
            "wall_s": round(out["wall_s"], 2), "peak_rss_mb": round(run["peak_rss_mb"], 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--attempts", type=int, default=96)
    ap.add_argument("--body-mb", type=float, default=40.0)
    ap.add_argument("--only", choices=["old-limit", "default"])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--suite", help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--cap", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    size = int(args.body_mb * (1 << 20))
    if args.serve:
        asyncio.run(serve(size))
        return 0
    if args.client:
        client(args.client, args.suite, args.concurrency, args.base, args.cap)
        return 0
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--body-mb", str(args.body_mb)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = f"http://127.0.0.1:{int(proc.stdout.readline())}/chat"
    runs = [("old-limit", OLD_LIMIT), ("default", 0)]
    rows = []
    try:
        for label, cap in runs:
            if args.only in (None, label):
                rows.append(measure(url, label, cap, args.concurrency, args.attempts))
                r = rows[-1]
                print(f"{label:>9} (max_response_bytes {r['max_response_bytes']}): peak RSS "
                      f"{r['peak_rss_mb']:7.1f} MB, {r['errors']}/{r['attempts']} errors, "
                      f"{r['wall_s']:.1f}s", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if len(rows) == 2:
        ratio = rows[1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
        print(f"default cap / old limit peak RSS: {ratio:.3f}")
    write_result("oversized_body", {
        "command": " ".join(["python", "bench/oversized_body.py", *sys.argv[1:]]),
        "concurrency": args.concurrency, "body_mb": args.body_mb, "runs": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
