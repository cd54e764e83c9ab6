"""What the collectors gather while the XML streams past (RawSet), and the state they share
(ParseContext). `build_summary` turns a finished RawSet into the summary."""

from __future__ import annotations

import math
import secrets
from array import array
from dataclasses import dataclass, field

from trainmode.errors import AlsError
from trainmode.sets.als.reader import SetStream

MAX_ITEMS = 20_000  # tracks, locators, samples, devices, clips per track
MAX_MAGNITUDE = 1e12  # any time or value beyond this is corrupt (Live's "-inf" time is -6.3e7)


@dataclass(frozen=True)
class ArrangementClip:
    """An Ableton clip placed in the arrangement (not a section clip: a cut of a render), unmuted."""

    start: float  # beats
    end: float
    notes: int = 0  # enabled notes of its pitched key tracks
    pitch_classes: tuple[float, ...] | None = None  # their durations by pitch class (None: no notes)


@dataclass
class RawTrack:
    type: str
    id: str | None
    name: str = ""
    muted: bool = False
    group_id: str | None = None
    devices: list[str] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    drums: bool = False  # plays a drum instrument: its notes are not pitches
    midi_from: str | None = None  # track id its MIDI input routing takes notes from
    midi_to: str | None = None  # track id its MIDI output routing sends notes to
    clip_count: int = 0
    note_count: int = 0
    arrangement_notes: int = 0
    pitch_min: int | None = None
    pitch_max: int | None = None
    key_notes: int = 0  # notes of unmuted clips, the ones a key is read from
    pitch_classes: list[float] = field(default_factory=lambda: [0.0] * 12)
    arrangement_clips: list[ArrangementClip] = field(default_factory=list)  # unmuted, in the arrangement
    samples: list[str] = field(default_factory=list)


@dataclass
class RawSet:
    creator: str = ""
    tracks: list[RawTrack] = field(default_factory=list)
    master_seen: bool = False
    bpm: float | None = None
    meter: int | None = None
    tempo_target: str | None = None
    meter_target: str | None = None
    inline_tempo_points: list[tuple[float, float]] = field(default_factory=list)
    inline_meter_points: list[tuple[float, float]] = field(default_factory=list)
    master_envelopes: dict[str, array] = field(default_factory=dict)  # PointeeId -> flat (time, value, ...)
    master_devices: list[tuple[str, str, bool]] = field(default_factory=list)
    arrangement_end: float = 0.0
    locators: list[dict] = field(default_factory=list)
    samples: set[str] = field(default_factory=set)
    scale: tuple[int | None, str | None] | None = None


class ParseContext:
    """The stream, the RawSet being filled and where the parse is: which track (or the
    master / pre-hear track) is open."""

    def __init__(self, stream: SetStream):
        self.stream = stream
        self.raw = RawSet()
        self.root = None
        self.scope: str | None = None  # "track" | "master" | "prehear"
        self.scope_el = None
        self.track: RawTrack | None = None
        # The element skip.fold_notes writes a note list's count and weight as: named afresh
        # for every parse, so no file can hold one.
        self.notes_tag = "N" + secrets.token_hex(8)

    def fail(self, reason: str) -> AlsError:
        return self.stream.fail(reason)

    def too_many(self, what: str) -> AlsError:
        return self.fail(f"is not a usable Live set: it has more than {MAX_ITEMS:,} {what}.")

    def num(self, raw: str | None, what: str) -> float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        shown = "missing" if raw is None else f"{raw[:40]!r}"
        if not math.isfinite(value):
            raise self.fail(f"is damaged: {what} is {shown}, which is not a number.")
        if abs(value) > MAX_MAGNITUDE:
            raise self.fail(f"is damaged: {what} is {shown}, which is out of range.")
        return value

    def in_scope_mixer(self, el) -> bool:
        """el sits in the open track's own mixer (not in a rack chain's mixer)."""
        parent = el.getparent()
        return parent is not None and parent.tag == "Mixer" and ancestor(parent, 2) is self.scope_el


def child(el, tag: str):
    """The first child called `tag` (quicker than find() for the small elements read here)."""
    for sub in el.iterchildren(tag):
        return sub
    return None


def value(el, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path) if "/" in path else child(el, path)
    return None if found is None else found.get("Value")


def param(el) -> str | None:
    """A Live parameter's value: Manual (9+), else its first automation event (Live 8)."""
    manual = el.find("Manual")
    if manual is not None:
        return manual.get("Value")
    events = el.find("ArrangerAutomation/Events")
    if events is not None and len(events):
        return events[0].get("Value")
    return None


def ancestor(el, levels: int):
    for _ in range(levels):
        if el is None:
            return None
        el = el.getparent()
    return el
