"""How busy the default scan keeps the bundled model, against its batched peak, in one process.

1. peak: full batches of `max_batch` demo-app prompts (the app's system prompt, distinct
   user questions) straight to the generator; generated tokens per second of wall time.
2. scan: the default `redline scan` (demo target, full catalog) in the same process; generated
   tokens per second over the scan (model load excluded), the share of the scan the model
   was generating, and the batch sizes it got.
Prints the ratio scan/peak, the peak being the mean of one measured before and one after
the scan (the load of a shared machine drifts). Needs the `local` extra; slow (minutes) on 2 cores.
    python bench/local_model_busy.py [--suite default] [--batches 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from redline.plugins.targets import local_llm


class Meter:
    """Wraps Generator._generate: tokens generated, time spent generating, batch sizes."""

    def __init__(self) -> None:
        self.tokens = 0
        self.busy_s = 0.0
        self.sizes: Counter[int] = Counter()
        self._real = local_llm.Generator._generate
        meter = self

        def generate(gen, prompts):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            out = meter._real(gen, prompts)
            meter.busy_s += time.perf_counter() - started
            meter.tokens += sum(n for _, n in out)
            meter.sizes[len(prompts)] += 1
            return out

        local_llm.Generator._generate = generate  # type: ignore[method-assign]

    def reset(self) -> None:
        self.tokens, self.busy_s, self.sizes = 0, 0.0, Counter()


async def _peak(gen: local_llm.Generator, batches: int) -> float:
    from redline.demo.data import system_prompt

    loop = asyncio.get_running_loop()
    best = 0.0
    for b in range(batches):
        jobs = [local_llm.Job(
            messages=[{"role": "system", "content": system_prompt()},
                      {"role": "user", "content": f"Question {b}-{i}: what can you help "
                       f"me with today, in about {20 + i} words?"}],
            future=loop.create_future(), loop=loop) for i in range(gen.max_batch)]
        started = time.perf_counter()
        for j in jobs:
            gen.submit(j)
        outs = [await j.future for j in jobs]
        wall = time.perf_counter() - started
        best = max(best, sum(n for _, n, _ in outs) / wall)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", default="default")
    parser.add_argument("--batches", type=int, default=2)
    args = parser.parse_args()
    from redline.core.config import ScanConfig
    from redline.core.scan import scan

    meter = Meter()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    gen = local_llm.load_generator(local_llm.bundled_model_path(), 64, 0.0, None)
    try:
        before = asyncio.run(_peak(gen, args.batches))
        meter.reset()
        with tempfile.TemporaryDirectory() as tmp:
            cfg = ScanConfig.model_validate({"suite": args.suite, "db": str(Path(tmp) / "r.db"),
                                             "out": str(Path(tmp) / "out")})
            marks: dict[str, float] = {}
            result = scan(cfg, on_start=lambda _id, _n: marks.setdefault(
                "start", time.perf_counter()))
            wall = time.perf_counter() - marks["start"]
        tokens, busy_s, sizes_seen = meter.tokens, meter.busy_s, meter.sizes
        # the peak again after the scan: on a shared machine the load drifts during a scan
        after = asyncio.run(_peak(gen, args.batches))
        meter.tokens, meter.busy_s, meter.sizes = tokens, busy_s, sizes_seen
    finally:
        gen.stop()
    peak = (before + after) / 2
    print(f"peak before the scan {before:.1f} tok/s, after {after:.1f} tok/s")
    rate = meter.tokens / wall
    sizes = ", ".join(f"{k}x{v}" for k, v in sorted(meter.sizes.items()))
    print(f"peak (batches of {gen.max_batch}, shared prefix): {peak:.1f} tok/s")
    print(f"scan {args.suite}: {result.summary.total.attempts} attempts in {wall:.1f}s "
          f"(load excluded), {meter.tokens} tokens, {rate:.1f} tok/s; model generating "
          f"{meter.busy_s / wall:.0%} of the scan; batches (size x count): {sizes}")
    print(f"scan/peak: {rate / peak:.2f}; load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
