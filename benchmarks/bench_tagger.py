"""Benchmark the music tagger (not a test).

    .venv/bin/python benchmarks/bench_tagger.py [--minutes 4] [--sections 8] [--runs 3]

Makes a --minutes long 192 kbps MP3 with lameenc (FluidSynth GM renders of the six test
styles in turn; plain numpy tones when fluidsynth is missing), then, --runs times each,
in fresh child processes pinned to one core:

* ``ffmpeg -i x.mp3 -f s16le -`` decoding it (the yardstick the listening step is held to);
* the tagger: decode with miniaudio (not timed), ``open_tagger()`` (imports + weights,
  reported apart: paid once per worker process), then ``tag()`` on the whole render plus
  --sections equal spans. Peak RSS comes from resource.getrusage in that child.

Prints medians and the ratio tag time / ffmpeg decode time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "benchmarks" / ".work" / "tagger"

_TAG_CHILD = """
import json, os, resource, sys, time
os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
sys.path.insert(0, {root!r})
import miniaudio, numpy as np
decoded = miniaudio.decode_file(sys.argv[1])
pcm = np.frombuffer(decoded.samples, dtype=np.int16).reshape(-1, decoded.nchannels)
t = time.perf_counter()
from trainmode.audio.tagger import open_tagger
tagger = open_tagger()
opened = time.perf_counter() - t
seconds, sections = len(pcm) / decoded.sample_rate, int(sys.argv[2])
spans = [(i * seconds / sections, (i + 1) * seconds / sections) for i in range(sections)]
t, cpu = time.perf_counter(), time.process_time()
result = tagger.tag(pcm, decoded.sample_rate, spans)
wall, cpu = time.perf_counter() - t, time.process_time() - cpu
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"open": opened, "tag": wall, "cpu": cpu, "audio_s": seconds, "peak_rss_mb": peak_mb,
                  "patches": [result.whole.patches] + [s.patches for s in result.spans], "top": result.whole.top(5)}}))
"""


def make_mp3(path: Path, minutes: float) -> Path:
    """A stereo 44.1 kHz MP3 of GM renders (or tones), built once and kept in benchmarks/.work."""
    if path.exists():
        return path
    import lameenc

    pcm = _gm_song(minutes * 60) if _can_render() else _tone_song(minutes * 60)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(192)
    encoder.set_in_sample_rate(44100)
    encoder.set_channels(2)
    encoder.set_quality(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoder.encode(pcm.tobytes()) + encoder.flush())
    return path


def _can_render() -> bool:
    sys.path.insert(0, str(ROOT / "tests"))
    from gm_render import missing_tools

    return missing_tools() is None


def _gm_song(seconds: float) -> np.ndarray:
    from gm_render import STYLES, render
    from scipy.io import wavfile

    each = seconds / len(STYLES)
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for style in STYLES:
            rate, samples = wavfile.read(render(style, each + 1, Path(tmp) / f"{style}.wav"))
            parts.append(samples[: int(each * rate)])
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.int16)


def _tone_song(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 44100)) / 44100
    mono = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t)) / 2 + 0.05 * np.sin(2 * np.pi * 880 * t)
    return np.repeat((mono * 32767).astype(np.int16)[:, None], 2, axis=1)


def ffmpeg_decode(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ffmpeg decoding ``path`` to raw PCM on one core."""
    cmd = ["ffmpeg", "-v", "quiet", "-threads", "1", "-i", str(path), "-f", "s16le", "-"]
    before, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return time.perf_counter() - t, cpu


def tag_child(path: Path, sections: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _TAG_CHILD.format(root=str(ROOT)), str(path), str(sections)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--sections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    mp3 = make_mp3(WORK / f"song-{args.minutes:g}min.mp3", args.minutes)
    decodes = [ffmpeg_decode(mp3) for _ in range(args.runs)]
    decode, decode_cpu = (statistics.median(d[i] for d in decodes) for i in (0, 1))
    runs = [tag_child(mp3, args.sections) for _ in range(args.runs)]
    tag, tag_cpu = (statistics.median(r[k] for r in runs) for k in ("tag", "cpu"))
    opened = statistics.median(r["open"] for r in runs)
    print(
        f"{runs[0]['audio_s'] / 60:.1f}-minute MP3, whole render + {args.sections} sections, one core, "
        f"median of {args.runs} fresh processes"
    )
    print(f"  ffmpeg decode:            {decode:6.2f} s (CPU {decode_cpu:.2f} s)")
    print(f"  tag():                    {tag:6.2f} s = {tag / decode:.1f}x ffmpeg decode")
    print(f"  tag() CPU time:           {tag_cpu:6.2f} s = {tag_cpu / decode_cpu:.1f}x ffmpeg's CPU time (load-proof)")
    print(f"  open_tagger() once:       {opened:6.2f} s (imports scipy.signal + reads both checkpoints)")
    print(f"  tag() + open_tagger():    {tag + opened:6.2f} s = {(tag + opened) / decode:.1f}x ffmpeg decode")
    print(f"  patches (whole, spans):   {runs[0]['patches']}")
    print(f"  peak RSS of the child:    {max(r['peak_rss_mb'] for r in runs):.0f} MB (target <= 300 MB)")
    print(f"  whole-render top 5:       {runs[0]['top']}")


if __name__ == "__main__":
    main()
