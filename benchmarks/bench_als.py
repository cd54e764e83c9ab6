"""Benchmark the streaming .als parser against an ElementTree DOM parse (not a test).

    .venv/bin/python benchmarks/bench_als.py [--corpus DIR] [--base FILE.als] [--mb 50]

Builds a ~50 MB uncompressed set by repeating the tracks of a corpus set, then times
trainmode.als.parse_als and xml.etree.ElementTree.parse on it, each in a fresh child
process that reports its own wall time and peak RSS. Targets: parser time <= 0.25x
the DOM time, parser peak RSS <= 50 MB. Also prints the median parse time per corpus file.
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
DEFAULT_BASE = "FrancoCerone__ElektroWaveEP__George.als"  # mixed audio/MIDI/groups, 12 locators

# Child programs: each prints {"seconds": ..., "peak_rss_mb": ...} for its own process.
# Peak RSS is VmHWM from /proc: Linux carries ru_maxrss over from the parent across
# fork+exec, so getrusage would report the benchmark's own size, not the child's.
_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
{setup}
t = time.perf_counter()
{run}
seconds = time.perf_counter() - t
try:
    with open("/proc/self/status") as fh:
        peak_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except OSError:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({{"seconds": seconds, "peak_rss_mb": peak_kb / 1024}}))
"""
PROGRAMS = {
    "trainmode.als": ("from trainmode.als import parse_als", "parse_als(sys.argv[1])"),
    "ElementTree DOM": ("import xml.etree.ElementTree as ET", "ET.parse(sys.argv[1])"),
    "python baseline": ("import trainmode.als, xml.etree.ElementTree", "pass"),
}


def build_big_set(base: Path, target_mb: float, out: Path) -> int:
    """Repeat the <Tracks> content of `base` until the XML is about `target_mb` MB."""
    xml = gzip.decompress(base.read_bytes())
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
    return {"seconds": min(r["seconds"] for r in results), "peak_rss_mb": max(r["peak_rss_mb"] for r in results)}


def corpus_median(corpus: Path) -> tuple[float, int]:
    sys.path.insert(0, str(ROOT))
    from trainmode.als import parse_als

    times = []
    for path in sorted(corpus.glob("*.als")):
        t = time.perf_counter()
        parse_als(path)
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path(os.environ.get("TRAINMODE_CORPUS", DEFAULT_CORPUS)))
    ap.add_argument("--base", default=DEFAULT_BASE, help="corpus file whose tracks are repeated")
    ap.add_argument("--mb", type=float, default=50.0, help="size of the uncompressed test set")
    ap.add_argument("--runs", type=int, default=3, help="best of N runs per parser")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_als_") as tmp:
        big = Path(tmp) / "big.xml"
        copies = build_big_set(args.corpus / args.base, args.mb, big)
        size_mb = big.stat().st_size / 1e6
        print(f"test set: {size_mb:.1f} MB uncompressed XML ({args.base}, tracks x{copies})")
        ours = best_of("trainmode.als", big, args.runs)
        dom = best_of("ElementTree DOM", big, args.runs)
        idle = best_of("python baseline", big, 1)
    ratio = ours["seconds"] / dom["seconds"]
    print(f"trainmode.als   : {ours['seconds']:.3f} s, peak RSS {ours['peak_rss_mb']:.1f} MB")
    print(f"ElementTree DOM : {dom['seconds']:.3f} s, peak RSS {dom['peak_rss_mb']:.1f} MB")
    print(f"(interpreter + imports alone: peak RSS {idle['peak_rss_mb']:.1f} MB)")
    print(f"time ratio      : {ratio:.3f}x  (target <= 0.25x: {'ok' if ratio <= 0.25 else 'MISSED'})")
    print(f"peak RSS target : <= 50 MB: {'ok' if ours['peak_rss_mb'] <= 50 else 'MISSED'}")
    median, count = corpus_median(args.corpus)
    print(f"corpus median   : {median * 1000:.1f} ms per file over {count} files")


if __name__ == "__main__":
    main()
