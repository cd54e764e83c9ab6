"""Export: streaming zip64, determinism, verification, crash safety, busy artist,
the remote (fetch) path and progress. The rows layout is in test_dataset_layout.py."""

import gc
import hashlib
import io
import json
import shutil
import struct
import subprocess
import threading
import zipfile
from contextlib import contextmanager

import pytest

from tests.exporting import build_zip, export_artist, export_threads
from trainmode.errors import DatasetError, ExportBusyError, StoreError, ValidationError
from trainmode.export import audio_members, formats, rows
from trainmode.export import build as export_mod
from trainmode.export.build import export_dataset
from trainmode.export.zipwrite import ZipWriter, check_directory
from trainmode.ops.demo import DEMO_ARTIST, install_demo
from trainmode.store import EmbeddedStore, new_id


@pytest.fixture
def artist(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    return store.find_artist(DEMO_ARTIST)


@pytest.mark.slow
def test_export_packs_every_ready_item_and_marks_them_exported(store, settings, artist):
    ready = store.list_items(artist["id"], "ready")
    assert len(ready) == 2
    result = export_artist(store, settings, artist)
    with zipfile.ZipFile(result.local_path) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
        assert names == [
            "track-0001.mp3",
            "track-0001.txt",
            "track-0001.json",
            "track-0002.mp3",
            "track-0002.txt",
            "track-0002.json",
            "metadata.jsonl",
            "README.md",
            "MANIFEST.sha256",
        ]
        for index, item in enumerate(ready, 1):
            stem = f"track-{index:04d}"
            assert zf.read(f"{stem}.mp3") == store.local_path(item["audio_path"]).read_bytes()
            assert zf.read(f"{stem}.txt").decode().strip() == item["prompt_text"]
            facts = json.loads(zf.read(f"{stem}.json"))
            assert facts["caption"] == item["prompt_text"] and facts["bpm"] == item["metadata"]["bpm"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        assert all(local_header_is_zip64(result.local_path, i) for i in zf.infolist())
        lines = [json.loads(line) for line in zf.read("metadata.jsonl").decode().splitlines()]
        assert [line["file_name"] for line in lines] == ["track-0001.mp3", "track-0002.mp3"]
        manifest = dict(reversed(line.split("  ")) for line in zf.read("MANIFEST.sha256").decode().splitlines())
        assert set(manifest) == set(names) - {"MANIFEST.sha256"}
        assert all(hashlib.sha256(zf.read(n)).hexdigest() == digest for n, digest in manifest.items())
    assert store.list_items(artist["id"], "ready") == []
    exported = store.list_items(artist["id"], "exported")
    assert {i["export_id"] for i in exported} == {result.export_id}
    [row] = store.list_exports(artist["id"])
    assert row["status"] == "complete" and row["item_count"] == 2 and row["sha256"] == result.sha256
    assert row["bytes"] == result.local_path.stat().st_size


def local_header_is_zip64(path, info) -> bool:
    """Every member was written with force_zip64: its local header carries the zip64
    extra field (id 0x0001), so members over 4 GB need no other code path."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        fh.seek(name_len, 1)
        return fh.read(extra_len)[:2] == b"\x01\x00"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unzip") is None, reason="Debian's unzip is not installed")
def test_unzip_accepts_the_zip(store, settings, artist):
    result = export_artist(store, settings, artist)
    out = subprocess.run(["unzip", "-t", str(result.local_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No errors detected" in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_the_same_items_give_a_byte_identical_zip(store, artist, tmp_path, fmt):
    items = store.list_items(artist["id"], "ready")
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    build_zip(store, artist, items, a, format=fmt)
    build_zip(store, artist, items, b, format=fmt)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.slow
def test_a_render_too_big_to_hold_in_memory_gives_the_same_zip(store, artist, tmp_path, monkeypatch):
    """Audio up to audio_members.HOLD is read once into memory; a bigger render is read twice
    (for its CRC, then to copy it). Either way the zip is the same."""
    items = store.list_items(artist["id"], "ready")
    held, reread = tmp_path / "held.zip", tmp_path / "reread.zip"
    build_zip(store, artist, items, held)
    monkeypatch.setattr(audio_members, "HOLD", 1000)
    assert build_zip(store, artist, items, reread).sha256 == hashlib.sha256(held.read_bytes()).hexdigest()
    assert reread.read_bytes() == held.read_bytes()


def test_nothing_to_export_is_a_clear_message(store, settings):
    empty = store.ensure_artist("Nobody")
    with pytest.raises(ValidationError, match="no ready training items"):
        export_artist(store, settings, empty)


@pytest.mark.slow
def test_a_second_export_of_the_same_artist_is_told_it_is_busy(store, settings, artist):
    store.begin_export({"id": new_id(), "artist_id": artist["id"], "zip_path": "exports/x/rows.zip"})
    with pytest.raises(ExportBusyError, match="already running"):
        export_artist(store, settings, artist)
    assert len(store.list_items(artist["id"], "ready")) == 2


def _fail(*_args, **_kwargs):
    raise StoreError("injected failure")


def _fail_os(*_args, **_kwargs):
    raise OSError(28, "No space left on device")


FAULTS = {
    "read audio": lambda mp, store: (
        mp.setattr(store, "local_path", lambda path: None),
        mp.setattr(store, "open_blob", _fail),
    ),
    "write": lambda mp, store: mp.setattr(ZipWriter, "add_parts", _fail_os),
    "verify": lambda mp, store: mp.setattr(export_mod, "check_directory", _fail),
    "store zip": lambda mp, store: mp.setattr(store, "adopt_blob", _fail),
    "status update": lambda mp, store: mp.setattr(store, "complete_export", _fail),
}


@pytest.mark.parametrize("step", list(FAULTS))
def test_a_failure_at_any_step_keeps_items_ready_and_leaves_no_zip(store, settings, artist, monkeypatch, step):
    with monkeypatch.context() as mp:
        FAULTS[step](mp, store)
        with pytest.raises(StoreError):
            export_artist(store, settings, artist)
    assert export_threads() == []
    assert gc.isenabled() and gc.get_freeze_count() == 0  # the collector's pause ends with the export
    assert len(store.list_items(artist["id"], "ready")) == 2
    assert not list((store.blob_dir / "exports").rglob("*.zip")) if (store.blob_dir / "exports").exists() else True
    assert not list((store.data_dir / "tmp").rglob("*.zip"))
    [failed] = store.list_exports(artist["id"])
    assert failed["status"] == "failed" and failed["error"]
    retry = export_artist(store, settings, artist)  # and a retry just works
    assert retry.item_count == 2 and store.list_items(artist["id"], "ready") == []
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_failure_making_the_rows_begins_nothing_and_restarts_the_collector(store, settings, artist, monkeypatch):
    monkeypatch.setattr(export_mod, "rows_for", _fail)
    with pytest.raises(StoreError):
        export_artist(store, settings, artist)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert store.list_exports(artist["id"]) == [] and len(store.list_items(artist["id"], "ready")) == 2


@pytest.mark.slow
def test_an_export_asks_only_for_the_summaries_of_the_sets_it_exports(store, settings, artist, monkeypatch):
    unused = {store.add_summary(artist["id"], f"unused-{n}", f"unused-{n}.als", {})[0]["id"] for n in range(3)}
    exported = {i["als_summary_id"] for i in store.list_items(artist["id"], "ready")}
    asked, real = [], store.summaries_by_id
    monkeypatch.setattr(store, "summaries_by_id", lambda artist_id, ids: asked.append(set(ids)) or real(artist_id, ids))
    assert export_artist(store, settings, artist).item_count == 2
    assert asked == [exported] and not exported & unused


def test_a_dataset_breaking_its_format_rules_is_not_stored_and_nothing_is_marked(store, artist, monkeypatch):
    """The format's checker runs on the finished zip before it is stored: a caption the
    trainer could not use (here an empty one) fails the export, not the training run."""
    original = formats.audiocraft.music_info
    monkeypatch.setattr(formats.audiocraft, "music_info", lambda row: {**original(row), "description": ""})
    with pytest.raises(DatasetError, match=r"track-0001\.json: `description` .* is empty"):
        export_dataset(store, artist, format="audiocraft")
    assert len(store.list_items(artist["id"], "ready")) == 2
    assert not (store.blob_dir / "exports").exists()
    assert not list((store.data_dir / "tmp").rglob("*.zip"))
    [failed] = store.list_exports(artist["id"])
    assert failed["status"] == "failed" and "description" in failed["error"]


def test_a_bug_is_not_dressed_up_as_a_storage_error(store, artist, monkeypatch):
    """Only user-facing failures become TrainModeError; a bug surfaces as itself, after the undo."""
    monkeypatch.setattr(formats.hf, "track_record", lambda row: {}["file_name"])
    with pytest.raises(KeyError):
        export_dataset(store, artist)
    assert [e["status"] for e in store.list_exports(artist["id"])] == ["failed"]
    assert len(store.list_items(artist["id"], "ready")) == 2


# ---- the remote path: blobs without a local file are fetched by a thread pool ----------
class RemoteStore(EmbeddedStore):
    """The embedded store with its files hidden, as a remote backend looks to the export:
    local_path is None, so every MP3 is streamed through open_blob to a temp file.
    `broken` names blobs whose download dies after the first 1 KB."""

    def __init__(self, data_dir, broken=()):
        super().__init__(data_dir)
        self.broken = set(broken)
        self.opened: list[str] = []

    def local_path(self, path):
        return None

    @contextmanager
    def open_blob(self, path):
        self.opened.append(path)
        with super().open_blob(path) as fh:
            yield DyingStream(fh.read(1024)) if path in self.broken else fh


class DyingStream(io.RawIOBase):
    def __init__(self, first: bytes):
        self.first = first

    def readable(self):
        return True

    def readinto(self, buffer):
        if not self.first:
            raise StoreError("The connection to storage was reset while downloading.")
        n, self.first = len(self.first), b""
        buffer[:n] = b"x" * n
        return n


def add_items(store, artist, count: int) -> list[dict]:
    """`count` more ready items with small distinct audio files (the export does not decode them)."""
    summary = store.list_summaries(artist["id"])[0]
    for n in range(count):
        item_id = new_id()
        base = f"artists/{artist['id']}/items/{item_id}"
        audio = b"ID3" + f"extra {n}".encode() * 5000
        store.put_blob(f"{base}/audio.mp3", audio, "audio/mpeg")
        store.insert_item(
            {
                "id": item_id,
                "artist_id": artist["id"],
                "als_summary_id": summary["id"],
                "parse_id": summary["parse_id"],
                "audio_path": f"{base}/audio.mp3",
                "prompt_path": f"{base}/prompt.txt",
                "prompt_text": f"Extra track {n}.",
                "audio_sha256": hashlib.sha256(audio).hexdigest(),
                "audio_bytes": len(audio),
            }
        )
    return store.list_items(artist["id"], "ready")


@pytest.mark.parametrize("fmt", ["hf", "audiocraft"])  # audiocraft also reads each MP3's header
def test_fetched_blobs_give_the_same_zip_as_local_files(store, artist, tmp_path, fmt):
    items = add_items(store, artist, 7)
    remote = RemoteStore(store.data_dir)
    out = tmp_path / "zips"
    out.mkdir()
    local_zip, remote_zip = out / "local.zip", out / "remote.zip"
    split = sorted(rows.split_point(i["id"]) for i in items)[len(items) // 2]  # both sides hold items
    build_zip(store, artist, items, local_zip, format=fmt, split=split)
    build_zip(remote, artist, items, remote_zip, max_workers=3, format=fmt, split=split)
    assert sorted(remote.opened) == sorted(i["audio_path"] for i in items)
    assert remote_zip.read_bytes() == local_zip.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["local.zip", "remote.zip"]  # the temp MP3s are gone
    assert export_threads() == []


def test_a_fetch_dying_midway_cleans_up_and_keeps_items_ready(store, settings, artist, tmp_path):
    items = add_items(store, artist, 10)
    remote = RemoteStore(store.data_dir, broken=[items[5]["audio_path"]])
    out = tmp_path / "zips"
    out.mkdir()
    with pytest.raises(StoreError, match="connection to storage was reset"):
        build_zip(remote, artist, items, out / "dataset.zip", max_workers=2)
    assert export_threads() == []  # the pool is shut down
    assert [p.name for p in out.iterdir()] == ["dataset.zip"]  # no fetched or half-fetched MP3
    with pytest.raises(StoreError, match="connection to storage was reset"):
        export_dataset(remote, artist, max_workers=2)
    assert export_threads() == []
    assert [p for p in (store.data_dir / "tmp").rglob("*")] == []  # no temp MP3, no half zip
    assert not (store.blob_dir / "exports").exists()
    assert len(store.list_items(artist["id"], "ready")) == len(items)
    assert [e["status"] for e in store.list_exports(artist["id"])] == ["failed"]
    remote.broken.clear()
    retry = export_dataset(remote, artist, max_workers=2)
    assert retry.item_count == len(items) and store.list_items(artist["id"], "ready") == []
    assert export_threads() == []


# ---- verification -------------------------------------------------------------------
def test_the_recorded_sha256_is_the_stored_zips(store, settings, artist):
    """The SHA-256 is taken from the bytes as they are written, never by reading the zip back:
    it must still be the SHA-256 of the file the user downloads."""
    result = export_artist(store, settings, artist)
    digest = hashlib.sha256(result.local_path.read_bytes()).hexdigest()
    assert result.sha256 == digest == store.list_exports(artist["id"])[0]["sha256"]


def test_the_directory_check_catches_a_damaged_zip(store, artist, tmp_path):
    items = store.list_items(artist["id"], "ready")
    target = tmp_path / "dataset.zip"
    written = build_zip(store, artist, items, target)
    assert written.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    check_directory(target, written.entries, written.size)
    with pytest.raises(StoreError, match="directory does not match"):
        check_directory(target, written.entries[1:], written.size)
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    with pytest.raises(StoreError, match="damaged"):
        check_directory(target, written.entries, written.size)


def test_a_copy_that_does_not_match_the_saved_size_is_refused(store, artist, tmp_path):
    """The manifest reuses each item's saved SHA-256, so audio that changed since it was
    saved must not be packed: its size is checked against the saved size."""
    [first, _] = store.list_items(artist["id"], "ready")
    path = store.local_path(first["audio_path"])
    path.write_bytes(path.read_bytes() + b"tail")
    with pytest.raises(StoreError, match="changed after it was saved"):
        build_zip(store, artist, store.list_items(artist["id"], "ready"), tmp_path / "d.zip")


# ---- two exports at once, crashed exports ----------------------------------------------
@pytest.mark.slow
def test_two_concurrent_exports_one_runs_the_other_is_busy(store, settings, artist, monkeypatch):
    """Two threads start an export of one artist at the same moment (each on its own
    SQLite connection): exactly one runs, the other is told the artist is busy."""
    begin = store.begin_export
    both_tried = threading.Barrier(2, timeout=10)

    def begin_then_wait(*args, **kwargs):
        try:
            return begin(*args, **kwargs)
        finally:
            both_tried.wait()  # nobody finishes before both have asked

    monkeypatch.setattr(store, "begin_export", begin_then_wait)
    outcomes = []

    def run():
        try:
            outcomes.append(export_artist(store, settings, artist))
        except ExportBusyError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    [busy] = [o for o in outcomes if isinstance(o, ExportBusyError)]
    [done] = [o for o in outcomes if not isinstance(o, ExportBusyError)]
    assert "already running" in str(busy) and done.item_count == 2
    assert [e["status"] for e in store.list_exports(artist["id"])] == ["complete"]
    assert {i["export_id"] for i in store.list_items(artist["id"])} == {done.export_id}


@pytest.mark.slow
def test_a_crashed_export_does_not_block_forever_and_its_leftovers_go(store, artist):
    crashed = new_id()
    store.begin_export({"id": crashed, "artist_id": artist["id"], "zip_path": "exports/x/rows.zip"})
    leftover = store.data_dir / "tmp" / f"export-{artist['id']}-killed"
    leftover.mkdir(parents=True)
    (leftover / "dataset.zip").write_bytes(b"PK half a zip")
    other_artist = store.data_dir / "tmp" / f"export-{new_id()}-running"
    other_artist.mkdir()
    result = export_dataset(store, artist, stale_after_s=0)  # the old 'building' row counts as crashed
    assert result.item_count == 2
    assert not leftover.exists() and other_artist.exists()
    statuses = {e["id"]: (e["status"], e["error"]) for e in store.list_exports(artist["id"])}
    assert statuses[crashed] == ("failed", "taken over: heartbeat stopped")


# ---- progress -------------------------------------------------------------------------
@pytest.mark.slow
def test_progress_reports_items_and_bytes_through_every_stage(store, settings, artist):
    seen = []
    result = export_artist(store, settings, artist, on_progress=seen.append)
    audio_total = sum(i["audio_bytes"] for i in store.list_items(artist["id"]))
    writing = [p for p in seen if p.stage == "writing"]
    assert writing[0].items_done == 0 and writing[-1].items_done == 2
    assert writing[-1].bytes_done == writing[-1].bytes_total == audio_total
    assert [p.items_done for p in writing] == sorted(p.items_done for p in writing)
    stages = [p.stage for p in seen]
    assert stages.index("storing") > stages.index("writing") and stages[-1] == "done"
    assert (seen[-1].bytes_done, seen[-1].bytes_total, seen[-1].items_total) == (result.bytes, result.bytes, 2)


@pytest.mark.slow
def test_a_lost_reply_after_the_items_were_marked_keeps_the_zip(store, settings, artist, monkeypatch):
    real = store.complete_export

    def commit_then_lose_the_reply(*args, **kwargs):
        real(*args, **kwargs)
        raise StoreError("connection reset while reading the reply")

    monkeypatch.setattr(store, "complete_export", commit_then_lose_the_reply)
    result = export_artist(store, settings, artist)
    assert result.local_path.is_file() and zipfile.ZipFile(result.local_path).testzip() is None
    assert store.list_exports(artist["id"])[0]["status"] == "complete"
    assert store.list_items(artist["id"], "ready") == []
