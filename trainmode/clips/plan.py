"""Section clips: a render cut at its arrangement's sections, each clip captioned for what plays in it.

    plan = plan_clips(summary, duration_s, mode="sections")       # or "windows", window_s=30
    text = section_summary(summary, plan[0].section)               # what the writers and the checker read
    for clip in plan: bytes = b"".join(cut(mp3_file, index, clip)) # frame-exact, no re-encoding

Times: a section's `start_s`/`end_s` come from the set's tempo map; the render is assumed to
start at the arrangement's start, `offset_s` later (a count-in or silence before beat 0). The
first clip starts at 0 and the last one ends at the render's end, so the clips cover it whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import BinaryIO

from trainmode.audio import frames as mp3cut
from trainmode.captions.writers.facts_view import section_word
from trainmode.errors import ValidationError

MODES = ("sections", "windows", "none")
WINDOW_S = 30.0
MIN_S = 5.0


@dataclass(frozen=True)
class ClipPlan:
    index: int  # 1-based, in time order
    name: str  # the section's locator name ('' when it has none)
    start_s: float  # in the render
    end_s: float
    section: dict  # the (merged) section of the summary this clip lies in

    @property
    def duration_s(self) -> float:
        return round(self.end_s - self.start_s, 3)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "name": self.name,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "section": self.section.get("name") or "",
        }


def _merge(a: dict, b: dict) -> dict:
    """Two neighbouring sections as one: the longer one's name, both their tracks and instruments."""
    keep = a if a["end_s"] - a["start_s"] >= b["end_s"] - b["start_s"] else b
    return {
        **keep,
        "start_beat": a["start_beat"],
        "end_beat": b["end_beat"],
        "start_s": a["start_s"],
        "end_s": b["end_s"],
        "tracks": list(dict.fromkeys([*a.get("tracks", []), *b.get("tracks", [])])),
        "instruments": list(dict.fromkeys([*a.get("instruments", []), *b.get("instruments", [])])),
    }


def merged_sections(summary: dict, min_s: float = MIN_S) -> list[dict]:
    """The summary's sections, each shorter than `min_s` merged into a neighbour (the previous
    one, or the next for the first)."""
    out: list[dict] = []
    for section in summary.get("sections") or []:
        if out and out[-1]["end_s"] - out[-1]["start_s"] < min_s:
            out[-1] = _merge(out[-1], section)
        elif out and section["end_s"] - section["start_s"] < min_s:
            out[-1] = _merge(out[-1], section)
        else:
            out.append(dict(section))
    if len(out) > 1 and out[-1]["end_s"] - out[-1]["start_s"] < min_s:
        last = out.pop()
        out[-1] = _merge(out[-1], last)
    return out


def _windows(start: float, end: float, window_s: float, min_s: float) -> list[tuple[float, float]]:
    spans, at = [], start
    while end - at > 1e-9:
        spans.append((at, min(at + window_s, end)))
        at = spans[-1][1]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < min_s:
        spans[-2:] = [(spans[-2][0], spans[-1][1])]
    return spans


def plan_clips(
    summary: dict,
    duration_s: float,
    *,
    mode: str = "sections",
    window_s: float = WINDOW_S,
    min_s: float = MIN_S,
    offset_s: float = 0.0,
) -> list[ClipPlan]:
    """The clips of a render `duration_s` long: one per section, or windows of at most
    `window_s` inside each section (a remainder under `min_s` joins the window before it)."""
    if mode not in MODES:
        raise ValidationError(f"Clips are made by 'sections', 'windows' or 'none', not {mode!r}.")
    sections = merged_sections(summary, min_s)
    if mode == "none" or not sections or duration_s <= 0:
        return []
    spans: list[tuple[float, float, dict]] = []
    for i, section in enumerate(sections):
        start = 0.0 if i == 0 else max(0.0, section["start_s"] + offset_s)
        end = duration_s if i == len(sections) - 1 else min(duration_s, section["end_s"] + offset_s)
        if end - start <= 0:
            continue
        pieces = [(start, end)] if mode == "sections" else _windows(start, end, window_s, min_s)
        spans += [(a, b, section) for a, b in pieces]
    return [ClipPlan(n, s.get("name") or "", round(a, 3), round(b, 3), s) for n, (a, b, s) in enumerate(spans, 1)]


def frames_of(index: mp3cut.FrameIndex, plan: list[ClipPlan]) -> list[tuple[int, int]]:
    """Each clip's [first, last) frames: boundaries at the nearest frame, the clips covering every frame."""
    cuts = [index.frame_at(c.start_s) for c in plan] + [len(index.frames)]
    cuts[0] = 0
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]


