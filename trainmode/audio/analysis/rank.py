"""Pairing help: when file names do not decide, rank the candidate sets by how close their
length and tempo are to what was heard, and say why in a few words."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.audio.analysis.verdict import TEMPO_AGREES, TEMPO_DOUBTFUL, TEMPO_RATIOS, tempo_relation

LENGTH_SCALE = 0.10  # a set 10 % longer or shorter scores e^-1 on length
TEMPO_SCALE = 0.04  # 4 % off (after half/double, 2:3 or 3:2) scores e^-1 on tempo
RELATION_LABELS = {"half": "half time", "double": "double time", "2:3": "2:3", "3:2": "3:2"}


@dataclass(frozen=True)
class Candidate:
    """A set the MP3 could belong to. `ref` is whatever the caller needs back (an id, a row)."""

    name: str
    bpm: float | None = None
    seconds: float | None = None
    ref: Hashable | None = None


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float  # 0..1, higher is closer; 0.5 when nothing could be compared
    why: str  # "length 4:01 vs 4:00, tempo 128 = 128 BPM"


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def _length(audio_s: float, set_s: float | None) -> tuple[float, str] | None:
    if not set_s or set_s <= 0:
        return None
    off = abs(audio_s - set_s) / set_s
    return math.exp(-off / LENGTH_SCALE), f"length {_clock(audio_s)} vs {_clock(set_s)}"


def _tempo(bpm: float | None, set_bpm: float | None) -> tuple[float, str] | None:
    if bpm is None or not set_bpm or set_bpm <= 0:
        return None
    relation, off = tempo_relation(bpm, set_bpm)
    label = "" if relation == "same" or off > TEMPO_DOUBTFUL else f" ({RELATION_LABELS[relation]})"  # 140/96: none
    related = set_bpm * TEMPO_RATIOS[relation]
    sign = "vs" if off > TEMPO_AGREES else "=" if round(bpm) == round(related) else "≈"  # never "172 = 174"
    return math.exp(-off / TEMPO_SCALE), f"tempo {bpm:.0f} {sign} {set_bpm:.0f} BPM{label}"


def rank_candidates(analysis: AudioAnalysis, candidates: Iterable[Candidate]) -> list[Ranked]:
    """Candidates best first. The score is the mean of the length and tempo closeness that
    could be measured (tempo only when the audio's tempo was measured); ties keep input order."""
    ranked = []
    for cand in candidates:
        parts = [p for p in (_length(analysis.duration_s, cand.seconds), _tempo(analysis.bpm, cand.bpm)) if p]
        if parts:
            score = sum(s for s, _ in parts) / len(parts)
            why = ", ".join(w for _, w in parts)
        else:
            score, why = 0.5, "no length or tempo to compare"
        ranked.append(Ranked(cand, round(score, 4), why))
    return sorted(ranked, key=lambda r: -r.score)
