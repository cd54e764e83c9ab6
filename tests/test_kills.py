"""Kills and races against the real CLI: a `python -m trainmode export` or `save` killed mid-run
(SIGKILL, SIGTERM) blocks nothing and leaves nothing `doctor` finds once retried; 20 identical
saves or imports at once all succeed and leave exactly one row.

The work is made long by its size (hundreds of MB of project-made MP3 frames), and the kill is
sent once the run is observably in the middle (a progress line, a `.part-` file on disk).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from dead_process import dead_owner_tag

from trainmode.cli import build_parser
from trainmode.store import EmbeddedStore

pytestmark = pytest.mark.slow  # kills processes and waits for them

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_MP3 = "cbr128_stereo_5s.mp3"
KILLS = [signal.SIGKILL, signal.SIGTERM]


def cli(*args, data_dir: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "TRAINMODE_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "trainmode", *map(str, args)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def run(*args, data_dir: Path) -> subprocess.CompletedProcess:
    proc = cli(*args, data_dir=data_dir)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def caption_args(text: str) -> list[str]:
    """The save command's caption option, whatever this CLI calls it (--caption or --prompt)."""
    save = next(a for a in build_parser()._actions if a.dest == "command").choices["save"]
    flags = {s for a in save._actions for s in a.option_strings}
    return ["--caption" if "--caption" in flags else "--prompt", text]


