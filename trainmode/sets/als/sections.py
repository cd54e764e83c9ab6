"""What plays when: each track's instrument families, the families ranked by playing time,
and the arrangement cut into sections."""

from __future__ import annotations

from trainmode.sets.als.families import FAMILIES, bass_line, evidence_families
from trainmode.sets.als.key import detect_key
from trainmode.sets.als.raw import RawTrack
from trainmode.sets.als.timing import TempoMap, bars_at

MIN_DERIVED_BARS = 4  # a section found from clip changes is at least this long
PERCUSSIVE = frozenset({"drums", "percussion"})


def track_families(track: RawTrack, group_name: str | None) -> list[str]:
    """A track's families from its own name, devices, plug-ins, notes and samples; its group's
    name only when they say nothing (families.evidence_families). A MIDI track's samples are what
    its instrument plays; an audio track's are its recordings (and bounces)."""
    low = bass_line(track.pitch_min, track.pitch_max, track.drums)
    gear = [*track.devices, *track.plugins]
    return evidence_families(track.name, group_name, track.samples, gear, bass_notes=low, recorded=track.type != "midi")


def audible_flags(tracks: list[RawTrack]) -> list[bool]:
    """Heard in a render: not a return (effects), not muted, not inside a muted group."""
    by_id = {t.id: t for t in tracks if t.type == "group"}

    def muted(track: RawTrack, depth: int = 0) -> bool:
        if track.muted:
            return True
        parent = by_id.get(track.group_id) if track.group_id else None
        return bool(parent and parent is not track and depth < 16 and muted(parent, depth + 1))

    return [t.type != "return" and not muted(t) for t in tracks]


def pitched_tracks(tracks: list[RawTrack], families: list[list[str]], audible: list[bool]) -> list[RawTrack]:
    """Tracks whose notes are pitches a key can be read from: audible, not a drum track, and
    not a MIDI track that only feeds a drum track (MIDI output or the drum track's input)."""
    drums = {
        t.id for t, fams in zip(tracks, families, strict=False) if t.drums or (fams and PERCUSSIVE.issuperset(fams))
    }
    feeders = {t.midi_from for t in tracks if t.id in drums and t.midi_from}
    return [
        t
        for t, fams, heard in zip(tracks, families, audible, strict=False)
        if heard and t.id not in drums and t.id not in feeders and t.midi_to not in drums
    ]


def _union_seconds(spans: list[tuple[float, float]], end: float, tempo: TempoMap) -> float:
    total, reach = 0.0, 0.0
    for start, stop in sorted(spans):
        start, stop = max(start, reach, 0.0), min(stop, end)
        if stop > start:
            total += tempo.seconds_at(stop) - tempo.seconds_at(start)
            reach = stop
    return total


def ranked_instruments(
    tracks: list[RawTrack], families: list[list[str]], audible: list[bool], end: float, tempo: TempoMap
) -> list[dict]:
    """[{family, seconds}] by how long each family plays in the arrangement, longest first."""
    spans: dict[str, list] = {}
    for track, fams, heard in zip(tracks, families, audible, strict=False):
        if heard and track.arrangement_clips:
            for family in fams:
                spans.setdefault(family, []).extend((c.start, c.end) for c in track.arrangement_clips)
    played = [{"family": f, "seconds": round(_union_seconds(s, end, tempo), 3)} for f, s in spans.items()]
    # Only what plays in the arrangement counts: a family heard only in session clips is not in a render.
    played = [p for p in played if p["seconds"] > 0]
    return sorted(played, key=lambda p: (-p["seconds"], FAMILIES.index(p["family"])))


