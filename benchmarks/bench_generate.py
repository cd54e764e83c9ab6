"""Benchmark batch caption generation: concurrent vs sequential, same run, same server.

    .venv/bin/python benchmarks/bench_generate.py [--n 100] [--latency 0.3] [--workers 8]

Runs against the local fake OpenAI server (tests/fake_openai.py) with a fixed
latency per request, so the numbers measure the batching, not a network.
Target: concurrent <= 0.2x the sequential time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_openai import GOOD_KEY, FakeOpenAI, Reply  # noqa: E402

from trainmode.captions.generate import Job, generate_many  # noqa: E402
from trainmode.captions.writers.openai_writer import OpenAIWriter  # noqa: E402


def jobs(n: int) -> list[Job]:
    return [
        Job(
            {
                "schema_version": 1,
                "tempo": {"bpm": 100.0 + i % 60},
                "time_signature": "4/4",
                "tracks": [{"name": "Drums", "type": "midi", "devices": ["Drum Rack"]}],
            },
            {"genres": ["techno"]},
            key=str(i),
        )
        for i in range(n)
    ]


def run(label: str, n: int, writer: OpenAIWriter, workers: int) -> float:
    def progress(done: int, total: int, result) -> None:
        print(
            f"\r  {label}: {done}/{total}{'' if result.ok else ' (failed: ' + result.error + ')'}",
            end="" if done < total else "\n",
            flush=True,
        )

    started = time.perf_counter()
    results = generate_many(jobs(n), writer, max_workers=workers, on_progress=progress)
    elapsed = time.perf_counter() - started
    failed = sum(not r.ok for r in results)
    if failed:
        raise SystemExit(f"{failed} of {n} generations failed")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="generations per run (default 100)")
    parser.add_argument("--latency", type=float, default=0.3, help="server latency in seconds (default 0.3)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent workers (default 8)")
    args = parser.parse_args()

    with FakeOpenAI(default=Reply(latency=args.latency)) as fake:
        writer = OpenAIWriter(GOOD_KEY, base_url=fake.base_url)
        print(f"{args.n} generations, {args.latency * 1000:.0f} ms server latency")
        concurrent = run(f"concurrent ({args.workers} workers)", args.n, writer, args.workers)
        print(f"  max in flight at the server: {fake.max_in_flight}")
        sequential = run("sequential (1 worker)", args.n, writer, 1)

    ratio = concurrent / sequential
    print(f"sequential: {sequential:.2f} s ({sequential / args.n * 1000:.0f} ms per caption)")
    print(f"concurrent: {concurrent:.2f} s ({concurrent / args.n * 1000:.0f} ms per caption)")
    print(f"ratio: {ratio:.3f}x sequential (target <= 0.2x) -> {'OK' if ratio <= 0.2 else 'MISSED'}")


if __name__ == "__main__":
    main()
