"""The one storage interface both backends implement: rows + blobs.

Rows are plain dicts keyed by the column names of the schema
(see supabase/migrations and docs/supabase-schema.md), typed at the door by the TypedDicts of
trainmode/store/rows.py (Artist, SetRow, SetRecord, Item, Export); jsonb columns
(master_schema, summary, provenance, findings) are dicts. Ids are UUID strings,
timestamps ISO-8601 UTC strings.
"""

from __future__ import annotations

import abc
import shutil
import tempfile
import uuid
from collections.abc import Hashable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from trainmode.store import lease
from trainmode.store.generations import WRITES, changes_rows, generation_of
from trainmode.store.rows import Artist, Export, Item, SetRecord, SetRow

BlobSource = bytes | str | Path | BinaryIO


@dataclass(frozen=True)
class BlobInfo:
    """One stored blob, as list_blobs sees it. `updated_at` is a UTC datetime (None if unknown)."""

    path: str
    bytes: int
    updated_at: datetime | None


def new_id() -> str:
    """A new row id. Callers choose ids (a UUID4), so blob paths can name a row before it exists."""
    return str(uuid.uuid4())


CLIP_FIELDS = ("position", "section", "start_s", "end_s", "caption", "variants", "findings", "edited", "dropped")


def clip_row(item_id: str, mode: str, clip: dict, row_id: str, created_at: str) -> dict:
    """A training_clips row from a clip as the service hands it over (unknown keys dropped)."""
    row = {
        "id": row_id,
        "item_id": item_id,
        "mode": mode,
        "created_at": created_at,
        **{k: clip[k] for k in CLIP_FIELDS if k in clip},
    }
    row.setdefault("section", "")
    return row


