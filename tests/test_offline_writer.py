"""The offline writer: deterministic, faithful to the set, three variants, and its captions
pass the fact checker on every corpus set."""

from __future__ import annotations

import copy
import re

import pytest
from summaries_v2 import steady, v2_summary

from trainmode.captions.factcheck import check_caption, check_variants
from trainmode.captions.text import split_tags
from trainmode.captions.writers.context import caption_metadata
from trainmode.captions.writers.offline import OFFLINE_VERSION, OfflineWriter
from trainmode.sets.als import parse_als
from trainmode.sets.facts import SetFacts

SCHEMA = {
    "name": "Nova Lane",
    "genres": ["deep house"],
    "moods": ["dreamy", "driving"],
    "instruments": ["analog synths"],
    "descriptors": ["warm", "tape-saturated"],
}
SUMMARY = {
    "schema_version": 1,
    "tempo": {"bpm": 122.0, "automated": False, "min": 122.0, "max": 122.0},
    "time_signature": "4/4",
    "key": {"tonic": "D", "mode": "minor", "confidence": 0.7, "source": "midi_notes"},
    "track_counts": {"audio": 1, "midi": 2, "group": 0, "return": 0},
    "tracks": [
        {"name": "Beat", "type": "midi", "muted": False, "group": None, "devices": ["Drum Rack"], "clip_count": 3},
        {"name": "Rhodes", "type": "midi", "muted": False, "group": None, "devices": [], "clip_count": 1},
        {"name": "Gtr", "type": "audio", "muted": True, "group": None, "devices": [], "clip_count": 4},
    ],
    "samples": ["Nova Lane guitar bounce.wav"],
    "locators": [{"time": 0.0, "name": "Intro"}, {"time": 64.0, "name": "Drop"}],
    "notes": {"count": 900, "pitch_min": 40, "pitch_max": 80, "density": 5.2},
}


def write(summary, schema=None, **kw):
    return OfflineWriter().write(summary, schema if schema is not None else SCHEMA, **kw)


def stated_bpms(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+) (?:BPM|beats per minute)", text)]


def test_caption_from_facts_and_profile_v1():
    result = write(SUMMARY)
    text = result.text
    assert text == result.variants["detailed"]
    assert (result.writer, result.model, result.version) == ("offline", "offline-template", OFFLINE_VERSION)
    assert result.metadata == caption_metadata(SUMMARY) == {"bpm": 122.0, "key": "D minor", "time_signature": "4/4"}
    assert stated_bpms(text) == [122] and "D minor" in text and "deep house" in text
    assert text.lower().index("drums") < text.index("piano")  # ranked: 3 drum clips, 1 piano clip
    assert "guitar" not in text and "synths" not in text  # a muted track; the profile's instrument
    assert not re.search(r"energ|laid-back|high-energy|sparse|dense|busy", text, re.I)  # nothing from tempo alone
    assert check_caption(text, SUMMARY, SCHEMA, artist_name="Nova Lane") == []


def test_three_variants_within_their_lengths_and_all_faithful():
    for summary in (SUMMARY, v2_summary(), steady(128)):
        for schema in ({}, SCHEMA):
            variants = write(summary, schema).variants
            assert set(variants) == {"detailed", "short", "tags"}
            assert 25 <= len(variants["detailed"].split()) <= 60, variants["detailed"]
            assert len(variants["short"].split()) <= 15, variants["short"]
            assert 5 <= len(split_tags(variants["tags"])) <= 15, variants["tags"]
            findings = check_variants(variants, summary, schema, artist_name="Nova Lane")
            assert findings == {"detailed": [], "short": [], "tags": []}, (variants, findings)


def test_v2_tempo_changes_meter_changes_null_key_and_sections():
    result = write(v2_summary(), {})
    text = result.text
    assert stated_bpms(text) == [90]  # the dominant tempo, never the transport's 180
    assert "tempo change" in text or "tempo changes" in text
    assert "6/8" in text and "7/8" in text  # the meter changes
    assert not re.search(r"\b[A-G](?:#|b)? (?:major|minor)\b", text)  # the key is undetermined
    assert "the break strips back to just drums and bass" in text
    assert re.search(r"[Pp]iano and strings (?:enter|arrive|join) in the verse", text)
    assert "vocals" in result.variants["tags"] and "changing meter" in result.variants["tags"]
    assert result.metadata == {"bpm": 90.0, "key": None, "time_signature": "6/8"}


def test_v2_steady_set_states_a_whole_bpm_and_its_key():
    result = write(steady(93.02), {})
    assert stated_bpms(result.text) == [93] and "C# minor" in result.text
    assert "93 bpm" in result.variants["tags"] and result.metadata["bpm"] == 93.02


def test_the_profile_is_woven_in_but_does_not_open_every_caption():
    openings = set()
    for bpm in range(100, 130):
        text = write(steady(float(bpm)), SCHEMA).text
        assert "deep house" in text
        openings.add(" ".join(text.split()[:3]))
    assert len(openings) >= 10


def test_profile_descriptors_read_right_whether_adjectives_or_nouns():
    schema = {**SCHEMA, "descriptors": ["analog warmth", "punchy"]}
    used = 0
    for bpm in range(100, 140):
        text = write(steady(float(bpm)), schema).text
        # "It sounds analog warmth", "The production is punchy and analog warmth": never a predicate
        assert not re.search(r"\b(?:is|sounds|leans) (?:analog warmth|punchy)", text), text
        used += "analog warmth" in text or "punchy" in text
    assert used >= 10  # the descriptors are still woven in


def test_deterministic():
    first = write(SUMMARY).to_dict()
    reordered = {k: copy.deepcopy(SUMMARY[k]) for k in reversed(list(SUMMARY))}
    assert OfflineWriter().write(reordered, dict(reversed(SCHEMA.items()))).to_dict() == first
    assert write(SUMMARY).to_dict() == first


def test_sparse_facts_still_make_a_caption():
    result = write({"tempo": {"bpm": None}, "track_counts": {"audio": 2}}, {})
    assert 10 <= len(result.text.split()) and "recorded audio" in result.text
    assert result.metadata == {"bpm": None, "key": None, "time_signature": None}
    assert check_caption(result.text, {"tempo": {"bpm": None}, "track_counts": {"audio": 2}}) == []


def corpus_sets(corpus_dir):
    sets = sorted(corpus_dir.glob("*.als"))
    assert sets, f"no .als files in {corpus_dir}"
    return sets


@pytest.mark.slow
def test_every_corpus_set_passes_the_fact_checker(corpus_dir):
    failures = {}
    for path in corpus_sets(corpus_dir):
        summary = parse_als(path).summary  # every corpus set parses (see test_als_corpus.py)
        artist = path.name.split("__")[0]  # corpus files are named owner__repo__set.als
        result = OfflineWriter().write(summary, {"name": artist})
        findings = check_variants(result.variants, summary, {"name": artist}, artist_name=artist)
        if any(findings.values()) or not result.text:
            failures[path.name] = (result.variants, findings)
        # The tempo stated is the one covering most of the arrangement (SetFacts), not the transport's.
        assert result.metadata["bpm"] == pytest.approx(SetFacts.from_summary(summary).dominant_bpm, abs=0.01)
        assert OfflineWriter().write(summary, {"name": artist}).text == result.text
    assert failures == {}