def cut(source: BinaryIO, index: mp3cut.FrameIndex, frames: tuple[int, int]) -> Iterator[bytes]:
    """One clip's MP3 bytes, as chunks (see trainmode.audio.frames)."""
    return mp3cut.clip(source, index, *frames)


def place_word(section: dict, position: int, count: int) -> str | None:
    """intro / verse / drop / break ... from the locator name; else intro and outro by position
    only when the set has at least three sections."""
    word = section_word(section.get("name"))
    if word:
        return word
    if count >= 3 and position == 0:
        return "intro"
    if count >= 3 and position == count - 1:
        return "outro"
    return None


def section_summary(summary: dict, section: dict) -> dict:
    """The summary as seen from inside one section: only the tracks that play in it, only its
    instrument families, its stretch of the tempo map and its length. The writers caption it
    and the fact checker checks a clip's caption against it, so an instrument that does not
    play in the section is a finding."""
    playing = set(section.get("tracks") or [])
    tracks = [t for t in summary.get("tracks") or [] if t.get("name") in playing or t.get("type") == "group"]
    tempo = dict(summary.get("tempo") or {})
    start, end = float(section.get("start_beat") or 0), float(section.get("end_beat") or 0)
    points = [p for p in tempo.get("map") or [] if start <= float(p.get("beat") or 0) < end]
    before = [p for p in tempo.get("map") or [] if float(p.get("beat") or 0) < start]
    points = ([{**before[-1], "beat": start}] if before else []) + points
    if points:
        bpms = [float(p["bpm"]) for p in points]
        tempo.update(map=points, min=min(bpms), max=max(bpms), dominant_bpm=_dominant(points, end))
    seconds = round(float(section["end_s"]) - float(section["start_s"]), 3)
    samples = [s for s in summary.get("samples") or [] if any(s in (t.get("samples") or []) for t in tracks)]
    return {
        **summary,
        "tracks": tracks,
        "tempo": tempo,
        "samples": samples,
        "instruments": [{"family": f, "seconds": seconds} for f in section.get("instruments") or []],
        "sections": [],
        "locators": [],
        "length": {**(summary.get("length") or {}), "seconds": seconds, "beats": round(end - start, 6), "bars": None},
    }


def _dominant(points: list[dict], end: float) -> float:
    """The tempo held longest (in beats) over a section's tempo points."""
    held: dict[float, float] = {}
    for p, following in zip(points, [*points[1:], {"beat": end}], strict=False):
        held[float(p["bpm"])] = held.get(float(p["bpm"]), 0.0) + float(following["beat"]) - float(p["beat"])
    return max(held, key=held.__getitem__)


def caption_clips(
    writer,
    summary: dict,
    plan: list[ClipPlan],
    master_schema: dict | None = None,
    *,
    artist_name: str | None = None,
    heard: list | None = None,
    audio: list | None = None,
) -> list[dict]:
    """A caption per clip by `writer` (offline or OpenAI) from its section's facts, the section's
    place first ('The drop of a track.'), checked against the section's facts:
    [{index, name, start_s, end_s, caption, variants, findings}]. `heard[i]`, when given, is
    what the tagger heard in clip i (its section's Tags or their dict; None for none), `audio[i]`
    clip i's MP3 bytes for a writer that listens."""
    from trainmode.captions.factcheck import check_caption  # the checker imports the writers package

    order = list(dict.fromkeys(id(c.section) for c in plan))
    out = []
    for number, clip in enumerate(plan):
        scoped = section_summary(summary, clip.section)
        given = (("heard", heard), ("audio", audio))
        # Only what there is for this clip: writers without `heard`/`audio` still work.
        extra = {k: v[number] for k, v in given if v and number < len(v) and v[number] is not None}
        written = writer.write(scoped, master_schema or {}, artist_name=artist_name, **extra)
        word = place_word(clip.section, order.index(id(clip.section)), len(order))
        caption = (f"The {word} of a track. " if word else "") + written.text
        findings = check_caption(caption, scoped, master_schema, artist_name=artist_name)
        out.append(
            {
                **clip.to_dict(),
                "caption": caption,
                "variants": dict(written.variants or {}),
                "findings": [f.to_dict() for f in findings],
            }
        )
    return out


def as_rows(plan: list[ClipPlan]) -> list[dict]:
    return [asdict(c) | {"duration_s": c.duration_s} for c in plan]
