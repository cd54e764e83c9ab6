"""Ableton Live set (.als) parsing: one streaming pass from file to summary v2.

from trainmode.sets.als import parse_als
parsed = parse_als("song.als")
parsed.summary["tempo"]["bpm"]
"""

from __future__ import annotations

from dataclasses import dataclass

from trainmode.sets.als.build import SCHEMA_VERSION
from trainmode.sets.als.parser import parse_stream
from trainmode.sets.als.reader import MAX_DECOMPRESSED_BYTES, SetStream
from trainmode.sets.als.schema import validate_summary

__all__ = ["MAX_DECOMPRESSED_BYTES", "SCHEMA_VERSION", "ParsedSet", "parse_als", "validate_summary"]


@dataclass(frozen=True)
class ParsedSet:
    parse_id: str  # first 32 hex chars of the file's SHA-256: same bytes, same id
    filename: str
    summary: dict
    sha256: str


def parse_als(source, filename: str | None = None, *, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> ParsedSet:
    """Parse a Live set from a path, bytes or binary file object (gzip .als or plain XML).

    Raises trainmode.errors.AlsError, with a message naming the file, for anything that
    is not a readable Live set."""
    stream = SetStream(source, filename, max_bytes=max_bytes)
    summary = parse_stream(stream)
    return ParsedSet(parse_id=stream.sha256[:32], filename=stream.name, summary=summary, sha256=stream.sha256)
