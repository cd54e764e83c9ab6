"""The embedded backend: SQLite (WAL, foreign keys on) + a blob folder, both under
one data dir. It is the default, so a fresh laptop needs no account.

What can go wrong with the folder is said as such (trainmode/store/health.py): a damaged
database (checked before the first write of each store, and never written to), a read-only
folder (opened read-only: every read works, every write says the folder is read-only), a full
disk. A schema change at open is preceded by a
backup. A database that is missing (or empty) while saved files exist is not silently created
anew: the files would look like garbage, so opening refuses unless told (`new_database=True`,
`python -m trainmode doctor --new-database`), and says how to restore a backup instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from trainmode.errors import DuplicateError, ExportBusyError, NotFoundError, StoreError
from trainmode.store import health, lease, set_rows
from trainmode.store.base import BlobInfo, Store, clip_row, new_id
from trainmode.store.sqlite_pool import ConnectionPool

JSON_COLUMNS = {"master_schema", "summary", "provenance", "findings", "metadata", "draft", "variants"}
BOOL_COLUMNS = {"prompt_edited", "edited", "dropped"}
PART_PREFIX = ".part-"  # a blob being written (then renamed into place)
SCHEMA_SQL = (Path(__file__).with_name("embedded_schema.sql")).read_text(encoding="utf-8")
SCHEMA_NAMES = frozenset(re.findall(r"CREATE (?:UNIQUE )?(?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA_SQL))
# Columns later migrations added to tables that older data folders already have (declared as in SCHEMA_SQL).
ADDED_COLUMNS = {
    "training_items": ["created_by"],
    "exports": ["lease_owner", "heartbeat_at", "created_by"]
    + ["format", "clips", "window_s", "split", "row_count", "valid_count"],  # what an export holds (#29)
}
SQL_NOW = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"  # the database's clock, in now_iso()'s format
SAVED_FILES = ("artists", "exports")  # blob folders whose files only a database can account for


DELETABLE = ("training_items", "als_summaries", "exports", "artists")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _row(cursor: sqlite3.Cursor, values: tuple) -> dict:
    row = {}
    for (name, *_), value in zip(cursor.description, values, strict=False):
        if name in JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        elif name in BOOL_COLUMNS and value is not None:
            value = bool(value)
        row[name] = value
    return row


def _encode(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, (dict, list)) else value


def declared(table: str, column: str) -> str:
    """A column's declaration in SCHEMA_SQL ('REAL CHECK (window_s > 0)'), so a database made before
    the column existed gets it as a new database is created with it."""
    block = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", SCHEMA_SQL, re.S)
    line = re.search(rf"^\s*{column}\s+(.+?),?$", block.group(1) if block else "", re.M)
    if line is None:
        raise RuntimeError(f"embedded_schema.sql does not declare {table}.{column}")
    return line.group(1)


def _add_columns(db: sqlite3.Connection, wanted: dict[str, list[str]]) -> None:
    """Data folders made before a migration get its new (nullable) columns; their rows keep nulls."""
    for table, columns in wanted.items():
        have = {r["name"] for r in db.execute(f"PRAGMA table_info({table})").fetchall()}
        for column in (c for c in columns if c not in have):
            try:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declared(table, column)}")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise


class EmbeddedStore(Store):
    kind = "embedded"

    def __init__(self, data_dir: str | Path, *, new_database: bool = False):
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.blob_dir = self.data_dir / "blobs"
        try:
            self.blob_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the data folder {self.data_dir}: {exc.strerror}.") from None
        self.db_path = self.data_dir / health.DB_NAME
        self.read_only = not health.writable(self.data_dir)
        self._sound = False  # the integrity check passed (it runs before the first write)
        self._sound_lock = threading.Lock()
        fresh = self._fresh()
        if fresh and not new_database and self._has_saved_files():
            raise self._missing_database()
        self._pool = ConnectionPool(self._connect)  # one per thread, reused by the next thread (sqlite_pool.py)
        try:
            if self.read_only:
                self._conn().execute("SELECT 1 FROM artists LIMIT 1")
            else:
                self._migrate(fresh)
        except sqlite3.Error as exc:
            self._pool.close()
            raise self._db_error(exc) or StoreError(f"Cannot open the local database {self.db_path}: {exc}.") from None

    def _fresh(self) -> bool:
        """No database yet: no file, an empty one, or one without tables (a lost or replaced database)."""
        if not self.db_path.exists() or self.db_path.stat().st_size == 0:
            return True
        try:
            conn = sqlite3.connect(f"{self.db_path.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error:
            return False  # unreadable: opening says why
        try:
            return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
        except sqlite3.Error:
            return False
        finally:
            conn.close()

    def _has_saved_files(self) -> bool:
        return any(p.is_file() for folder in SAVED_FILES for p in (self.blob_dir / folder).rglob("*"))

    def _missing_database(self) -> StoreError:
        backups = health.list_backups(self.data_dir)
        restore = (
            f"restore the newest of its {len(backups)} backups (`{health.RESTORE_COMMAND}`)"
            if backups
            else "put the database file back (no backup was found in backups/)"
        )
        return StoreError(
            f"The database {self.db_path} is missing or empty, but {self.blob_dir} holds saved files "
            f"(MP3s, captions, datasets): a new empty database would lose track of them. To keep them, "
            f"{restore}, or check TRAINMODE_DATA_DIR. To start a new database and keep the files, run "
            "`python -m trainmode doctor --new-database`."
        )

    def _migrate(self, fresh: bool) -> None:
        """Create what the schema lacks (idempotent: IF NOT EXISTS everywhere), after a backup
        when an existing database is about to change."""
        db = self._conn()
        if not fresh and self._needs_migration(db):
            self.backup("before-migration")
        db.executescript(SCHEMA_SQL)
        _add_columns(db, ADDED_COLUMNS)

    @staticmethod
    def _needs_migration(db: sqlite3.Connection) -> bool:
        names = {r["name"] for r in db.execute("SELECT name FROM sqlite_master").fetchall()}
        if SCHEMA_NAMES - names:
            return True
        return any(
            set(columns) - {r["name"] for r in db.execute(f"PRAGMA table_info({table})").fetchall()}
            for table, columns in ADDED_COLUMNS.items()
        )

    # ---- connection and health ----------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        return self._pool.conn()

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            conn = self._connect_read_only()
        else:
            conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.row_factory = _row
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read-only: with its -wal and -shm files there, SQLite reads the database and its log;
        without them none can be made, so the file is read as it is (immutable)."""
        for query in ("mode=ro", "mode=ro&immutable=1"):
            conn = sqlite3.connect(
                f"{self.db_path.as_uri()}?{query}", uri=True, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                conn.close()
        return conn

    def _db_error(self, exc: sqlite3.Error) -> StoreError | None:
        return health.sqlite_error(exc, self.data_dir, self.db_path)

    def integrity_problems(self) -> list[str]:
        """SQLite's full integrity check ([] when the database is sound)."""
        return health.integrity_problems(self._conn())

    def _require_writable(self) -> None:
        """Before the first write: the folder takes writes and the database passes a quick check."""
        if self.read_only:
            raise health.read_only(self.data_dir)
        if self._sound:
            return
        with self._sound_lock:
            if not self._sound:
                problems = health.integrity_problems(self._conn(), quick=True)
                if problems:
                    raise health.damaged(self.db_path, "; ".join(problems[:3]))
                self._sound = True

    def backup(self, reason: str = "manual", keep: int = health.KEEP_BACKUPS) -> Path:
        if self.read_only:
            raise health.read_only(self.data_dir)
        return health.make_backup(self.db_path, self.data_dir, reason, keep=keep)

    def outside_version(self):
        """SQLite's data_version moves when another connection commits (trainmode/store/reads.py)."""
        conn = self._conn()
        return id(conn), conn.execute("PRAGMA data_version").fetchone()["data_version"]

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all of it or none of it."""
        self._require_writable()
        db = self._conn()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:  # a damaged or full database may refuse even this; SQLite rolls back itself
                    pass
            if isinstance(exc, sqlite3.Error):
                raise self._db_error(exc) or StoreError(f"The local database refused the change: {exc}.") from None
            raise

    def _read(self, sql: str, args: tuple, one: bool):
        try:
            cursor = self._conn().execute(sql, args)
            return cursor.fetchone() if one else cursor.fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._db_error(exc) or StoreError(f"The local database could not be read: {exc}.") from None

    def _one(self, sql: str, *args) -> dict | None:
        return self._read(sql, args, True)

    def _all(self, sql: str, *args) -> list[dict]:
        return self._read(sql, args, False)

    @staticmethod
    def _insert(db: sqlite3.Connection, table: str, row: dict) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", [_encode(v) for v in row.values()])

    # ---- artists and profiles -------------------------------------------------
    def ensure_artist(self, name: str) -> dict:
        name = name.strip()
        found = self.find_artist(name)
        if found:
            return found
        artist = {"id": new_id(), "name": name, "created_at": now_iso()}
        with self._tx() as db:
            if db.execute("SELECT 1 FROM artists WHERE name = ? COLLATE NOCASE", (name,)).fetchone():
                return self.find_artist(name)  # created by a concurrent run
            self._insert(db, "artists", artist)
            self._insert(
                db,
                "artist_profiles",
                {
                    "id": new_id(),
                    "artist_id": artist["id"],
                    "master_schema": {},
                    "created_at": artist["created_at"],
                    "updated_at": artist["created_at"],
                },
            )
        return artist

    def find_artist(self, name: str) -> dict | None:
        # One artist per name whatever its case ("night drive" is "Night Drive").
        return self._one("SELECT * FROM artists WHERE name = ? COLLATE NOCASE ORDER BY created_at", name.strip())

    def list_artists(self) -> list[dict]:
        return self._all("SELECT * FROM artists ORDER BY name COLLATE NOCASE, name")

    def get_master_schema(self, artist_id: str) -> dict:
        row = self._one("SELECT master_schema FROM artist_profiles WHERE artist_id = ?", artist_id)
        if row is None:
            raise NotFoundError("This artist has no profile; create the artist first.")
        return row["master_schema"]

    def set_master_schema(self, artist_id: str, master_schema: dict) -> None:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE artist_profiles SET master_schema = ?, updated_at = ? WHERE artist_id = ?",
                (_encode(master_schema), now_iso(), artist_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError("This artist has no profile; create the artist first.")

    # ---- ALS summaries ----------------------------------------------------------
    def add_summary(self, artist_id, parse_id, als_filename, summary):
        existing = self.get_summary(artist_id, parse_id)
        if existing:
            return existing, False
        row = {
            "id": new_id(),
            "artist_id": artist_id,
            "parse_id": parse_id,
            "als_filename": als_filename,
            "summary": summary,
            "created_at": now_iso(),
        }
        with self._tx() as db:  # decided inside the transaction: a concurrent import may have won
            if db.execute(
                "SELECT 1 FROM als_summaries WHERE artist_id = ? AND parse_id = ?", (artist_id, parse_id)
            ).fetchone():
                return self.get_summary(artist_id, parse_id), False
            self._insert(db, "als_summaries", row)
        return row, True

    def get_summary(self, artist_id, parse_id):
        return self._one("SELECT * FROM als_summaries WHERE artist_id = ? AND parse_id = ?", artist_id, parse_id)

    def list_summaries(self, artist_id):
        return self._all("SELECT * FROM als_summaries WHERE artist_id = ? ORDER BY als_filename, parse_id", artist_id)

    def list_set_rows(self, artist_id):
        rows = self._all(
            f"SELECT {set_rows.sqlite_select()} FROM als_summaries WHERE artist_id = ? ORDER BY als_filename, parse_id",
            artist_id,
        )
        return [
            set_rows.from_summary_row(self.get_summary(artist_id, r["parse_id"]))
            if set_rows.needs_whole(r)
            else set_rows.finish(r)
            for r in rows
        ]

    # ---- training items ---------------------------------------------------------
    def insert_item(self, item: dict) -> dict:
        stamp = now_iso()
        row = {"created_at": stamp, "updated_at": stamp, "status": "ready", **item}
        with self._tx() as db:  # decided inside the transaction: concurrent saves cannot both insert
            if db.execute(
                "SELECT 1 FROM training_items WHERE artist_id = ? AND audio_sha256 = ?",
                (row["artist_id"], row["audio_sha256"]),
            ).fetchone():
                raise DuplicateError("This MP3 is already a training item of this artist.")
            self._insert(db, "training_items", row)
        return self.get_item(row["id"])

    def list_item_rows(self, artist_id):
        return self._all(
            f"SELECT {', '.join(self.ITEM_ROW_COLUMNS)} FROM training_items WHERE artist_id = ? "
            "ORDER BY created_at, id",
            artist_id,
        )

    def item_row_page(self, artist_id, offset, limit):
        rows = self._all(
            f"SELECT {', '.join(self.ITEM_ROW_COLUMNS)} FROM training_items WHERE artist_id = ? "
            "ORDER BY created_at, id LIMIT ? OFFSET ?",
            artist_id,
            limit,
            offset,
        )
        return rows, self._one("SELECT count(*) AS n FROM training_items WHERE artist_id = ?", artist_id)["n"]

    def count_items(self, artist_id, als_summary_id):
        return self._one(
            "SELECT count(*) AS n FROM training_items WHERE artist_id = ? AND als_summary_id = ?",
            artist_id,
            als_summary_id,
        )["n"]

    def get_item(self, item_id):
        return self._one("SELECT * FROM training_items WHERE id = ?", item_id)

    def find_item_by_audio(self, artist_id, audio_sha256):
        return self._one(
            "SELECT * FROM training_items WHERE artist_id = ? AND audio_sha256 = ?", artist_id, audio_sha256
        )

    def list_items(self, artist_id, status=None):
        if status is None:
            return self._all("SELECT * FROM training_items WHERE artist_id = ? ORDER BY created_at, id", artist_id)
        return self._all(
            "SELECT * FROM training_items WHERE artist_id = ? AND status = ? ORDER BY created_at, id", artist_id, status
        )

    # ---- changes and deletes ------------------------------------------------------
    def update_row(self, table, row_id, changes):
        if set(changes) - self.CHANGEABLE.get(table, frozenset()):
            raise ValueError(f"not changeable in {table}: {sorted(changes)}")
        cols = ", ".join(f"{c} = ?" for c in changes) + (", updated_at = ?" if table == "training_items" else "")
        stamp = [now_iso()] if table == "training_items" else []
        with self._tx() as db:
            db.execute(f"UPDATE {table} SET {cols} WHERE id = ?", [*map(_encode, changes.values()), *stamp, row_id])
        return self._one(f"SELECT * FROM {table} WHERE id = ?", row_id)

    def delete_rows(self, table, ids):
        if table not in DELETABLE:
            raise ValueError(f"cannot delete from {table}")
        with self._tx() as db:
            db.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in ids])

    def save_draft(self, artist_id, draft, created_by=None):
        with self._tx() as db:
            db.execute(
                "INSERT INTO queue_drafts (artist_id, draft, created_by, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (artist_id) DO UPDATE SET draft = excluded.draft, "
                "created_by = excluded.created_by, updated_at = excluded.updated_at",
                (artist_id, _encode(draft), created_by, now_iso()),
            )

    def get_draft(self, artist_id):
        return self._one("SELECT * FROM queue_drafts WHERE artist_id = ?", artist_id)

    def delete_draft(self, artist_id):
        with self._tx() as db:
            db.execute("DELETE FROM queue_drafts WHERE artist_id = ?", (artist_id,))

    def replace_draft(self, artist_id, draft, created_by, expected_updated_at):
        with self._tx() as db:
            row = db.execute("SELECT updated_at FROM queue_drafts WHERE artist_id = ?", (artist_id,)).fetchone()
            if (row["updated_at"] if row else None) != expected_updated_at:
                return False
            if draft is None:
                db.execute("DELETE FROM queue_drafts WHERE artist_id = ?", (artist_id,))
                return True
            stamp = now_iso()
            if stamp <= (expected_updated_at or ""):  # the same microsecond (or a clock step back)
                stamp = (datetime.fromisoformat(expected_updated_at) + timedelta(microseconds=1)).isoformat()
            db.execute(
                "INSERT INTO queue_drafts (artist_id, draft, created_by, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (artist_id) DO UPDATE SET draft = excluded.draft, "
                "created_by = excluded.created_by, updated_at = excluded.updated_at",
                (artist_id, _encode(draft), created_by, stamp),
            )
        return True

    def drafts_before(self, updated_before):
        return self._all("SELECT * FROM queue_drafts WHERE updated_at < ?", updated_before)

    # ---- section clips ------------------------------------------------------------
    def save_clips(self, item_id, mode, clips):
        stamp = now_iso()
        with self._tx() as db:  # one transaction: the old clips go only if all the new ones are stored
            db.execute("DELETE FROM training_clips WHERE item_id = ? AND mode = ?", (item_id, mode))
            for clip in clips:
                self._insert(db, "training_clips", clip_row(item_id, mode, clip, new_id(), stamp))
        return self.list_clips(item_id, mode)

    def list_clips(self, item_id, mode=None):
        if mode is None:
            return self._all("SELECT * FROM training_clips WHERE item_id = ? ORDER BY mode, position", item_id)
        return self._all("SELECT * FROM training_clips WHERE item_id = ? AND mode = ? ORDER BY position", item_id, mode)

    # ---- exports ----------------------------------------------------------------
    def begin_export(self, export: dict, stale_after_s: float = lease.LEASE_S) -> dict:
        """The lease is judged by the database's clock alone: heartbeats are written and their age
        measured in SQL (SQL_NOW, julianday('now')), never from this host's wall clock."""
        row = {
            "status": "building",
            "item_count": 0,
            "bytes": 0,
            "lease_owner": lease.new_owner(),
            "created_at": now_iso(),
            **export,
        }
        with self._tx() as db:
            for old in db.execute(
                "SELECT id, lease_owner, (julianday('now') - julianday(coalesce(heartbeat_at, created_at))) "
                "* 86400.0 AS age_s FROM exports WHERE artist_id = ? AND status = 'building'",
                (row["artist_id"],),
            ).fetchall():
                reason = lease.takeover_reason(old["lease_owner"], old["age_s"], stale_after_s, old["id"])
                if reason is None:
                    raise ExportBusyError("An export of this artist is already running; wait for it to finish.")
                db.execute(
                    f"UPDATE exports SET status = 'failed', error = ?, completed_at = {SQL_NOW} WHERE id = ?",
                    (reason, old["id"]),
                )
            row["heartbeat_at"] = db.execute(f"SELECT {SQL_NOW} AS now").fetchone()["now"]
            self._insert(db, "exports", row)
        lease.claim(row["id"])
        return self.get_export(row["id"])

    def heartbeat_export(self, export_id: str) -> bool:
        with self._tx() as db:
            return (
                db.execute(
                    f"UPDATE exports SET heartbeat_at = {SQL_NOW} WHERE id = ? AND status = 'building'", (export_id,)
                ).rowcount
                == 1
            )

    def stuck_exports(self, stale_after_s: float = lease.LEASE_S) -> list[dict]:
        rows = self._all(
            "SELECT *, (julianday('now') - julianday(coalesce(heartbeat_at, created_at))) * 86400.0 AS age_s "
            "FROM exports WHERE status = 'building' ORDER BY created_at"
        )
        return [r for r in rows if lease.takeover_reason(r["lease_owner"], r.pop("age_s"), stale_after_s, r["id"])]

    def get_export(self, export_id: str) -> dict | None:
        return self._one("SELECT * FROM exports WHERE id = ?", export_id)

    def _complete_export(self, export_id, item_ids, *, item_count, bytes, sha256):
        stamp = now_iso()
        with self._tx() as db:
            export = db.execute("SELECT * FROM exports WHERE id = ?", (export_id,)).fetchone()
            if export is None or export["status"] != "building":
                raise StoreError("This export is no longer running; start it again.")
            for item_id in item_ids:
                cur = db.execute(
                    "UPDATE training_items SET status = 'exported', exported_at = ?, export_id = ?, updated_at = ? "
                    "WHERE id = ? AND artist_id = ? AND status = 'ready'",
                    (stamp, export_id, stamp, item_id, export["artist_id"]),
                )
                if cur.rowcount != 1:
                    raise StoreError("An item changed while the export ran; nothing was marked exported. Export again.")
            db.execute(
                "UPDATE exports SET status = 'complete', item_count = ?, bytes = ?, sha256 = ?, "
                "completed_at = ? WHERE id = ?",
                (item_count, bytes, sha256, stamp, export_id),
            )
        return self.get_export(export_id)

    def fail_export(self, export_id, error):
        lease.release(export_id)  # first: a failure to record it must not keep the artist busy
        with self._tx() as db:
            db.execute(
                "UPDATE exports SET status = 'failed', error = ?, completed_at = ? "
                "WHERE id = ? AND status = 'building'",
                (error[:500], now_iso(), export_id),
            )

    def list_exports(self, artist_id):
        return self._all("SELECT * FROM exports WHERE artist_id = ? ORDER BY created_at DESC, id", artist_id)

    # ---- blobs ------------------------------------------------------------------
    def _blob_path(self, path: str) -> Path:
        target = (self.blob_dir / path).resolve()
        if self.blob_dir not in target.parents:
            raise StoreError(f"Refusing a blob path outside the data folder: {path!r}.")
        return target

    def _folder_for(self, target: Path, what: str) -> None:
        """The folder a blob is written into, made if needed; read-only or full: said so."""
        if self.read_only:
            raise health.read_only(self.data_dir)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise health.os_error(exc, self.data_dir, what) from None

    def put_blob(self, path, source, content_type):
        target = self._blob_path(path)
        self._folder_for(target, f"write {path}")
        # Write beside the target, then rename: readers never see half a file.
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{PART_PREFIX}{lease.owner_tag()}-")
        except OSError as exc:
            raise health.os_error(exc, self.data_dir, f"write {path}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, (bytes, bytearray, memoryview)):
                    out.write(source)
                elif isinstance(source, (str, os.PathLike)):
                    with open(source, "rb") as src:
                        shutil.copyfileobj(src, out, 1024 * 1024)
                else:  # a binary stream (BytesIO, UploadedFile...)
                    shutil.copyfileobj(source, out, 1024 * 1024)
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise health.os_error(exc, self.data_dir, f"write {path}") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def open_blob(self, path) -> Iterator[BinaryIO]:
        try:
            fh = open(self._blob_path(path), "rb")
        except FileNotFoundError:
            raise NotFoundError(f"The stored file {path} is missing.") from None
        with fh:
            yield fh

    def open_blob_range(self, path, size=None) -> BinaryIO:
        try:
            return open(self._blob_path(path), "rb")
        except FileNotFoundError:
            raise NotFoundError(f"The stored file {path} is missing.") from None

    def delete_blob(self, path):
        try:
            self._blob_path(path).unlink(missing_ok=True)
        except OSError as exc:
            raise health.os_error(exc, self.data_dir, f"delete {path}") from None

    def move_blob(self, path, to):
        target = self._blob_path(to)
        self._folder_for(target, f"move {path}")
        try:
            os.replace(self._blob_path(path), target)
        except FileNotFoundError:
            raise NotFoundError(f"The stored file {path} is missing.") from None
        except OSError as exc:
            raise health.os_error(exc, self.data_dir, f"move {path}") from None

    def list_blobs(self, prefix):
        root = self._blob_path(prefix)
        found = []
        for file in sorted(root.rglob("*")) if root.is_dir() else []:
            if file.is_file() and not file.name.startswith(PART_PREFIX):
                try:
                    stat = file.stat()
                except FileNotFoundError:  # replaced or deleted meanwhile
                    continue
                found.append(
                    BlobInfo(
                        file.relative_to(self.blob_dir).as_posix(),
                        stat.st_size,
                        datetime.fromtimestamp(stat.st_mtime, UTC),
                    )
                )
        return found

    def blob_url(self, path, expires_s=None):
        return str(self._blob_path(path))

    def adopt_blob(self, path, local_file, content_type):
        target = self._blob_path(path)
        self._folder_for(target, f"store {path}")
        try:
            os.replace(local_file, target)  # same disk (see temp_dir): a rename, no copy
        except OSError:
            super().adopt_blob(path, local_file, content_type)

    def temp_dir(self):
        tmp = self.data_dir / "tmp"
        if self.read_only:  # nothing can be written here: the system's temp folder serves reads
            return None
        try:
            tmp.mkdir(exist_ok=True)
        except OSError as exc:
            raise health.os_error(exc, self.data_dir, f"make {tmp}") from None
        return str(tmp)

    def local_path(self, path):
        return self._blob_path(path)

    def describe(self):
        return f"embedded (SQLite + files in {self.data_dir}{', read-only' if self.read_only else ''})"

    def close(self):
        self._pool.close()
