"""The rows that cross the door, typed: what `Store` and `TrainMode` take and give.

They are TypedDicts, so a row stays the plain dict both backends store and read (no conversion);
the types only say which keys a row has. Keys are the schema's column names
(supabase/migrations, docs/supabase-schema.md): ids are UUID strings, times ISO-8601 UTC strings,
jsonb columns dicts or lists.

The database keeps the seed's column names for a training item's caption (`prompt_text`, and its
blob `prompt_path`); `caption_of` and `caption_path` are the one place code outside the store
reads them, and CAPTION / CAPTION_PATH name them where an item row is written.
"""

from __future__ import annotations

from typing import Any, TypedDict

CAPTION = "prompt_text"  # training_items' column holding the caption
CAPTION_PATH = "prompt_path"  # ... and the blob that holds it as prompt.txt


class Artist(TypedDict):
    """A row of artists."""

    id: str
    name: str
    created_at: str


class SetRow(TypedDict):
    """A set as the pages see it (trainmode/store/set_rows.py): a few facts, no whole summary."""

    id: str
    parse_id: str
    als_filename: str
    created_at: str
    version: int
    bpm: float | None
    meter: str | None
    key: str | None  # None unless the set shows it clearly
    seconds: float | None
    midi: int | None
    audio: int | None
    instruments: list[str]
    plugins: list[str]
    devices: list[str]
    live: str | None


class SetRecord(TypedDict):
    """A whole row of als_summaries: the set's summary as parsed (docs/als-summary.md)."""

    id: str
    artist_id: str
    parse_id: str
    als_filename: str
    summary: dict[str, Any]
    created_at: str


class Item(TypedDict, total=False):
    """A row of training_items: one saved MP3 with its caption. Keys are optional because a
    table's page (Store.ITEM_ROW_COLUMNS) carries only some of them."""

    id: str
    artist_id: str
    als_summary_id: str
    parse_id: str
    audio_path: str
    prompt_path: str  # read it with caption_path()
    prompt_text: str  # read it with caption_of()
    status: str  # 'ready' or 'exported'
    prompt_model: str | None
    prompt_version: str | None
    prompt_writer: str | None
    prompt_edited: bool
    provenance: dict[str, Any]
    findings: list[dict[str, Any]]
    metadata: dict[str, Any]
    audio_sha256: str
    audio_duration_s: float | None
    audio_bytes: int | None
    audio_filename: str | None
    created_at: str
    updated_at: str
    exported_at: str | None
    export_id: str | None
    created_by: str | None


class Export(TypedDict, total=False):
    """A row of exports: one dataset.zip being built, built or failed. Keys are optional because
    begin_export is handed the few it starts with. What the zip holds (format ... valid_count) is
    recorded by the export (trainmode/export/build.py); rows made before that keep None there."""

    id: str
    artist_id: str
    zip_path: str
    item_count: int
    bytes: int
    sha256: str | None
    status: str  # 'building', 'complete' or 'failed'
    error: str | None
    created_at: str
    completed_at: str | None
    lease_owner: str | None
    heartbeat_at: str | None
    created_by: str | None
    format: str | None  # the dataset format's name (trainmode/export/formats)
    clips: str | None  # the rows: 'none' (whole tracks), 'sections' or 'windows'
    window_s: float | None  # a window clip's length, when clips is 'windows'
    split: float | None  # the share asked to train on; None: no validation split
    row_count: int | None  # rows in the zip: tracks or clips (parts of long ones counted)
    valid_count: int | None  # of them, in the validation split


def caption_of(item: Item) -> str:
    """A training item's caption."""
    return item[CAPTION]


def caption_path(item: Item) -> str:
    """Where a training item's caption is stored as prompt.txt."""
    return item[CAPTION_PATH]
