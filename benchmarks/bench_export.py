"""Benchmark the dataset export (not a test).

    .venv/bin/python benchmarks/bench_export.py [--gb 1.0] [--mb-per-file 10] [--runs 2]

1. Local: fills an embedded store (under benchmarks/.work/) with distinct ~10 MB MP3
   files adding up to --gb, then times `export_dataset` against two baselines
   measured in the same run on the same MP3s: Info-ZIP `zip -0 -r` of the item
   folders (what a user would do by hand) and one Python hashlib SHA-256 pass over
   the same bytes (the floor: the export keeps the SHA-256 of its zip). All run
   warm: an untimed read first pulls the sources into the page cache, and `sync`
   runs before every timed run so none pays for another's dirty pages. The export
   runs in a child process that reports its peak RSS (VmHWM). Targets: export
   <= 0.5x `zip -0 -r`, <= 1.3x the SHA-256 pass, peak RSS <= 150 MB. Then the same items
   exported with `clips="sections"` (every item's set has 16 sections: 16 clips cut frame-exact
   and captioned per item) against that whole-track export. Target: <= 1.5x.
2. Remote: a store whose blobs come from a local HTTP server that adds 50 ms of
   latency to every request (local_path None, so the export fetches each MP3 to a
   temp file). Times max_workers=1 against max_workers=8. Target: <= 0.25x.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import lameenc  # noqa: E402

from trainmode.export.build import export_dataset  # noqa: E402
from trainmode.store import EmbeddedStore, new_id  # noqa: E402
from trainmode.train.save import seek_table  # noqa: E402

MiB = 1024 * 1024
LATENCY_S = 0.05

# The export child: prints {"seconds", "peak_rss_mb"} for its own process. Peak RSS
# is VmHWM: ru_maxrss of a child would carry over the parent's size across fork.
_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from trainmode.export.build import export_dataset
from trainmode.store import EmbeddedStore
store = EmbeddedStore(sys.argv[1])
artist = store.find_artist("Bench")
t, cpu = time.perf_counter(), time.process_time()
result = export_dataset(store, artist, clips=sys.argv[2])
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
with open("/proc/self/status") as fh:
    peak_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(json.dumps({{"seconds": seconds, "cpu_s": cpu, "peak_rss_mb": peak_kb / 1024, "bytes": result.bytes,
                  "items": result.item_count}}))
"""


