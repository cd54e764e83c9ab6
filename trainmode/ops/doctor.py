"""What a crash left behind, found and (with fix) removed: `python -m trainmode doctor [--fix]`.

Every write goes temp -> verify -> publish -> commit, so a process killed at any point leaves
only things this module recognises:
- temp files of dead processes: blobs being written (`.part-<owner>-*`), export work folders
  (`export-<artist>-<owner>-*`); their names carry the writer's owner tag (trainmode/store/lease.py),
  so those of a live process are never touched;
- spilled uploads (the Train page's temp copies) older than a day;
- item files with no row (killed between storing the files and inserting the row), once they
  are older than GRACE_S, so a save in progress is never taken for one;
- zips of failed exports and zips with no export row (killed between storing the zip and
  committing the export).
It also reports what it cannot fix: items whose files are missing, complete exports whose zip
is missing, exports stuck in 'building' (the next export of the artist takes them over), and a
damaged database (SQLite's integrity check), which stops everything else: rows that cannot be
read would make every file look orphaned, so nothing is examined further or removed. Nothing
is changed without fix=True, and --fix backs the database up first (trainmode/store/health.py).
The `doctor` command runs before the start-up sweep, so it reports what the sweep would remove.

A file with no row is garbage only if the database is the one that wrote it: a lost, emptied or
replaced database makes *every* file look orphaned. So files of an artist the database does not
know, and all row-less files when the database has no rows or the row-less files are more than
a crash could leave, are kept and reported, never removed. What --fix removes goes to `trash/`
first and is deleted only after TRASH_KEEP_S, so a wrong call can still be undone by hand.
`sweep_at_startup` is the quiet part run when the app and the CLI start: only temp files of dead
processes and day-old uploads.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trainmode.errors import TrainModeError
from trainmode.store import Store, lease
from trainmode.store.rows import caption_path

log = logging.getLogger(__name__)

DAY_S = 24 * 3600.0
GRACE_S = 15 * 60.0  # item files younger than this may belong to a save in progress
TRASH_KEEP_S = 7 * DAY_S  # what --fix removed stays in trash/ this long
TRASH_PREFIX = "trash"  # trash/<UTC stamp>/<original path>
CRASH_LEFTOVERS = 3  # row-less files a few crashed saves/exports can leave; more hints at a lost database
TEMP = "temp files of dead processes"
UPLOADS = "uploads older than a day"
ORPHAN_FILES = "item files with no row"
DEAD_ZIPS = "zips of failed or missing exports"
MISSING_FILES = "items whose files are missing"
MISSING_ZIPS = "complete exports whose zip is missing"
UNPROVEN = "files with no row, kept (the database may be lost)"
OLD_TRASH = "trash older than 7 days"
STUCK = "exports stuck in building"
KINDS = (TEMP, UPLOADS, ORPHAN_FILES, DEAD_ZIPS, OLD_TRASH, MISSING_FILES, MISSING_ZIPS, STUCK, UNPROVEN)
FIXABLE = (TEMP, UPLOADS, ORPHAN_FILES, DEAD_ZIPS, OLD_TRASH)
TRASHED = (ORPHAN_FILES, DEAD_ZIPS)  # blobs --fix moves to trash/ instead of deleting
NOT_FIXABLE = {STUCK: "the next export takes them over"}


@dataclass
class Found:
    kind: str
    paths: list[str] = field(default_factory=list)
    bytes: int = 0
    fixed: bool = False


@dataclass
class Report:
    found: dict[str, Found]
    kept_why: str = ""  # why row-less files were kept, when they were
    damaged: list[str] = field(default_factory=list)  # what the database's integrity check found
    backup: Path | None = None  # the database's backup made before --fix

    @property
    def clean(self) -> bool:
        return not self.damaged and not any(f.paths for f in self.found.values())

    @property
    def unfixed(self) -> bool:
        return bool(self.damaged) or any(f.paths and not f.fixed for f in self.found.values())

    def table(self) -> str:
        rows = [("what", "count", "bytes", "")]
        for kind in KINDS:
            f = self.found[kind]
            trashed = kind in TRASHED
            done, todo = ("moved to trash/", "--fix moves to trash/") if trashed else ("removed", "--fix removes")
            action = done if f.fixed else (todo if kind in FIXABLE else NOT_FIXABLE.get(kind, "not fixable here"))
            rows.append((kind, str(len(f.paths)), str(f.bytes), action if f.paths else ""))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        return "\n".join(
            f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip() for r in rows
        )


# ---- local temp files -------------------------------------------------------------
def _age_s(path: Path, now: float) -> float:
    try:
        return now - path.lstat().st_mtime
    except OSError:
        return 0.0


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())
        return path.lstat().st_size
    except OSError:
        return 0


def _local_leftovers(store: Store, now: float) -> dict[str, list[Path]]:
    """Temp files of dead processes and old uploads, on this machine (the embedded backend)."""
    found: dict[str, list[Path]] = {TEMP: [], UPLOADS: []}
    tmp = store.temp_dir()
    for entry in sorted(Path(tmp).iterdir()) if tmp else []:
        if lease.is_dead(entry.name):
            found[TEMP].append(entry)
        elif _age_s(entry, now) > DAY_S:
            found[UPLOADS if entry.is_file() else TEMP].append(entry)
    blob_dir = getattr(store, "blob_dir", None)
    for part in sorted(Path(blob_dir).rglob(".part-*")) if blob_dir else []:
        if lease.is_dead(part.name) or _age_s(part, now) > DAY_S:
            found[TEMP].append(part)
    return found


def _remove_local(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def sweep_at_startup(store: Store) -> int:
    """Quietly remove temp files of dead processes and uploads older than a day; the number
    removed. Never raises: a sweep that cannot run is logged and the app goes on."""
    try:
        found = _local_leftovers(store, time.time())
        paths = found[TEMP] + found[UPLOADS]
        _remove_local(paths)
    except OSError as exc:
        log.warning("start-up sweep skipped: %s", exc)
        return 0
    if paths:
        log.info("start-up sweep removed %d leftover temp files", len(paths))
    return len(paths)


# ---- blobs and rows ---------------------------------------------------------------
def _rows(store: Store) -> tuple[dict[str, dict], dict[str, dict]]:
    items: dict[str, dict] = {}
    exports: dict[str, dict] = {}
    for artist in store.list_artists():
        items.update((i["id"], i) for i in store.list_items(artist["id"]))
        exports.update((e["id"], e) for e in store.list_exports(artist["id"]))
    return items, exports


def _old(updated_at: datetime | None, now: datetime) -> bool:
    return updated_at is None or (now - updated_at).total_seconds() > GRACE_S


def _blob_findings(store: Store, now: datetime) -> tuple[dict[str, Found], str]:
    items, exports = _rows(store)
    artists = {a["id"] for a in store.list_artists()}
    found = {kind: Found(kind) for kind in KINDS if kind not in (TEMP, UPLOADS)}
    for export in store.stuck_exports(lease.LEASE_S):
        _add(found[STUCK], export["id"], 0)
    files = store.list_blobs("artists")
    present = {b.path for b in files}
    rowless: list = []  # (kind, blob): files no row claims, garbage only if the database is trusted
    for blob in files:  # artists/<artist>/items/<item>/<file>
        parts = blob.path.split("/")
        if len(parts) >= 5 and parts[2] == "items" and parts[3] not in items and _old(blob.updated_at, now):
            rowless.append((ORPHAN_FILES if parts[1] in artists else UNPROVEN, blob))
    zips = store.list_blobs("exports")
    for blob in zips:  # exports/<artist>/<export>/dataset.zip
        parts = blob.path.split("/")
        export = exports.get(parts[2]) if len(parts) >= 4 else None
        if export is not None and export["status"] == "failed":  # the row itself says so
            _add(found[DEAD_ZIPS], blob.path, blob.bytes)
        elif export is None:
            rowless.append((DEAD_ZIPS if len(parts) >= 4 and parts[1] in artists else UNPROVEN, blob))
    kept_why = _database_looks_lost(rowless, len(items) + len(exports))
    for kind, blob in rowless:
        _add(found[UNPROVEN if kept_why else kind], blob.path, blob.bytes)
    if not kept_why and any(kind == UNPROVEN for kind, _ in rowless):
        kept_why = "they belong to an artist the database does not know"
    for blob in store.list_blobs(TRASH_PREFIX):
        if _trashed_at(blob.path) < now - timedelta(seconds=TRASH_KEEP_S):
            _add(found[OLD_TRASH], blob.path, blob.bytes)
    for item in items.values():
        if item["audio_path"] not in present or caption_path(item) not in present:
            _add(found[MISSING_FILES], item["id"], 0)
    zip_paths = {b.path for b in zips}
    for export in exports.values():
        if export["status"] == "complete" and export["zip_path"] not in zip_paths:
            _add(found[MISSING_ZIPS], export["id"], 0)
    return found, kept_why


def _database_looks_lost(rowless: list, rows: int) -> str:
    """Why row-less files cannot be trusted to be garbage ("" when they can)."""
    if not rowless:
        return ""
    if rows == 0:
        return "the database has no items or exports, yet files exist: it may be new, emptied or replaced"
    if len(rowless) > max(CRASH_LEFTOVERS, rows // 10):
        return (
            f"{len(rowless)} files have no row against {rows} rows: more than crashes leave, "
            "so the database may be an old or replaced copy"
        )
    return ""


def _trashed_at(path: str) -> datetime:
    """The stamp in trash/<stamp>/...; an unreadable one counts as now (kept)."""
    try:
        return datetime.strptime(path.split("/")[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return datetime.now(UTC)


def _to_trash(store: Store, paths: list[str], now: datetime) -> None:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    for path in paths:
        store.move_blob(path, f"{TRASH_PREFIX}/{stamp}/{path}")


def _add(found: Found, path: str, size: int) -> None:
    found.paths.append(path)
    found.bytes += size


def examine(store: Store, *, fix: bool = False) -> Report:
    """Find (and with fix, remove) what crashes left; see the module docstring."""
    local = _local_leftovers(store, time.time())
    now = datetime.now(UTC)
    damaged = store.integrity_problems()
    if damaged:  # unreadable rows would make every file look orphaned: look no further, change nothing
        blobs, kept_why = {kind: Found(kind) for kind in KINDS if kind not in (TEMP, UPLOADS)}, ""
    else:
        blobs, kept_why = _blob_findings(store, now)
    report = Report({TEMP: Found(TEMP), UPLOADS: Found(UPLOADS), **blobs}, kept_why, damaged)
    for kind, paths in local.items():
        report.found[kind].paths = [str(p) for p in paths]
        report.found[kind].bytes = sum(_size(p) for p in paths)
    if fix and not damaged and any(report.found[kind].paths for kind in FIXABLE):
        report.backup = store.backup("before-doctor-fix")  # raises (and nothing is removed) if it cannot be made
        _fix(store, report, local, now)
    return report


def _fix(store: Store, report: Report, local: dict[str, list[Path]], now: datetime) -> None:
    removers: dict[str, Callable[[], None]] = {
        TEMP: lambda: _remove_local(local[TEMP]),
        UPLOADS: lambda: _remove_local(local[UPLOADS]),
        ORPHAN_FILES: lambda: _to_trash(store, report.found[ORPHAN_FILES].paths, now),
        DEAD_ZIPS: lambda: _to_trash(store, report.found[DEAD_ZIPS].paths, now),
        OLD_TRASH: lambda: store.delete_blobs(report.found[OLD_TRASH].paths),
    }
    for kind, remove in removers.items():
        if report.found[kind].paths:
            remove()
            report.found[kind].fixed = True


def remove_failed_export_zips(store: Store, artist_id: str) -> None:
    """Delete the zips of the artist's failed exports (a taken-over export may have stored one
    before it died). Called by an export once it holds the artist's lease. Best effort."""
    try:
        zips = [e["zip_path"] for e in store.list_exports(artist_id) if e["status"] == "failed"]
        if zips:
            store.delete_blobs(zips)
    except TrainModeError as exc:
        log.warning("could not remove the zips of failed exports: %s", exc)


