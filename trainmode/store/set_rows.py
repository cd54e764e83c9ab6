"""The pages' narrow view of a set: the few summary fields the Library's table, filters and
charts show and the Train page pairs, labels and judges uploads by (name, import time, length,
tempo, meter, key), read by both backends as a projection (SQLite json_extract; on Supabase the
function train_mode_set_rows, which answers with one compact array per set), so a rerun never
moves whole summaries. The facts were computed at import (summary v2); a v1 summary (imported
before) is read whole once and upgraded here.

    store.list_set_rows(artist_id)[0]
    {"id": ..., "parse_id": ..., "als_filename": "night_drive.als", "created_at": "2026-...", "version": 2,
     "bpm": 124.0, "meter": "4/4", "key": "A minor", "seconds": 185.2, "midi": 3, "audio": 2,
     "instruments": ["drums", "bass"], "plugins": [...], "devices": [...], "live": "12.1"}
"""

from __future__ import annotations

import json

from trainmode.sets.facts import KEY_CONFIDENCE, SCHEMA_VERSION, SetFacts

COLUMNS = ("id", "parse_id", "als_filename", "created_at")  # created_at: pairing offers the newest import first
# output field -> path inside the summary
PATHS = {
    "version": ("schema_version",),
    "bpm": ("tempo", "dominant_bpm"),
    "meter": ("time_signature",),
    "key_name": ("key", "name"),
    "key_confidence": ("key", "confidence"),
    "seconds": ("length", "seconds"),
    "midi": ("track_counts", "midi"),
    "audio": ("track_counts", "audio"),
    "instruments": ("instruments",),
    "plugins": ("plugins",),
    "devices": ("devices",),
    "live": ("live_version",),
}
LISTS = ("instruments", "plugins", "devices")


def sqlite_select() -> str:
    """The SELECT list of the embedded backend."""
    paths = [f"json_extract(summary, '$.{'.'.join(p)}') AS {name}" for name, p in PATHS.items()]
    return ", ".join([*COLUMNS, *paths])


# The order of the values in each array train_mode_set_rows answers with
# (supabase/migrations/20261204000000_train_mode_set_rows.sql).
COMPACT = (
    "id",
    "parse_id",
    "als_filename",
    "version",
    "bpm",
    "meter",
    "key_name",
    "key_confidence",
    "seconds",
    "midi",
    "audio",
    "live",
    "instruments",
    "plugins",
    "devices",
    "created_at",
)


def from_compact(answer: dict) -> list[dict]:
    """train_mode_set_rows' answer as raw rows for `finish` (plugin and device positions named)."""
    names = answer["names"]
    raw = [dict(zip(COMPACT, values, strict=True)) for values in answer["sets"]]
    for row in raw:
        row["plugins"], row["devices"] = [names[i] for i in row["plugins"]], [names[i] for i in row["devices"]]
    return raw


def finish(raw: dict) -> dict:
    """A projected row in the shape the Library reads (JSON text from SQLite parsed, key trusted or None)."""
    row = {c: raw[c] for c in COLUMNS}
    for name in PATHS:
        value = raw.get(name)
        if name in LISTS and isinstance(value, str):
            value = json.loads(value)
        row[name] = value
    confident = row.pop("key_name"), float(row.pop("key_confidence") or 0)
    row["key"] = confident[0] if confident[0] and confident[1] >= KEY_CONFIDENCE else None
    row["instruments"] = [
        i["family"] if isinstance(i, dict) else i  # compact answers name the families only
        for i in row["instruments"] or []
        if isinstance(i, dict | str)
    ]
    row["plugins"], row["devices"] = list(row["plugins"] or []), list(row["devices"] or [])
    return row


def needs_whole(row: dict) -> bool:
    """A summary from before v2: its facts are not stored, so it is read whole and upgraded."""
    return row.get("version") != SCHEMA_VERSION


def from_summary_row(summary_row: dict) -> dict:
    """The same narrow row made from a whole als_summaries row (any summary version)."""
    s = summary_row.get("summary") or {}
    facts = SetFacts.from_summary(s)
    counts = s.get("track_counts") or {}
    return {
        **{c: summary_row.get(c) for c in COLUMNS},
        "version": SCHEMA_VERSION,
        "bpm": facts.dominant_bpm,
        "meter": facts.time_signature,
        "key": facts.key,
        "seconds": facts.length_seconds,
        "midi": counts.get("midi"),
        "audio": counts.get("audio"),
        "instruments": list(facts.instruments),
        "plugins": list(s.get("plugins") or []),
        "devices": list(s.get("devices") or []),
        "live": s.get("live_version"),
    }