# ---- test data -------------------------------------------------------------------
def mp3_frames(target_bytes: int) -> bytes:
    """About `target_bytes` of valid MP3 frames: 2 s of a chord encoded once, repeated."""
    rate, seconds = 44100, 2
    samples = bytearray()
    for n in range(rate * seconds):
        value = int(8000 * (math.sin(n * 2 * math.pi * 220 / rate) + math.sin(n * 2 * math.pi * 277 / rate)) / 2)
        samples += value.to_bytes(2, "little", signed=True) * 2
    enc = lameenc.Encoder()
    enc.set_bit_rate(128)
    enc.set_in_sample_rate(rate)
    enc.set_channels(2)
    enc.set_quality(7)
    clip = bytes(enc.encode(bytes(samples)) + enc.flush())
    return clip * max(1, target_bytes // len(clip))


def id3_tag(text: str) -> bytes:
    """A minimal ID3v2.3 tag with one TXXX frame: makes each copy's SHA-256 distinct."""
    body = b"\x00bench\x00" + text.encode()
    frame = b"TXXX" + len(body).to_bytes(4, "big") + b"\x00\x00" + body
    size = len(frame)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + frame


def fill_store(store: EmbeddedStore, count: int, frames: bytes) -> dict:
    """`count` ready items whose audio files are distinct copies of `frames`, each with the seek
    table that saving an item keeps in its metadata (the clip export cuts through it)."""
    artist = store.ensure_artist("Bench")
    summary = {
        "schema_version": 1,
        "tempo": {"bpm": 120.0},
        "time_signature": "4/4",
        "key": {"tonic": "A", "mode": "minor", "confidence": 0.9},
        "devices": ["Operator", "EQ Eight"],
        "plugins": ["Serum"],
        "tracks": [
            {"name": "Drums", "type": "midi", "devices": ["Drum Rack"], "clip_count": 4},
            {"name": "Bass", "type": "midi", "devices": ["Operator"], "clip_count": 4},
        ],
        "sections": [
            {
                "name": "Drop" if n % 2 else "Break",
                "start_beat": n * 75.0,
                "end_beat": (n + 1) * 75.0,
                "start_s": n * 37.5,
                "end_s": (n + 1) * 37.5,
                "tracks": ["Drums", "Bass"],
                "instruments": ["drums", "bass"],
            }
            for n in range(16)
        ],
    }
    row, _ = store.add_summary(artist["id"], "bench-set", "bench.als", summary)
    for index in range(count):
        item_id = new_id()
        base = f"artists/{artist['id']}/items/{item_id}"
        audio = id3_tag(f"copy {index}") + frames
        path = store.local_path(f"{base}/audio.mp3")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(audio)
        caption = f"Benchmark track {index}: a driving synth loop at 120 BPM in A minor."
        store.put_blob(f"{base}/prompt.txt", caption.encode() + b"\n", "text/plain")
        store.insert_item(
            {
                "id": item_id,
                "artist_id": artist["id"],
                "als_summary_id": row["id"],
                "parse_id": "bench-set",
                "audio_path": f"{base}/audio.mp3",
                "prompt_path": f"{base}/prompt.txt",
                "prompt_text": caption,
                "metadata": {"bpm": 120.0, "key": "A minor", "time_signature": "4/4", **seek_table(path)},
                "provenance": {"writer": "manual"},
                "audio_sha256": f"{index:064x}",
                "audio_duration_s": 600.0,
                "audio_bytes": len(audio),
                "audio_filename": f"bench-{index}.mp3",
            }
        )
    return artist


def reset_items(store: EmbeddedStore) -> None:
    """Make every item ready again and drop old zips, so the export can run again."""
    with sqlite3.connect(store.db_path) as db:
        db.execute("UPDATE training_items SET status = 'ready', export_id = NULL, exported_at = NULL")
    shutil.rmtree(store.blob_dir / "exports", ignore_errors=True)


def sync() -> None:
    subprocess.run(["sync"], check=True)


# ---- 1. local export vs zip -0 -r and one SHA-256 pass ------------------------------
def run_zip(source: Path, work: Path) -> float:
    """Info-ZIP, stored (-0), recursive, quiet: the same MP3s by hand."""
    target = work / "by-hand.zip"
    target.unlink(missing_ok=True)
    sync()
    t = time.perf_counter()
    subprocess.run(["zip", "-0", "-r", "-q", str(target), "."], cwd=source, check=True)
    seconds = time.perf_counter() - t
    target.unlink()
    return seconds


def run_sha256(files: list[Path]) -> float:
    """One hashlib SHA-256 pass over the same bytes, read from the (warm) files."""
    buffer = memoryview(bytearray(MiB))
    digest = hashlib.sha256()
    sync()
    t = time.perf_counter()
    for path in files:
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buffer):
                digest.update(buffer[:n])
    return time.perf_counter() - t


def run_export_child(store: EmbeddedStore, clips: str = "none") -> dict:
    reset_items(store)
    sync()
    code = _CHILD.format(root=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, str(store.data_dir), clips], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"export child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_local(work: Path, gb: float, mb_per_file: float, runs: int) -> dict:
    if shutil.which("zip") is None:
        raise SystemExit("Info-ZIP `zip` is not installed (Debian: apt-get install zip)")
    store = EmbeddedStore(work / "local")
    frames = mp3_frames(int(mb_per_file * MiB))
    count = math.ceil(gb * 1024 / (len(frames) / MiB))
    artist = fill_store(store, count, frames)
    source = store.blob_dir / "artists" / artist["id"] / "items"
    files = sorted(p for p in source.rglob("*.mp3"))
    total = sum(p.stat().st_size for p in files)
    print(f"local: {count} items, {total / 1e9:.2f} GB of MP3 in {source}")
    run_sha256(files)  # untimed: warms the page cache for every contender
    sha, by_hand, exports, clipped = [], [], [], []
    for _ in range(runs):  # interleaved, so that a busy moment of the machine hits all of them alike
        sha.append(run_sha256(files))
        by_hand.append(run_zip(source, work))
        exports.append(run_export_child(store))
        clipped.append(run_export_child(store, "sections"))
    best = min(exports, key=lambda r: r["seconds"])
    best_clips = min(clipped, key=lambda r: r["seconds"])
    result = {
        "items": count,
        "gb": total / 1e9,
        "zip_s": min(by_hand),
        "sha256_s": min(sha),
        "export_s": best["seconds"],
        "export_cpu_s": best["cpu_s"],
        "zip_gb": best["bytes"] / 1e9,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in exports),
        "clips_s": best_clips["seconds"],
        "clips_cpu_s": best_clips["cpu_s"],
        "clips_peak_rss_mb": max(r["peak_rss_mb"] for r in clipped),
    }
    store.close()
    return result


