"""`doctor` finds what crashes leave, reports it in one table, and removes it only with fix,
on both backends; the start-up sweep removes only temp files of dead processes and old uploads."""
from __future__ import annotations

import os
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dead_process import dead_owner_tag
from fake_supabase import FakeSupabase

from trainmode import doctor, lease
from trainmode.store import EmbeddedStore
from trainmode.store.supabase_store import SupabaseStore

OLD = time.time() - 2 * 24 * 3600


@pytest.fixture(params=["embedded", "supabase-fake"])
def backend(request, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # SupabaseStore's temp folder: this test's own
    if request.param == "embedded":
        store = EmbeddedStore(tmp_path / "data")

        def age(path):
            os.utime(store.local_path(path), (OLD, OLD))
        yield store, age
        store.close()
    else:
        with FakeSupabase() as fake:
            fake.add_bucket("train-mode")
            store = SupabaseStore(fake.url, fake.key)

            def age(path):
                stamp = datetime.fromtimestamp(OLD, UTC).isoformat()
                fake.objects[("train-mode", path)]["updated_at"] = stamp
            yield store, age
            store.close()


def item(store, artist, summary, *, files=True) -> dict:
    item_id = str(uuid.uuid4())
    base = f"artists/{artist['id']}/items/{item_id}"
    if files:
        store.put_blob(f"{base}/audio.mp3", b"ID3" + b"\0" * 997, "audio/mpeg")
        store.put_blob(f"{base}/prompt.txt", b"warm\n", "text/plain")
    return store.insert_item({"id": item_id, "artist_id": artist["id"], "als_summary_id": summary["id"],
                              "parse_id": summary["parse_id"], "audio_path": f"{base}/audio.mp3",
                              "prompt_path": f"{base}/prompt.txt", "prompt_text": "warm",
                              "audio_sha256": uuid.uuid4().hex * 2})


def export_with_zip(store, artist, status: str, *, row=True) -> str:
    export_id = str(uuid.uuid4())
    path = f"exports/{artist['id']}/{export_id}/dataset.zip"
    if row:
        store.begin_export({"id": export_id, "artist_id": artist["id"], "zip_path": path}, stale_after_s=0)
        if status == "failed":
            store.fail_export(export_id, "boom")
        elif status == "complete":
            store.complete_export(export_id, [], item_count=0, bytes=22, sha256="0" * 64)
    store.put_blob(path, b"PK" + b"\0" * 98, "application/zip")
    return path


def table_rows(table: str) -> dict[str, list[str]]:
    """The doctor table as {what: [count, bytes, action]} (columns are 2+ spaces apart)."""
    return {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in table.splitlines())}


def counts(report) -> dict:
    return {kind: len(found.paths) for kind, found in report.found.items() if found.paths}


def test_doctor_finds_each_kind_and_fixes_only_when_asked(backend):
    store, age = backend
    artist = store.ensure_artist("Ada")
    summary, _ = store.add_summary(artist["id"], "p1", "a.als", {})
    kept = item(store, artist, summary)
    orphan = f"artists/{artist['id']}/items/{uuid.uuid4()}"
    for name in ("audio.mp3", "prompt.txt"):  # killed between storing the files and the row
        store.put_blob(f"{orphan}/{name}", b"x" * 10, "text/plain")
        age(f"{orphan}/{name}")
    young = f"artists/{artist['id']}/items/{uuid.uuid4()}/audio.mp3"  # a save in progress
    store.put_blob(young, b"x", "audio/mpeg")
    failed_zip = export_with_zip(store, artist, "failed")
    rowless_zip = export_with_zip(store, artist, "", row=False)
    complete_zip = export_with_zip(store, artist, "complete")
    broken = item(store, artist, summary)
    store.delete_blob(broken["audio_path"])

    report = doctor.examine(store)
    assert counts(report) == {doctor.ORPHAN_FILES: 2, doctor.DEAD_ZIPS: 2, doctor.MISSING_FILES: 1}
    assert report.found[doctor.ORPHAN_FILES].bytes == 20 and report.found[doctor.DEAD_ZIPS].bytes == 200
    assert store.list_blobs(f"exports/{artist['id']}")  # nothing changed without fix
    rows = table_rows(report.table())
    assert rows[doctor.ORPHAN_FILES] == ["2", "20", "--fix removes"]
    assert rows[doctor.MISSING_FILES] == ["1", "0", "not fixable here"] and rows[doctor.TEMP] == ["0", "0"]

    fixed = doctor.examine(store, fix=True)
    assert fixed.found[doctor.ORPHAN_FILES].fixed and fixed.found[doctor.DEAD_ZIPS].fixed
    left = {b.path for b in store.list_blobs("artists")} | {b.path for b in store.list_blobs("exports")}
    assert young in left and complete_zip in left and kept["audio_path"] in left
    assert not {failed_zip, rowless_zip, f"{orphan}/audio.mp3"} & left
    assert counts(doctor.examine(store)) == {doctor.MISSING_FILES: 1}  # not fixable here: reported


