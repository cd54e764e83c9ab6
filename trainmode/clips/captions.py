"""Clip captions: each clip of a plan captioned by a writer from its section's facts and what was
heard in it, its place in the track first, checked against its section.

    captions = caption_clips(writer, summary, plan, master_schema, heard=[clip_tags(item, ...) ...])
    clip_label(plan, plan[2])   # "The outro of a track, first half."

The place comes from the section (`plan.place_word`: its locator's word, or intro and outro by
position); window clips inside one section also say which window they are, so that two windows
of an outro do not both open "The outro of a track." with nothing to tell them apart.
"""

from __future__ import annotations

from collections.abc import Collection

from trainmode.clips.plan import ClipPlan, place_word
from trainmode.sets.facts import section_summary

HALVES = ("first half", "second half")


def clip_label(plan: list[ClipPlan], clip: ClipPlan) -> str:
    """'The drop of a track.' / 'The outro of a track, second half.' / 'A section of a track,
    window 2 of 3.' (a window of a section without a place word) / '' (a whole section without one)."""
    parts = sorted({c.part for c in plan})
    word = place_word(clip.section, parts.index(clip.part), len(parts))
    windows = [c.index for c in plan if c.part == clip.part]
    where = f"The {word} of a track" if word else "A section of a track"
    if len(windows) < 2:
        return f"{where}." if word else ""
    n = windows.index(clip.index)
    position = HALVES[n] if len(windows) == 2 else f"window {n + 1} of {len(windows)}"
    return f"{where}, {position}."


def caption_clips(
    writer,
    summary: dict,
    plan: list[ClipPlan],
    master_schema: dict | None = None,
    *,
    artist_name: str | None = None,
    heard: list | None = None,
    audio: list | None = None,
    silent: Collection[int] = (),
) -> list[dict]:
    """A caption per clip by `writer` (offline or OpenAI) from its section's facts, its label first
    (`clip_label`), checked against the section's facts: [{index, name, start_s, end_s, caption,
    variants, findings, provenance}]. `heard[i]`, when given, is what the tagger heard in clip i (its section's
    Tags or their dict, the track's genres: trainmode.audio.listen.clip_tags; None for none),
    `audio[i]` clip i's MP3 bytes for a writer that listens. Clips whose index is in `silent`
    (plan.silence_reason) are never exported, so none is written for them: caption ''."""
    from trainmode.captions.factcheck import check_caption  # the checker imports the writers package

    out = []
    for number, clip in enumerate(plan):
        if clip.index in silent:
            out.append({**clip.to_dict(), "caption": "", "variants": {}, "findings": [], "provenance": {}})
            continue
        scoped = section_summary(summary, clip.section)
        # Only what there is for this clip: writers without `heard`/`audio` still work.
        given = {k: v[number] for k, v in (("heard", heard), ("audio", audio)) if v and number < len(v)}
        extra = {k: v for k, v in given.items() if v is not None}
        written = writer.write(scoped, master_schema or {}, artist_name=artist_name, **extra)
        caption = " ".join(x for x in (clip_label(plan, clip), written.text) if x)
        found = check_caption(caption, scoped, master_schema, artist_name=artist_name)
        variants = dict(written.variants or {})
        out.append(
            {
                **clip.to_dict(),
                "caption": caption,
                "variants": variants,
                "findings": [f.to_dict() for f in found],
                "provenance": dict(written.provenance),  # this clip's writer and what it heard
            }
        )
    return out
