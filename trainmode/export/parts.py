"""Long tracks cut into parts a trainer hears whole (issue 28).

ACE-Step 1.5 and v1 keep the first 240 s of a file and drop the rest (ACE-Step-1.5 preprocess.py
`max_duration: float = 240.0`; ACE-Step text2music_dataset.py L501-503), while the caption, and
ACE-Step 1.5's metas (`duration`), describe the whole track. For those formats a row longer than
the limit becomes parts of at most the limit, cut at MPEG frames like clips
(trainmode/export/audio_members.py), so that every second is trained on and each part's caption
and duration are its own:

- a whole track is cut at its arrangement sections: consecutive sections are gathered while they
  fit, a section longer than the limit is cut in equal pieces; each part is captioned by the
  offline writer from what plays in its sections (trainmode/sets/facts.py `section_summary`) and
  what the tagger heard in them (`part_tags`), as a clip is; its bpm, key (`span_key`), meter and
  instruments are those of its sections, its genres and moods those its caption states;
- a track whose set has no sections, or a clip, is cut in equal pieces that keep its caption (the
  card says so: their captions still describe the whole);
- a track with lyrics is kept whole: lyrics cannot be divided by time (the card and the checker's
  warning say what the trainer cuts).

Parts are named `<stem>-part-N`; the part's `source` says where it lies in the render.
"""

from __future__ import annotations

import math
from dataclasses import replace

from trainmode.audio.listen import TAG_FIELDS, clip_tags, item_tags, tag_fields
from trainmode.captions.writers import OfflineWriter
from trainmode.captions.writers.heard import as_tags
from trainmode.clips import plan as clips
from trainmode.export.clip_rows import clip_heard
from trainmode.export.rows import Facts, Listening, Row, cut_audio, one_line, set_facts, stated_sound
from trainmode.sets.facts import SetFacts, section_summary

TOLERANCE_S = 0.05  # a file this much over the limit loses less than two MPEG frames: not cut


class Span:
    """One part of a row: [start_s, end_s) in its render, and the sections it holds (none: equal pieces)."""

    def __init__(self, start_s: float, end_s: float, sections: list[dict]):
        self.start_s, self.end_s, self.sections = round(start_s, 3), round(end_s, 3), sections


def split_long(
    rows: list[Row], items: dict[str, dict], summaries: dict[str, dict], master_schema: dict, limit_s: float
) -> tuple[list[Row], list[str]]:
    """`rows` with every row longer than `limit_s` replaced by its parts, and the card's lines on what was cut."""
    out: list[Row] = []
    cut = uncaptioned = whole = 0
    writer = OfflineWriter()
    for row in rows:
        if (row.duration_s or 0) <= limit_s + TOLERANCE_S or row.lyrics:
            whole += (row.duration_s or 0) > limit_s + TOLERANCE_S
            out.append(row)
            continue
        item = items.get(row.parent_id or row.item_id) or {}
        summary = summaries.get(item.get("als_summary_id"), {})
        spans = _spans(row, summary, item, limit_s)
        cut += 1
        uncaptioned += not any(s.sections for s in spans)
        context = (summary, item, master_schema)
        out += [_part(row, n, len(spans), span, context, writer) for n, span in enumerate(spans, 1)]
    notes = []
    if cut:
        notes.append(
            f"{cut} {'file was' if cut == 1 else 'files were'} longer than the {limit_s:g} s this trainer keeps of a "
            "file: each was cut into parts of "
            f"at most {limit_s:g} s (`-part-N`), so every second is heard and each part's caption and duration "
            "are its own"
            + (
                f"; {uncaptioned} of them had no arrangement sections, so their parts keep the caption of the whole"
                if uncaptioned
                else ""
            )
            + "."
        )
    if whole:
        notes.append(
            f"{whole} sung files longer than {limit_s:g} s were kept whole: their lyrics cannot be divided by time, "
            f"so the trainer hears their first {limit_s:g} s with the whole song's lyrics (`check-dataset` gives the "
            "seconds cut)."
        )
    return out, notes


def _spans(row: Row, summary: dict, item: dict, limit_s: float) -> list[Span]:
    """The row's parts: at its sections when it is a whole track whose set has some, else equal pieces."""
    start = row.audio.cut.start_s if row.audio.cut else 0.0
    end = start + float(row.duration_s or 0)
    if row.audio.cut is not None:
        return _equal(start, end, limit_s, [])
    offset = float((item.get("metadata") or {}).get("clip_offset_s") or 0.0)
    plan = clips.plan_clips(summary, end, mode="sections", offset_s=offset)
    if not plan:
        return _equal(start, end, limit_s, [])
    spans: list[Span] = []
    gathered: list[clips.ClipPlan] = []
    for clip in plan:
        if gathered and clip.end_s - gathered[0].start_s > limit_s:
            spans.append(Span(gathered[0].start_s, gathered[-1].end_s, [c.section for c in gathered]))
            gathered = []
        if clip.end_s - clip.start_s > limit_s:
            spans += _equal(clip.start_s, clip.end_s, limit_s, [clip.section])
        else:
            gathered.append(clip)
    if gathered:
        spans.append(Span(gathered[0].start_s, gathered[-1].end_s, [c.section for c in gathered]))
    return spans


