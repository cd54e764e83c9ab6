"""The Train queue as a draft in the store (table queue_drafts), so a reload, a closed tab or
another browser finds it again.

One draft per artist: the entries as JSON, and each entry's MP3 as a blob at
`drafts/<artist_id>/<entry id>.mp3` (uploaded once; the temp file is the working copy).
Restoring downloads the MP3s to temp files, fact-checks the captions again and judges the kept
audio analysis against the set again (the MP3 is not listened to twice). Discarding
deletes the row and the blobs; drafts untouched for `MAX_AGE` are swept the same way.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trainmode.audio.analysis import AudioAnalysis
from trainmode.audio.check import judge
from trainmode.audio.probe import AudioInfo
from trainmode.captions.factcheck import check_caption, check_variants
from trainmode.captions.writers.base import GeneratedCaption
from trainmode.errors import TrainModeError
from trainmode.store import Store
from trainmode.train.work_queue import QueueEntry, spill_upload

log = logging.getLogger(__name__)
MAX_AGE = timedelta(days=7)
SummaryOf = Callable[[str], "dict | None"]
KEPT = (
    "id",
    "parse_id",
    "als_filename",
    "audio_name",
    "pairing",
    "state",
    "caption",
    "error",
    "failed_step",
    "note",
    "item_id",
    "by",
    "variants",
    "lyrics",
)


def blob_path(artist_id: str, entry_id: str) -> str:
    return f"drafts/{artist_id}/{entry_id}.mp3"


def as_json(entries: list[QueueEntry]) -> dict:
    return {
        "version": 1,
        "entries": [
            {
                **{k: getattr(e, k) for k in KEPT},
                "audio": asdict(e.audio) if e.audio else None,
                "generated": e.generated.to_dict() if e.generated else None,
                "analysis": e.analysis.to_dict() if e.analysis else None,
                "blob": e.draft_blob,
            }
            for e in entries
        ],
    }


def _blobs(draft: dict | None) -> set[str]:
    return {e["blob"] for e in (draft or {}).get("entries", []) if e.get("blob")}


def save(store: Store, artist: dict, entries: list[QueueEntry], by: str | None = None) -> None:
    """Write the artist's queue as its draft: new MP3s uploaded once, dropped ones deleted."""
    if not entries:
        discard(store, artist)
        return
    for entry in entries:
        if entry.state != "saved" and not entry.draft_blob:
            path = blob_path(artist["id"], entry.id)
            store.put_blob(path, entry.audio_path, "audio/mpeg")
            entry.draft_blob = path
        elif entry.state == "saved":
            entry.draft_blob = None  # the item has its own copy now
    old = store.get_draft(artist["id"])
    draft = as_json(entries)
    store.save_draft(artist["id"], draft, by)
    _drop(store, _blobs(old and old["draft"]) - _blobs(draft))


def _drop(store: Store, paths) -> None:
    try:
        store.delete_blobs(sorted(paths))
    except TrainModeError:
        log.warning("could not remove draft MP3s %s; they are orphans now", sorted(paths), exc_info=True)


def _download(store: Store, path: str) -> str:
    """The draft's MP3 as a temp file in the uploads folder (the entry's working copy again)."""
    with store.open_blob(path) as blob:
        return spill_upload(blob, store.temp_dir())


def _entry(store: Store, artist: dict, data: dict, summary_of: SummaryOf, master_schema: dict) -> QueueEntry:
    audio_path = _download(store, data["blob"]) if data.get("blob") else ""
    entry = QueueEntry(
        artist_id=artist["id"],
        audio_path=audio_path,
        audio=AudioInfo(**data["audio"]) if data.get("audio") else None,
        generated=GeneratedCaption(**data["generated"]) if data.get("generated") else None,
        analysis=AudioAnalysis.from_dict(data["analysis"]) if data.get("analysis") else None,
        draft_blob=data.get("blob"),
        **{k: data.get(k) for k in KEPT if k in data},
    )
    row = summary_of(entry.parse_id)
    if entry.analysis and row:
        entry.verdict = judge(entry.analysis, row["summary"])
    if entry.caption and row:
        entry.findings = list(check_caption(entry.caption, row["summary"], master_schema, artist_name=artist["name"]))
    if not entry.variants and entry.generated:  # a draft kept before variants were editable
        entry.variants = dict(entry.generated.variants)
    if entry.variants and row:
        entry.variant_findings = check_variants(
            entry.variants, row["summary"], master_schema, artist_name=artist["name"]
        )
    return entry


def restore(
    store: Store, artist: dict, summary_of: SummaryOf, master_schema: dict
) -> tuple[list[QueueEntry], str | None]:
    """The artist's draft as queue entries (and when it was last changed), or ([], None).
    `summary_of(parse_id)`: the whole set row (or None when the set is gone), asked only for the
    draft's sets."""
    row = store.get_draft(artist["id"])
    if not row:
        return [], None
    entries = []
    for data in row["draft"].get("entries", []):
        try:
            entries.append(_entry(store, artist, data, summary_of, master_schema))
        except (TrainModeError, OSError, TypeError, KeyError):
            log.warning("a draft entry of %s could not be restored", artist["name"], exc_info=True)
    return entries, row["updated_at"]


def discard(store: Store, artist: dict) -> None:
    old = store.get_draft(artist["id"])
    if old:
        store.delete_draft(artist["id"])
        _drop(store, _blobs(old["draft"]))


def sweep(store: Store, now: datetime | None = None) -> int:
    """Delete drafts (rows and MP3s) not changed for MAX_AGE, and spilled uploads as old (a tab
    closed long ago left them; its draft has the MP3); returns how many drafts went."""
    now = now or datetime.now(UTC)
    old = store.drafts_before((now - MAX_AGE).isoformat())
    for row in old:
        store.delete_draft(row["artist_id"])
        _drop(store, _blobs(row["draft"]))
    uploads = Path(store.temp_dir() or tempfile.gettempdir()) / "uploads"
    for spilled in uploads.glob("*.mp3"):
        try:
            if spilled.stat().st_mtime < (now - MAX_AGE).timestamp():
                spilled.unlink()
        except OSError:
            continue  # gone already, or not ours to remove
    return len(old)


def fingerprint(entries: list[QueueEntry]) -> str:
    """What the draft would hold: saving is skipped while it has not changed."""
    return json.dumps(as_json(entries), sort_keys=True, default=str)