def doctor_command(store: Store, *, fix: bool, echo: Callable[[str], None] = print) -> int:
    """The CLI: print the table; exit status 0 when nothing is left to fix, else 1."""
    report = examine(store, fix=fix)
    echo(report.table())
    if report.damaged:
        echo(damaged_text(report.damaged, getattr(store, "data_dir", None)))
    if report.kept_why:
        echo(
            f"Files with no row were kept, not removed: {report.kept_why}. If the database was lost, "
            "restore it from a backup; if these files are really garbage, delete them by hand."
        )
    if fix and any(report.found[k].fixed for k in TRASHED):
        echo(f"Removed files are in {TRASH_PREFIX}/ for {TRASH_KEEP_S / DAY_S:.0f} days, then deleted by doctor --fix.")
    if report.backup:
        echo(f"The database was backed up to {report.backup} before anything was removed.")
    if report.found[STUCK].paths:
        echo(
            f"{len(report.found[STUCK].paths)} exports are stuck in 'building' (their holder stopped); "
            "the next export of their artist marks them failed and takes over."
        )
    if report.clean:
        echo("nothing left behind")
    elif report.unfixed and not report.damaged:
        echo(
            "run `python -m trainmode doctor --fix` to remove what --fix removes"
            if not fix
            else "some problems cannot be fixed here: re-save the items or export again"
        )
    return 1 if report.unfixed else 0


def damaged_text(problems: list[str], data_dir: Path | None) -> str:
    """What doctor says about a damaged database: what SQLite found, and the backups to restore."""
    from trainmode.store import health

    backups = health.list_backups(data_dir) if data_dir else []
    shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
    restore = (
        f"Restore the newest backup ({backups[0].name}, one of {len(backups)}) with `{health.RESTORE_COMMAND}`; "
        "the damaged database is kept beside the backups."
        if backups
        else "There is no backup in backups/: copy the database file somewhere safe before anything else."
    )
    return (
        f"The database is damaged: SQLite's integrity check found {shown}. Nothing else was examined "
        f"or removed (unreadable rows would make every file look orphaned). {restore}"
    )
