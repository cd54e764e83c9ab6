"""The local database's health through the CLI: backups (made, kept, restored; automatic before a
schema change and before doctor --fix), a missing database beside saved files, a damaged one,
a read-only data folder and a full disk. Each says what happened and what to do, never "a bug"."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from dead_process import dead_owner_tag

from trainmode import cli
from trainmode.errors import StoreError
from trainmode.ops import doctor
from trainmode.store import EmbeddedStore, health

pytestmark = pytest.mark.slow  # trickling servers, hostile inputs, databases made per test: seconds each


ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
OLD = 1_000_000_000  # 2001: a file's mtime far older than any save in progress


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def library(data_dir, corpus_dir):
    """Two artists with imported sets (a database of several pages) and a saved file."""
    store = EmbeddedStore(data_dir)
    sets = sorted(corpus_dir.glob("*.als"))[:6]
    for artist in ("Ada", "Bo"):
        assert cli.main(["import", "--artist", artist, *map(str, sets)]) == 0
    saved = f"artists/{store.find_artist('Ada')['id']}/items/x/audio.mp3"
    store.put_blob(saved, b"ID3" * 100, "audio/mpeg")
    os.utime(store.local_path(saved), (OLD, OLD))  # older than any save in progress
    store.close()
    settle(data_dir)
    return sets


def settle(data_dir: Path) -> None:
    """Write the log (WAL) back into the database file, as the last process to close it does."""
    db = sqlite3.connect(data_dir / "trainmode.sqlite3")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- backups ------------------------------------------------------------------------------
def test_backup_makes_a_timestamped_copy_keeps_the_newest_and_restores(library, data_dir, capsys):
    for _ in range(3):
        code, out, _ = run(capsys, "backup", "--keep", "2")
        assert code == 0 and Path(out.strip()).parent == data_dir / "backups"
    backups = health.list_backups(data_dir)
    assert len(backups) == 2 and all(p.name.endswith("-manual.sqlite3") for p in backups)
    copy = sqlite3.connect(backups[0])
    assert {r[0] for r in copy.execute("SELECT name FROM artists")} == {"Ada", "Bo"}
    copy.close()
    code, out, _ = run(capsys, "backup", "--list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == [p.name for p in backups]

    store = EmbeddedStore(data_dir)
    store.delete_rows("artists", [store.find_artist("Bo")["id"]])  # a mistake to undo
    store.close()
    code, out, _ = run(capsys, "backup", "--restore", "latest")
    assert code == 0 and "restored" in out and "kept as" in out
    store = EmbeddedStore(data_dir)
    assert store.find_artist("Bo") is not None
    store.close()
    assert any(p.name.endswith("-replaced.sqlite3") for p in health.list_backups(data_dir))


def test_a_schema_change_at_open_is_backed_up_first(data_dir):
    store = EmbeddedStore(data_dir)
    store.ensure_artist("Ada")
    store.close()
    db = sqlite3.connect(data_dir / "trainmode.sqlite3")
    db.execute("ALTER TABLE training_items DROP COLUMN created_by")  # a data folder from before a migration
    db.commit()
    db.close()
    store = EmbeddedStore(data_dir)
    store.close()
    (backup,) = health.list_backups(data_dir)
    assert backup.name.endswith("-before-migration.sqlite3")
    old = sqlite3.connect(backup)
    assert "created_by" not in {r[1] for r in old.execute("PRAGMA table_info(training_items)")}
    assert old.execute("SELECT name FROM artists").fetchall() == [("Ada",)]
    old.close()
    EmbeddedStore(data_dir).close()  # nothing to change: no second backup
    assert len(health.list_backups(data_dir)) == 1


EXPORT_DETAILS = ("format", "clips", "window_s", "split", "row_count", "valid_count")


def test_an_older_database_gets_the_export_details_as_a_new_one_has_them(data_dir, tmp_path):
    """A data folder from before the export details migration: backed up, then upgraded to the columns
    (types and checks) a new database is made with; its exports keep nulls there."""
    store = EmbeddedStore(data_dir)
    artist = store.ensure_artist("Ada")
    old = store.begin_export({"id": str(uuid.uuid4()), "artist_id": artist["id"], "zip_path": "exports/x/dataset.zip"})
    store.complete_export(old["id"], [], item_count=0, bytes=22, sha256="a" * 64)
    store.close()
    db = sqlite3.connect(data_dir / "trainmode.sqlite3")
    for column in EXPORT_DETAILS:
        db.execute(f"ALTER TABLE exports DROP COLUMN {column}")
    db.commit()
    db.close()
    store = EmbeddedStore(data_dir)
    (backup,) = health.list_backups(data_dir)
    assert backup.name.endswith("-before-migration.sqlite3")
    fresh = EmbeddedStore(tmp_path / "fresh")
    shape = "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('exports') ORDER BY name"
    assert store._all(shape) == fresh._all(shape)
    fresh.close()
    [row] = store.list_exports(artist["id"])
    assert [row[c] for c in EXPORT_DETAILS] == [None] * 6
    assert store.update_row("exports", old["id"], {"window_s": 30, "row_count": 4})["window_s"] == 30.0
    with pytest.raises(StoreError, match="CHECK constraint"):  # the upgraded columns are checked too
        store.update_row("exports", old["id"], {"clips": "bars"})
    store.close()


def test_doctor_fix_backs_the_database_up_before_removing_anything(data_dir, capsys):
    store = EmbeddedStore(data_dir)
    artist = store.ensure_artist("Ada")
    export_id = str(uuid.uuid4())
    zip_path = f"exports/{artist['id']}/{export_id}/dataset.zip"
    store.begin_export({"id": export_id, "artist_id": artist["id"], "zip_path": zip_path})
    store.fail_export(export_id, "boom")
    store.put_blob(zip_path, b"PK" + b"\0" * 98, "application/zip")
    store.close()
    code, out, _ = run(capsys, "doctor", "--fix")
    (backup,) = health.list_backups(data_dir)
    assert code == 0 and backup.name.endswith("-before-doctor-fix.sqlite3") and str(backup) in out


# ---- a lost database -----------------------------------------------------------------------
def test_no_new_empty_database_is_made_silently_beside_saved_files(library, data_dir, capsys):
    files = sorted(p for p in (data_dir / "blobs").rglob("*") if p.is_file())
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data_dir / 'trainmode.sqlite3'}{suffix}").unlink(missing_ok=True)
    code, _, err = run(capsys, "items", "--artist", "Ada")
    assert code == 1 and "missing or empty" in err and "doctor --new-database" in err and "a bug" not in err
    assert not (data_dir / "trainmode.sqlite3").exists()
    code, out, _ = run(capsys, "doctor", "--new-database", "--fix")
    assert code == 1 and doctor.UNPROVEN in out and "kept, not removed" in out
    assert sorted(p for p in (data_dir / "blobs").rglob("*") if p.is_file()) == files  # every file kept


# ---- a damaged database --------------------------------------------------------------------
def damage(db_path: Path, *, header: bool = False) -> None:
    """Overwrite pages in the middle of the file (or its header) with garbage."""
    with open(db_path, "r+b") as fh:
        size = fh.seek(0, 2)
        page = 4096
        if header:
            fh.seek(0)
            fh.write(b"\xa5" * 100)
            return
        for at in range(2 * page, size - page, 3 * page):
            fh.seek(at)
            fh.write(bytes(range(256)) * (page // 256))


def test_a_damaged_database_is_said_so_and_never_written_to(library, data_dir, corpus_dir, capsys):
    assert run(capsys, "backup")[0] == 0
    db_path = data_dir / "trainmode.sqlite3"
    settle(data_dir)
    damage(db_path)
    before = sha(db_path)
    more = sorted(corpus_dir.glob("*.als"))[6:8]
    code, _, err = run(capsys, "import", "--artist", "Cy", *map(str, more))
    assert code != 0 and "The database is damaged" in err and "backup --restore latest" in err
    assert "a bug" not in err and sha(db_path) == before  # nothing written into it
    code, out, _ = run(capsys, "doctor", "--fix")
    assert code == 1 and "integrity check" in out and "Restore the newest backup" in out
    assert sha(db_path) == before and (data_dir / "blobs" / "artists").exists()
    assert run(capsys, "backup", "--restore", "latest")[0] == 0
    assert run(capsys, "items", "--artist", "Ada")[0] == 0


def test_a_database_that_is_not_a_database_is_said_so_too(library, data_dir, capsys):
    settle(data_dir)
    damage(data_dir / "trainmode.sqlite3", header=True)
    code, _, err = run(capsys, "items", "--artist", "Ada")
    assert code == 1 and "The database is damaged" in err and "a bug" not in err
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and "The database is damaged" in out and "no backup" in out


# ---- a read-only folder, a full disk (mount namespaces: Linux, root) ------------------------
def in_namespace(script: str, env: dict) -> subprocess.CompletedProcess:
    """Run `script` (sh) in a private mount namespace, so it can mount without touching the host."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        if IN_CI:
            pytest.fail(f"CI must be able to make a mount namespace: {probe.stderr.decode().strip()}")
        pytest.skip("cannot make a mount namespace here (needs root)")
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-ec", script],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        timeout=300,
        cwd=ROOT,
    )


