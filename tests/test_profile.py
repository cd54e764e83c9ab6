"""master_schema: parsing with clear errors, and deriving the facts from the artist's sets."""

import pytest

from trainmode.errors import ValidationError
from trainmode.sets.als import parse_als
from trainmode.sets.profile import derive_master_schema, parse_master_schema


def summary(bpm, meter="4/4", key=("A", "minor", 0.9), tracks=()) -> dict:
    tonic, mode, confidence = key
    return {
        "tempo": {"bpm": bpm},
        "time_signature": meter,
        "key": {"tonic": tonic, "mode": mode, "confidence": confidence, "source": "midi_notes"},
        "tracks": [
            {"name": name, "type": "midi", "muted": False, "group": None, "devices": [], "plugins": []}
            for name in tracks
        ],
    }


SETS = [
    summary(124.4, key=("A", "minor", 0.9), tracks=("Kick", "Sub Bass", "Lead")),
    summary(118.0, key=("A", "minor", 0.8), tracks=("Drums", "Bass", "Piano")),
    summary(127.6, "3/4", key=("C", "major", 0.95), tracks=("Drums", "Reese")),
    summary(120.0, key=("F#", "minor", 0.3), tracks=("Kit", "Bassline", "Guitar")),  # a key too unsure to count
]


def test_derive_fills_the_facts_and_keeps_the_words():
    current = {
        "genres": ["deep house"],
        "moods": ["warm"],
        "descriptors": ["rolling"],
        "notes": "no vocals",
        "label": "Night Moves",
        "tempo_range": [60, 70],
        "keys": ["D minor"],
        "instruments": ["harp"],
    }
    derived = derive_master_schema(SETS, current)
    assert derived["tempo_range"] == [118, 128]
    assert derived["keys"] == ["A minor", "C major"]  # most frequent first; the 0.3-confidence guess left out
    assert derived["meters"] == ["4/4", "3/4"]
    # Drums and bass are in every set; piano and guitar in one each: not the artist's signature.
    assert derived["instruments"] == ["bass", "drums"]
    for field in ("genres", "moods", "descriptors", "notes", "label"):
        assert derived[field] == current[field]
    assert current["tempo_range"] == [60, 70]  # the argument is not modified


def test_derive_without_sets_changes_nothing():
    current = {"genres": ["techno"], "tempo_range": [130, 140]}
    assert derive_master_schema([], current) == current


def test_derive_from_the_demo_sets(demo_files):
    derived = derive_master_schema([parse_als(als).summary for _, als, _ in demo_files], {"genres": ["synthwave"]})
    assert derived["genres"] == ["synthwave"]
    assert derived["tempo_range"] == [96, 128]
    assert derived["meters"] == ["4/4", "3/4"]
    assert set(derived["keys"]) == {"A minor", "C major", "E minor"}


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"genres": ["house",]}', "not valid JSON: Expecting value at line 1, column 21"),
        ('{"tempo_range": [120]}', "not valid at tempo_range"),
        ('{"genres": "house"}', "not valid at genres"),
        ('["house"]', "not valid at the top level"),
    ],
)
def test_a_bad_master_schema_says_where(text, message):
    with pytest.raises(ValidationError, match=message.replace("[", r"\[")):
        parse_master_schema(text)
