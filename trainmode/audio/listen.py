"""What was heard in a render, per section of its set: tags stored with the item and read by its clips.

Listening (analyze_mp3) runs before an upload is paired with its set (the Train page measures all
uploads at once, in parallel), so it tags the whole render only. The set's sections are known, and
final, when the item is saved: save_item then calls `with_section_tags`, which tags the sections'
spans in a second, cheaper listen (decode + one 3 s patch per section that the whole render's
patches do not already cover; no loudness, tempo or key). Where the set is known from the start
(`TrainMode.check_render`, a save without an analysis) the spans go into analyze_mp3 and are
tagged in the same pass, so the second listen finds nothing to do.

Stored: `metadata.audio.tags` = {"whole": Tags, "spans": [Tags per section, in time order]}
(trainmode.audio.tagger.Tagging.to_dict()). A clip's tags are those of the section span it
overlaps most (`clip_tags`), so window clips share their section's tags and a moved clip offset
still finds its section; its genres are the whole render's: one track, one genre (a section's
few seconds of patches swing between electronic, indie and jazz over the same drums and synths),
while moods, instruments and vocals are the section's own.
"""

from __future__ import annotations

import dataclasses
import os

from trainmode.audio.analysis.measure import decode_mono44, tag_audio
from trainmode.audio.analysis.music import RHYTHM_RATE
from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.clips.plan import plan_clips

Span = tuple[float, float]
TAG_FIELDS = ("tags_genre", "tags_mood", "tags_instrument", "vocals_heard", "vocals_gender")


def section_spans(summary: dict | None, duration_s: float) -> list[Span]:
    """The render's section spans (seconds) as its section clips cut it (offset 0); [] without sections."""
    return [(c.start_s, c.end_s) for c in plan_clips(summary or {}, duration_s, mode="sections")]


def _tagged_spans(analysis: AudioAnalysis) -> list[Span]:
    spans = (analysis.tags or {}).get("spans") or []
    return [(round(s["span"][0], 3), round(s["span"][1], 3)) for s in spans if s.get("span")]


def with_section_tags(analysis: AudioAnalysis, path: str | os.PathLike, spans: list[Span], name: str) -> AudioAnalysis:
    """`analysis` whose tags cover `spans` (the set's sections): as it is when they already do,
    else with the render listened to again for them (the whole render's tags are the same)."""
    if not spans or _tagged_spans(analysis) == [(round(a, 3), round(b, 3)) for a, b in spans]:
        return analysis
    notes: list[str] = []
    tags = tag_audio(decode_mono44(path, name), RHYTHM_RATE, spans, notes)
    return dataclasses.replace(analysis, tags=tags) if tags else analysis


def clip_tags(item: dict, start_s: float, end_s: float) -> dict | None:
    """The stored tags (Tags.to_dict()) of the item's section span that overlaps [start_s, end_s]
    most, with the whole render's genres (the track's genre, not the section's guess) unless the
    section was silent; None when the item has no section tags."""
    spans = (((item.get("metadata") or {}).get("audio") or {}).get("tags") or {}).get("spans") or []

    def overlap(tags: dict) -> float:
        first, last = tags.get("span") or (0.0, 0.0)
        return min(last, end_s) - max(first, start_s)

    best = max(spans, key=overlap, default=None)
    if best is None or overlap(best) <= 0:
        return None
    if not best.get("tags"):  # nothing heard there (silent): no genre either
        return best
    return {**best, "genre": (item_tags(item) or {}).get("genre") or []}


def item_tags(item: dict) -> dict | None:
    """The whole render's stored tags (Tags.to_dict()), or None."""
    return ((((item.get("metadata") or {}).get("audio") or {}).get("tags")) or {}).get("whole")


def tag_fields(tags: dict | None) -> dict:
    """Flat export fields of stored tags: the confidently heard genre, mood and instrument words
    (best first), whether a voice is heard (True / False / None: unsure) and its gender.
    Not tagged at all (`tags` None): null lists, so a format can fall back to the set's facts."""
    if tags is None:
        return dict.fromkeys(TAG_FIELDS)
    vocals = tags.get("vocals") or {}
    return {
        "tags_genre": [t for t, _ in tags.get("genre") or []],
        "tags_mood": [t for t, _ in tags.get("mood") or []],
        "tags_instrument": [t for t, _ in tags.get("instrument") or []],
        "vocals_heard": vocals.get("present"),
        "vocals_gender": vocals.get("gender"),
    }
