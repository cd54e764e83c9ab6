"""The Train queue: one entry per (set, MP3) pair, as plain dicts so it can live in
st.session_state and survive page switches and reruns.

States: pending -> generating -> review -> saving -> saved, and failed from
generating or saving (retry repeats the step that failed). Uploaded bytes never sit
in the queue: they are spilled to a temp file, the entry keeps only the path, and
the file goes once the item is saved or the entry removed.

The actions below (generate, save, retry, edit) are what the Train page's buttons
call; they move entries and never raise for one entry's failure.
"""
from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, Callable

from .batch import DEFAULT_MAX_WORKERS, Job, generate_many
from .config import Settings
from .files import spill_to_temp
from .errors import ConfirmationRequired, TrainModeError, ValidationError
from .service import findings_for, save_training_item
from .store import Store
from .writers import GeneratedCaption, get_writer

Progress = Callable[[int, int, dict], None]  # (done, total, entry just finished)

TRANSITIONS = {
    "pending": {"generating", "review"},
    "generating": {"review", "failed"},
    "review": {"generating", "saving", "review"},
    "saving": {"saved", "failed", "review"},
    "failed": {"pending", "generating", "review"},
    "saved": set(),
}
STATES = tuple(TRANSITIONS)


def spill_upload(upload: BinaryIO | bytes, folder: str | None) -> str:
    """Copy an upload to a temp file and return its path (the queue keeps paths, not bytes)."""
    folder_path = Path(folder or tempfile.gettempdir()) / "uploads"
    folder_path.mkdir(parents=True, exist_ok=True)
    return str(spill_to_temp(upload, folder_path))


def new_entry(*, artist_id: str, parse_id: str, als_filename: str, audio_name: str, audio_path: str,
              duration_s: float | None = None, pairing: str = "") -> dict:
    return {
        "id": uuid.uuid4().hex[:12], "artist_id": artist_id, "parse_id": parse_id,
        "als_filename": als_filename, "audio_name": audio_name, "audio_path": audio_path,
        "duration_s": duration_s, "pairing": pairing,
        "state": "pending", "prompt": "", "generated": None, "findings": [],
        "error": None, "failed_step": None, "note": None, "item_id": None,
        "needs_confirmation": [], "confirmed": False,
    }


def move(entry: dict, state: str, **changes) -> dict:
    if state not in TRANSITIONS[entry["state"]]:
        raise ValidationError(f"{entry['audio_name']}: cannot go from {entry['state']} to {state}.")
    if state == "failed":
        changes.setdefault("failed_step", entry["state"])  # what a retry repeats
    entry.update(changes, state=state)
    if state != "failed":
        entry["error"] = None
    return entry


def find(queue: list[dict], entry_id: str) -> dict | None:
    return next((e for e in queue if e["id"] == entry_id), None)


def remove(queue: list[dict], entry_id: str) -> None:
    entry = find(queue, entry_id)
    if entry:
        queue.remove(entry)
        if entry["state"] != "saved":
            Path(entry["audio_path"]).unlink(missing_ok=True)


def counts(queue: list[dict]) -> dict[str, int]:
    return {state: sum(1 for e in queue if e["state"] == state) for state in STATES}


def progress(queue: list[dict]) -> float:
    """Share of the batch that is done (saved) — for the batch progress bar."""
    return counts(queue)["saved"] / len(queue) if queue else 0.0


def edited(entry: dict) -> bool:
    return bool(entry["generated"]) and entry["prompt"].strip() != entry["generated"]["text"].strip()


def recover(queue: list[dict]) -> None:
    """A run cut short (the user left the page mid-batch) leaves entries half-way:
    nothing is running at the start of a rerun, so put them where a user can act."""
    for entry in queue:
        if entry["state"] == "generating":
            move(entry, "failed", error="Interrupted before the caption was written: retry it.")
        elif entry["state"] == "saving":
            move(entry, "review")  # saving again is safe: the same audio is found, not stored twice