def test_a_read_only_data_folder_reads_and_says_so_on_writes(library, data_dir, corpus_dir):
    python = sys.executable
    more = sorted(corpus_dir.glob("*.als"))[7]
    done = in_namespace(
        f'mount --bind "$D" "$D"; mount -o remount,bind,ro "$D"\n'
        f'{python} -m trainmode items --artist Ada > "$OUT/items.txt"\n'
        f'{python} -m trainmode doctor > "$OUT/doctor.txt" || true\n'
        f'{python} -m trainmode import --artist Ada "{more}" 2> "$OUT/import.txt" || echo $? > "$OUT/code"\n',
        {"D": str(data_dir), "OUT": str(data_dir.parent), "TRAINMODE_DATA_DIR": str(data_dir)},
    )
    assert done.returncode == 0, done.stderr
    out = data_dir.parent
    assert (out / "items.txt").read_text() == ""  # Ada has sets, no items: read without error
    assert (out / "doctor.txt").read_text().startswith("what ")  # doctor reads and reports
    message = (out / "import.txt").read_text()
    assert (out / "code").read_text().strip() == "1"
    assert f"The data folder {data_dir} is read-only" in message and "a bug" not in message


def test_a_full_disk_says_the_disk_is_full_with_the_folder(library, data_dir, corpus_dir, tmp_path):
    python = sys.executable
    small = tmp_path / "small"
    small.mkdir()
    more = sorted(corpus_dir.glob("*.als"))[7]
    done = in_namespace(
        f'mount -t tmpfs -o size=4m tmpfs "$S"; cp -a "$D/." "$S/"\n'
        f'head -c 8388608 /dev/zero > "$S/filler" 2>/dev/null || true\n'
        f'{python} -m trainmode import --artist Ada "{more}" 2> "$OUT/import.txt" || echo $? > "$OUT/code"\n'
        f'{python} -m trainmode backup 2> "$OUT/backup.txt" || true\n',
        {"D": str(data_dir), "S": str(small), "OUT": str(tmp_path), "TRAINMODE_DATA_DIR": str(small)},
    )
    assert done.returncode == 0, done.stderr
    message = (tmp_path / "import.txt").read_text()
    assert (tmp_path / "code").read_text().strip() == "1"
    assert f"The disk is full: {small}" in message and "disk I/O error" not in message, message
    assert "The disk is full" in (tmp_path / "backup.txt").read_text()


