"""The Train queue as a draft in the store (table queue_drafts), so a reload, a closed tab or
another browser finds it again.

One draft per artist: the entries as JSON, and each entry's MP3 as a blob at
`drafts/<artist_id>/<entry id>.mp3` (uploaded once; the temp file is the working copy).
Restoring downloads the MP3s to temp files, fact-checks the captions again and judges the kept
audio analysis against the set again (the MP3 is not listened to twice). Discarding
deletes the row and the blobs; drafts untouched for `MAX_AGE` are swept the same way.
"""

from __future__ import annotations

import functools
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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
    "version",
    "changed_by",
    "lyrics",
)
NOT_CONTENT = ("version", "changed_by", "blob")  # what an entry's fingerprint leaves out


def blob_path(artist_id: str, entry_id: str) -> str:
    return f"drafts/{artist_id}/{entry_id}.mp3"


def entry_json(e: QueueEntry) -> dict:
    return {
        **{k: getattr(e, k) for k in KEPT},
        "audio": asdict(e.audio) if e.audio else None,
        "generated": e.generated.to_dict() if e.generated else None,
        "analysis": e.analysis.to_dict() if e.analysis else None,
        "blob": e.draft_blob,
    }


def as_json(entries: list[QueueEntry]) -> dict:
    return {"version": 2, "entries": [entry_json(e) for e in entries]}


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


def _entry(
    store: Store, artist: dict, data: dict, summary_of: SummaryOf, master_schema: dict, audio_path: str | None = None
) -> QueueEntry:
    """A stored entry as a queue entry; `audio_path`: a working copy of its MP3 this session has already."""
    if audio_path is None:
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


# ---- shared work on one artist's queue (#29): per-entry versions, compare-and-set writes ------------
# Every session keeps, per entry, the version it last read or wrote and the entry's content then
# (`Synced.known`). `pull` (at the start of each run) brings in what others changed; `push` (at the
# end) writes only the entries this session changed or removed, each only if nobody else wrote a
# newer version meanwhile, and the row only if nobody wrote it between the read and the write.
TRIES = 5


@dataclass
class Synced:
    """What one session knows of the stored queue: entry id -> (version, content fingerprint)."""

    known: dict[str, tuple[int, str]] = field(default_factory=dict)
    updated_at: str | None = None  # the stored draft's updated_at when it was last read


def entry_fingerprint(entry: QueueEntry) -> str:
    data = {k: v for k, v in entry_json(entry).items() if k not in NOT_CONTENT}
    return json.dumps(data, sort_keys=True, default=str)


def _stored(store: Store, artist: dict) -> tuple[dict[str, dict], str | None]:
    row = store.get_draft(artist["id"])
    entries = (row["draft"].get("entries", []) if row else []) or []
    return {d["id"]: d for d in entries if d.get("id")}, (row["updated_at"] if row else None)


def _someone(data: dict | None) -> str:
    return (data or {}).get("changed_by") or "someone else"


def pull(
    store: Store, artist: dict, queue: list[QueueEntry], synced: Synced, summary_of: SummaryOf, master_schema: dict
) -> tuple[set[str], list[str]]:
    """Bring the artist's entries in `queue` up to the stored queue: entries others changed are
    replaced (a change made here to one of them is refused, said in a note), entries others
    removed go, entries others added come in. Returns (ids refreshed or removed, notes)."""
    stored, synced.updated_at = _stored(store, artist)
    load = functools.partial(_entry, store, artist, summary_of=summary_of, master_schema=master_schema)
    refreshed, notes = _refresh(queue, artist, synced, stored, load)
    local = {e.id for e in queue}
    for entry_id, data in stored.items():
        if entry_id in local:
            continue
        if entry_id in synced.known:  # removed here, not stored yet (a click's rerun comes before push)
            if int(data.get("version") or 0) == synced.known[entry_id][0]:
                continue
            notes.append(f"{_someone(data)} changed {data.get('audio_name')} meanwhile: it was not removed.")
        try:
            fresh = load(data)
        except (TrainModeError, OSError, TypeError, KeyError):
            log.warning("a draft entry of %s could not be restored", artist["name"], exc_info=True)
            continue
        queue.append(fresh)
        synced.known[entry_id] = (fresh.version, entry_fingerprint(fresh))
    return refreshed, notes