def test_doctor_command_prints_one_table_and_exits_by_what_is_left(backend):
    store, age = backend
    lines = []
    assert doctor.doctor_command(store, fix=False, echo=lines.append) == 0
    assert lines[-1] == "nothing left behind" and set(table_rows(lines[0])) == {"what", *doctor.KINDS}
    artist = store.ensure_artist("Ada")
    export_with_zip(store, artist, "failed")
    lines.clear()
    assert doctor.doctor_command(store, fix=False, echo=lines.append) == 1
    assert table_rows(lines[0])[doctor.DEAD_ZIPS] == ["1", "100", "--fix removes"]
    lines.clear()
    assert doctor.doctor_command(store, fix=True, echo=lines.append) == 0
    assert table_rows(lines[0])[doctor.DEAD_ZIPS] == ["1", "100", "removed"]
    assert doctor.examine(store).clean


def test_temp_files_of_dead_processes_and_old_uploads_go_at_start_up(tmp_path):
    store = EmbeddedStore(tmp_path / "data")
    tmp, blobs, dead = store.data_dir / "tmp", store.blob_dir / "artists" / "a", dead_owner_tag()
    blobs.mkdir(parents=True)
    tmp.mkdir(exist_ok=True)
    gone = [blobs / f".part-{dead}-x1", tmp / f"export-a-{dead}-y"]
    stay = [blobs / f".part-{lease.owner_tag()}-x2", tmp / f"export-b-{lease.owner_tag()}-z", tmp / "new-upload.mp3"]
    old_upload = tmp / "old-upload.mp3"
    for path in gone + stay + [old_upload]:
        path.mkdir() if path.name.startswith("export-") else path.write_bytes(b"x" * 7)
    os.utime(old_upload, (OLD, OLD))
    report = doctor.examine(store)
    assert counts(report) == {doctor.TEMP: 2, doctor.UPLOADS: 1}
    assert all(p.exists() for p in gone + stay + [old_upload])  # examine changes nothing
    assert doctor.sweep_at_startup(store) == 3
    assert not any(p.exists() for p in gone + [old_upload]) and all(p.exists() for p in stay)
    assert store.list_blobs("artists") == []  # a part file is never a blob


def test_the_start_up_sweep_never_touches_orphans_that_may_be_a_save_in_progress(tmp_path):
    store = EmbeddedStore(tmp_path / "data")
    store.put_blob("artists/a/items/b/audio.mp3", b"x", "audio/mpeg")
    os.utime(store.local_path("artists/a/items/b/audio.mp3"), (OLD, OLD))
    assert doctor.sweep_at_startup(store) == 0
    assert store.local_path("artists/a/items/b/audio.mp3").exists()
    assert timedelta(seconds=doctor.GRACE_S) < timedelta(days=1)
