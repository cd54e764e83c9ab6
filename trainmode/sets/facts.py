"""One meaning of a set: every consumer reads a summary through `SetFacts`.

The Library table and charts, the derived profile, the caption writers, the fact checker, the
audio verdict and the dataset rows all ask this module for the key, the tempo to state, the
meters, the instrument families and the sections, so they cannot disagree.

    facts = SetFacts.from_summary(row["summary"])   # summary v1 or v2
    facts.bpm             # 124: the tempo to state (the dominant tempo, a whole number), or None
    facts.dominant_bpm    # 124.0: the same tempo unrounded: the one covering most of the arrangement
    facts.transport_bpm   # 128.0: the tempo in Live's transport (not necessarily what plays)
    facts.key             # "C# minor" or None: only a key the notes (or the user's scale) support
    facts.caption_metadata()

A section clip is read the same way, from the summary as seen from inside its section
(`section_summary`): its own stretch of the tempo map, the meters in force in it, the key its
own notes show and the tracks that play in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainmode.sets.als.families import (
    EVIDENCE,
    FAMILIES,
    FAMILY_LABELS,
    evidence_families,
    families_in,
    label,
    words_of,
)
from trainmode.sets.als.key import SCALE_CONFIDENCE, make_key, pitch_class
from trainmode.sets.als.timing import TempoMap, beats_per_bar

__all__ = [
    "EVIDENCE",
    "FAMILIES",
    "FAMILY_LABELS",
    "KEY_CONFIDENCE",
    "Section",
    "SetFacts",
    "audible_tracks",
    "beats_per_bar",
    "families_in",
    "label",
    "playing_track_names",
    "section_summary",
    "section_word",
    "training_blocker",
    "upgrade_summary",
    "words_of",
]

KEY_CONFIDENCE = 0.6  # the one rule: a key below this is a guess, stated nowhere
SCHEMA_VERSION = 2

# Locator names that are section words; anything else ("GEORGE", "korter>") is left unnamed.
SECTION_WORDS = {
    "intro": "intro",
    "verse": "verse",
    "strofa": "verse",
    "prechorus": "pre-chorus",
    "chorus": "chorus",
    "coro": "chorus",
    "ritornello": "chorus",
    "refrain": "chorus",
    "hook": "hook",
    "bridge": "bridge",
    "drop": "drop",
    "break": "break",
    "breakdown": "breakdown",
    "build": "build-up",
    "buildup": "build-up",
    "interlude": "interlude",
    "solo": "solo",
    "outro": "outro",
    "finale": "outro",
}


def section_word(name) -> str | None:
    """'Drop B 1' -> 'drop', 'Coro' -> 'chorus', 'GEORGE' -> None."""
    words = words_of(name or "").split()
    joined = "".join(words)
    if joined in SECTION_WORDS:
        return SECTION_WORDS[joined]
    return next((SECTION_WORDS[w] for w in words if w in SECTION_WORDS), None)


def audible_tracks(summary: dict) -> list[dict]:
    """Tracks that can be heard in a render: not returns (effects), not muted, not in a muted group."""
    tracks = summary.get("tracks") or []
    by_name = {t.get("name"): t for t in tracks if t.get("type") == "group"}

    def muted(track: dict, depth: int = 0) -> bool:
        if track.get("muted"):
            return True
        parent = by_name.get(track.get("group"))
        return bool(parent and parent is not track and depth < 16 and muted(parent, depth + 1))

    return [t for t in tracks if t.get("type") != "return" and not muted(t)]


def playing_track_names(summary: dict) -> set[str] | None:
    """Names of the tracks with an unmuted arrangement clip (v2: the sections say); None for a
    v1 summary (or a partial one without sections), which does not know what plays where."""
    if summary.get("schema_version") != SCHEMA_VERSION or "sections" not in summary:
        return None
    return {name for s in summary.get("sections") or [] for name in s.get("tracks") or []}


def has_arrangement(summary: dict) -> bool:
    """Something plays in the arrangement: an unmuted arrangement clip on an audible track (v2),
    or an arrangement length (v1, which cannot tell session clips from arrangement ones)."""
    playing = playing_track_names(summary)
    if playing is not None:
        return bool(playing)
    return bool((summary.get("length") or {}).get("seconds"))


def training_blocker(summary: dict | None) -> str | None:
    """Why a render of this set cannot become a training item, or None when it can."""
    if has_arrangement(summary or {}):
        return None
    return (
        "Nothing plays in this set's arrangement (no arrangement clips: everything is in Session view, "
        "or the set is empty), so there is nothing to describe a render by. Record the clips into the "
        "arrangement in Live, save the set and import it again."
    )


def _upgrade_key(key) -> dict | None:
    if not isinstance(key, dict) or not key.get("tonic") or key.get("mode") not in ("major", "minor"):
        return None
    pc, confidence = pitch_class(str(key["tonic"])), float(key.get("confidence") or 0)
    if pc is None:
        return None
    if key.get("source") == "scale_information":  # v1: 0.4 for a chosen scale, 0.1 for the default
        return make_key(pc, key["mode"], SCALE_CONFIDENCE, "scale_information") if confidence > 0.1 else None
    return (
        make_key(pc, key["mode"], confidence, key.get("source") or "midi_notes")
        if confidence >= KEY_CONFIDENCE
        else None
    )


def _v1_instruments(summary: dict) -> list[dict]:
    """v1 has no clip times: families of the audible tracks with clips, ranked by clip count
    (a group by its children's), with the same evidence rule as the parser."""
    weights: dict[str, float] = {}
    tracks = audible_tracks(summary)
    children: dict[str, int] = {}
    for track in tracks:
        if track.get("group"):
            children[track["group"]] = children.get(track["group"], 0) + int(track.get("clip_count") or 0)
    for order, track in enumerate(tracks):
        clips = children.get(track.get("name"), 0) if track.get("type") == "group" else track.get("clip_count", 1)
        if not clips:
            continue  # nothing on this track plays
        found = evidence_families(
            track.get("name") or "",
            track.get("group"),
            [],
            [*(track.get("devices") or []), *(track.get("plugins") or [])],
        )
        for family in found:
            weights[family] = weights.get(family, 0.0) + float(clips) - order * 1e-6
    return [{"family": f, "seconds": 0.0} for f in sorted(weights, key=lambda f: -weights[f])]


def _v1_sections(summary: dict, per_beat: float) -> list[dict]:
    """v1: the spans between locators inside the arrangement, plus the span before the first
    locator when it is at least a bar long; what plays in each is unknown."""
    end = float((summary.get("length") or {}).get("beats") or 0) or float("inf")
    locators = sorted(
        (float(loc["time"]), str(loc.get("name") or ""))
        for loc in summary.get("locators") or []
        if isinstance(loc, dict) and loc.get("time") is not None and 0 <= float(loc["time"]) < end
    )
    if locators and locators[0][0] >= beats_per_bar(summary.get("time_signature")):
        locators.insert(0, (0.0, ""))
    ends = [*(b for b, _ in locators[1:]), end if end < float("inf") else locators[-1][0]] if locators else []
    bounds = zip(locators, ends, strict=True)
    return [
        {
            "name": name,
            "start_beat": start,
            "end_beat": stop,
            "start_s": round(start * per_beat, 3),
            "end_s": round(stop * per_beat, 3),
            "tracks": [],
            "instruments": [],
        }
        for (start, name), stop in bounds
    ]


def _v1_tempo(tempo: dict) -> dict:
    """v1 keeps the transport tempo, and min/max when automated: without a tempo map, the
    tempo that plays most is unknown when the tempo moves."""
    out = dict(tempo)
    bpm, moves = tempo.get("bpm"), tempo.get("automated") and tempo.get("min") != tempo.get("max")
    if bpm is not None and not moves:
        out.setdefault("dominant_bpm", bpm)
        out.setdefault("map", [{"beat": 0.0, "seconds": 0.0, "bpm": bpm}])
    return out


def upgrade_summary(summary: dict) -> dict:
    """A summary in v2 shape. v2 comes back unchanged; v1 (or a partial dict) gains v2's fields
    from what it has: no tempo map when the tempo moves, sections from the locators (without
    what plays in them), instruments ranked by clip count."""
    if summary.get("schema_version") == SCHEMA_VERSION:
        return summary
    out = dict(summary)
    out["tempo"] = _v1_tempo(summary.get("tempo") or {})
    meter = summary.get("time_signature")
    out["time_signatures"] = [{"beat": 0.0, "time_signature": meter}] if meter else []
    out["key"] = _upgrade_key(summary.get("key"))
    length, bpm = summary.get("length") or {}, out["tempo"].get("bpm")
    per_beat = (length.get("seconds") or 0) / length["beats"] if length.get("beats") else (60.0 / bpm if bpm else 0)
    out["locators"] = [
        {**loc, "seconds": round(float(loc.get("time") or 0) * per_beat, 3)} for loc in summary.get("locators") or []
    ]
    out["instruments"] = _v1_instruments(summary)
    out["sections"] = _v1_sections(summary, per_beat)
    out["schema_version"] = SCHEMA_VERSION
    return out


@dataclass(frozen=True)
class Section:
    name: str | None  # a section word (intro, chorus, drop...) or None
    start_beat: float
    instruments: tuple[str, ...]  # families playing in it (empty when the summary cannot say)


def _whole(value) -> int | None:
    return int(round(float(value))) if value is not None else None


def _tempo_facts(tempo: dict) -> dict:
    """The tempo fields of SetFacts from a (v2-shaped) tempo dict."""
    transport = tempo.get("bpm")
    points = [float(p["bpm"]) for p in tempo.get("map") or [] if isinstance(p, dict) and p.get("bpm") is not None]
    if not points and tempo.get("min") is not None and tempo.get("max") is not None:
        points = [float(tempo["min"]), float(tempo["max"])]  # v1: the range the automation covers
    elif not points and transport is not None:
        points = [float(transport)]
    dominant = tempo.get("dominant_bpm")
    values = sorted({round(v, 3) for v in points + ([float(dominant)] if dominant is not None else [])})
    return {
        "bpm": _whole(dominant),
        "dominant_bpm": None if dominant is None else float(dominant),
        "transport_bpm": None if transport is None else float(transport),
        "tempo_changes": len({_whole(v) for v in values}) > 1,
        "tempo_low": _whole(values[0]) if values else None,
        "tempo_high": _whole(values[-1]) if values else None,
        "tempo_values": tuple(values),
        "tempo_map": bool(tempo.get("map")),
    }


def in_arrangement_meters(summary: dict) -> tuple[str, ...]:
    """Every meter in force inside the arrangement, in order of first use. A meter change at
    or after the arrangement's end is never heard; a summary whose only meter event lies
    before the song (Live's beat -63072 default) keeps the transport meter."""
    end = float((summary.get("length") or {}).get("beats") or 0)
    events = [t for t in summary.get("time_signatures") or [] if isinstance(t, dict) and t.get("time_signature")]
    if end > 0:
        events = [t for t in events if float(t.get("beat") or 0) < end]
    transport = summary.get("time_signature")
    if len(events) <= 1 and transport:
        return (transport,)
    return tuple(dict.fromkeys(str(t["time_signature"]) for t in events))


def _track_counts(summary: dict, version: int) -> tuple[int, int]:
    """Audio and MIDI tracks that play in the arrangement (v1: every track counted)."""
    playing = playing_track_names(summary) if version == SCHEMA_VERSION else None
    if playing is None:
        counts = summary.get("track_counts") or {}
        return int(counts.get("audio") or 0), int(counts.get("midi") or 0)
    kinds = [t.get("type") for t in summary.get("tracks") or [] if t.get("name") in playing]
    return kinds.count("audio"), kinds.count("midi")


@dataclass(frozen=True)
class SetFacts:
    schema_version: int  # of the summary as stored (1 or 2)
    bpm: int | None  # the tempo to state: the dominant tempo as a whole number; None when unknown
    dominant_bpm: float | None  # that tempo unrounded: the one covering most of the arrangement's time
    transport_bpm: float | None  # Live's transport tempo (what the set was saved at, not what plays)
    tempo_changes: bool  # the tempo moves by a whole BPM or more
    tempo_low: int | None  # the lowest and highest tempo the set reaches (whole numbers)
    tempo_high: int | None
    tempo_values: tuple[float, ...]  # every tempo the set holds or reaches, for the fact checker
    tempo_map: bool  # True: tempo_values are tempo-map points (v2); False: v1 min/max
    meters: tuple[str, ...]  # every meter in force in the arrangement, in order of first use
    key: str | None  # "C# minor", or None when the set does not show one clearly
    key_confidence: float
    instruments: tuple[str, ...]  # families that play in the arrangement, longest playing first
    sections: tuple[Section, ...]  # empty when nothing plays in the arrangement
    length_bars: float | None
    length_seconds: float | None
    audio_tracks: int  # audio / MIDI tracks that play in the arrangement
    midi_tracks: int
    has_arrangement: bool  # something plays in the arrangement (see training_blocker)

    @classmethod
    def from_summary(cls, summary: dict | None) -> SetFacts:
        summary = summary or {}
        version = int(summary.get("schema_version") or 1)
        s = upgrade_summary(summary)
        key, length = s.get("key"), s.get("length") or {}
        trusted = isinstance(key, dict) and key.get("name") and (key.get("confidence") or 0) >= KEY_CONFIDENCE
        heard = has_arrangement(summary)
        ranked = [i for i in s.get("instruments") or [] if isinstance(i, dict) and i.get("family")]
        if version == SCHEMA_VERSION:  # a family with no arrangement time is heard only in session clips
            ranked = [i for i in ranked if float(i.get("seconds") or 0) > 0]
        audio, midi = _track_counts(summary, version)
        return cls(
            schema_version=version,
            **_tempo_facts(s.get("tempo") or {}),
            meters=in_arrangement_meters(s),
            key=key["name"] if trusted else None,
            key_confidence=float(key.get("confidence") or 0) if trusted else 0.0,
            instruments=tuple(dict.fromkeys(str(i["family"]) for i in ranked)),
            sections=tuple(
                Section(section_word(r.get("name")), float(r.get("start_beat") or 0), tuple(r.get("instruments") or ()))
                for r in (s.get("sections") or [] if heard else [])
                if isinstance(r, dict)
            ),
            length_bars=length.get("bars"),
            length_seconds=length.get("seconds"),
            audio_tracks=audio,
            midi_tracks=midi,
            has_arrangement=heard,
        )

    @property
    def time_signature(self) -> str | None:
        """The meter at the arrangement's start."""
        return self.meters[0] if self.meters else None

    meter = time_signature

    @property
    def meter_changes(self) -> bool:
        return len(self.meters) > 1

    @property
    def vocals(self) -> bool:
        """A vocal track plays in the arrangement (audio clips or notes on a track whose best
        evidence says vocals)."""
        return "vocals" in self.instruments

    @property
    def beats_per_bar(self) -> float:
        return beats_per_bar(self.time_signature)

    @property
    def instrument_labels(self) -> list[str]:
        return [label(f) for f in self.instruments]

    def caption_metadata(self) -> dict:
        """bpm / key / time_signature stored beside a caption (None when unknown)."""
        return {
            "bpm": None if self.dominant_bpm is None else round(self.dominant_bpm, 2),
            "key": self.key,
            "time_signature": self.time_signature,
        }


# ---- a section as its own set ---------------------------------------------------------------
def _section_tempo(tempo: dict, start: float, end: float) -> dict:
    """The tempo map inside [start, end): the tempo in force at `start` (after a jump exactly
    there: a jump on a locator belongs to the next section only), the points inside, and where
    a ramp has got to at `end`; the dominant tempo by seconds inside the span."""
    points = [(float(p["beat"]), float(p["bpm"])) for p in tempo.get("map") or [] if p.get("bpm") is not None]
    if not points:
        return dict(tempo)
    timeline = TempoMap(points, points[0][1])
    inside = [(start, timeline.bpm_at(start)), *((b, v) for b, v in points if start < b < end)]
    before_end = timeline.bpm_at(end - 1e-9) if end > start else inside[-1][1]
    if abs(before_end - inside[-1][1]) > 1e-9:
        inside.append((end, before_end))  # a ramp that runs on past the section's end
    spent = timeline.time_per_tempo(end, start=start) if end > start else {}
    dominant = max(spent.items(), key=lambda kv: kv[1])[0] if spent else inside[0][1]
    values = [v for _, v in inside]
    return {
        **tempo,
        "automated": len(set(values)) > 1,
        "min": min(values),
        "max": max(values),
        "dominant_bpm": round(dominant, 3),
        "map": [
            {"beat": round(b, 6), "seconds": round(timeline.seconds_at(b), 3), "bpm": round(v, 3)} for b, v in inside
        ],
    }


def _section_meters(summary: dict, start: float, end: float) -> list[dict]:
    """The meter in force at `start`, then the changes inside the section, in beats from its start."""
    meters = in_arrangement_meters(summary)
    events = [t for t in summary.get("time_signatures") or [] if t.get("time_signature")]
    if len(meters) == 1 or not events:
        return [{"beat": 0.0, "time_signature": meters[0]}] if meters else []
    at_start = [t for t in events if float(t["beat"]) <= start] or events[:1]
    inside = [{**t, "beat": round(float(t["beat"]) - start, 6)} for t in events if start < float(t["beat"]) < end]
    return [{"beat": 0.0, "time_signature": at_start[-1]["time_signature"]}, *inside]


def section_summary(summary: dict, section: dict) -> dict:
    """The summary as seen from inside one section: only the tracks that play in it, only its
    instrument families, its stretch of the tempo map, the meters in force in it, the key its
    own notes show (none when they show none) and its length. The writers caption it, the fact
    checker checks a clip's caption against it and the clip's dataset row takes its facts."""
    playing = set(section.get("tracks") or [])
    tracks = [t for t in summary.get("tracks") or [] if t.get("name") in playing]
    start, end = float(section.get("start_beat") or 0), float(section.get("end_beat") or 0)
    seconds = round(float(section["end_s"]) - float(section["start_s"]), 3)
    samples = [s for s in summary.get("samples") or [] if any(s in (t.get("samples") or []) for t in tracks)]
    meters = _section_meters(summary, start, end)
    return {
        **summary,
        "tracks": tracks,
        "track_counts": {k: sum(t.get("type") == k for t in tracks) for k in ("audio", "midi", "group", "return")},
        "tempo": _section_tempo(summary.get("tempo") or {}, start, end),
        "time_signature": meters[0]["time_signature"] if meters else summary.get("time_signature"),
        "time_signatures": meters,
        "key": section.get("key"),
        "samples": samples,
        "instruments": [{"family": f, "seconds": seconds} for f in section.get("instruments") or []],
        "sections": [{**section, "start_beat": start, "end_beat": end}] if playing else [],
        "locators": [],
        "length": {"seconds": seconds, "beats": round(end - start, 6), "bars": None},
    }