def _refresh(
    queue: list[QueueEntry], artist: dict, synced: Synced, stored: dict[str, dict], load
) -> tuple[set[str], list[str]]:
    """The entries of `queue` someone else changed or removed since this session last saw them."""
    refreshed, notes = set(), []
    for index, entry in reversed(list(enumerate(queue))):
        seen = synced.known.get(entry.id)
        if entry.artist_id != artist["id"] or seen is None:
            continue  # another artist's, or added here and not written yet
        data, changed_here = stored.get(entry.id), entry_fingerprint(entry) != seen[1]
        lost = " Your change to it was not kept." if changed_here else ""
        if data is None:
            del queue[index]
            synced.known.pop(entry.id)
            refreshed.add(entry.id)
            notes.append(f"{entry.audio_name} was taken off the queue by someone else meanwhile.{lost}")
        elif int(data.get("version") or 0) != seen[0]:
            same_mp3 = entry.draft_blob == data.get("blob") and Path(entry.audio_path).is_file()
            queue[index] = fresh = load(data, audio_path=entry.audio_path if same_mp3 else None)
            synced.known[entry.id] = (fresh.version, entry_fingerprint(fresh))
            refreshed.add(entry.id)
            notes.append(f"{_someone(data)} changed {entry.audio_name} meanwhile: this is their version.{lost}")
    return refreshed, notes


def _merge(
    store: Store, artist: dict, mine: list[QueueEntry], synced: Synced, stored: dict[str, dict], by: str | None
) -> tuple[dict[str, dict], dict[str, tuple[int, str]], list[str]]:
    """The stored entries with this session's changes and removals applied where their version
    still matches: (entries to store, what this session knows then, notes on what was refused)."""
    out, known, notes = dict(stored), dict(synced.known), []
    for entry in mine:
        seen, fingerprint = synced.known.get(entry.id), entry_fingerprint(entry)
        current = stored.get(entry.id)
        if seen and seen[1] == fingerprint and current is not None:
            continue  # not changed here
        if seen and current is None:
            notes.append(f"{entry.audio_name} was taken off the queue by someone else meanwhile: not stored again.")
            continue
        if current is not None and int(current.get("version") or 0) != (seen[0] if seen else 0):
            notes.append(f"{_someone(current)} changed {entry.audio_name} meanwhile: your change was not kept.")
            continue
        _keep_audio(store, artist, entry)
        entry.version, entry.changed_by = (seen[0] if seen else 0) + 1, by
        out[entry.id] = entry_json(entry)
        known[entry.id] = (entry.version, fingerprint)
    for entry_id in set(synced.known) - {e.id for e in mine}:  # removed here
        current = stored.get(entry_id)
        if current is not None and int(current.get("version") or 0) != synced.known[entry_id][0]:
            notes.append(f"{_someone(current)} changed {current.get('audio_name')} meanwhile: it was not removed.")
        else:
            out.pop(entry_id, None)
        known.pop(entry_id)
    return out, known, notes


def _keep_audio(store: Store, artist: dict, entry: QueueEntry) -> None:
    """An unsaved entry's MP3 in the store (uploaded once); a saved one needs none (the item has it)."""
    if entry.state != "saved" and not entry.draft_blob:
        path = blob_path(artist["id"], entry.id)
        store.put_blob(path, entry.audio_path, "audio/mpeg")
        entry.draft_blob = path
    elif entry.state == "saved":
        entry.draft_blob = None


def push(store: Store, artist: dict, queue: list[QueueEntry], synced: Synced, by: str | None = None) -> list[str]:
    """Store what this session changed in the artist's queue (see `_merge`); returns notes on what
    was refused because someone else changed it first (the next `pull` shows their version)."""
    mine = [e for e in queue if e.artist_id == artist["id"]]
    if {e.id for e in mine} == set(synced.known) and all(synced.known[e.id][1] == entry_fingerprint(e) for e in mine):
        return []  # nothing changed here: no read, no write
    for _ in range(TRIES):
        stored, updated_at = _stored(store, artist)
        out, known, notes = _merge(store, artist, mine, synced, stored, by)
        if out == stored:
            synced.known, synced.updated_at = known, updated_at
            return notes
        draft = {"version": 2, "entries": list(out.values())} if out else None
        if store.replace_draft(artist["id"], draft, by, updated_at):
            _drop(store, _blobs({"entries": list(stored.values())}) - _blobs(draft))
            synced.known = known
            return notes
    raise TrainModeError("The queue kept changing in other tabs while it was being stored: reload the page.")
