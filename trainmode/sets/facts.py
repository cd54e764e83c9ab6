"""One meaning of a set: every consumer reads a summary through `SetFacts`.

The Library table and charts, the derived profile, the caption writers, the fact checker
and the dataset sidecars all ask this module for the key, the tempo to state, the meters,
beats per bar and the instrument families, so they cannot disagree.

    facts = SetFacts.from_summary(row["summary"])   # summary v1 or v2
    facts.key            # "C# minor" or None: only a key the notes (or the user's scale) support
    facts.stated_bpm     # 124: the whole-number tempo that covers most of the arrangement
    facts.caption_metadata()
"""

from __future__ import annotations

from dataclasses import dataclass

from trainmode.sets.als.families import EVIDENCE, FAMILIES, FAMILY_LABELS, families_in, label, words_of
from trainmode.sets.als.key import SCALE_CONFIDENCE, make_key, pitch_class
from trainmode.sets.als.timing import beats_per_bar

__all__ = [
    "EVIDENCE",
    "FAMILIES",
    "FAMILY_LABELS",
    "KEY_CONFIDENCE",
    "SetFacts",
    "audible_tracks",
    "beats_per_bar",
    "families_in",
    "label",
    "upgrade_summary",
    "words_of",
]

KEY_CONFIDENCE = 0.6  # the one rule: a key below this is a guess, stated nowhere
SCHEMA_VERSION = 2


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


def _track_families(track: dict, group: str | None) -> list[str]:
    """Same tiers as the parser: own name, else group name, else devices and plug-ins."""
    for names in (
        [track.get("name") or ""],
        [group or ""],
        [*(track.get("devices") or []), *(track.get("plugins") or [])],
    ):
        found = {f for name in names if isinstance(name, str) for f in families_in(name)}
        if found:
            return [f for f in FAMILIES if f in found]
    return []


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


def upgrade_summary(summary: dict) -> dict:
    """A summary in v2 shape. v2 comes back unchanged; v1 (or a partial dict) gains v2's fields
    from what it has: no tempo map or clip times, so sections are empty and instruments unranked."""
    if summary.get("schema_version") == SCHEMA_VERSION:
        return summary
    out = dict(summary)
    tempo = dict(summary.get("tempo") or {})
    bpm = tempo.get("bpm")
    if bpm is not None:
        tempo.setdefault("dominant_bpm", bpm)
        tempo.setdefault("map", [{"beat": 0.0, "seconds": 0.0, "bpm": bpm}])
    out["tempo"] = tempo
    meter = summary.get("time_signature")
    out["time_signatures"] = [{"beat": 0.0, "time_signature": meter}] if meter else []
    out["key"] = _upgrade_key(summary.get("key"))
    length = summary.get("length") or {}
    per_beat = (length.get("seconds") or 0) / length["beats"] if length.get("beats") else (60.0 / bpm if bpm else 0)
    out["locators"] = [
        {**loc, "seconds": round(float(loc.get("time") or 0) * per_beat, 3)} for loc in summary.get("locators") or []
    ]
    playing = [t for t in audible_tracks(summary) if t.get("clip_count", 1)]
    found = {f for t in playing for f in _track_families(t, t.get("group"))}
    out["instruments"] = [{"family": f, "seconds": 0.0} for f in FAMILIES if f in found]
    out["sections"] = []
    out["schema_version"] = SCHEMA_VERSION
    return out


@dataclass(frozen=True)
class SetFacts:
    bpm: float | None  # Live's transport tempo
    dominant_bpm: float | None  # the tempo covering most of the arrangement's time
    tempo_min: float | None
    tempo_max: float | None
    time_signature: str | None  # the meter at the start
    meters: tuple[str, ...]  # every meter in force, in order of first use
    key: str | None  # "C# minor", or None when the set does not show one clearly
    key_confidence: float
    instruments: tuple[str, ...]  # families, longest playing first
    sections: tuple[dict, ...]
    length_bars: float | None
    length_seconds: float | None

    @classmethod
    def from_summary(cls, summary: dict | None) -> SetFacts:
        s = upgrade_summary(summary or {})
        tempo, key, length = s.get("tempo") or {}, s.get("key"), s.get("length") or {}
        trusted = isinstance(key, dict) and key.get("name") and (key.get("confidence") or 0) >= KEY_CONFIDENCE
        bpm = tempo.get("bpm")
        return cls(
            bpm=bpm,
            dominant_bpm=tempo.get("dominant_bpm", bpm),
            tempo_min=tempo.get("min", bpm),
            tempo_max=tempo.get("max", bpm),
            time_signature=s.get("time_signature"),
            meters=tuple(dict.fromkeys(m["time_signature"] for m in s.get("time_signatures") or [])),
            key=key["name"] if trusted else None,
            key_confidence=float(key.get("confidence") or 0) if trusted else 0.0,
            instruments=tuple(i["family"] for i in s.get("instruments") or []),
            sections=tuple(s.get("sections") or []),
            length_bars=length.get("bars"),
            length_seconds=length.get("seconds"),
        )

    @property
    def stated_bpm(self) -> int | None:
        """The tempo a caption states: the dominant tempo as a whole number."""
        return None if self.dominant_bpm is None else int(round(float(self.dominant_bpm)))

    @property
    def tempo_changes(self) -> tuple[float, float] | None:
        """(from, to) BPM when the tempo moves by more than 1 BPM, else None."""
        low, high = self.tempo_min, self.tempo_max
        if low is None or high is None or abs(float(high) - float(low)) <= 1.0:
            return None
        return float(low), float(high)

    @property
    def beats_per_bar(self) -> float:
        return beats_per_bar(self.time_signature)

    @property
    def instrument_labels(self) -> list[str]:
        return [label(f) for f in self.instruments]

    def caption_metadata(self) -> dict:
        """bpm / key / time_signature / instruments stored beside a caption (None when unknown)."""
        return {
            "bpm": None if self.dominant_bpm is None else round(float(self.dominant_bpm), 2),
            "key": self.key,
            "time_signature": self.time_signature,
            "instruments": self.instrument_labels,
        }
