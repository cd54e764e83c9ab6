"""The one place the writers and the fact checker read a set summary.

Summary v2 (issue 13) carries `tempo.map`, `tempo.dominant_bpm`, `time_signatures`,
`sections`, `instruments` ranked by playing time and a `key` that is null when
undetermined. v1 summaries are read too: what v1 lacks is derived where it can be
(instrument families from track names with the fact checker's vocabulary, ranked by
clip count; sections from locators, without instruments; the key with the confidence
rule of trainmode.sets.facts) and left out where it cannot. What a set means (its key, the
instrument vocabulary, beats per bar) is trainmode.sets.facts'; this module only shapes it for writing.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainmode.sets import facts
from trainmode.sets.facts import audible_tracks, beats_per_bar, families_in, words_of

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


@dataclass(frozen=True)
class Section:
    name: str | None  # a section word (intro, chorus, drop...) or None
    start_beat: float
    instruments: tuple[str, ...]  # families playing in it (empty when the summary cannot say)


@dataclass(frozen=True)
class SetFacts:
    schema_version: int
    bpm: int | None  # the tempo to state: the dominant tempo as a whole number
    metadata_bpm: float | None  # stored beside the caption (2 decimals)
    tempo_changes: bool
    tempo_low: int | None  # the lowest and highest tempo the set reaches (whole numbers)
    tempo_high: int | None
    tempo_values: tuple[float, ...]  # every tempo the set holds or reaches, for the fact checker
    tempo_map: bool  # True: tempo_values are tempo-map points (v2); False: v1 min/max
    meters: tuple[str, ...]  # every meter in force, in order of first appearance
    key: str | None  # "C# minor", only when determined
    instruments: tuple[str, ...]  # families, the longest-playing first
    sections: tuple[Section, ...]
    audio_tracks: int
    midi_tracks: int

    @property
    def meter(self) -> str | None:
        return self.meters[0] if self.meters else None

    @property
    def meter_changes(self) -> bool:
        return len(self.meters) > 1

    def metadata(self) -> dict:
        """bpm / key / time_signature stored beside the caption (None when unknown)."""
        return {"bpm": self.metadata_bpm, "key": self.key, "time_signature": self.meter}


def set_facts(summary: dict) -> SetFacts:
    summary = summary or {}
    version = int(summary.get("schema_version") or 1)
    tempo = _tempo(summary.get("tempo") or {})
    counts = summary.get("track_counts") or {}
    return SetFacts(
        schema_version=version,
        **tempo,
        meters=_meters(summary),
        key=facts.SetFacts.from_summary(summary).key,  # the one key rule
        instruments=_instruments(summary),
        sections=_sections(summary),
        audio_tracks=int(counts.get("audio") or 0),
        midi_tracks=int(counts.get("midi") or 0),
    )


def _whole(value) -> int | None:
    return int(round(float(value))) if value is not None else None


def _tempo(tempo: dict) -> dict:
    bpm = tempo.get("bpm")
    points = [float(p["bpm"]) for p in tempo.get("map") or [] if isinstance(p, dict) and p.get("bpm") is not None]
    dominant = tempo.get("dominant_bpm")
    if not points and tempo.get("automated") and tempo.get("min") is not None and tempo.get("max") is not None:
        points = [float(tempo["min"]), float(tempo["max"])]  # v1: the transport value may not be what plays
        points += [float(bpm)] if bpm is not None else []
    elif not points and bpm is not None:
        points = [float(bpm)]
    values = sorted({round(v, 3) for v in points + ([float(dominant)] if dominant is not None else [])})
    changes = len({_whole(v) for v in values}) > 1
    if dominant is None and not changes and values:
        dominant = values[0]
    shown = dominant if dominant is not None else bpm
    return {
        "bpm": _whole(dominant),
        "metadata_bpm": round(float(shown), 2) if shown is not None else None,
        "tempo_changes": changes,
        "tempo_low": _whole(values[0]) if values else None,
        "tempo_high": _whole(values[-1]) if values else None,
        "tempo_values": tuple(values),
        "tempo_map": bool(tempo.get("map")),
    }


def _meters(summary: dict) -> tuple[str, ...]:
    found = [t.get("time_signature") for t in summary.get("time_signatures") or [] if isinstance(t, dict)]
    if not found and summary.get("time_signature"):
        found = [summary["time_signature"]]
    return tuple(dict.fromkeys(m for m in found if isinstance(m, str) and m))


def _instruments(summary: dict) -> tuple[str, ...]:
    ranked = summary.get("instruments")
    if isinstance(ranked, list) and (not ranked or isinstance(ranked[0], dict)):  # v2
        rows = [r for r in ranked if isinstance(r, dict) and r.get("family")]
        rows.sort(key=lambda r: -float(r.get("seconds") or 0))
        return tuple(dict.fromkeys(str(r["family"]) for r in rows))
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
        names = [track.get("name") or "", *(track.get("devices") or []), *(track.get("plugins") or [])]
        for family in dict.fromkeys(f for n in names if isinstance(n, str) for f in families_in(n)):
            weights[family] = weights.get(family, 0.0) + float(clips) - order * 1e-6
    return tuple(sorted(weights, key=lambda f: -weights[f]))


def section_word(name) -> str | None:
    """'Drop B 1' -> 'drop', 'Coro' -> 'chorus', 'GEORGE' -> None."""
    words = words_of(name or "").split()
    joined = "".join(words)
    if joined in SECTION_WORDS:
        return SECTION_WORDS[joined]
    return next((SECTION_WORDS[w] for w in words if w in SECTION_WORDS), None)


def _sections(summary: dict) -> tuple[Section, ...]:
    rows = summary.get("sections")
    if isinstance(rows, list):  # v2
        return tuple(
            Section(
                section_word(r.get("name")),
                float(r.get("start_beat") or 0),
                tuple(dict.fromkeys(str(i) for i in r.get("instruments") or [])),
            )
            for r in rows
            if isinstance(r, dict)
        )
    # v1: the spans between locators inside the arrangement, plus the span before the first
    # locator when it is at least a bar long (issue 13's rule); what plays in each is unknown.
    end = float((summary.get("length") or {}).get("beats") or 0) or float("inf")
    locators = sorted(
        (float(loc["time"]), loc.get("name"))
        for loc in summary.get("locators") or []
        if isinstance(loc, dict) and loc.get("time") is not None and 0 <= float(loc["time"]) < end
    )
    sections = [Section(section_word(name), beat, ()) for beat, name in locators]
    if locators and locators[0][0] >= beats_per_bar(summary.get("time_signature")):
        sections.insert(0, Section(None, 0.0, ()))
    return tuple(sections)