# ---- doctor reports first, and reports stuck exports -----------------------------------------
def test_doctor_reports_what_the_start_up_sweep_would_have_removed(data_dir, capsys):
    store = EmbeddedStore(data_dir)
    leftover = Path(store.temp_dir()) / f"export-a-{dead_owner_tag()}-x"
    leftover.mkdir()
    store.close()
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and leftover.exists()  # reported, not swept away before the report
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in out.splitlines())}
    assert rows[doctor.TEMP] == ["1", "0", "--fix removes"]


def test_doctor_reports_exports_stuck_in_building(data_dir, capsys):
    store = EmbeddedStore(data_dir)
    artist = store.ensure_artist("Ada")
    export = {
        "id": str(uuid.uuid4()),
        "artist_id": artist["id"],
        "zip_path": "exports/x/dataset.zip",
        "lease_owner": f"{dead_owner_tag()}-token",
    }
    store.begin_export(export)
    store.close()
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and doctor.STUCK in out and "the next export of their artist" in out
    store = EmbeddedStore(data_dir)
    assert [e["id"] for e in store.stuck_exports()] == [export["id"]]
    assert store.list_exports(artist["id"])[0]["status"] == "building"  # reported, not changed
    store.close()


def test_an_open_that_refuses_leaves_no_file_behind(tmp_path):
    data = tmp_path / "data"
    (data / "blobs" / "exports" / "a" / "b").mkdir(parents=True)
    (data / "blobs" / "exports" / "a" / "b" / "dataset.zip").write_bytes(b"PK")
    with pytest.raises(StoreError, match="no backup was found"):
        EmbeddedStore(data)
    assert sorted(p.name for p in data.iterdir()) == ["blobs"]
