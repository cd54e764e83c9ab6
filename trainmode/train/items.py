"""Changing and deleting what was saved: an item's caption, an item, a set, an export, an artist.

Rows go first, then their blobs: a blob left behind by a failure is an orphan (harmless,
swept by the doctor), never a row pointing at nothing. Every function raises a
TrainModeError with a sentence for the user when it refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from trainmode.captions.factcheck import check_caption
from trainmode.errors import NotFoundError, TrainModeError, ValidationError
from trainmode.store import Store
from trainmode.store.rows import CAPTION, caption_path
from trainmode.train.save import clean_caption_text, clean_lyrics, is_blocking

log = logging.getLogger(__name__)


def _drop_blobs(store: Store, paths: Iterable[str]) -> None:
    paths = [p for p in paths if p]
    try:
        store.delete_blobs(paths)
    except TrainModeError:
        log.warning(
            "could not remove %d file(s) after deleting their rows; they are orphans now", len(paths), exc_info=True
        )


def _item(store: Store, artist: dict, item_id: str) -> dict:
    item = store.get_item(item_id)
    if item is None or item["artist_id"] != artist["id"]:
        raise NotFoundError(f"{artist['name']} has no such training item (deleted already?).")
    return item


def update_caption(store: Store, artist: dict, item_id: str, caption: str) -> dict:
    """A saved item's caption replaced by the user's text (prompt_edited set), its caption file
    rewritten. A blocking fact-check finding (artist name, path, URL, sample file) refuses it."""
    item = _item(store, artist, item_id)
    caption = clean_caption_text(caption)
    summary = (store.get_summary(artist["id"], item["parse_id"]) or {}).get("summary") or {}  # one set, not all
    findings = check_caption(caption, summary, store.get_master_schema(artist["id"]), artist_name=artist["name"])
    if blocking := [f.message for f in findings if is_blocking(f)]:
        raise ValidationError("This caption cannot be saved: " + " ".join(blocking) + " Edit it first.")
    store.put_blob(caption_path(item), (caption + "\n").encode("utf-8"), "text/plain; charset=utf-8")
    return store.update_row("training_items", item_id, {CAPTION: caption, "prompt_edited": True}) or item


def set_lyrics(store: Store, artist: dict, item_id: str, lyrics: str | None) -> dict:
    """Attach the song's lyrics to a saved item (metadata `lyrics`), replace them, or remove them
    (None or blank). The next export writes them the way each trainer reads lyrics."""
    item = _item(store, artist, item_id)
    metadata = {k: v for k, v in (item.get("metadata") or {}).items() if k != "lyrics"}
    cleaned = clean_lyrics(lyrics)
    if cleaned:
        metadata["lyrics"] = cleaned
    return store.update_row("training_items", item_id, {"metadata": metadata}) or {**item, "metadata": metadata}


def delete_item(store: Store, artist: dict, item_id: str) -> None:
    item = _item(store, artist, item_id)
    store.delete_rows("training_items", [item_id])
    _drop_blobs(store, [item["audio_path"], caption_path(item)])


def delete_set(store: Store, artist: dict, parse_id: str, *, with_items: bool = False) -> int:
    """Delete a set; refused while items use it unless `with_items` (then they go too).
    Returns how many items went with it."""
    row = store.get_summary(artist["id"], parse_id)
    if row is None:
        raise NotFoundError(f"{artist['name']} has no such set (deleted already?).")
    users = [i for i in store.list_items(artist["id"]) if i["als_summary_id"] == row["id"]]
    if users and not with_items:
        raise ValidationError(
            f"{row['als_filename']} is used by {len(users)} training item(s): delete them with it, or keep the set."
        )
    store.delete_rows("training_items", [i["id"] for i in users])
    store.delete_rows("als_summaries", [row["id"]])
    _drop_blobs(store, [p for i in users for p in (i["audio_path"], caption_path(i))])
    return len(users)


def unexport(store: Store, items: Iterable[dict]) -> None:
    """Items back to `ready` (their export deleted, or an export of everything to come)."""
    for item in items:
        store.update_row("training_items", item["id"], {"status": "ready", "export_id": None, "exported_at": None})


def delete_export(store: Store, artist: dict, export_id: str) -> None:
    """Delete an export and its zip; its items are `ready` again (they can be exported anew)."""
    export = next((e for e in store.list_exports(artist["id"]) if e["id"] == export_id), None)
    if export is None:
        raise NotFoundError(f"{artist['name']} has no such export (deleted already?).")
    if export["status"] == "building":
        raise ValidationError("This export is still running: wait for it to finish, then delete it.")
    unexport(store, [i for i in store.list_items(artist["id"]) if i.get("export_id") == export_id])
    store.delete_rows("exports", [export_id])
    _drop_blobs(store, [export["zip_path"]])


def delete_artist(store: Store, artist: dict, typed_name: str) -> None:
    """Delete an artist with everything: items, sets, exports, profile and their files.
    `typed_name` must be the artist's name (any case), typed by the user to confirm."""
    if typed_name.strip().casefold() != artist["name"].casefold():
        raise ValidationError(f"Type the artist's name, {artist['name']}, to delete it with everything.")
    items, exports = store.list_items(artist["id"]), store.list_exports(artist["id"])
    draft = store.get_draft(artist["id"])
    if any(e["status"] == "building" for e in exports):
        raise ValidationError("An export of this artist is running: wait for it to finish, then delete.")
    store.delete_rows("training_items", [i["id"] for i in items])
    store.delete_rows("exports", [e["id"] for e in exports])
    store.delete_rows("als_summaries", [r["id"] for r in store.list_summaries(artist["id"])])
    store.delete_rows("artists", [artist["id"]])
    store.delete_draft(artist["id"])
    _drop_blobs(
        store,
        [
            *(p for i in items for p in (i["audio_path"], caption_path(i))),
            *(e["zip_path"] for e in exports),
            *(e.get("blob") for e in (draft["draft"].get("entries", []) if draft else [])),
        ],
    )