def section_key(pitched: list[RawTrack], start: float, stop: float) -> dict | None:
    """The key the section's own notes show, by the set's rule (key.detect_key), or None.
    Notes are known per arrangement clip, not per beat: a clip that overlaps the section only
    in part counts with the share of its length that lies inside."""
    profile, notes = [0.0] * 12, 0.0
    for track in pitched:
        for clip in track.arrangement_clips:
            inside = min(clip.end, stop) - max(clip.start, start)
            if clip.pitch_classes is None or inside <= 0:
                continue
            share = inside / (clip.end - clip.start)
            notes += clip.notes * share
            profile = [p + w * share for p, w in zip(profile, clip.pitch_classes, strict=True)]
    return detect_key(profile, int(notes))


def _derived_bounds(tracks: list[RawTrack], audible: list[bool], end: float, meters: list[dict]) -> list[tuple]:
    """(start, end) spans where the set of playing clips changes, merged to >= 4 bars."""
    deltas: dict[float, list[tuple[int, int]]] = {}
    for i, (track, heard) in enumerate(zip(tracks, audible, strict=False)):
        for s, e in ((c.start, c.end) for c in track.arrangement_clips) if heard else ():
            s, e = max(s, 0.0), min(e, end)
            if e > s:
                deltas.setdefault(s, []).append((i, 1))
                deltas.setdefault(e, []).append((i, -1))
    cuts = sorted({0.0, end, *deltas})
    active: dict[int, int] = {}
    playing = []
    for a in cuts[:-1]:
        for i, step in deltas.get(a, ()):
            active[i] = active.get(i, 0) + step
        playing.append(frozenset(i for i, n in active.items() if n > 0))
    merged: list[list] = []
    for (a, b), who in zip(zip(cuts, cuts[1:], strict=False), playing, strict=False):
        if merged and merged[-1][2] == who:
            merged[-1][1] = b
        else:
            merged.append([a, b, who])
    out: list[list] = []
    for seg in merged:
        if out and bars_at(out[-1][1], meters) - bars_at(out[-1][0], meters) < MIN_DERIVED_BARS:
            out[-1][1] = seg[1]
        else:
            out.append(seg)
    if len(out) > 1 and bars_at(out[-1][1], meters) - bars_at(out[-1][0], meters) < MIN_DERIVED_BARS:
        last = out.pop()
        out[-1][1] = last[1]
    return [("", a, b) for a, b, _ in out]


def _locator_bounds(locators: list[dict], end: float, meters: list[dict]) -> list[tuple]:
    bounds = []
    first = locators[0]["time"]
    if bars_at(first, meters) >= 1:
        bounds.append(("", 0.0, first))
    for loc, following in zip(locators, [*locators[1:], {"time": end}], strict=False):
        bounds.append((loc["name"], max(loc["time"], 0.0), min(following["time"], end)))
    return [b for b in bounds if b[2] > b[1]]


def sections(
    locators: list[dict],
    end: float,
    tracks: list[RawTrack],
    families: list[list[str]],
    audible: list[bool],
    tempo: TempoMap,
    meters: list[dict],
    rank: list[str],
    pitched: list[RawTrack],
) -> list[dict]:
    """The spans between consecutive locators, or without locators the spans where the
    playing clips change; each with the tracks and families that play in it."""
    if locators:
        bounds = _locator_bounds(locators, end, meters)
    elif any(t.arrangement_clips for t in tracks) and end > 0:
        bounds = _derived_bounds(tracks, audible, end, meters)
    else:
        return []
    order = {f: i for i, f in enumerate([*rank, *FAMILIES])}
    out = []
    for name, start, stop in bounds:
        here = [
            i
            for i, (t, heard) in enumerate(zip(tracks, audible, strict=False))
            if heard and any(c.start < stop and c.end > start for c in t.arrangement_clips)
        ]
        fams = {f for i in here for f in families[i]}
        out.append(
            {
                "name": name,
                "start_beat": round(start, 6),
                "end_beat": round(stop, 6),
                "start_s": round(tempo.seconds_at(start), 3),
                "end_s": round(tempo.seconds_at(stop), 3),
                "tracks": list(dict.fromkeys(tracks[i].name for i in here)),
                "instruments": sorted(fams, key=order.__getitem__),
                "key": section_key(pitched, start, stop),
            }
        )
    return out
