"""Hand-built summary v2 sets (issue 13's field names) for the writer and fact-check tests."""

from __future__ import annotations

import copy


def track(name, type_="midi", devices=(), plugins=(), muted=False, group=None, clips=2):
    return {
        "name": name,
        "type": type_,
        "muted": muted,
        "group": group,
        "devices": list(devices),
        "plugins": list(plugins),
        "clip_count": clips,
        "note_count": 10,
    }


SECTIONS = [  # 6/8: a bar is 3 beats
    {
        "name": "Intro",
        "start_beat": 0.0,
        "end_beat": 24.0,
        "start_s": 0.0,
        "end_s": 16.0,
        "tracks": ["Kit", "Sub"],
        "instruments": ["drums", "bass"],
    },
    {
        "name": "Verse",
        "start_beat": 24.0,
        "end_beat": 72.0,
        "start_s": 16.0,
        "end_s": 48.0,
        "tracks": ["Kit", "Sub", "Rhodes", "Strings"],
        "instruments": ["drums", "bass", "piano", "strings"],
    },
    {
        "name": "Break",
        "start_beat": 72.0,
        "end_beat": 96.0,
        "start_s": 48.0,
        "end_s": 60.0,
        "tracks": ["Kit", "Sub"],
        "instruments": ["drums", "bass"],
    },
    {
        "name": "",
        "start_beat": 96.0,
        "end_beat": 144.0,
        "start_s": 60.0,
        "end_s": 76.0,
        "tracks": ["Kit", "Sub", "Rhodes", "Strings", "Vox"],
        "instruments": ["drums", "bass", "piano", "strings", "vocals"],
    },
]

BASE = {
    "schema_version": 2,
    "tempo": {
        "bpm": 180.0,
        "automated": True,
        "min": 90.0,
        "max": 180.0,
        "dominant_bpm": 90.0,
        "map": [
            {"beat": 0.0, "seconds": 0.0, "bpm": 90.0},
            {"beat": 96.0, "seconds": 64.0, "bpm": 90.0},
            {"beat": 96.0, "seconds": 64.0, "bpm": 180.0},
        ],
    },
    "time_signature": "6/8",
    "time_signatures": [{"beat": 0.0, "time_signature": "6/8"}, {"beat": 96.0, "time_signature": "7/8"}],
    "key": None,
    "length": {"beats": 144.0, "seconds": 76.0, "bars": 45.0},
    "track_counts": {"audio": 2, "midi": 3, "group": 0, "return": 0},
    "tracks": [
        track("Kit", devices=["Drum Rack"]),
        track("Sub", devices=["Operator"]),
        track("Rhodes", devices=["Electric"]),
        track("Strings", "audio"),
        track("Vox", "audio"),
        track("Sax idea", "audio", muted=True),
    ],
    "instruments": [
        {"family": "drums", "seconds": 76.0},
        {"family": "bass", "seconds": 76.0},
        {"family": "piano", "seconds": 48.0},
        {"family": "strings", "seconds": 48.0},
        {"family": "vocals", "seconds": 16.0},
    ],
    "sections": SECTIONS,
    "locators": [
        {"time": 0.0, "seconds": 0.0, "name": "Intro"},
        {"time": 24.0, "seconds": 16.0, "name": "Verse"},
        {"time": 72.0, "seconds": 48.0, "name": "Break"},
    ],
    "plugins": [],
    "devices": ["Drum Rack", "Electric", "Operator"],
    "samples": ["Vox_take_03.wav"],
    "notes": {"count": 300, "pitch_min": 36, "pitch_max": 84, "density": 2.0},
}


def v2_summary(**overrides) -> dict:
    """A v2 set: tempo 90 BPM for most of its time then 180, 6/8 then 7/8, no key, and a
    break with only drums and bass."""
    return {**copy.deepcopy(BASE), **overrides}


def steady(bpm: float = 122.0, **overrides) -> dict:
    """A v2 set at one tempo in 4/4 with a determined key."""
    return v2_summary(
        tempo={
            "bpm": bpm,
            "automated": False,
            "min": bpm,
            "max": bpm,
            "dominant_bpm": bpm,
            "map": [{"beat": 0.0, "seconds": 0.0, "bpm": bpm}],
        },
        time_signature="4/4",
        time_signatures=[{"beat": 0.0, "time_signature": "4/4"}],
        key={"tonic": "C#", "mode": "minor", "name": "C# minor", "confidence": 0.8, "source": "midi_notes"},
        **overrides,
    )
