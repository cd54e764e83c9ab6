"""The local database's health: what SQLite and the disk say, in words a user can act on, and backups.

- A damaged database (SQLite's integrity check fails, or the file is not a database) is the
  user's data at risk, not a bug: the message says to restore a backup or run doctor.
- A read-only data folder still reads; a write says the folder is read-only.
- A full disk says so, with the folder, instead of "disk I/O error".
- Backups are SQLite online backups (a consistent copy while others read and write) under
  <data dir>/backups/, named trainmode-<UTC time>-<reason>.sqlite3; the newest KEEP_BACKUPS stay.
  They are made by `python -m trainmode backup`, before a schema change at open, and before
  `doctor --fix`. `restore` puts one back, keeping the database it replaces beside the backups.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from trainmode.errors import DatabaseDamagedError, DataDirError, NotFoundError, StoreError

DB_NAME = "trainmode.sqlite3"
BACKUP_DIR = "backups"
KEEP_BACKUPS = 10
BACKUP_COMMAND = "python -m trainmode backup"
RESTORE_COMMAND = f"{BACKUP_COMMAND} --restore latest"
_BACKUP_RE = re.compile(r"^trainmode-(\d{8}T\d{6}\d*Z)-([a-z-]+)\.sqlite3$")
READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)
FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
NEARLY_FULL_BYTES = 1024 * 1024  # "disk I/O error" with less than this free is a full disk


# ---- what went wrong, in words ------------------------------------------------------
def damaged(db_path: Path, detail: str) -> DatabaseDamagedError:
    return DatabaseDamagedError(
        f"The database is damaged ({db_path}: {detail.strip().rstrip('.')}): restore a backup "
        f"(`{RESTORE_COMMAND}`; `{BACKUP_COMMAND} --list` shows them) or run `python -m trainmode doctor` "
        "to see what it finds. Nothing was written."
    )


def read_only(data_dir: Path) -> DataDirError:
    return DataDirError(
        f"The data folder {data_dir} is read-only: reading works, but nothing can be saved there. "
        "Make it writable, or set TRAINMODE_DATA_DIR to a writable folder."
    )


def disk_full(data_dir: Path) -> DataDirError:
    return DataDirError(
        f"The disk is full: {data_dir} has no room left, so nothing was saved. "
        "Free some space on that disk (or move TRAINMODE_DATA_DIR to a larger one) and try again."
    )


def nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def sqlite_error(exc: sqlite3.Error, data_dir: Path, db_path: Path) -> StoreError | None:
    """The user's words for what SQLite said, when it is about the data rather than the code."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return damaged(db_path, str(exc))
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return read_only(data_dir)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return disk_full(data_dir)
    if (name.startswith("SQLITE_IOERR") or "disk i/o error" in text) and nearly_full(data_dir):
        return disk_full(data_dir)
    if name.startswith("SQLITE_CANTOPEN") and not writable(data_dir):
        return read_only(data_dir)
    return None


def os_error(exc: OSError, data_dir: Path, what: str) -> StoreError:
    """A file operation's failure: read-only folder, full disk, or the system's own words."""
    if exc.errno in FULL_ERRNOS:
        return disk_full(data_dir)
    if exc.errno in READ_ONLY_ERRNOS and not writable(data_dir):
        return read_only(data_dir)
    return StoreError(f"Could not {what}: {exc.strerror or exc}.")


def writable(folder: Path) -> bool:
    """Whether a file can be created in `folder` (tried, not guessed: root ignores permission bits)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".write-test-")
    except OSError as exc:
        return exc.errno not in READ_ONLY_ERRNOS
    os.close(fd)
    os.unlink(name)
    return True


# ---- integrity ----------------------------------------------------------------------
def integrity_problems(conn: sqlite3.Connection, *, quick: bool = False) -> list[str]:
    """What SQLite's integrity check reports ([] when the database is sound)."""
    try:
        rows = conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    found = [str(next(iter(r.values())) if isinstance(r, dict) else r[0]) for r in rows]
    return [] if found == ["ok"] else found


# ---- backups ------------------------------------------------------------------------
def backup_dir(data_dir: Path) -> Path:
    return Path(data_dir) / BACKUP_DIR


def make_backup(db_path: Path, data_dir: Path, reason: str = "manual", *, keep: int = KEEP_BACKUPS) -> Path:
    """A consistent copy of the database (SQLite's online backup) in backups/; the oldest beyond
    `keep` go. Raises StoreError when the copy cannot be made (the database stays as it was)."""
    folder = backup_dir(data_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"trainmode-{stamp}-{reason}.sqlite3"
    part = folder / f".{target.name}.part"
    try:
        folder.mkdir(exist_ok=True)
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        try:
            copy = sqlite3.connect(part)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
        os.replace(part, target)
    except sqlite3.Error as exc:
        part.unlink(missing_ok=True)
        raise sqlite_error(exc, data_dir, db_path) or StoreError(f"Could not back up {db_path}: {exc}.") from None
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise os_error(exc, data_dir, f"back up the database into {folder}") from None
    prune(data_dir, keep)
    return target


def list_backups(data_dir: Path) -> list[Path]:
    """The backups, newest first."""
    folder = backup_dir(data_dir)
    found = [p for p in folder.iterdir() if _BACKUP_RE.match(p.name)] if folder.is_dir() else []
    return sorted(found, key=lambda p: _BACKUP_RE.match(p.name).group(1), reverse=True)


def prune(data_dir: Path, keep: int) -> None:
    for old in list_backups(data_dir)[max(keep, 1) :]:
        old.unlink(missing_ok=True)


def restore(data_dir: Path, which: str = "latest") -> tuple[Path, Path | None]:
    """Put a backup back as the database: (the backup used, where the replaced database went).
    `which` is "latest", a backup's file name or a path. The backup is checked first; the database
    it replaces (with its -wal and -shm files) is kept in backups/ as trainmode-<time>-replaced."""
    data_dir = Path(data_dir)
    backup = _find_backup(data_dir, which)
    problems = _check_file(backup)
    if problems:
        raise StoreError(f"The backup {backup} is damaged too ({problems[0]}); pick another one (`--list`).")
    db_path = data_dir / DB_NAME
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = backup_dir(data_dir) / f"trainmode-{stamp}-replaced.sqlite3"
    try:
        backup_dir(data_dir).mkdir(parents=True, exist_ok=True)
        part = data_dir / f".{DB_NAME}.restoring"
        shutil.copyfile(backup, part)
        moved = False
        for suffix in ("", "-wal", "-shm"):
            current = Path(f"{db_path}{suffix}")
            if current.exists():
                os.replace(current, Path(f"{kept}{suffix}"))
                moved = True
        os.replace(part, db_path)
    except OSError as exc:
        raise os_error(exc, data_dir, f"restore {backup.name}") from None
    return backup, kept if moved else None


def _find_backup(data_dir: Path, which: str) -> Path:
    backups = list_backups(data_dir)
    if which in ("", "latest"):
        if not backups:
            raise NotFoundError(f"There is no backup in {backup_dir(data_dir)} yet.")
        return backups[0]
    named = [p for p in backups if p.name == which]
    path = named[0] if named else Path(which).expanduser()
    if not path.is_file():
        raise NotFoundError(f"No backup called {which!r}; `{BACKUP_COMMAND} --list` shows them.")
    return path


def _check_file(path: Path) -> list[str]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        return integrity_problems(conn)
    finally:
        conn.close()
