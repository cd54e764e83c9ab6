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

from trainmode.errors import StoreError
from trainmode.ops import doctor
from trainmode.store import EmbeddedStore, lease
from trainmode.store.supabase.store import SupabaseStore

OLD = time.time() - 2 * 24 * 3600


class Backend:
    """A store plus the two things a test does behind its back: age a file, lose the database."""

    def __init__(self, kind: str, tmp_path, fake: FakeSupabase | None = None):
        self.kind, self.tmp_path, self.fake = kind, tmp_path, fake
        self.store = self._open()

    def _open(self, new_database: bool = False):
        if self.fake is None:
            return EmbeddedStore(self.tmp_path / "data", new_database=new_database)
        return SupabaseStore(self.fake.url, self.fake.key)

    def age(self, path: str) -> None:
        if self.fake is None:
            os.utime(self.store.local_path(path), (OLD, OLD))
        else:
            self.fake.objects[("train-mode", path)]["updated_at"] = datetime.fromtimestamp(OLD, UTC).isoformat()

    def lose_database(self) -> None:
        """The database file deleted (embedded) or every table emptied (Supabase); files stay."""
        self.store.close()
        if self.fake is None:
            for suffix in ("", "-wal", "-shm"):
                (self.tmp_path / "data" / f"trainmode.sqlite3{suffix}").unlink(missing_ok=True)
            with pytest.raises(StoreError, match=r"missing or empty.*doctor --new-database"):
                self._open()  # never a new, empty database silently beside the saved files
            assert not (self.tmp_path / "data" / "trainmode.sqlite3").exists()
        else:
            for rows in self.fake.tables.values():
                rows.clear()
        self.store = self._open(new_database=True)  # told: `doctor --new-database`

    def all_files(self) -> set[str]:
        return {b.path for prefix in ("artists", "exports", "trash") for b in self.store.list_blobs(prefix)}