def big_mp3(path: Path, audio_fixtures: Path, size: int) -> Path:
    """A valid CBR MP3 of about `size` bytes: a fixture's frames, repeated."""
    frames = (audio_fixtures / FIXTURE_MP3).read_bytes()
    with open(path, "wb") as out:
        for _ in range(max(1, size // len(frames))):
            out.write(frames)
    return path


def doctor_finds_nothing(data_dir: Path) -> None:
    report = run("doctor", data_dir=data_dir)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "nothing left behind" in report.stdout


def kill(proc: subprocess.Popen, how: signal.Signals) -> None:
    proc.send_signal(how)
    proc.communicate(timeout=60)  # reaps it: its pid is gone, as after any real kill
    assert proc.returncode == -how, f"the run ended before the kill ({proc.returncode})"


@pytest.fixture
def demo_set(data_dir, demo_files):
    _, als, _ = demo_files[0]
    assert run("import", "--artist", "Ada", als, data_dir=data_dir).returncode == 0
    return als


# ---- export -------------------------------------------------------------------------
@pytest.fixture
def heavy_artist(data_dir, demo_set):
    """Six 40 MB items, stored directly (the export, not the save, is under test here)."""
    store = EmbeddedStore(data_dir)
    artist = store.find_artist("Ada")
    summary = store.list_summaries(artist["id"])[0]
    chunk = os.urandom(40 * 1024 * 1024)
    for n in range(6):
        item_id = str(uuid.uuid4())
        base = f"artists/{artist['id']}/items/{item_id}"
        store.put_blob(f"{base}/audio.mp3", chunk[n:] + chunk[:n], "audio/mpeg")
        store.put_blob(f"{base}/prompt.txt", b"warm synthwave\n", "text/plain")
        store.insert_item(
            {
                "id": item_id,
                "artist_id": artist["id"],
                "als_summary_id": summary["id"],
                "parse_id": summary["parse_id"],
                "audio_path": f"{base}/audio.mp3",
                "prompt_path": f"{base}/prompt.txt",
                "prompt_text": "warm synthwave",
                "audio_sha256": uuid.uuid4().hex * 2,
                "audio_bytes": len(chunk),
                "audio_duration_s": 5.0,
                "audio_filename": f"{n}.mp3",
            }
        )
    store.close()
    return artist


@pytest.mark.parametrize("how", KILLS, ids=lambda s: s.name)
def test_a_killed_export_blocks_nothing_and_leaves_nothing(data_dir, heavy_artist, how):
    proc = cli("export", "--artist", "Ada", data_dir=data_dir)
    for line in proc.stderr:  # wait until it is in the middle: one item of six written
        if line.startswith("writing: 1/6"):
            break
    kill(proc, how)
    store = EmbeddedStore(data_dir)
    [dead] = store.list_exports(heavy_artist["id"])
    assert dead["status"] == "building"  # what a kill leaves: a lease nobody renews
    assert list((data_dir / "tmp").glob("export-*"))  # and a half-written zip

    retry = run("export", "--artist", "Ada", data_dir=data_dir)  # at once: no waiting for the lease
    assert retry.returncode == 0, retry.stderr
    assert "exported 6 items" in retry.stderr
    exports = {e["id"]: e for e in store.list_exports(heavy_artist["id"])}
    assert (exports[dead["id"]]["status"], exports[dead["id"]]["error"]) == ("failed", "taken over: holder died")
    assert sorted(e["status"] for e in exports.values()) == ["complete", "failed"]
    assert not list((data_dir / "tmp").glob("export-*"))
    doctor_finds_nothing(data_dir)


def test_a_zip_stored_by_an_export_killed_before_its_commit_is_removed_by_the_next(data_dir, heavy_artist):
    """Killed between storing dataset.zip and committing: the takeover's zip goes too."""
    store = EmbeddedStore(data_dir)
    dead = store.begin_export(
        {
            "id": str(uuid.uuid4()),
            "artist_id": heavy_artist["id"],
            "zip_path": f"exports/{heavy_artist['id']}/x/dataset.zip",
            "lease_owner": f"{dead_owner_tag()}-token",
        }
    )
    store.put_blob(dead["zip_path"], b"PK a complete zip, never committed", "application/zip")
    assert run("export", "--artist", "Ada", data_dir=data_dir).returncode == 0
    assert not store.local_path(dead["zip_path"]).exists()
    doctor_finds_nothing(data_dir)


# ---- save ---------------------------------------------------------------------------
@pytest.mark.parametrize("how", KILLS, ids=lambda s: s.name)
def test_a_killed_save_of_a_large_file_leaves_nothing_once_retried(data_dir, demo_set, audio_fixtures, tmp_path, how):
    mp3 = big_mp3(tmp_path / "long take.mp3", audio_fixtures, 200 * 1024 * 1024)
    args = [
        "save",
        "--artist",
        "Ada",
        "--als",
        demo_set.name,
        "--audio",
        mp3,
        "--force",
        *caption_args("warm synthwave groove, 110 bpm"),
    ]
    proc = cli(*args, data_dir=data_dir)
    blobs = data_dir / "blobs"
    while proc.poll() is None and not list(blobs.rglob(".part-*")):  # the MP3 is being copied in
        time.sleep(0.002)
    kill(proc, how)
    assert list(blobs.rglob(".part-*"))  # a kill mid-copy leaves the part file

    retry = run(*args, data_dir=data_dir)
    assert retry.returncode == 0, retry.stderr
    store = EmbeddedStore(data_dir)
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert store.local_path(item["audio_path"]).stat().st_size == mp3.stat().st_size
    assert not list(blobs.rglob(".part-*"))  # the retry's start-up sweep removed the dead one's
    doctor_finds_nothing(data_dir)


# ---- races --------------------------------------------------------------------------
def all_at_once(commands: list[list], data_dir: Path) -> list[subprocess.CompletedProcess]:
    procs = [cli(*c, data_dir=data_dir) for c in commands]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_twenty_identical_saves_at_once_all_succeed_and_leave_one_row(data_dir, demo_set, demo_files):
    mp3 = demo_files[0][2]
    save = [
        "save",
        "--artist",
        "Ada",
        "--als",
        demo_set.name,
        "--audio",
        mp3,
        "--force",
        *caption_args("warm synthwave groove, 110 bpm"),
    ]
    results = all_at_once([save] * 20, data_dir)
    assert [r.returncode for r in results] == [0] * 20, [r.stderr for r in results if r.returncode]
    assert all("Traceback" not in r.stderr for r in results)
    ids = {r.stdout.strip() for r in results}
    assert len(ids) == 1  # every run names the one saved item
    assert sum("already saved" in r.stderr for r in results) == 19
    store = EmbeddedStore(data_dir)
    assert [i["id"] for i in store.list_items(store.find_artist("Ada")["id"])] == list(ids)
    doctor_finds_nothing(data_dir)


def test_twenty_identical_imports_at_once_all_succeed_and_leave_one_row(data_dir, demo_files):
    als = demo_files[1][1]
    results = all_at_once([["import", "--artist", "Bo", als]] * 20, data_dir)
    assert [r.returncode for r in results] == [0] * 20, [r.stderr for r in results if r.returncode]
    statuses = sorted(r.stderr.split(": ")[1].split(" ")[0] for r in results)
    assert statuses == ["duplicate"] * 19 + ["imported"]
    store = EmbeddedStore(data_dir)
    assert [a["name"] for a in store.list_artists()] == ["Bo"]
    assert len(store.list_summaries(store.find_artist("Bo")["id"])) == 1
