"""The offline writer: deterministic, and its captions pass the fact checker on every corpus set."""
from __future__ import annotations

import copy

import pytest

from trainmode.als import parse_als
from trainmode.factcheck import check_caption
from trainmode.facts import SetFacts
from trainmode.writers.context import caption_metadata
from trainmode.writers.offline import OfflineWriter

SCHEMA = {"name": "Nova Lane", "genres": ["deep house"], "moods": ["dreamy", "driving"],
          "instruments": ["analog synths"], "descriptors": ["warm", "tape-saturated"]}
SUMMARY = {
    "schema_version": 1,
    "tempo": {"bpm": 122.0, "automated": False, "min": 122.0, "max": 122.0},
    "time_signature": "4/4",
    "key": {"tonic": "D", "mode": "minor", "confidence": 0.7, "source": "midi_notes"},
    "track_counts": {"audio": 1, "midi": 2, "group": 0, "return": 0},
    "tracks": [{"name": "Beat", "type": "midi", "muted": False, "group": None, "devices": ["Drum Rack"]},
               {"name": "Rhodes", "type": "midi", "muted": False, "group": None, "devices": []},
               {"name": "Gtr", "type": "audio", "muted": True, "group": None, "devices": []}],
    "samples": ["Nova Lane guitar bounce.wav"],
    "locators": [{"time": 0.0, "name": "Intro"}, {"time": 64.0, "name": "Drop"}],
    "notes": {"count": 900, "pitch_min": 40, "pitch_max": 80, "density": 5.2},
}


def test_caption_from_facts_and_profile():
    result = OfflineWriter().write(SUMMARY, SCHEMA)
    assert result.prompt == (
        "Dreamy and driving deep house track at 122 BPM in D minor. An energetic arrangement of analog synths, "
        "drums and piano with a warm and tape-saturated sound. Features busy, dense note patterns, moving "
        "through 2 distinct sections.")
    assert (result.writer, result.model, result.version) == ("offline", "offline-template", "offline-v2")
    assert result.metadata == caption_metadata(SUMMARY)
    assert check_caption(result.prompt, SUMMARY, SCHEMA, artist_name="Nova Lane") == []


def test_deterministic():
    first = OfflineWriter().write(SUMMARY, SCHEMA).to_dict()
    reordered = {k: copy.deepcopy(SUMMARY[k]) for k in reversed(list(SUMMARY))}
    assert OfflineWriter().write(reordered, dict(reversed(SCHEMA.items()))).to_dict() == first
    assert OfflineWriter().write(SUMMARY, SCHEMA).to_dict() == first


def test_sparse_facts_still_make_a_caption():
    result = OfflineWriter().write({"tempo": {"bpm": None}, "track_counts": {"audio": 2}}, {})
    assert result.prompt == "Track. An arrangement of audio layers. Built from 2 layered parts."
    assert result.metadata == {"bpm": None, "key": None, "time_signature": None}


def corpus_sets(corpus_dir):
    sets = sorted(corpus_dir.glob("*.als"))
    assert sets, f"no .als files in {corpus_dir}"
    return sets


def test_every_corpus_set_passes_the_fact_checker(corpus_dir):
    failures = {}
    for path in corpus_sets(corpus_dir):
        summary = parse_als(path).summary  # every corpus set parses (see test_als_corpus.py)
        artist = path.name.split("__")[0]  # corpus files are named owner__repo__set.als
        result = OfflineWriter().write(summary, {"name": artist})
        findings = check_caption(result.prompt, summary, {"name": artist}, artist_name=artist)
        if findings or not result.prompt:
            failures[path.name] = (result.prompt, [f.message for f in findings])
        # The tempo stated is the one covering most of the arrangement (SetFacts), not the transport's.
        assert result.metadata["bpm"] == pytest.approx(SetFacts.from_summary(summary).dominant_bpm, abs=0.01)
        assert OfflineWriter().write(summary, {"name": artist}).prompt == result.prompt
    assert failures == {}
