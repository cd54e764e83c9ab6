"""Issue 17's done-when, measured over the 38 shared corpus sets with the offline writer.

Captions must be varied (no duplicates, at most 20 % opening with the same three words, at
most 10 % of word 3-gram occurrences in 3-grams shared by a quarter of the captions), sized
(15–80 words) and faithful (no fact-check finding on any variant, every stated BPM the
dominant tempo, no key for a set whose key is undetermined). The facts the captions are
judged against are read from the summaries here, independently of the writer's adapter.
"""

from __future__ import annotations

import re

import pytest

from trainmode.captions.factcheck import check_variants
from trainmode.captions.report import caption_report
from trainmode.captions.writers.offline import OfflineWriter
from trainmode.sets.als import parse_als

PROFILES = {
    "no profile": {},
    "a profile": {
        "genres": ["deep house", "techno"],
        "moods": ["dreamy", "driving"],
        "descriptors": ["warm", "tape-saturated"],
        "instruments": ["analog synths", "saxophone"],
    },
}
KEY_CONFIDENCE = 0.6  # v1 keys below this are guesses (the rule the writers apply)
_RANGE = re.compile(r"(\d+)\s*(?:to|and|-|–)\s*(\d+)\s*(?:BPM|bpm|beats per minute)")
_SINGLE = re.compile(r"(\d+)\s*(?:BPM|bpm|beats per minute)")
_KEY = re.compile(r"(?i)\b[A-G](?:#|b)?\s(?:major|minor)\b")


@pytest.fixture(scope="module")
def corpus(corpus_dir) -> dict[str, dict]:
    sets = sorted(corpus_dir.glob("*.als"))
    assert len(sets) == 38, f"expected the 38 shared sets in {corpus_dir}"
    return {path.name: parse_als(path).summary for path in sets}


def dominant_bpm(summary: dict) -> float | None:
    """v2: tempo.dominant_bpm; v1: the tempo when it never changes (else unknown)."""
    tempo = summary.get("tempo") or {}
    if tempo.get("dominant_bpm") is not None:
        return float(tempo["dominant_bpm"])
    if tempo.get("bpm") is not None and not (tempo.get("automated") and tempo.get("min") != tempo.get("max")):
        return float(tempo["bpm"])
    return None


def tempo_span(summary: dict) -> tuple[float, float] | None:
    tempo = summary.get("tempo") or {}
    points = [float(p["bpm"]) for p in tempo.get("map") or []] or [
        float(v) for v in (tempo.get("min"), tempo.get("max")) if v is not None
    ]
    return (min(points), max(points)) if points else None


def key_determined(summary: dict) -> bool:
    key = summary.get("key")
    if not key or not key.get("tonic"):
        return False
    return summary.get("schema_version", 1) >= 2 or (key.get("confidence") or 0) >= KEY_CONFIDENCE


def tempo_problems(text: str, summary: dict) -> list[str]:
    """Every stated BPM is the dominant tempo (±1); a range 'from X to Y BPM' is the tempo's span."""
    problems, span, dominant = [], tempo_span(summary), dominant_bpm(summary)
    for low, high in _RANGE.findall(text):
        if not span or abs(int(low) - span[0]) > 1 or abs(int(high) - span[1]) > 1:
            problems.append(f"range {low}-{high} vs {span}")
    for bpm in _SINGLE.findall(_RANGE.sub(" ", text)):
        if dominant is None or abs(int(bpm) - dominant) > 1:
            problems.append(f"{bpm} BPM vs dominant {dominant}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES, ids=list(PROFILES))
def test_offline_captions_over_the_corpus_meet_the_targets(corpus, profile):
    schema = PROFILES[profile]
    written = {
        name: OfflineWriter().write(summary, {**schema, "name": name.split("__")[0]})
        for name, summary in corpus.items()
    }
    captions = [result.text for result in written.values()]
    findings = {
        name: check_variants(
            result.variants, corpus[name], {**schema, "name": name.split("__")[0]}, artist_name=name.split("__")[0]
        )
        for name, result in written.items()
    }
    report = caption_report(captions, [[f for fs in found.values() for f in fs] for found in findings.values()])
    print(f"\n{profile}:\n{report.to_text()}")  # the figures, with -s

    assert report.duplicates == []
    assert report.same_opening_share <= 0.20, report.top_opening
    assert report.shared_ngram_share <= 0.10, report.top_shared_ngrams
    assert all(15 <= len(c.split()) <= 80 for c in captions), [c for c in captions if not 15 <= len(c.split()) <= 80]
    assert report.findings_by_type == {}, {n: f for n, f in findings.items() if any(f.values())}
    wrong_tempo = {
        name: p
        for name, r in written.items()
        if (p := [x for v in r.variants.values() for x in tempo_problems(v, corpus[name])])
    }
    assert wrong_tempo == {}
    keyed = {
        name: r.text
        for name, r in written.items()
        if not key_determined(corpus[name]) and any(_KEY.search(v) for v in r.variants.values())
    }
    assert keyed == {}
    assert sum(key_determined(s) for s in corpus.values()) >= 5  # the key rule is exercised both ways


def test_the_checks_here_can_fail():
    """The tempo and key readers above catch what they are meant to catch."""
    steady = {"tempo": {"bpm": 120.0, "automated": False, "min": 120.0, "max": 120.0}}
    assert tempo_problems("A cut at 120 BPM, 121 bpm in tags.", steady) == []
    assert tempo_problems("A cut at 123 BPM.", steady) == ["123 BPM vs dominant 120.0"]
    ramp = {"tempo": {"bpm": 140.0, "automated": True, "min": 132.0, "max": 180.0}}
    assert tempo_problems("Tempo changes from 132 to 180 BPM.", ramp) == []
    assert tempo_problems("At 140 BPM, with tempo changes.", ramp) == ["140 BPM vs dominant None"]
    assert not key_determined({"key": {"tonic": "C", "mode": "major", "confidence": 0.1}})
    assert not key_determined({"schema_version": 2, "key": None})
    assert _KEY.search("drums, 4/4, a minor")
