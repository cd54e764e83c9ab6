"""Export: dataset layout, streaming zip64, determinism, crash safety, busy artist."""
import hashlib
import json
import shutil
import struct
import subprocess
import zipfile

import pytest

from trainmode import export as export_mod
from trainmode.demo import DEMO_ARTIST, install_demo
from trainmode.errors import ExportBusyError, StoreError, ValidationError
from trainmode.service import export_artist
from trainmode.store.embedded import new_id


@pytest.fixture
def artist(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    return store.find_artist(DEMO_ARTIST)


def test_export_packs_every_ready_item_and_marks_them_exported(store, settings, artist):
    ready = store.list_items(artist["id"], "ready")
    assert len(ready) == 2
    result = export_artist(store, settings, artist)
    with zipfile.ZipFile(result.local_path) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
        assert names == ["track-0001.mp3", "track-0001.txt", "track-0001.json",
                         "track-0002.mp3", "track-0002.txt", "track-0002.json",
                         "metadata.jsonl", "README.md", "MANIFEST.sha256"]
        for index, item in enumerate(ready, 1):
            stem = f"track-{index:04d}"
            assert zf.read(f"{stem}.mp3") == store.read_blob(item["audio_path"])
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


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Debian's unzip is not installed")
def test_unzip_accepts_the_zip(store, settings, artist):
    result = export_artist(store, settings, artist)
    out = subprocess.run(["unzip", "-t", str(result.local_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No errors detected" in out.stdout


def test_the_same_items_give_a_byte_identical_zip(store, artist, tmp_path):
    items = store.list_items(artist["id"], "ready")
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    export_mod.build_zip(store, artist, items, a)
    export_mod.build_zip(store, artist, items, b)
    assert a.read_bytes() == b.read_bytes()


def test_nothing_to_export_is_a_clear_message(store, settings):
    empty = store.ensure_artist("Nobody")
    with pytest.raises(ValidationError, match="no ready training items"):
        export_artist(store, settings, empty)


def test_a_second_export_of_the_same_artist_is_told_it_is_busy(store, settings, artist):
    store.begin_export({"id": new_id(), "artist_id": artist["id"], "zip_path": "exports/x/dataset.zip"})
    with pytest.raises(ExportBusyError, match="already running"):
        export_artist(store, settings, artist)
    assert len(store.list_items(artist["id"], "ready")) == 2


def _fail(*_args, **_kwargs):
    raise StoreError("injected failure")


def _fail_os(*_args, **_kwargs):
    raise OSError(28, "No space left on device")


FAULTS = {
    "read audio": lambda mp, store: mp.setattr(store, "local_path", lambda path: None) or mp.setattr(store, "open_blob", _fail),
    "write": lambda mp, store: mp.setattr(export_mod, "_copy", _fail_os),
    "verify": lambda mp, store: mp.setattr(export_mod, "verify_zip", _fail),
    "store zip": lambda mp, store: mp.setattr(store, "adopt_blob", _fail),
    "status update": lambda mp, store: mp.setattr(store, "complete_export", _fail),
}


@pytest.mark.parametrize("step", list(FAULTS))
def test_a_failure_at_any_step_keeps_items_ready_and_leaves_no_zip(store, settings, artist, monkeypatch, step):
    with monkeypatch.context() as mp:
        FAULTS[step](mp, store)
        with pytest.raises(StoreError):
            export_artist(store, settings, artist)
    assert len(store.list_items(artist["id"], "ready")) == 2
    assert not list((store.blob_dir / "exports").rglob("*.zip")) if (store.blob_dir / "exports").exists() else True
    assert not list((store.data_dir / "tmp").rglob("*.zip"))
    [failed] = store.list_exports(artist["id"])
    assert failed["status"] == "failed" and failed["error"]
    retry = export_artist(store, settings, artist)  # and a retry just works
    assert retry.item_count == 2 and store.list_items(artist["id"], "ready") == []