@pytest.fixture(params=["embedded", "supabase-fake"])
def backend(request, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # SupabaseStore's temp folder: this test's own
    if request.param == "embedded":
        b = Backend("embedded", tmp_path)
        yield b.store, b.age
        b.store.close()
    else:
        with FakeSupabase() as fake:
            fake.add_bucket("train-mode")
            b = Backend("supabase-fake", tmp_path, fake)
            yield b.store, b.age
            b.store.close()


@pytest.fixture(params=["embedded", "supabase-fake"])
def losable(request, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    if request.param == "embedded":
        b = Backend("embedded", tmp_path)
        yield b
        b.store.close()
    else:
        with FakeSupabase() as fake:
            fake.add_bucket("train-mode")
            b = Backend("supabase-fake", tmp_path, fake)
            yield b
            b.store.close()


def item(store, artist, summary, *, files=True) -> dict:
    item_id = str(uuid.uuid4())
    base = f"artists/{artist['id']}/items/{item_id}"
    if files:
        store.put_blob(f"{base}/audio.mp3", b"ID3" + b"\0" * 997, "audio/mpeg")
        store.put_blob(f"{base}/prompt.txt", b"warm\n", "text/plain")
    return store.insert_item(
        {
            "id": item_id,
            "artist_id": artist["id"],
            "als_summary_id": summary["id"],
            "parse_id": summary["parse_id"],
            "audio_path": f"{base}/audio.mp3",
            "prompt_path": f"{base}/prompt.txt",
            "prompt_text": "warm",
            "audio_sha256": uuid.uuid4().hex * 2,
        }
    )


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
    assert rows[doctor.ORPHAN_FILES] == ["2", "20", "--fix moves to trash/"]
    assert rows[doctor.MISSING_FILES] == ["1", "0", "not fixable here"] and rows[doctor.TEMP] == ["0", "0"]

    fixed = doctor.examine(store, fix=True)
    assert fixed.found[doctor.ORPHAN_FILES].fixed and fixed.found[doctor.DEAD_ZIPS].fixed
    left = {b.path for b in store.list_blobs("artists")} | {b.path for b in store.list_blobs("exports")}
    assert young in left and complete_zip in left and kept["audio_path"] in left
    assert not {failed_zip, rowless_zip, f"{orphan}/audio.mp3"} & left
    trashed = {b.path.split("/", 2)[2] for b in store.list_blobs(doctor.TRASH_PREFIX)}
    assert trashed == {failed_zip, rowless_zip, f"{orphan}/audio.mp3", f"{orphan}/prompt.txt"}  # kept a while
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
    assert table_rows(lines[0])[doctor.DEAD_ZIPS] == ["1", "100", "--fix moves to trash/"]
    lines.clear()
    assert doctor.doctor_command(store, fix=True, echo=lines.append) == 0
    assert table_rows(lines[0])[doctor.DEAD_ZIPS] == ["1", "100", "moved to trash/"]
    assert "trash/ for 7 days" in lines[1]
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


def saved_library(b: Backend) -> set[str]:
    """Two artists' saved items and a complete export, all files old enough to be 'orphans'."""
    for name in ("Ada", "Bo"):
        artist = b.store.ensure_artist(name)
        summary, _ = b.store.add_summary(artist["id"], f"p-{name}", "a.als", {})
        for _ in range(3):
            row = item(b.store, artist, summary)
            b.age(row["audio_path"]), b.age(row["prompt_path"])
        b.age(export_with_zip(b.store, artist, "complete"))
    return b.all_files()


def test_a_lost_database_never_costs_a_file(losable):
    """The reported data loss: with the database deleted or emptied, `doctor --fix` took every MP3
    and zip for 'item files with no row' and deleted them, the only copies left."""
    files = saved_library(losable)
    losable.lose_database()
    lines = []
    assert doctor.doctor_command(losable.store, fix=True, echo=lines.append) == 1
    assert losable.all_files() == files  # nothing deleted, nothing moved
    rows = table_rows(lines[0])
    assert rows[doctor.UNPROVEN] == [str(len(files)), rows[doctor.UNPROVEN][1], "not fixable here"]
    assert rows[doctor.ORPHAN_FILES] == ["0", "0"] and rows[doctor.DEAD_ZIPS] == ["0", "0"]
    assert "kept, not removed" in lines[1] and "no items or exports" in lines[1] and "backup" in lines[1]


def test_a_replaced_database_that_knows_the_artist_still_keeps_the_files(losable):
    """An old copy of the database (one item left) against many files: more row-less files than
    crashes leave means the database, not the files, is wrong."""
    files = saved_library(losable)
    losable.lose_database()
    artist = losable.store.ensure_artist("Ada")
    summary, _ = losable.store.add_summary(artist["id"], "p-Ada", "a.als", {})
    item(losable.store, artist, summary)
    report = doctor.examine(losable.store, fix=True)
    assert files <= losable.all_files()
    assert counts(report) == {doctor.UNPROVEN: len(files)} and "more than crashes leave" in report.kept_why


def test_files_of_an_artist_the_database_does_not_know_are_kept(losable):
    store = losable.store
    known = store.ensure_artist("Ada")
    summary, _ = store.add_summary(known["id"], "p", "a.als", {})
    for _ in range(4):
        item(store, known, summary)
    stranger = f"artists/{uuid.uuid4()}/items/{uuid.uuid4()}/audio.mp3"
    store.put_blob(stranger, b"ID3", "audio/mpeg")
    losable.age(stranger)
    report = doctor.examine(store, fix=True)
    assert counts(report) == {doctor.UNPROVEN: 1} and stranger in losable.all_files()
    assert "artist the database does not know" in report.kept_why


def test_trash_is_emptied_only_after_a_week(losable):
    store = losable.store
    artist = store.ensure_artist("Ada")
    fresh = export_with_zip(store, artist, "failed")
    doctor.examine(store, fix=True)
    (in_trash,) = [b.path for b in store.list_blobs(doctor.TRASH_PREFIX)]
    assert in_trash.endswith(fresh)
    old = "trash/20200101T000000Z/exports/x/y/dataset.zip"
    store.put_blob(old, b"PK", "application/zip")
    report = doctor.examine(store)
    assert counts(report) == {doctor.OLD_TRASH: 1} and report.found[doctor.OLD_TRASH].paths == [old]
    doctor.examine(store, fix=True)
    assert [b.path for b in store.list_blobs(doctor.TRASH_PREFIX)] == [in_trash]