# ---- actions ------------------------------------------------------------------------
def generate(entries: list[dict], store: Store, settings: Settings, artist: dict, summaries: dict[str, dict], *,
             max_workers: int = DEFAULT_MAX_WORKERS, on_progress: Progress | None = None) -> None:
    """Write captions for `entries` a few at a time; each ends in review or failed.
    A writer that cannot be set up (no key) raises before any entry moves."""
    if not entries:
        return
    writer = get_writer(settings)
    master_schema = store.get_master_schema(artist["id"])
    by_id, jobs = {}, []
    for entry in entries:
        move(entry, "generating")
        row = summaries.get(entry["parse_id"])
        if row is None:
            move(entry, "failed", error=f"The set {entry['als_filename']} is no longer in the library.")
            continue
        by_id[entry["id"]] = entry
        jobs.append(Job(row["summary"], master_schema, key=entry["id"], artist_name=artist["name"]))

    def finished(done: int, total: int, result) -> None:
        entry = by_id[result.job.key]
        if result.ok:
            move(entry, "review", prompt=result.prompt.text, generated=result.prompt.to_dict(),
                 findings=[f.to_dict() for f in result.findings], needs_confirmation=[], confirmed=False)
        else:
            move(entry, "failed", error=result.error)
        if on_progress:
            on_progress(done, total, entry)

    generate_many(jobs, writer, max_workers=max_workers, on_progress=finished)


def saveable(queue: list[dict]) -> list[dict]:
    """Reviewed entries that need no (further) confirmation: what "save all" saves."""
    return [e for e in queue if e["state"] == "review" and (not e["needs_confirmation"] or e["confirmed"])]


def save(entries: list[dict], store: Store, artist: dict, summaries: dict[str, dict], *,
         on_progress: Progress | None = None) -> None:
    """Store each reviewed entry as a training item, one after the other."""
    for done, entry in enumerate(entries, start=1):
        _save_one(entry, store, artist, summaries)
        if on_progress:
            on_progress(done, len(entries), entry)


def _save_one(entry: dict, store: Store, artist: dict, summaries: dict[str, dict]) -> None:
    move(entry, "saving")
    generated = GeneratedCaption(**entry["generated"]) if entry["generated"] else None
    try:
        row = summaries.get(entry["parse_id"])
        if row is None:
            raise ValidationError(f"The set {entry['als_filename']} is no longer in the library.")
        result = save_training_item(store, artist, row, audio=entry["audio_path"], audio_name=entry["audio_name"],
                                    prompt_text=entry["prompt"], generated=generated, confirm=entry["confirmed"])
    except ConfirmationRequired as exc:
        move(entry, "review", needs_confirmation=exc.reasons, confirmed=False)
        return
    except TrainModeError as exc:
        move(entry, "failed", error=str(exc))
        return
    move(entry, "saved", item_id=result.item["id"], needs_confirmation=[],
         note="Already saved earlier (the same audio)." if result.duplicate else None)
    Path(entry["audio_path"]).unlink(missing_ok=True)  # the store has its own copy now


def retry(entries: list[dict], store: Store, settings: Settings, artist: dict, summaries: dict[str, dict], *,
          on_progress: Progress | None = None) -> None:
    """Repeat the step each failed entry failed at: writing its caption, or saving it."""
    failed = [e for e in entries if e["state"] == "failed"]
    again = [e for e in failed if e["failed_step"] == "saving"]
    for entry in again:
        move(entry, "review")
    generate([e for e in failed if e not in again], store, settings, artist, summaries, on_progress=on_progress)
    save(again, store, artist, summaries, on_progress=on_progress)


def edit(entry: dict, text: str, summary: dict, master_schema: dict, artist_name: str | None) -> None:
    """Keep the user's caption and re-check it; an earlier confirmation was for the old text."""
    entry.update(prompt=text, findings=findings_for(text, summary, master_schema, artist_name),
                 needs_confirmation=[], confirmed=False)
