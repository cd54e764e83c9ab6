"""Benchmark the audio analysis (not a test).

    .venv/bin/python benchmarks/bench_analysis.py [--minutes 4] [--runs 3] [--files 4] [--file-seconds 120]

1. One file on one core: a --minutes long 320 kbps MP3 (drums + chords, made here with
   numpy + lameenc) analysed by `analyze_mp3` in a fresh child process pinned to one CPU,
   against decoding alone (miniaudio, as analyze_mp3 decodes: the floor) in another fresh child, --runs
   times each (median). Prints time / audio duration, analysis / decode, the time of each
   step, and the peak RSS (VmHWM) of each child. Targets: analysis <= 0.1x the duration,
   peak RSS <= 300 MB.
2. Many files: --files MP3s of --file-seconds each through `analyze_many` with one worker
   against one worker per usable core. Prints both times and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from audio_synth import encode, song  # noqa: E402

from trainmode.audio.analysis import analyze_many  # noqa: E402
from trainmode.audio.analysis.parallel import available_cores  # noqa: E402

WORK = ROOT / "benchmarks" / ".work" / "analysis"

# A fresh child on one core: imports first (not timed in the ratio, reported apart), then
# either decoding alone or the analysis, step by step; prints JSON with its peak RSS.
_CHILD = """
import json, os, sys, time
os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
sys.path.insert(0, {root!r})
t = time.perf_counter()
from trainmode.audio.analysis import measure, music
from trainmode.audio.probe import probe_mp3
music.essentia_standard()
steps = {{"import": time.perf_counter() - t}}
path, mode = sys.argv[1], sys.argv[2]

def step(name, fn, *args):
    t = time.perf_counter()
    value = fn(*args)
    steps[name] = time.perf_counter() - t
    return value

start, cpu = time.perf_counter(), time.process_time()
if mode == "decode":
    pcm, rate, channels = step("decode", measure.decode, path, "bench.mp3")
    mono = pcm
else:
    notes = []
    step("probe", probe_mp3, path)
    pcm, rate, channels = step("decode", measure.decode, path, "bench.mp3")
    step("levels", measure.levels, pcm, rate)
    step("stereo", measure.stereo_image, pcm)
    step("loudness", measure.loudness, pcm, rate, notes)
    mono = step("downmix", music.downmix_44k, pcm, rate)
    del pcm  # as analyze_mp3 does
    step("tempo", music.tempo, mono, notes)
    step("key", music.key, mono, notes)
total, cpu = time.perf_counter() - start, time.process_time() - cpu
with open("/proc/self/status") as fh:
    peak_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(json.dumps({{"seconds": total, "cpu": cpu, "steps": steps, "peak_rss_mb": peak_kb / 1024,
                  "audio_s": len(mono) / 44100}}))
"""

# The same analysis through the public function, to check the step-by-step child adds up.
_PUBLIC = """
import json, os, sys, time
os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
sys.path.insert(0, {root!r})
from trainmode.audio.analysis import analyze_mp3, music
music.essentia_standard()
t = time.perf_counter()
analysis = analyze_mp3(sys.argv[1])
print(json.dumps({{"seconds": time.perf_counter() - t, "bpm": analysis.bpm, "key": analysis.key}}))
"""


def make_mp3(path: Path, seconds: float, bpm: float, key: str, kbps: int) -> Path:
    if not path.exists():
        path.write_bytes(encode(song(bpm, key, seconds), kbps=kbps, quality=2))
    return path


def child(code: str, *args: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code.format(root=str(ROOT)), *args], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_file(path: Path, runs: int) -> None:
    decode = [child(_CHILD, str(path), "decode") for _ in range(runs)]
    analysis = [child(_CHILD, str(path), "analyze") for _ in range(runs)]
    public = [child(_PUBLIC, str(path)) for _ in range(runs)]
    audio_s = analysis[0]["audio_s"]
    t_dec = statistics.median(r["seconds"] for r in decode)
    t_ana = statistics.median(r["seconds"] for r in analysis)
    t_pub = statistics.median(r["seconds"] for r in public)
    print(f"\n1. one {audio_s / 60:.1f}-minute 320 kbps MP3 on one core (median of {runs} fresh processes)")
    print(f"   decode alone (the floor): {t_dec:6.2f} s  = {t_dec / audio_s:.4f}x duration")
    print(
        f"   analysis (step by step):  {t_ana:6.2f} s  = {t_ana / audio_s:.4f}x duration"
        f"  = {t_ana / t_dec:.1f}x decode   (target <= 0.1x)"
    )
    c_dec = statistics.median(r["cpu"] for r in decode)
    c_ana = statistics.median(r["cpu"] for r in analysis)
    print(
        f"   CPU time (what a busy machine does not inflate): decode {c_dec:.2f} s, analysis {c_ana:.2f} s"
        f" = {c_ana / audio_s:.4f}x duration = {c_ana / c_dec:.1f}x decode"
    )
    print(
        f"   analyze_mp3 (public):     {t_pub:6.2f} s  = {t_pub / audio_s:.4f}x duration"
        f"   bpm {public[0]['bpm']:.2f}, key {public[0]['key']}"
    )
    imports = statistics.median(r["steps"]["import"] for r in analysis)
    print(f"   import essentia+numpy once per process: {imports:.2f} s")
    steps = {name: statistics.median(r["steps"][name] for r in analysis) for name in analysis[0]["steps"]}
    print("   steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items() if k != "import"))
    print(
        f"   peak RSS: decode {max(r['peak_rss_mb'] for r in decode):.0f} MB, "
        f"analysis {max(r['peak_rss_mb'] for r in analysis):.0f} MB   (target <= 300 MB)"
    )


def many_files(count: int, seconds: float) -> None:
    paths = [make_mp3(WORK / f"many-{i}-{seconds:g}s.mp3", seconds, 100 + 7 * i, "A minor", 320) for i in range(count)]
    cores = available_cores()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    sequential = analyze_many(paths, max_workers=1)  # in this process
    t_seq = time.perf_counter() - t
    cpu_seq = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - _cpu(cpu)
    t = time.perf_counter()
    parallel = analyze_many(paths)  # worker processes (children of the forkserver, so no CPU figure)
    t_par = time.perf_counter() - t
    assert [a.to_dict() for a in sequential] == [a.to_dict() for a in parallel]
    print(f"\n2. {count} files of {seconds:g} s: analyze_many (load average now {os.getloadavg()[0]:.1f})")
    print(f"   one worker:               {t_seq:6.2f} s wall, {cpu_seq:6.2f} s CPU")
    print(
        f"   {cores} workers ({cores} usable cores): {t_par:6.2f} s wall"
        f"  = {t_seq / t_par:.2f}x faster   (includes starting the forkserver, which imports essentia)"
    )


def _cpu(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--file-seconds", type=float, default=120.0)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = make_mp3(WORK / f"long-{args.minutes:g}min-320k.mp3", args.minutes * 60, 124, "F# minor", 320)
    print(
        f"file: {path.name}, {path.stat().st_size / 1e6:.1f} MB; usable cores: {available_cores()}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    one_file(path, args.runs)
    many_files(args.files, args.file_seconds)


if __name__ == "__main__":
    main()
