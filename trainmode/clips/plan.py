"""Section clips: a render cut at its arrangement's sections, each clip captioned for what plays in it.

    plan = plan_clips(summary, duration_s, mode="sections")       # or "windows", window_s=30
    text = section_summary(summary, plan[0].section)               # what the writers and the checker read
    for clip in plan: bytes = b"".join(cut(mp3_file, index, clip)) # frame-exact, no re-encoding

Times: a section's `start_s`/`end_s` come from the set's tempo map; the render is assumed to
start at the arrangement's start, `offset_s` later (a count-in or silence before beat 0). The
first clip starts at 0 and the last one ends at the render's end, so the clips cover it whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import BinaryIO

from trainmode.audio import frames as mp3cut
from trainmode.errors import ValidationError
from trainmode.sets.als.timing import TempoMap
from trainmode.sets.facts import section_word

MODES = ("sections", "windows", "none")
WINDOW_S = 30.0  # audiocraft/MusicGen's segment_duration: the default window length
MIN_S = 5.0
# The window lengths a user may choose. Shortest: MIN_S, the shortest section kept on its own (a
# few seconds hold no phrase worth captioning); longest: the 240 s ACE-Step keeps of a file, the
# longest any of the export's trainers takes (MusicGen trains on 30 s, Stable Audio Open on its
# sample_size of about 47.5 s).
WINDOW_RANGE_S = (MIN_S, 240.0)
SOUND_SHARE = 0.1  # a clip whose render has sound over less than this share of it is silent
OFFSET_MIN_S = 0.25  # a lead-in this much longer than the set's own is proposed as the clip offset
# A lead-in is proposed only when the render is longer than its arrangement by about as much: an
# encoder's padding and a render cut a little short stay within this.
OFFSET_SLACK_S = 1.0


@dataclass(frozen=True)
class ClipPlan:
    index: int  # 1-based, in time order
    name: str  # the section's locator name ('' when it has none)
    start_s: float  # in the render
    end_s: float
    section: dict  # what the clip holds: its (merged) section, or for a window its stretch of the section
    part: int = 0  # which (merged) section it lies in, 0-based

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
    """Two neighbouring sections as one: the longer one's name, both their tracks and instruments,
    a key only when both show the same one."""
    keep = a if a["end_s"] - a["start_s"] >= b["end_s"] - b["start_s"] else b
    return {
        **keep,
        "start_beat": a["start_beat"],
        "end_beat": b["end_beat"],
        "start_s": a["start_s"],
        "end_s": b["end_s"],
        "tracks": list(dict.fromkeys([*a.get("tracks", []), *b.get("tracks", [])])),
        "instruments": list(dict.fromkeys([*a.get("instruments", []), *b.get("instruments", [])])),
        "key": a.get("key") if a.get("key") == b.get("key") else None,
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


def _windows(start: float, end: float, window_s: float) -> list[tuple[float, float]]:
    """Equal windows of at most `window_s` covering [start, end)."""
    count = max(1, math.ceil((end - start) / window_s - 1e-9))
    size = (end - start) / count
    return [(start + i * size, end if i == count - 1 else start + (i + 1) * size) for i in range(count)]


def check_window(mode: str, window_s: float) -> float:
    """`window_s` as the window length of `mode`'s clips: within WINDOW_RANGE_S for 'windows';
    other modes have no windows, so a length other than the default there is a mistake, refused
    rather than ignored (the user meant window clips, or meant no length)."""
    if isinstance(window_s, bool) or not isinstance(window_s, int | float):
        raise ValidationError(f"The window length must be a number of seconds, not {window_s!r}.")
    if mode != "windows":
        if window_s != WINDOW_S:
            what = {"sections": "section clips", "none": "whole tracks"}.get(mode, repr(mode))
            raise ValidationError(
                f"A window length ({window_s:g} s) is only for window clips (clips='windows'), not for "
                f"{what}: leave the length out or choose window clips."
            )
        return float(window_s)
    low, high = WINDOW_RANGE_S
    if not low <= window_s <= high:
        raise ValidationError(
            f"A window length of {window_s:g} s is out of range: choose {low:g} to {high:g} s "
            f"(MusicGen trains on 30 s, ACE-Step keeps at most {high:g} s of a file)."
        )
    return float(window_s)


def _beat_at(timeline: TempoMap, seconds: float, low: float, high: float) -> float:
    """The beat at `seconds` between beats low and high (the tempo map inverted by bisection)."""
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if timeline.seconds_at(mid) < seconds else (low, mid)
    return round((low + high) / 2, 6)


def _window(section: dict, timeline: TempoMap | None, start_s: float, end_s: float) -> dict:
    """The stretch of `section` between arrangement seconds start_s and end_s: its own beats (so
    its own tempo and meters); tracks, instruments and key are the section's."""
    a, b = max(start_s, section["start_s"]), min(end_s, section["end_s"])
    if timeline is None or b <= a:
        return section
    low, high = float(section["start_beat"]), float(section["end_beat"])
    first, last = _beat_at(timeline, a, low, high), _beat_at(timeline, b, low, high)
    return {**section, "start_beat": first, "end_beat": last, "start_s": round(a, 3), "end_s": round(b, 3)}


