"""Clips for review and saving: what the Train page and `python -m trainmode clips` show of an
item's section clips, and how the reviewed captions are stored (table training_clips).

    clips = planned_clips(store, writer, artist, set_row, item)      # [{index, name, start_s, ...}]
    save_reviewed(store, item, clips)                                 # captions edited or dropped

Stored captions are matched to planned clips by their span (start_s, end_s), never by number:
window clips reviewed at one window length are other audio at another, and get fresh captions.
"""

from __future__ import annotations

from typing import BinaryIO

from trainmode.audio import frames as mp3cut
from trainmode.audio import seek as mp3seek
from trainmode.audio.listen import clip_tags
from trainmode.captions.factcheck import check_caption
from trainmode.clips import plan as clip_plan
from trainmode.clips.captions import caption_clips
from trainmode.errors import NotFoundError, ValidationError
from trainmode.ops import text
from trainmode.sets.facts import section_summary
from trainmode.store import Store
from trainmode.train.save import clean_caption_text, is_blocking


def saved_item(store: Store, artist: dict, set_row: dict) -> dict:
    """The newest saved item made from `set_row`."""
    items = [i for i in store.list_items(artist["id"]) if i.get("parse_id") == set_row["parse_id"]]
    if not items:
        raise NotFoundError(f"{set_row['als_filename']} has no saved training item yet: save an MP3 for it first.")
    return items[-1]


# What an item's clips are read from: a review is kept until a write changes one of these.
READS = ("training_items", "training_clips", "als_summaries", "artist_profiles")


def item_and_clips(
    store: Store, writer, artist: dict, item_id: str, set_row_of, mode: str, window_s: float = clip_plan.WINDOW_S
) -> tuple[dict, list]:
    """A saved item and its planned clips; `set_row_of(parse_id)` gives the item's set."""
    item = store.get_item(item_id)
    if item is None:
        raise NotFoundError("That training item no longer exists.")
    set_row = set_row_of(item["parse_id"])
    return item, planned_clips(store, writer, artist, set_row, item, mode=mode, window_s=window_s)


def planned_clips(
    store: Store,
    writer,
    artist: dict,
    set_row: dict,
    item: dict | None,
    *,
    mode: str = "sections",
    window_s: float = clip_plan.WINDOW_S,
    duration_s: float | None = None,
    offset_s: float | None = None,
    keep_stored: bool = True,
) -> list[dict]:
    """The clips of a render of `set_row` (windows of at most `window_s` in mode 'windows'): stored
    captions for a saved `item` where it has one for a clip's span (unless not `keep_stored`), else
    captions by `writer` from each section's facts and what was heard in each, each with its
    fact-check findings.
    [{index, name, start_s, end_s, caption, variants, findings, edited, dropped, saved, silent}];
    `silent` says why a clip will not be exported (no sound in it), or is None: such a clip has no
    caption (''), none is written or kept for it."""
    duration = duration_s if duration_s is not None else float((item or {}).get("audio_duration_s") or 0)
    offset = offset_s if offset_s is not None else clip_plan.clip_offset(item, set_row["summary"])
    plan = clip_plan.plan_clips(set_row["summary"], duration, mode=mode, window_s=window_s, offset_s=offset)
    stored = (
        {clip_plan.span(c["start_s"], c["end_s"]): c for c in store.list_clips(item["id"], mode)}
        if item and keep_stored
        else {}
    )
    silent = _silent(plan, item)
    # Stored captions belong to their cut: after the offset moved, or at another window length, none
    # may fit and all are written again.
    unstored = any(clip_plan.span(c.start_s, c.end_s) not in stored for c in plan if c.index not in silent)
    fresh = (
        caption_clips(
            writer,
            set_row["summary"],
            plan,
            store.get_master_schema(artist["id"]),
            artist_name=artist["name"],
            heard=[clip_tags(item, c.start_s, c.end_s) for c in plan] if item else None,  # each section's, as heard
            silent=silent,
        )
        if unstored
        else [None] * len(plan)
    )
    return [
        _shown(clip, stored.get(clip_plan.span(clip.start_s, clip.end_s)), written, item, silent.get(clip.index))
        for clip, written in zip(plan, fresh, strict=True)
    ]


def _silent(plan: list[clip_plan.ClipPlan], item: dict | None) -> dict[int, str]:
    """index -> why, for the clips of `plan` that are silent (the export leaves them out)."""
    sound = (((item or {}).get("metadata") or {}).get("audio") or {}).get("sound_spans")
    return {c.index: why for c in plan if (why := clip_plan.silence_reason(c, sound))}