def _equal(start: float, end: float, limit_s: float, sections: list[dict]) -> list[Span]:
    count = math.ceil((end - start - TOLERANCE_S) / limit_s)
    step = (end - start) / count
    return [Span(start + i * step, end if i == count - 1 else start + (i + 1) * step, sections) for i in range(count)]


def _joined(sections: list[dict], key: dict | None) -> dict:
    """Consecutive sections as one span of the arrangement: its beats, seconds, tracks, instruments and key."""
    first, last = sections[0], sections[-1]
    return {
        "name": "",
        "start_beat": first.get("start_beat"),
        "end_beat": last.get("end_beat"),
        "start_s": first["start_s"],
        "end_s": last["end_s"],
        "tracks": list(dict.fromkeys(t for s in sections for t in s.get("tracks") or [])),
        "instruments": list(dict.fromkeys(i for s in sections for i in s.get("instruments") or [])),
        "key": key,
    }


def span_key(summary: dict, sections: list[dict]) -> dict | None:
    """The key of consecutive sections, from what their own notes show. Each section has the key
    its own notes show, or none when they are too few or unclear (trainmode/sets/als/sections.py
    `section_key`); the summary keeps no notes per section, so a part's notes cannot be read again.
    - One section (or a piece of one): its key, as its clip has.
    - Several: the one key the sections that show a key show, when all of them show it, or when
      it is also the set's key from all its notes (`source` midi_notes): the notes of the part's
      other sections are among those that gave that key, and none of its sections shows another.
    - Else none: sections in different keys, or none showing a key (nothing is guessed).
    docs/dataset-formats.md, "Long tracks"."""
    shown = [s.get("key") for s in sections]
    keys = {k["name"]: k for k in shown if isinstance(k, dict) and k.get("name")}
    if len(keys) != 1:
        return None
    [(name, key)] = keys.items()
    whole = summary.get("key") or {}
    from_notes = whole.get("source") == "midi_notes" and SetFacts.from_summary(summary).key == name
    return key if len(sections) == 1 or all(isinstance(k, dict) for k in shown) or from_notes else None


def part_tags(item: dict, span: Span) -> dict | None:
    """What the tagger heard in a part, which its caption is written from: a part inside one
    section has that section's tags, as a clip of it does (trainmode/audio/listen.py `clip_tags`);
    a part of several sections, or one whose sections were not tagged, the whole render's (a
    span's tags are not a sum of its sections': the tagger's thresholds are per answer)."""
    own = clip_tags(item, span.start_s, span.end_s) if len(span.sections) == 1 else None
    return own if own is not None else item_tags(item)


def _part(row: Row, number: int, count: int, span: Span, context: tuple[dict, dict, dict], writer) -> Row:
    """Part `number` of `row`: cut at its sections it gets its own caption, written from their facts and
    what was heard in them, and their facts; cut in equal pieces it keeps the row's."""
    summary, item, schema = context
    caption, captions, facts, listening, source = row.caption, row.captions, row.facts, row.listening, row.source
    heard = {**clip_heard(row.heard), **{k: row.heard.get(k) for k in TAG_FIELDS}}  # its kept caption's tags
    if span.sections:
        scoped = section_summary(summary, _joined(span.sections, span_key(summary, span.sections)))
        tags = part_tags(item, span)
        written = writer.write(scoped, schema, heard=tags)
        known = set_facts(scoped, schema)
        caption = one_line(written.text)
        captions = {k: v for k, v in (written.variants or {}).items() if k != "detailed" and isinstance(v, str) and v}
        genres, moods = stated_sound(caption, tags, scoped, schema)
        facts = Facts(
            bpm=float(known["bpm"]) if isinstance(known["bpm"], (int, float)) else None,
            key=known["key"],
            time_signature=known["time_signature"],
            instruments=tuple(known["instruments"]),
            genres=genres,
            moods=moods,
            vocals=row.facts.vocals,
        )
        listening, heard = Listening(tags, as_tags(tags) is not None), {**heard, **tag_fields(tags)}
        source = {**source, "provenance": written.provenance, "prompt_edited": False}  # the part's own writer
    last = number == count
    duration = round(span.end_s - span.start_s, 3)
    return replace(
        row,
        item_id=f"{row.item_id}:part-{number}",
        parent_id=row.parent_id or row.item_id,
        stem=f"{row.stem}-part-{number}",
        caption=caption,
        captions=captions,
        facts=facts,
        duration_s=duration,
        heard=heard,
        listening=listening,
        audio=cut_audio(row, span.start_s, span.end_s, last),
        source={**source, "part": number, "parts": count, "start_s": span.start_s, "end_s": span.end_s},
    )
