"""The Train queue: one entry per (set, MP3) pair, as plain dicts so it can live in
st.session_state and survive page switches and reruns.

States: pending -> generating -> review -> saving -> saved, and failed from
generating or saving (retry sends it back). Uploaded bytes never sit in the queue:
they are spilled to a temp file and the entry keeps only the path.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

from .errors import ValidationError

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
    fd, name = tempfile.mkstemp(dir=folder_path, suffix=".mp3")
    with os.fdopen(fd, "wb") as out:
        if isinstance(upload, (bytes, bytearray)):
            out.write(upload)
        else:
            upload.seek(0)
            shutil.copyfileobj(upload, out, 1024 * 1024)
    return name


def new_entry(*, artist_id: str, parse_id: str, als_filename: str, audio_name: str, audio_path: str) -> dict:
    return {
        "id": uuid.uuid4().hex[:12], "artist_id": artist_id, "parse_id": parse_id,
        "als_filename": als_filename, "audio_name": audio_name, "audio_path": audio_path,
        "state": "pending", "prompt": "", "generated": None, "findings": [],
        "error": None, "item_id": None, "needs_confirmation": [],
    }


def move(entry: dict, state: str, **changes) -> dict:
    if state not in TRANSITIONS[entry["state"]]:
        raise ValidationError(f"{entry['audio_name']}: cannot go from {entry['state']} to {state}.")
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