def _shown(
    clip: clip_plan.ClipPlan, kept: dict | None, written: dict | None, item: dict | None, silent: str | None
) -> dict:
    """One planned clip for review: its stored caption (`kept`, of its span) or the one `written`;
    a silent clip none (it is not exported, so there is nothing to review)."""
    base = {**clip.to_dict(), "edited": False, "dropped": False, "saved": kept is not None, "silent": silent}
    base["tags"] = clip_tags(item, clip.start_s, clip.end_s) if item else None  # its section's, as heard
    if silent:
        return {**base, "caption": "", "variants": {}, "findings": []}
    if kept is None:
        return {**base, **{k: written[k] for k in ("caption", "variants", "findings")}}
    return {
        **base,
        "caption": kept["caption"],
        "variants": kept.get("variants") or {},
        "findings": kept.get("findings") or [],
        "edited": bool(kept.get("edited")),
        "dropped": bool(kept.get("dropped")),
    }


def _scopes(store: Store, item: dict, mode: str, window_s: float) -> tuple[dict, dict[tuple, dict], set[tuple]]:
    """(the set's whole summary, each clip's view of it by span, the spans of silent clips) for
    checking reviewed captions, the clips planned as planned_clips plans them."""
    summary = (store.get_summary(item["artist_id"], item["parse_id"]) or {}).get("summary") or {}
    duration, offset = float(item.get("audio_duration_s") or 0), clip_plan.clip_offset(item, summary)
    plan = clip_plan.plan_clips(summary, duration, mode=mode, window_s=window_s, offset_s=offset)
    silent = _silent(plan, item)
    return (
        summary,
        {clip_plan.span(c.start_s, c.end_s): section_summary(summary, c.section) for c in plan},
        {clip_plan.span(c.start_s, c.end_s) for c in plan if c.index in silent},
    )


def checked_clip_caption(clip: dict, scope: dict, master_schema: dict, artist_name: str | None) -> tuple[str, list]:
    """A kept clip's caption through the rules a track's caption goes through (#29): markdown
    stripped, a length limit, and the fact check against what plays in the clip; a blocking
    finding (a URL or path, the artist's name, a sample file) refuses it."""
    what = f"Clip {clip['index']} ({clip.get('name') or 'unnamed section'})"
    if not " ".join(str(clip.get("caption") or "").split()):
        raise ValidationError(f"{what} has no caption: write one or drop the clip.")
    caption = " ".join(clean_caption_text(str(clip["caption"])).split())
    findings = check_caption(caption, scope, master_schema, artist_name=artist_name)
    if blocking := [f.message for f in findings if is_blocking(f)]:
        raise ValidationError(f"{what} cannot be saved: " + " ".join(blocking) + " Edit its caption or drop the clip.")
    return caption, [f.to_dict() for f in findings]


def save_reviewed(
    store: Store,
    item: dict,
    clips: list[dict],
    mode: str = "sections",
    artist_name: str | None = None,
    window_s: float = clip_plan.WINDOW_S,
) -> list[dict]:
    """Store the reviewed clips of `item` (all of this mode at once: window clips saved at one
    length replace those saved at another). A clip kept in the dataset needs a caption that passes
    `checked_clip_caption` against what plays in its span (planned at `window_s`); a dropped one
    keeps whatever it had. A silent clip is not stored: it is never exported, so it has no caption
    to keep. Nothing is stored when one clip is refused."""
    summary, scopes, silent = _scopes(store, item, mode, window_s)
    master_schema = store.get_master_schema(item["artist_id"])
    rows = []
    for clip in clips:
        if clip_plan.span(clip["start_s"], clip["end_s"]) in silent:
            continue
        caption = text.one_line(clip.get("caption"))
        if not caption and not clip.get("dropped"):
            raise ValidationError(
                f"Clip {clip['index']} ({clip.get('name') or 'unnamed section'}) has no caption: "
                "write one or drop the clip."
            )
        findings = clip.get("findings") or []
        if not clip.get("dropped"):
            scope = scopes.get(clip_plan.span(clip["start_s"], clip["end_s"]), summary)  # a stale span: the whole set
            caption, findings = checked_clip_caption({**clip, "caption": caption}, scope, master_schema, artist_name)
        rows.append(
            {
                "position": clip["index"],
                "section": clip.get("name") or "",
                "start_s": clip["start_s"],
                "end_s": clip["end_s"],
                "caption": caption or "(dropped)",
                "variants": clip.get("variants") or {},
                "findings": findings,
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
