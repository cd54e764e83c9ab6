"""Library: artists, profiles and importing .als files into als_summaries."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from trainmode.errors import DatabaseDamagedError, DataDirError, NotFoundError, TrainModeError
from trainmode.ops.text import required_text
from trainmode.sets.als import parse_als, validate_summary
from trainmode.sets.profile import validate_master_schema
from trainmode.store import Store

Source = bytes | str | Path | BinaryIO
MAX_ARTIST_NAME = 100


@dataclass(frozen=True)
class ImportResult:
    filename: str
    status: str  # "imported" | "duplicate" | "failed"
    parse_id: str | None = None
    error: str | None = None


def artist_name(name: str) -> str:
    """The name as stored: trimmed, not empty, at most MAX_ARTIST_NAME characters."""
    return required_text(name, what="artist name", limit=MAX_ARTIST_NAME, when_empty="type a name")


def find_artist(store: Store, name: str) -> dict | None:
    """The artist called `name`, compared without case ("night drive" finds "Night Drive")."""
    wanted = (name or "").strip().casefold()
    return next((a for a in store.list_artists() if a["name"].casefold() == wanted), None)


def create_artist(store: Store, name: str) -> dict:
    """The artist called `name`: an existing one whatever its case, else a new one."""
    name = artist_name(name)
    return find_artist(store, name) or store.ensure_artist(name)


def require_artist(store: Store, name: str) -> dict:
    artist = find_artist(store, name)
    if artist is None:
        raise NotFoundError(
            f"No artist called {name!r}. Import a set for it first (python -m trainmode import --artist ...)."
        )
    return artist


def require_summary(store: Store, artist: dict, parse_id_or_filename: str) -> dict:
    """Find a set by parse_id or by its .als file name (the newest import wins)."""
    row = store.get_summary(artist["id"], parse_id_or_filename)
    if row:
        return row
    named = [r for r in store.list_summaries(artist["id"]) if r["als_filename"] == parse_id_or_filename]
    if not named:
        raise NotFoundError(f"{artist['name']} has no imported set {parse_id_or_filename!r}.")
    return max(named, key=lambda r: r["created_at"])


def import_one(store: Store, name: str, source: Source, filename: str) -> ImportResult:
    """Parse and validate first, then write: a broken file changes nothing (not even the artist)."""
    try:
        parsed = parse_als(source, filename=filename)
        validate_summary(parsed.summary)
        artist = create_artist(store, name)
        _, created = store.add_summary(artist["id"], parsed.parse_id, parsed.filename, parsed.summary)
    except (DatabaseDamagedError, DataDirError):
        raise  # the store, not this file: every other file would fail the same way
    except TrainModeError as exc:
        return ImportResult(filename, "failed", error=str(exc))
    return ImportResult(parsed.filename, "imported" if created else "duplicate", parsed.parse_id)


def import_sets(
    store: Store,
    name: str,
    sources: Iterable[tuple[str, Source]],
    on_progress: Callable[[int, ImportResult], None] | None = None,
) -> list[ImportResult]:
    """Import many sets for the artist `name` (created with its first good set); a broken
    file is reported and the others go on. An empty name is refused once, before any file."""
    name = artist_name(name)
    results = []
    for index, (filename, source) in enumerate(sources, start=1):
        result = import_one(store, name, source, filename)
        results.append(result)
        if on_progress:
            on_progress(index, result)
    return results


def save_master_schema(store: Store, artist_id: str, master_schema: dict) -> None:
    store.set_master_schema(artist_id, validate_master_schema(master_schema))