# ---- 2. remote fetch: sequential vs parallel ------------------------------------------
class _SlowHandler(SimpleHTTPRequestHandler):
    def do_GET(self):
        time.sleep(LATENCY_S)
        super().do_GET()

    def log_message(self, *args):
        pass


@contextmanager
def slow_server(directory: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_SlowHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _ResponseReader(io.RawIOBase):
    """A file-like view of a streamed httpx response (what open_blob must return)."""

    def __init__(self, response: httpx.Response):
        self._chunks = response.iter_bytes(MiB)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._pending:
            self._pending = next(self._chunks, b"")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class HttpStore(EmbeddedStore):
    """Rows from SQLite, blobs over HTTP: a stand-in for a remote backend."""

    def __init__(self, data_dir: Path, base_url: str):
        super().__init__(data_dir)
        self.base_url = base_url
        self.http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=32))

    def local_path(self, path):
        return None

    @contextmanager
    def open_blob(self, path):
        with self.http.stream("GET", f"{self.base_url}/{path}") as response:
            response.raise_for_status()
            yield io.BufferedReader(_ResponseReader(response), MiB)


def bench_remote(work: Path, count: int, kb_per_file: int) -> dict:
    plain = EmbeddedStore(work / "remote")
    artist = fill_store(plain, count, mp3_frames(kb_per_file * 1024))
    plain.close()
    times = {}
    with slow_server(work / "remote" / "blobs") as url:
        store = HttpStore(work / "remote", url)
        for workers in (1, 8):
            reset_items(store)
            t = time.perf_counter()
            result = export_dataset(store, artist, max_workers=workers)
            times[workers] = time.perf_counter() - t
            assert result.item_count == count
        store.http.close()
        store.close()
    return {"items": count, "sequential_s": times[1], "parallel_s": times[8], "ratio": times[8] / times[1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0, help="total MP3 size for the local run")
    ap.add_argument("--mb-per-file", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=2, help="best of N timed runs of each contender")
    ap.add_argument("--remote-items", type=int, default=64)
    ap.add_argument("--remote-kb", type=int, default=512, help="size of each remote MP3")
    args = ap.parse_args()

    (ROOT / "benchmarks" / ".work").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench_export_", dir=ROOT / "benchmarks" / ".work") as tmp:
        work = Path(tmp)
        local = bench_local(work, args.gb, args.mb_per_file, args.runs)
        vs_zip, vs_sha = local["export_s"] / local["zip_s"], local["export_s"] / local["sha256_s"]
        print(f"zip -0 -r       : {local['zip_s']:.3f} s  (best of {args.runs}, warm)")
        print(f"sha256 pass     : {local['sha256_s']:.3f} s  (best of {args.runs}, warm; hashlib, one core)")
        print(
            f"export          : {local['export_s']:.3f} s  (best of {args.runs}, warm; "
            f"zip {local['zip_gb']:.2f} GB; {local['export_cpu_s']:.3f} s of CPU on its threads)"
        )
        print(f"vs zip -0 -r    : {vs_zip:.2f}x  (target <= 0.5x: {'ok' if vs_zip <= 0.5 else 'MISSED'})")
        print(f"vs sha256 pass  : {vs_sha:.2f}x  (target <= 1.3x: {'ok' if vs_sha <= 1.3 else 'MISSED'})")
        print(
            f"peak RSS        : {local['peak_rss_mb']:.1f} MB  (target <= 150 MB: "
            f"{'ok' if local['peak_rss_mb'] <= 150 else 'MISSED'})"
        )
        vs_whole = local["clips_s"] / local["export_s"]
        print(
            f"export --clips  : {local['clips_s']:.3f} s  (16 sections per item; "
            f"{local['clips_cpu_s']:.3f} s of CPU; peak RSS {local['clips_peak_rss_mb']:.1f} MB)"
        )
        print(f"clips vs whole  : {vs_whole:.2f}x  (target <= 1.5x: {'ok' if vs_whole <= 1.5 else 'MISSED'})")
        remote = bench_remote(work, args.remote_items, args.remote_kb)
        print(f"remote: {remote['items']} items of {args.remote_kb} KB, {LATENCY_S * 1000:.0f} ms latency per request")
        print(f"sequential (1)  : {remote['sequential_s']:.3f} s")
        print(f"parallel (8)    : {remote['parallel_s']:.3f} s")
        print(
            f"fetch ratio     : {remote['ratio']:.3f}x  (target <= 0.25x: "
            f"{'ok' if remote['ratio'] <= 0.25 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
