"""Benchmark the streaming .als parser against an ElementTree DOM parse (not a test).

    .venv/bin/python benchmarks/bench_als.py [--corpus DIR] [--only NAME ...] [--mb 50] [--runs 2]

Scales EVERY corpus set to ~50 MB of uncompressed XML by repeating its tracks, then times
trainmode.sets.als.parse_als and xml.etree.ElementTree.parse on each, every run in a fresh child
process that reports its own wall time and peak RSS. Reports each set's ratio and the worst.
Targets: parser time <= 0.2x the DOM time on the worst set, parser peak RSS <= 50 MB.
Also prints the median parse time per (unscaled) corpus file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "als"
TIME_TARGET = 0.2
RSS_TARGET_MB = 50.0

# Child programs: each prints {"seconds": ..., "cpu": ..., "peak_rss_mb": ...} for its own process.
# Ratios use CPU seconds: on a shared machine wall time mostly measures the neighbours.
# Peak RSS is VmHWM from /proc: Linux carries ru_maxrss over from the parent across
# fork+exec, so getrusage would report the benchmark's own size, not the child's.
_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
{setup}
t, cpu = time.perf_counter(), time.process_time()
{run}
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
try:
    with open("/proc/self/status") as fh:
        peak_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except OSError:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({{"seconds": seconds, "cpu": cpu, "peak_rss_mb": peak_kb / 1024}}))
"""
PROGRAMS = {
    "trainmode.sets.als": ("from trainmode.sets.als import parse_als", "parse_als(sys.argv[1])"),
    "ElementTree DOM": ("import xml.etree.ElementTree as ET", "ET.parse(sys.argv[1])"),
    "python baseline": ("import trainmode.sets.als, xml.etree.ElementTree", "pass"),
}


def build_big_set(base: Path, target_mb: float, out: Path) -> int:
    """Repeat the <Tracks> content of `base` until the XML is about `target_mb` MB."""
    raw = base.read_bytes()
    xml = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    start = xml.index(b"<Tracks>") + len(b"<Tracks>")
    end = xml.index(b"</Tracks>", start)
    tracks = xml[start:end]
    copies = max(1, round((target_mb * 1e6 - (len(xml) - len(tracks))) / len(tracks)))
    with out.open("wb") as fh:
        fh.write(xml[:start])
        for _ in range(copies):
            fh.write(tracks)
        fh.write(xml[end:])
    return copies


def run_child(name: str, path: Path) -> dict:
    setup, run = PROGRAMS[name]
    code = _CHILD.format(root=str(ROOT), setup=setup, run=run)
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def best_of(name: str, path: Path, runs: int) -> dict:
    results = [run_child(name, path) for _ in range(runs)]
    return {
        "seconds": min(r["seconds"] for r in results),
        "cpu": min(r["cpu"] for r in results),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }


def corpus_median(corpus: Path) -> tuple[float, int]:
    sys.path.insert(0, str(ROOT))
    from trainmode.sets.als import parse_als

    times = []
    for path in sorted(corpus.glob("*.als")):
        t = time.perf_counter()
        parse_als(path)
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


def bench_set(path: Path, mb: float, runs: int, tmp: Path) -> dict:
    big = tmp / "big.xml"
    copies = build_big_set(path, mb, big)
    ours = best_of("trainmode.sets.als", big, runs)
    dom = best_of("ElementTree DOM", big, runs)
    size = big.stat().st_size / 1e6
    big.unlink()
    return {"set": path.name, "mb": size, "copies": copies, "ours": ours, "dom": dom, "ratio": ours["cpu"] / dom["cpu"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path(os.environ.get("TRAINMODE_CORPUS", DEFAULT_CORPUS)))
    ap.add_argument("--only", nargs="*", help="corpus file names to run (default: all)")
    ap.add_argument("--mb", type=float, default=50.0, help="size of each scaled test set")
    ap.add_argument("--runs", type=int, default=2, help="best of N runs per parser")
    args = ap.parse_args()
    paths = sorted(args.corpus.glob("*.als"))
    if args.only:
        paths = [p for p in paths if p.name in set(args.only)]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_als_") as tmp:
        for path in paths:
            r = bench_set(path, args.mb, args.runs, Path(tmp))
            results.append(r)
            print(
                f"{r['set'][:58]:58} {r['mb']:5.1f} MB  ours {r['ours']['cpu']:6.3f} s CPU "
                f"{r['ours']['peak_rss_mb']:5.1f} MB  DOM {r['dom']['cpu']:6.3f} s CPU  ratio {r['ratio']:.3f}x",
                flush=True,
            )
        idle = best_of("python baseline", Path(tmp), 1)
    worst = max(results, key=lambda r: r["ratio"])
    fattest = max(results, key=lambda r: r["ours"]["peak_rss_mb"])
    print(f"(interpreter + imports alone: peak RSS {idle['peak_rss_mb']:.1f} MB)")
    print(
        f"worst time ratio: {worst['ratio']:.3f}x on {worst['set']} "
        f"(target <= {TIME_TARGET}x: {'ok' if worst['ratio'] <= TIME_TARGET else 'MISSED'})"
    )
    print(f"median ratio    : {statistics.median(r['ratio'] for r in results):.3f}x over {len(results)} sets")
    print(
        f"peak RSS        : {fattest['ours']['peak_rss_mb']:.1f} MB on {fattest['set']} "
        f"(target <= {RSS_TARGET_MB:g} MB: {'ok' if fattest['ours']['peak_rss_mb'] <= RSS_TARGET_MB else 'MISSED'})"
    )
    median, count = corpus_median(args.corpus)
    print(f"corpus median   : {median * 1000:.1f} ms per file over {count} files")


if __name__ == "__main__":
    main()
