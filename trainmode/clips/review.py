"""Clips for review and saving: what the Train page and `python -m trainmode clips` show of an
item's section clips, and how the reviewed captions are stored (table training_clips).

    clips = planned_clips(store, writer, artist, set_row, item)      # [{index, name, start_s, ...}]
    save_reviewed(store, item, clips)                                 # captions edited or dropped
"""

from __future__ import annotations

from typing import BinaryIO

from trainmode.audio import frames as mp3cut
from trainmode.audio import seek as mp3seek
from trainmode.clips import plan as clip_plan
from trainmode.errors import NotFoundError, ValidationError
from trainmode.ops import text
from trainmode.store import Store


def saved_item(store: Store, artist: dict, set_row: dict) -> dict:
    """The newest saved item made from `set_row`."""
    items = [i for i in store.list_items(artist["id"]) if i.get("parse_id") == set_row["parse_id"]]
    if not items:
        raise NotFoundError(f"{set_row['als_filename']} has no saved training item yet: save an MP3 for it first.")
    return items[-1]


# What an item's clips are read from: a review is kept until a write changes one of these.
READS = ("training_items", "training_clips", "als_summaries", "artist_profiles")


def item_and_clips(store: Store, writer, artist: dict, item_id: str, set_row_of, mode: str) -> tuple[dict, list]:
    """A saved item and its planned clips; `set_row_of(parse_id)` gives the item's set."""
    item = store.get_item(item_id)
    if item is None:
        raise NotFoundError("That training item no longer exists.")
    return item, planned_clips(store, writer, artist, set_row_of(item["parse_id"]), item, mode=mode)


def planned_clips(
    store: Store,
    writer,
    artist: dict,
    set_row: dict,
    item: dict | None,
    *,
    mode: str = "sections",
    duration_s: float | None = None,
    offset_s: float | None = None,
) -> list[dict]:
    """The clips of a render of `set_row`: stored captions for a saved `item` where it has them,
    else captions by `writer` from each section's facts, each with its fact-check findings.
    [{index, name, start_s, end_s, caption, variants, findings, edited, dropped, saved}]"""
    meta = (item or {}).get("metadata") or {}
    duration = duration_s if duration_s is not None else float((item or {}).get("audio_duration_s") or 0)
    offset = offset_s if offset_s is not None else float(meta.get("clip_offset_s") or 0)
    plan = clip_plan.plan_clips(set_row["summary"], duration, mode=mode, offset_s=offset)
    stored = {(c["position"], c["start_s"], c["end_s"]): c for c in store.list_clips(item["id"], mode)} if item else {}
    # Stored captions belong to their cut: after the offset moved, none may fit and all are written again.
    unstored = any((c.index, c.start_s, c.end_s) not in stored for c in plan)
    fresh = (
        clip_plan.caption_clips(
            writer, set_row["summary"], plan, store.get_master_schema(artist["id"]), artist_name=artist["name"]
        )
        if unstored
        else [None] * len(plan)
    )
    out = []
    for clip, written in zip(plan, fresh, strict=True):
        kept = stored.get((clip.index, clip.start_s, clip.end_s))
        base = {**clip.to_dict(), "edited": False, "dropped": False, "saved": kept is not None}
        if kept is not None:
            out.append(
                {
                    **base,
                    "caption": kept["caption"],
                    "variants": kept.get("variants") or {},
                    "findings": kept.get("findings") or [],
                    "edited": bool(kept.get("edited")),
                    "dropped": bool(kept.get("dropped")),
                }
            )
        else:
            out.append({**base, **{k: written[k] for k in ("caption", "variants", "findings")}})
    return out


def save_reviewed(store: Store, item: dict, clips: list[dict], mode: str = "sections") -> list[dict]:
    """Store the reviewed clips of `item` (all of this mode at once). A clip kept in the dataset
    needs a caption; a dropped one keeps whatever it had."""
    rows = []
    for clip in clips:
        caption = text.one_line(clip.get("caption"))
        if not caption and not clip.get("dropped"):
            raise ValidationError(
                f"Clip {clip['index']} ({clip.get('name') or 'unnamed section'}) has no caption: "
                "write one or drop the clip."
            )
        rows.append(
            {
                "position": clip["index"],
                "section": clip.get("name") or "",
                "start_s": clip["start_s"],
                "end_s": clip["end_s"],
                "caption": caption or "(dropped)",
                "variants": clip.get("variants") or {},
                "findings": clip.get("findings") or [],
                "edited": bool(clip.get("edited")),
                "dropped": bool(clip.get("dropped")),
            }
        )
    return store.save_clips(item["id"], mode, rows)


def clip_audio(store: Store, item: dict, clip: dict) -> bytes:
    """One clip's MP3 bytes, cut from the item's stored render (for a player: a clip, not a render)."""
    with store.open_blob(item["audio_path"]) as fh:
        try:
            return _cut(fh, mp3seek.index_of(fh, (item.get("metadata") or {}).get("frames")), clip)
        except mp3seek.Stale:  # the render changed since its seek table was made
            return _cut(fh, mp3cut.scan(fh), clip)


def _cut(fh: BinaryIO, index: mp3cut.Timing, clip: dict) -> bytes:
    first = 0 if clip["start_s"] <= 0 else index.frame_at(clip["start_s"])
    near_end = clip["end_s"] >= index.duration_s - index.frame_seconds
    last = index.count if near_end else index.frame_at(clip["end_s"])
    return b"".join(mp3cut.clip(fh, index, first, max(last, first + 1)))


def set_offset(store: Store, item: dict, offset_s: float) -> dict:
    """Store the render's lead-in before beat 0 (item metadata `clip_offset_s`)."""
    duration = float(item.get("audio_duration_s") or 0)
    if not -duration <= offset_s <= duration:
        raise ValidationError(f"An offset of {offset_s:g} s is longer than the render ({duration:.0f} s).")
    meta = {**(item.get("metadata") or {}), "clip_offset_s": round(float(offset_s), 3)}
    return store.update_row("training_items", item["id"], {"metadata": meta})
