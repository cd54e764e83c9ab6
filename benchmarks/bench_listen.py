"""Benchmark listening to one render (not a test): decode + loudness/tempo/key + tags.

    .venv/bin/python benchmarks/bench_listen.py [--minutes 4] [--sections 8] [--runs 3] [--before DIR]

The issue's yardstick (#27): listening to a 4-minute MP3 on one core takes at most 12x the
time ``ffmpeg -i x.mp3 -f s16le -`` needs to decode it, with a peak RSS of at most 300 MB.

Makes (once, in benchmarks/.work/tagger) the --minutes long 192 kbps MP3 of bench_tagger.py
(FluidSynth GM renders of six styles in turn), then, --runs times each, on one core:

* ffmpeg decoding it to raw PCM (wall and CPU time): the baseline, measured in this run;
* a fresh child process that imports essentia and opens the tagger (reported apart: paid once
  per worker process), then ``analyze_mp3(path, spans=...)`` with --sections equal spans;
  its wall and CPU time and its peak RSS (VmHWM);
* once more, the same steps timed one by one (decode, levels, loudness, downmix, tempo, key, tags);
* the second listen a save does when the render was listened to before pairing: the sections'
  tags (``with_section_tags``: decode + the tagger again).

--before DIR: also time an older checkout (e.g. ``git archive <commit> trainmode | tar -x -C DIR``)
whose analyze_mp3 did not tag: its analysis plus the tagger's ``tag()`` on the decoded PCM.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_tagger import WORK, ffmpeg_decode, make_mp3  # noqa: E402

_PRELUDE = """
import json, os, sys, time
os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
sys.path.insert(0, {root!r})
t = time.perf_counter()
from trainmode.audio.analysis import measure, music
from trainmode.audio.tagger import open_tagger
music.essentia_standard()
tagger = measure.default_tagger() if hasattr(measure, "default_tagger") else open_tagger()
opened = time.perf_counter() - t
path, sections = sys.argv[1], int(sys.argv[2])
seconds = measure.probe_mp3(path).duration_s
spans = [(i * seconds / sections, (i + 1) * seconds / sections) for i in range(sections)]

def peak_mb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
"""

_LISTEN = """
t, cpu = time.perf_counter(), time.process_time()
if hasattr(measure, "default_tagger"):
    heard = measure.analyze_mp3(path, spans=spans)
    top = heard.heard()[:5]
else:  # an older tree: the analysis, then the tagger on a second decode (the decode not timed)
    heard = measure.analyze_mp3(path)
    wall, used = time.perf_counter() - t, time.process_time() - cpu
    pcm, rate, _ = measure.decode(path, "bench.mp3")
    t, cpu = time.perf_counter() - wall, time.process_time() - used
    top = tagger.tag(pcm, rate, spans).whole.heard()[:5]
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu, "open": opened,
                  "peak_rss_mb": peak_mb(), "bpm": heard.bpm, "key": heard.key, "lufs": heard.loudness_lufs,
                  "heard": top}}))
"""

# Listened to before pairing (whole render only), then the sections at save time.
_SECOND = """
from trainmode.audio.listen import with_section_tags
heard = measure.analyze_mp3(path)
t, cpu = time.perf_counter(), time.process_time()
with_section_tags(heard, path, spans, "bench.mp3")
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu}}))
"""

_STEPS = """
steps, notes = {{}}, []
def step(name, fn, *args):
    t = time.perf_counter()
    value = fn(*args)
    steps[name] = round(time.perf_counter() - t, 3)
    return value
pcm, rate, _ = step("decode", measure.decode, path, "bench.mp3")
step("levels+stereo", lambda: (measure.levels(pcm, rate), measure.stereo_image(pcm)))
step("loudness", measure.loudness, pcm, rate, notes)
mono = step("downmix", lambda: music.downmix_44k(pcm, rate, in_place=True))
del pcm

step("tempo", music.tempo, mono, notes)
step("key", music.key, mono, notes)
step("tags", measure.tag_audio, mono, 44100, spans, notes)
print(json.dumps(steps))
"""


def child(root: Path, body: str, mp3: Path, sections: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    code = (_PRELUDE + body).format(root=str(root))
    out = subprocess.run(
        [sys.executable, "-c", code, str(mp3), str(sections)], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(label: str, runs: list[dict], decode: float, decode_cpu: float) -> None:
    wall, cpu = (statistics.median(r[k] for r in runs) for k in ("seconds", "cpu"))
    print(f"  {label}")
    print(f"    listening:     {wall:6.2f} s = {wall / decode:4.1f}x ffmpeg decode (target <= 12x)")
    print(f"    CPU time:      {cpu:6.2f} s = {cpu / decode_cpu:4.1f}x ffmpeg's CPU time (load-proof)")
    print(f"    imports + tagger, once per process: {statistics.median(r['open'] for r in runs):.2f} s")
    print(f"    peak RSS:      {max(r['peak_rss_mb'] for r in runs):6.0f} MiB (VmHWM; target <= 300 MB)")
    found = runs[0]
    print(f"    heard:         {found['bpm']:.1f} BPM, {found['key']}, {found['lufs']:.1f} LUFS, {found['heard']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--sections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="an older checkout to time the same way")
    args = parser.parse_args()
    mp3 = make_mp3(WORK / f"song-{args.minutes:g}min.mp3", args.minutes)
    decodes = [ffmpeg_decode(mp3) for _ in range(args.runs)]
    decode, decode_cpu = (statistics.median(d[i] for d in decodes) for i in (0, 1))
    print(
        f"{args.minutes:g}-minute 192 kbps MP3, whole render + {args.sections} spans, one core, median of {args.runs}"
    )
    print(f"  ffmpeg decode (baseline): {decode:.2f} s (CPU {decode_cpu:.2f} s)")
    if args.before:
        report(
            f"before ({args.before})",
            [child(args.before, _LISTEN, mp3, args.sections) for _ in range(args.runs)],
            decode,
            decode_cpu,
        )
    report("now", [child(ROOT, _LISTEN, mp3, args.sections) for _ in range(args.runs)], decode, decode_cpu)
    print(f"    steps (s):     {child(ROOT, _STEPS, mp3, args.sections)}")
    second = child(ROOT, _SECOND, mp3, args.sections)
    print(
        f"  sections tagged at save time (second listen): {second['seconds']:.2f} s = "
        f"{second['seconds'] / decode:.1f}x ffmpeg decode, CPU {second['cpu']:.2f} s"
    )


if __name__ == "__main__":
    main()
