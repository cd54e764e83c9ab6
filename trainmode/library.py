"""Library: artists, profiles and importing .als files into als_summaries."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

from .als import parse_als
from .errors import NotFoundError, TrainModeError
from .profile import validate_master_schema
from .store import Store

Source = bytes | str | Path | BinaryIO


@dataclass(frozen=True)
class ImportResult:
    filename: str
    status: str                 # "imported" | "duplicate" | "failed"
    parse_id: str | None = None
    error: str | None = None


def require_artist(store: Store, name: str) -> dict:
    artist = store.find_artist(name)
    if artist is None:
        raise NotFoundError(f"No artist called {name!r}. Import a set for it first (python -m trainmode import --artist ...).")
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


def import_one(store: Store, artist_name: str, source: Source, filename: str) -> ImportResult:
    """Parse first, then write: a broken file changes nothing (not even the artist)."""
    try:
        parsed = parse_als(source, filename=filename)
        artist = store.ensure_artist(artist_name)
        _, created = store.add_summary(artist["id"], parsed.parse_id, parsed.filename, parsed.summary)
    except TrainModeError as exc:
        return ImportResult(filename, "failed", error=str(exc))
    return ImportResult(parsed.filename, "imported" if created else "duplicate", parsed.parse_id)


def import_sets(store: Store, artist_name: str, sources: Iterable[tuple[str, Source]],
                on_progress: Callable[[int, ImportResult], None] | None = None) -> list[ImportResult]:
    """Import many sets for `artist_name` (created with its first good set); a broken
    file is reported and the others go on."""
    results = []
    for index, (filename, source) in enumerate(sources, start=1):
        result = import_one(store, artist_name, source, filename)
        results.append(result)
        if on_progress:
            on_progress(index, result)
    return results


def save_master_schema(store: Store, artist_id: str, master_schema: dict) -> None:
    store.set_master_schema(artist_id, validate_master_schema(master_schema))
