"""build_summary: the raw facts the collectors gathered -> summary v2 (pure: no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable

from trainmode.errors import AlsError
from trainmode.sets.als.collect_tempo import MAX_METER
from trainmode.sets.als.key import detect_key, scale_key
from trainmode.sets.als.raw import RawSet, RawTrack
from trainmode.sets.als.sections import audible_flags, pitched_tracks, ranked_instruments, sections, track_families
from trainmode.sets.als.timing import TempoMap, bars_at, decode_time_signature

SCHEMA_VERSION = 2
MAX_BPM = 999.0  # Live's tempo range is 20-999 BPM
_CREATOR = re.compile(r"Ableton Live\s+(\S+)")


def _meter(code: float, fail: Callable[[str], AlsError]) -> str:
    code = int(code)
    if not 0 <= code < MAX_METER:
        raise fail(f"is damaged: its time signature code {code} is not one Live uses.")
    numerator, denominator = decode_time_signature(code)
    return f"{numerator}/{denominator}"


def _pairs(flat) -> list[tuple[float, float]]:
    return list(zip(flat[::2], flat[1::2], strict=False)) if flat else []


def time_signatures(raw: RawSet, end: float, fail) -> list[dict]:
    """Every meter in force in the arrangement, [{beat, time_signature}], the first at beat 0.

    Only events inside the arrangement count: with none there (an envelope whose only event is
    Live's default at beat -63072, or events after the end), the transport meter stands."""
    points = _pairs(raw.master_envelopes.get(raw.meter_target)) or raw.inline_meter_points
    points = sorted(points, key=lambda p: p[0])
    if end > 0:
        points = [p for p in points if p[0] < end]
    start = _meter(raw.meter, fail)
    if not any(time >= 0 for time, _ in points):
        return [{"beat": 0.0, "time_signature": start}]
    for time, code in points:  # the last point at or before beat 0 is the starting meter
        if time <= 0:
            start = _meter(code, fail)
    out = [{"beat": 0.0, "time_signature": start}]
    for time, code in points:
        meter, beat = _meter(code, fail), round(time, 6)
        if time <= 0:
            continue
        if out[-1]["beat"] == beat:  # two points at one time: the later one is the meter
            out.pop()
        if not out or meter != out[-1]["time_signature"]:
            out.append({"beat": beat, "time_signature": meter})
    return out


def tempo_facts(raw: RawSet, end: float, fail) -> tuple[dict, TempoMap]:
    bpm = raw.bpm
    points = _pairs(raw.master_envelopes.get(raw.tempo_target)) or raw.inline_tempo_points
    if not all(0 < v <= MAX_BPM for v in (bpm, *(v for _, v in points))):
        raise fail(f"is damaged: its tempo is outside Live's range of 20-{MAX_BPM:g} BPM.")
    values = [v for _, v in points]
    automated = len(set(values)) > 1
    tempo = TempoMap(points if automated else [], bpm)
    if automated:
        at_start = tempo.bpm_at(0.0)
        later = [(max(t, 0.0), v) for t, v in sorted(points, key=lambda p: p[0]) if t > 0]
        tempo_map = [(0.0, at_start), *later]
        spent = tempo.time_per_tempo(end) if end > 0 else {}
        dominant = max(spent.items(), key=lambda kv: kv[1])[0] if spent else at_start
    else:
        tempo_map, dominant = [(0.0, bpm)], bpm
    return {
        "bpm": bpm,
        "automated": automated,
        "min": min(values) if automated else bpm,
        "max": max(values) if automated else bpm,
        "dominant_bpm": round(dominant, 3),
        "map": [
            {"beat": round(b, 6), "seconds": round(tempo.seconds_at(b), 3), "bpm": round(v, 3)} for b, v in tempo_map
        ],
    }, tempo


def set_key(pitched: list[RawTrack], scale) -> dict | None:
    """From the audible pitched notes; else Live's scale when the user chose one; else None."""
    profile = [sum(t.pitch_classes[i] for t in pitched) for i in range(12)]
    found = detect_key(profile, sum(t.key_notes for t in pitched))
    return found or (scale_key(*scale) if scale else None)


def _check(raw: RawSet, fail) -> None:
    if not raw.master_seen:
        raise fail("is damaged: it has no master track.")
    if raw.bpm is None:
        raise fail("is damaged: its master track has no tempo.")
    if raw.meter is None:
        raise fail("is damaged: its master track has no time signature.")


def build_summary(raw: RawSet, fail: Callable[[str], AlsError]) -> dict:
    """Summary v2 of a finished parse; `fail(reason)` makes the error for a damaged set."""
    _check(raw, fail)
    locators = sorted(raw.locators, key=lambda loc: loc["time"])
    end = max(0.0, raw.arrangement_end, *(loc["time"] for loc in locators))
    tempo, tempo_map = tempo_facts(raw, end, fail)
    meters = time_signatures(raw, end, fail)
    tracks = raw.tracks
    group_names = {t.id: t.name for t in tracks if t.type == "group"}
    families = [track_families(t, group_names.get(t.group_id)) for t in tracks]
    audible = audible_flags(tracks)
    instruments = ranked_instruments(tracks, families, audible, end, tempo_map)
    pitched = pitched_tracks(tracks, families, audible)
    version = _CREATOR.search(raw.creator)
    return {
        "schema_version": SCHEMA_VERSION,
        "live_version": version.group(1) if version else None,
        "creator": raw.creator,
        "tempo": tempo,
        "time_signature": _meter(raw.meter, fail),
        "time_signatures": meters,
        "key": set_key(pitched, raw.scale),
        "length": {
            "beats": round(end, 6),
            "seconds": round(tempo_map.seconds_at(end), 3),
            "bars": round(bars_at(end, meters), 3),
        },
        "track_counts": {kind: sum(t.type == kind for t in tracks) for kind in ("audio", "midi", "group", "return")},
        "tracks": [_track(t, group_names) for t in tracks],
        **_gear(raw),
        "locators": [{**loc, "seconds": round(tempo_map.seconds_at(loc["time"]), 3)} for loc in locators],
        "samples": sorted(raw.samples, key=str.casefold),
        "notes": _notes(tracks, end),
        "instruments": instruments,
        "sections": sections(
            locators, end, tracks, families, audible, tempo_map, meters, [i["family"] for i in instruments], pitched
        ),
    }


def _track(t: RawTrack, group_names: dict) -> dict:
    return {
        "name": t.name,
        "type": t.type,
        "muted": t.muted,
        "group": group_names.get(t.group_id) if t.group_id else None,
        "devices": t.devices,
        "plugins": t.plugins,
        "clip_count": t.clip_count,
        "note_count": t.note_count,
    }


def _gear(raw: RawSet) -> dict:
    plugins = {n for t in raw.tracks for n in t.plugins} | {n for _, n, p in raw.master_devices if p}
    devices = {n for t in raw.tracks for n in t.devices} | {n for _, n, p in raw.master_devices if not p}
    return {"plugins": sorted(plugins, key=str.casefold), "devices": sorted(devices, key=str.casefold)}


def _notes(tracks: list[RawTrack], beats: float) -> dict:
    pitches = [t for t in tracks if t.pitch_min is not None]
    arrangement_notes = sum(t.arrangement_notes for t in tracks)
    return {
        "count": sum(t.note_count for t in tracks),
        "pitch_min": min((t.pitch_min for t in pitches), default=None),
        "pitch_max": max((t.pitch_max for t in pitches), default=None),
        "density": round(arrangement_notes / beats, 3) if beats > 0 else None,
    }
