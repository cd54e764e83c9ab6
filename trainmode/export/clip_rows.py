"""Clip rows for the export: each saved item's render cut at its set's sections (issue 16).

A clip row names its parent item (`parent_id`), the part of the parent's MP3 it holds
(`AudioSource.cut`, cut frame-exact while the zip is written), its own caption (the one
saved with the item's clips when there is one, else the offline writer's, written from the
section's facts and what was heard in it) and its own facts: the bpm, meter, key and
instruments of its section, never the whole song's, and the genres and moods its caption
states of what the tagger heard in that section. Its sidecar carries `section`, `start_s`,
`end_s`, the parent track and set.
Silent clips (the render silent there, or nothing playing in that part of the set) are left
out and counted (`plan_clip_rows(...).silent`), as are renders that give no clips.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from trainmode.audio.listen import clip_tags, tag_fields
from trainmode.captions.writers import OfflineWriter
from trainmode.captions.writers.heard import as_tags
from trainmode.clips import plan as clips
from trainmode.clips.captions import caption_clips
from trainmode.export.rows import AUDIO_FIELDS, Facts, Listening, Row, cut_audio, one_line, stated_sound
from trainmode.sets.facts import SetFacts, section_summary

CLIP_FIELDS = ("section", "start_s", "end_s", "parent_track", "parent_item")
# The render was measured whole (trainmode.audio.analysis): its loudness, peak, silence or tempo are not
# the clip's. A clip keeps only the verdict on its parent (a clip of a doubtful render is doubtful).
PARENT_FIELDS = ("audio_verdict", "confirmed_despite_doubt")


def clip_heard(parent: dict) -> dict:
    return {**dict.fromkeys(AUDIO_FIELDS), **{k: parent.get(k) for k in PARENT_FIELDS}}


def clip_stem(item_index: int, clip_index: int) -> str:
    return f"clip-{item_index:04d}-{clip_index:02d}"


def describe(mode: str, window_s: float = clips.WINDOW_S, min_s: float = clips.MIN_S) -> str:
    """How the clips were made, for the dataset card (the window length for window clips)."""
    how = (
        "one clip per arrangement section"
        if mode == "sections"
        else f"windows of at most {window_s:g} s (the window length chosen at export) inside each arrangement "
        "section, equal within a section and never crossing its boundary"
    )
    return (
        f"Every file is a clip of a whole render: {how} (sections shorter than {min_s:g} s joined to a "
        "neighbour), cut at MPEG frame boundaries without re-encoding, so a cut is within one frame "
        "(about 26 ms) of the section's time. Each caption describes what plays in its clip, from the "
        "Live set's tracks in that section; `section`, `start_s`, `end_s` and `parent_track` in each "
        "clip's sidecar say where it comes from."
    )


@dataclass(frozen=True)
class LeftOut:
    """A clip (or a whole render) the clip export leaves out, and why in words."""

    item_id: str
    clip_index: int | None  # None: the whole render gives no clips
    reason: str


@dataclass(frozen=True)
class ClipRows:
    rows: list[Row]
    silent: list[LeftOut] = field(default_factory=list)  # silent clips: no sound in the render, or nothing plays
    unplanned: list[LeftOut] = field(default_factory=list)  # renders that give no clips (no sections, no length)
    dropped: list[LeftOut] = field(default_factory=list)  # clips dropped in review (a saved clip of the same span)


def section_facts(
    summary: dict, section: dict, parent: Facts, caption: str, tags: dict | None, master_schema: dict
) -> Facts:
    """A clip's facts from its own section (or window) only: the tempo inside its span, the
    meter in force at its start, the key its own notes show, the instruments that play in it,
    and the genres and moods its caption states of what was heard there (`tags`)."""
    scoped = section_summary(summary, section)
    facts = SetFacts.from_summary(scoped)
    bpm = None if facts.dominant_bpm is None else round(facts.dominant_bpm, 2)
    genres, moods = stated_sound(caption, tags, scoped, master_schema)
    return replace(
        parent,
        bpm=bpm,
        key=facts.key,
        time_signature=facts.time_signature,
        instruments=tuple(facts.instrument_labels),
        genres=genres,
        moods=moods,
        vocals=facts.vocals,
    )


def clip_rows(rows: list[Row], items: dict[str, dict], summaries: dict[str, dict], master_schema: dict, **how):
    """The clip rows of whole-track `rows` (see plan_clip_rows), without what was left out."""
    return plan_clip_rows(rows, items, summaries, master_schema, **how).rows


def plan_clip_rows(
    rows: list[Row],
    items: dict[str, dict],
    summaries: dict[str, dict],
    master_schema: dict,
    *,
    mode: str,
    window_s: float = clips.WINDOW_S,
    saved: dict[str, list[dict]] | None = None,
) -> ClipRows:
    """The clip rows of whole-track `rows` (windows of at most `window_s` in mode 'windows'), in
    order, and what was left out: silent clips (the render silent there, or nothing playing in the
    set), renders without sections and clips dropped in review. A `saved` (reviewed) clip counts
    only for the clip of its own span: one reviewed at another window length or offset is other
    audio, so that clip gets a fresh caption."""
    out = ClipRows([])
    writer = OfflineWriter()
    written: dict[tuple, list[dict]] = {}
    for number, row in enumerate(rows, 1):
        item = items[row.item_id]
        summary = summaries.get(item.get("als_summary_id"), {})
        offset = clips.clip_offset(item, summary)
        plan = clips.plan_clips(summary, row.duration_s or 0.0, mode=mode, window_s=window_s, offset_s=offset)
        if not plan:
            out.unplanned.append(LeftOut(row.item_id, None, "its set has no sections (nothing in its arrangement)"))
            continue
        own = {clips.span(c["start_s"], c["end_s"]): c for c in (saved or {}).get(row.item_id, [])}
        sound = ((item.get("metadata") or {}).get("audio") or {}).get("sound_spans")
        silent = {c.index: why for c in plan if (why := clips.silence_reason(c, sound))}
        texts = []
        if any(clips.span(c.start_s, c.end_s) not in own for c in plan if c.index not in silent):
            # saved for other cuts (the offset moved, or another window length): captioned afresh
            heard = [clip_tags(item, c.start_s, c.end_s) for c in plan]  # each section's, as heard
            # Renders of one set cut alike and heard alike get the same (deterministic) captions.
            key = (item.get("als_summary_id"), tuple((c.start_s, c.end_s) for c in plan), repr(heard), *silent)
            if key not in written:
                written[key] = caption_clips(writer, summary, plan, master_schema, heard=heard, silent=silent)
            texts = written[key]
        for i, clip in enumerate(plan):
            kept = own.get(clips.span(clip.start_s, clip.end_s))
            if kept is not None and kept.get("dropped"):
                out.dropped.append(LeftOut(row.item_id, clip.index, "dropped when its item's clips were reviewed"))
                continue
            if clip.index in silent:
                out.silent.append(LeftOut(row.item_id, clip.index, silent[clip.index]))
                continue
            caption = (kept or {}).get("caption") or texts[i]["caption"]
            variants = (kept or {}).get("variants") or (texts[i]["variants"] if texts else {})
            made = _made(kept, texts[i] if texts else None)
            tags = clip_tags(item, clip.start_s, clip.end_s)  # its section's: its caption was written from them
            facts = section_facts(summary, clip.section, row.facts, one_line(caption), tags, master_schema)
            heard = {**clip_heard(row.heard), **tag_fields(tags)}
            listening = Listening(tags, as_tags(tags) is not None)
            clip_row = _clip_row(row, number, clip, clip is plan[-1], caption, variants, facts, heard, listening)
            out.rows.append(replace(clip_row, source={**clip_row.source, **made}))
    return out


def _made(kept: dict | None, written: dict | None) -> dict:
    """Who wrote a clip's caption, for its row's source (the card counts it): the export's writer
    and what it heard there, or the clip review's (reviewed captions were written by the same
    offline writer, maybe edited); never the whole track's, which was written for other audio."""
    if kept is not None and kept.get("caption"):
        return {"provenance": {"writer": "clip review"}, "prompt_edited": bool(kept.get("edited"))}
    return {"provenance": (written or {}).get("provenance") or {}, "prompt_edited": False}


def _clip_row(
    row: Row, number: int, clip, last: bool, caption: str, variants: dict, facts: Facts, heard: dict, listening
) -> Row:
    """One clip of a whole-track row: its own stem, caption, duration, cut, section's facts and
    section's tags; the render's measurements left out (a 30 s clip's loudness is not its render's)."""
    return replace(
        row,
        item_id=f"{row.item_id}:{clip.index:02d}",
        parent_id=row.item_id,
        stem=clip_stem(number, clip.index),
        caption=one_line(caption),
        facts=facts,
        captions={k: v for k, v in variants.items() if k != "detailed" and isinstance(v, str) and v},
        duration_s=clip.duration_s,
        heard=heard,
        listening=listening,
        audio=cut_audio(row, clip.start_s, clip.end_s, last),
        source={
            **row.source,
            "section": clip.name,
            "start_s": clip.start_s,
            "end_s": clip.end_s,
            "parent_track": row.stem,
            "parent_item": row.item_id,
        },
    )