def _timeline(summary: dict) -> TempoMap | None:
    points = [(float(p["beat"]), float(p["bpm"])) for p in (summary.get("tempo") or {}).get("map") or []]
    return TempoMap(points, points[0][1]) if points else None


def plan_clips(
    summary: dict,
    duration_s: float,
    *,
    mode: str = "sections",
    window_s: float = WINDOW_S,
    min_s: float = MIN_S,
    offset_s: float = 0.0,
) -> list[ClipPlan]:
    """The clips of a render `duration_s` long: one per section, or equal windows of at most
    `window_s` inside each section (see check_window)."""
    if mode not in MODES:
        raise ValidationError(f"Clips are made by 'sections', 'windows' or 'none', not {mode!r}.")
    window_s = check_window(mode, window_s)
    sections = merged_sections(summary, min_s)
    if mode == "none" or not sections or duration_s <= 0:
        return []
    timeline = _timeline(summary) if mode == "windows" else None
    spans: list[tuple[float, float, dict, int]] = []
    for i, section in enumerate(sections):
        start = 0.0 if i == 0 else max(0.0, section["start_s"] + offset_s)
        end = duration_s if i == len(sections) - 1 else min(duration_s, section["end_s"] + offset_s)
        if end - start <= 0:
            continue
        if mode == "sections":
            spans.append((start, end, section, i))
            continue
        for a, b in _windows(start, end, window_s):
            spans.append((a, b, _window(section, timeline, a - offset_s, b - offset_s), i))
    return [
        ClipPlan(n, s.get("name") or "", round(a, 3), round(b, 3), s, part)
        for n, (a, b, s, part) in enumerate(spans, 1)
    ]


def first_sound_s(summary: dict) -> float | None:
    """Arrangement seconds where the set first sounds: the start of the first section something
    plays in (None when nothing plays)."""
    return next((float(s["start_s"]) for s in summary.get("sections") or [] if s.get("tracks")), None)


def proposed_offset(lead_in_s: float | None, summary: dict, duration_s: float | None) -> float:
    """The clip offset the render's lead-in suggests: its first sound after silence, aligned with
    the set's first sounding beat (a set that opens with sections where nothing plays is silent
    there in any render). 0 when they agree (within OFFSET_MIN_S) or anything is unknown, and 0
    when the render (`duration_s`) is too short to hold the arrangement after that lead-in (within
    OFFSET_SLACK_S): a render as long as its arrangement has no lead-in, its silent opening is
    the music's own (a quiet intro, or a part the render does not sound)."""
    first = first_sound_s(summary)
    arrangement = (summary.get("length") or {}).get("seconds")
    if lead_in_s is None or first is None or not duration_s or arrangement is None:
        return 0.0
    offset = float(lead_in_s) - first
    room = float(duration_s) - float(arrangement) + OFFSET_SLACK_S
    return round(offset, 3) if OFFSET_MIN_S <= offset <= room else 0.0


def clip_offset(item: dict | None, summary: dict) -> float:
    """The item's clip offset: the one stored with it (proposed at saving, or set by the user),
    else the one its measured lead-in proposes (items saved before offsets were proposed)."""
    meta = (item or {}).get("metadata") or {}
    if meta.get("clip_offset_s") is not None:
        return float(meta["clip_offset_s"])
    audio = meta.get("audio") if isinstance(meta.get("audio"), dict) else {}
    duration = (item or {}).get("audio_duration_s") or audio.get("duration_s")
    return proposed_offset(audio.get("silence_start_s"), summary, duration)


def silence_reason(clip: ClipPlan, sound_spans: list | None) -> str | None:
    """Why a clip holds no music, or None: nothing plays in its section of the set, or the
    render (its measured `sound_spans`, [[start_s, end_s], ...]) is silent over most of it."""
    if not clip.section.get("tracks"):
        return "nothing plays in this part of the set"
    if sound_spans is None or clip.duration_s <= 0:
        return None
    heard = sum(max(0.0, min(b, clip.end_s) - max(a, clip.start_s)) for a, b in sound_spans)
    if heard < SOUND_SHARE * clip.duration_s:
        return f"the render is silent here ({heard:.1f} s of sound in {clip.duration_s:.1f} s)"
    return None


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


def span(start_s, end_s) -> tuple[float, float]:
    """A clip's span as stored clips are matched by (to the millisecond, as plans are rounded): a
    caption belongs to the audio between these times, whatever the window length it was planned at."""
    return round(float(start_s), 3), round(float(end_s), 3)


def as_rows(plan: list[ClipPlan]) -> list[dict]:
    return [asdict(c) | {"duration_s": c.duration_s} for c in plan]