class Store(abc.ABC):
    """Rows (artists, artist_profiles, als_summaries, training_items, exports, queue_drafts,
    training_clips) and blobs."""

    kind: str = "abstract"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, tables in WRITES.items():  # store/generations.py: which tables each write changes
            if name in cls.__dict__:
                setattr(cls, name, changes_rows(cls.__dict__[name], tables))

    def generation_of(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        """Changes whenever a row of one of `tables` is written through this store object."""
        return generation_of(self, tables)

    def outside_version(self) -> Hashable | None:
        """A cheap token that changes when someone else (another process) changed rows;
        None: this backend cannot tell (trainmode/store/reads.py then revalidates on a timer)."""
        return None

    # ---- artists and profiles -------------------------------------------------
    @abc.abstractmethod
    def ensure_artist(self, name: str) -> Artist:
        """Return the artist called `name`, creating it (and an empty profile) if needed."""

    @abc.abstractmethod
    def find_artist(self, name: str) -> Artist | None:
        """The artist called `name` (surrounding spaces ignored), or None."""

    @abc.abstractmethod
    def list_artists(self) -> list[Artist]:
        """All artists, ordered by name."""

    @abc.abstractmethod
    def get_master_schema(self, artist_id: str) -> dict: ...

    @abc.abstractmethod
    def set_master_schema(self, artist_id: str, master_schema: dict) -> None: ...

    # ---- ALS summaries ----------------------------------------------------------
    @abc.abstractmethod
    def add_summary(self, artist_id: str, parse_id: str, als_filename: str, summary: dict) -> tuple[SetRecord, bool]:
        """Insert unless (artist_id, parse_id) exists. Returns (row, created)."""

    @abc.abstractmethod
    def get_summary(self, artist_id: str, parse_id: str) -> SetRecord | None: ...

    @abc.abstractmethod
    def list_summaries(self, artist_id: str) -> list[SetRecord]:
        """The artist's summaries, ordered by als_filename then parse_id."""

    def summaries_by_id(self, artist_id: str, ids: Iterable[str]) -> list[SetRecord]:
        """The artist's summaries whose id is in `ids`, in no set order (an export reads only the
        sets it exports). Backends where a read costs bytes on the wire override this."""
        wanted = set(ids)
        return [r for r in self.list_summaries(artist_id) if r["id"] in wanted]

    def list_set_rows(self, artist_id: str) -> list[SetRow]:
        """The Library's narrow view of the artist's sets (trainmode/store/set_rows.py: no whole
        summary), ordered like list_summaries. Backends override this with a projection."""
        from trainmode.store.set_rows import from_summary_row

        return [from_summary_row(r) for r in self.list_summaries(artist_id)]

    # ---- training items ---------------------------------------------------------
    @abc.abstractmethod
    def insert_item(self, item: Item) -> Item:
        """Insert a training_items row (id given by the caller). Returns the stored row."""

    @abc.abstractmethod
    def get_item(self, item_id: str) -> Item | None: ...

    @abc.abstractmethod
    def find_item_by_audio(self, artist_id: str, audio_sha256: str) -> Item | None: ...

    @abc.abstractmethod
    def list_items(self, artist_id: str, status: str | None = None) -> list[Item]:
        """The artist's items, oldest first (created_at, then id): the export order."""

    ITEM_ROW_COLUMNS = (
        "id",
        "artist_id",
        "als_summary_id",
        "parse_id",
        "audio_filename",
        "status",
        "prompt_text",
        "prompt_writer",
        "prompt_edited",
        "audio_duration_s",
        "created_by",
        "created_at",
    )

    def list_item_rows(self, artist_id: str) -> list[Item]:
        """The items as the pages' tables show them (ITEM_ROW_COLUMNS: no provenance, findings or
        metadata), in list_items order. Backends override this with a projection."""
        return [{c: i.get(c) for c in self.ITEM_ROW_COLUMNS} for i in self.list_items(artist_id)]

    def item_row_page(self, artist_id: str, offset: int, limit: int) -> tuple[list[Item], int]:
        """(at most `limit` item rows from `offset` in list_item_rows order, how many items the
        artist has): a table of thousands of items reads one page. Backends override this with a query."""
        rows = self.list_item_rows(artist_id)
        return rows[offset : offset + limit], len(rows)

    def count_items(self, artist_id: str, als_summary_id: str) -> int:
        """How many of the artist's items were made from the set `als_summary_id`."""
        return sum(r["als_summary_id"] == als_summary_id for r in self.list_item_rows(artist_id))

    # ---- changes and deletes (the Library's and Export page's delete buttons) ------
    CHANGEABLE = {
        "training_items": frozenset({"prompt_text", "prompt_edited", "status", "export_id", "exported_at", "metadata"}),
        # who exported, and what the zip holds: written by the export as it begins and completes
        "exports": frozenset({"created_by", "format", "clips", "window_s", "split", "row_count", "valid_count"}),
    }

    @abc.abstractmethod
    def update_row(self, table: str, row_id: str, changes: dict) -> dict | None:
        """Set `changes` (columns of CHANGEABLE[table]) on one row; the updated row, or None if it is gone."""

    @abc.abstractmethod
    def delete_rows(self, table: str, ids: Iterable[str]) -> None:
        """Delete rows of `table` (training_items, als_summaries, exports, artists) by id; rows
        that are already gone are no error. Deleting an artist deletes its profile with it."""

    # ---- the Train queue's drafts (table queue_drafts) ---------------------------------
    @abc.abstractmethod
    def save_draft(self, artist_id: str, draft: dict, created_by: str | None = None) -> None:
        """Replace the artist's draft (updated_at = now)."""

    @abc.abstractmethod
    def get_draft(self, artist_id: str) -> dict | None:
        """The artist's draft row (artist_id, draft, created_by, updated_at), or None."""

    @abc.abstractmethod
    def delete_draft(self, artist_id: str) -> None: ...

    @abc.abstractmethod
    def replace_draft(
        self, artist_id: str, draft: dict | None, created_by: str | None, expected_updated_at: str | None
    ) -> bool:
        """Compare-and-set of the artist's draft: write `draft` (None: delete the row) only while the
        stored row's updated_at is still `expected_updated_at` (None: no row yet); False when someone
        wrote it meanwhile (nothing changed then). The new updated_at always differs from the old."""

    @abc.abstractmethod
    def drafts_before(self, updated_before: str) -> list[dict]:
        """Draft rows last changed before the ISO time `updated_before` (the sweep's candidates)."""

    # ---- an item's section clips (table training_clips, docs/clips.md) ------------------------
    @abc.abstractmethod
    def save_clips(self, item_id: str, mode: str, clips: list[dict]) -> list[dict]:
        """Replace the item's clips of `mode` ('sections' or 'windows') with `clips`
        [{position, section, start_s, end_s, caption, variants, findings, edited, dropped}], in one
        step; returns the stored rows in position order."""

    @abc.abstractmethod
    def list_clips(self, item_id: str, mode: str | None = None) -> list[dict]:
        """The item's clip rows (of `mode`, or all), by mode and position."""

    # ---- exports ----------------------------------------------------------------
    @abc.abstractmethod
    def begin_export(self, export: Export, stale_after_s: float = 30.0) -> Export:
        """Insert an exports row with status 'building': a lease held by this process
        (`lease_owner`, `heartbeat_at`; see trainmode/store/lease.py). Raises ExportBusyError if the
        artist has another 'building' export whose holder is alive and whose heartbeat is
        younger than stale_after_s; otherwise that export is taken over at once (marked failed
        with the reason, e.g. "taken over: holder died")."""

    @abc.abstractmethod
    def heartbeat_export(self, export_id: str) -> bool:
        """Renew a running export's lease; False if it is no longer running (taken over)."""

    def complete_export(
        self, export_id: str, item_ids: list[str], *, item_count: int, bytes: int, sha256: str
    ) -> Export:
        """In ONE transaction: mark the export complete and the items exported
        (status, exported_at, export_id). Nothing changes if any part fails. The lease is let go
        either way: a finished or refused export no longer heartbeats."""
        try:
            return self._complete_export(export_id, item_ids, item_count=item_count, bytes=bytes, sha256=sha256)
        finally:
            lease.release(export_id)

    @abc.abstractmethod
    def _complete_export(
        self, export_id: str, item_ids: list[str], *, item_count: int, bytes: int, sha256: str
    ) -> Export:
        """The backend's one transaction behind complete_export."""

    @abc.abstractmethod
    def fail_export(self, export_id: str, error: str) -> None: ...

    @abc.abstractmethod
    def list_exports(self, artist_id: str) -> list[Export]:
        """The artist's exports, newest first."""

    def stuck_exports(self, stale_after_s: float = 30.0) -> list[dict]:
        """Exports left 'building' whose holder stopped: dead, ended in this process, or silent for
        stale_after_s (here by this machine's clock, for a report only; the embedded store asks
        the database's). The next export of the artist takes them over."""
        now = datetime.now(UTC)
        stuck = []
        for artist in self.list_artists():
            for export in self.list_exports(artist["id"]):
                if export["status"] != "building":
                    continue
                beat = export.get("heartbeat_at") or export.get("created_at")
                age = (now - datetime.fromisoformat(str(beat))).total_seconds() if beat else None
                if lease.takeover_reason(export.get("lease_owner"), age, stale_after_s, export["id"]):
                    stuck.append(export)
        return stuck

    # ---- the database's health (the embedded backend; Supabase keeps its own) -----------
    def integrity_problems(self) -> list[str]:
        """What the database's integrity check finds ([]: sound, or not this backend's to check)."""
        return []

    def backup(self, reason: str = "manual", keep: int = 10) -> Path | None:
        """A backup copy of the database (its path); None for a backend that keeps its own backups."""
        return None

    # ---- blobs ------------------------------------------------------------------
    @abc.abstractmethod
    def put_blob(self, path: str, source: BlobSource, content_type: str) -> None:
        """Store bytes, a local file or a binary stream (read from where it is) at `path`
        (overwrites). Atomic: a reader never sees a half-written blob."""

    @abc.abstractmethod
    def open_blob(self, path: str) -> AbstractContextManager[BinaryIO]:
        """A readable binary stream of the blob (streamed, not loaded whole)."""

    @abc.abstractmethod
    def open_blob_range(self, path: str, size: int | None = None) -> BinaryIO:
        """A seekable read-only file of the blob that reads only the bytes asked for (a zip's
        directory, one member), not the whole blob: the file itself (embedded) or ranged reads
        (trainmode/store/ranges.py). `size`, when known, spares asking for it. Close it when done;
        NotFoundError when the blob is gone."""

    def download_to(self, path: str, out: BinaryIO) -> None:
        """Stream the blob into an open binary file (backends that fetch over the network
        override this to write straight into `out`, with no intermediate copy)."""
        with self.open_blob(path) as src:
            shutil.copyfileobj(src, out, 1024 * 1024)

    def sign_many(self, paths: list[str], expires_s: int) -> dict[str, str] | None:
        """Download links for many blobs in one request (path -> URL); None: this backend has none."""
        return None

    def download_url_to(self, url: str, path: str, out: BinaryIO) -> None:
        """Stream the blob at `path` through a link from sign_many into `out`."""
        self.download_to(path, out)

    @abc.abstractmethod
    def delete_blob(self, path: str) -> None:
        """Delete if present; deleting a missing blob is not an error."""

    @abc.abstractmethod
    @abc.abstractmethod
    def list_blobs(self, prefix: str) -> list[BlobInfo]:
        """Every blob whose path starts with `prefix` + "/" (recursively), in path order."""

    @abc.abstractmethod
    def blob_url(self, path: str, expires_s: int | None = None) -> str:
        """Where a user can download the blob: a file path (embedded) or a signed URL valid
        for `expires_s` seconds (None: the backend's configured default)."""

    def adopt_blob(self, path: str, local_file: Path, content_type: str) -> None:
        """Store a finished local file at `path`; the file is consumed (moved or
        uploaded, then removed). Backends on the same disk override this with a rename."""
        self.put_blob(path, local_file, content_type)
        Path(local_file).unlink(missing_ok=True)

    def temp_dir(self) -> str | None:
        """Where to build large temporary files (None: the system temp dir)."""
        return None

    def local_path(self, path: str) -> Path | None:
        """The blob's file on this machine, if the backend keeps one (embedded)."""
        return None

    def delete_blobs(self, paths: Iterable[str]) -> None:
        for p in paths:
            self.delete_blob(p)

    def move_blob(self, path: str, to: str) -> None:
        """Move a blob to another path (overwrites `to`). Backends with a rename override this;
        here a copy through a temp file, then the delete, so a failure loses nothing."""
        with tempfile.TemporaryFile(dir=self.temp_dir()) as copy:
            self.download_to(path, copy)
            copy.seek(0)
            self.put_blob(to, copy, "application/octet-stream")
        self.delete_blob(path)

    def describe(self) -> str:
        """One line for the UI: which backend and where. Never contains a secret."""
        return self.kind

    def close(self) -> None:  # noqa: B027  (optional hook: most backends hold nothing to close)
        """Release connections; a no-op unless the backend holds some."""
