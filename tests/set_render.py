"""Render a short General MIDI excerpt of an Ableton set's own arrangement, for caption tests that listen.

    placed = render_sets({name: summary, ...}, tmp_path / "sets.wav", seconds=12.0)
    start, spans = placed[name]     # where its excerpt starts in the WAV, its sections from there

Why families per section and not the set's notes: the parser folds MIDI notes as it reads
(only counts and pitch classes are kept, to stay within memory on big sets), most corpus sets
carry recorded audio whose content no .als holds, and their drum racks and synths are samples
and patches a GM soundfont does not have. What the summary does keep, and what the captions
speak about, is which instrument families play in which section, at what tempo, in what key.
So each rendered section plays its families with a GM program and a simple part each (drums
a beat, bass roots, pads chords, leads a tune...), at the set's tempo, in its key, a few
seconds per section; the excerpt walks up to MAX_SECTIONS of the arrangement in order. A set
whose families are all unknown is played by a GM piano, the program a GM player gives a
track without one, so that every set has a render (noted in docs/captions.md).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.gm_render import DRUMS, Note, smf_bytes, soundfont

MAX_SECTIONS = 4
STAND_IN = "piano"
# family -> GM program (drums and percussion play on the drum channel)
PROGRAMS = {
    "bass": 38,  # Synth Bass 1
    "synth": 81,  # Lead 2 (sawtooth)
    "lead": 80,  # Lead 1 (square)
    "pad": 89,  # Pad 2 (warm)
    "piano": 0,  # Acoustic Grand Piano
    "keys": 4,  # Electric Piano 1
    "organ": 16,  # Drawbar Organ
    "guitar": 29,  # Overdriven Guitar
    "strings": 48,  # String Ensemble 1
    "brass": 61,  # Brass Section
    "woodwinds": 73,  # Flute
    "bells": 11,  # Vibraphone
    "plucked": 46,  # Orchestral Harp
    "vocals": 52,  # Choir Aahs: GM's voice
    "fx": 102,  # FX 7 (echoes)
}
# One channel per family for every set (15 families + the drum channel = 16): a MIDI file's
# programs are set once per channel, so sets rendered in one file must not share a channel.
CHANNELS = {family: ch + (ch >= DRUMS) for ch, family in enumerate(PROGRAMS)}
TONICS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6}
TONICS |= {"G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}


def _key(summary: dict) -> tuple[int, bool]:
    key = summary.get("key") or {}
    return TONICS.get(str(key.get("tonic") or "C"), 0), key.get("mode") == "minor"


def _part(family: str, start: float, beats: int, ch: int, root: int, minor: bool) -> list[Note]:
    """`beats` beats of one family from beat `start`: its GM program and a simple figure."""
    third, prog = 3 if minor else 4, PROGRAMS.get(family, 0)
    chord = (0, third, 7)
    scale = (0, 2, third, 5, 7, 8 if minor else 9, 10 if minor else 11, 12)
    if family == "drums":
        return [(start + b, 0.25, DRUMS, 36 if b % 2 == 0 else 38, 115, 0) for b in range(beats)] + [
            (start + b + 0.5, 0.2, DRUMS, 42, 85, 0) for b in range(beats)
        ]
    if family == "percussion":
        return [(start + b / 2, 0.2, DRUMS, (62, 63, 64, 70)[b % 4], 90, 0) for b in range(beats * 2)]
    if family == "bass":
        return [(start + b, 0.9, ch, 36 + root + (0, 0, 7, 5)[(b // 4) % 4], 105, prog) for b in range(beats)]
    if family in ("pad", "strings", "organ", "brass", "fx"):
        return [(start + b, 4.0, ch, 60 + root + i, 85, prog) for b in range(0, beats, 4) for i in chord]
    if family in ("piano", "keys", "plucked", "guitar"):
        return [(start + b / 2, 0.5, ch, 48 + root + chord[b % 3] + 12 * (b % 2), 95, prog) for b in range(beats * 2)]
    return [(start + b, 0.95, ch, 72 + root + scale[(b * 3) % 8] - 12, 100, prog) for b in range(beats)]


def rendered_sections(summary: dict) -> list[dict]:
    """The set's sections the excerpt plays: up to MAX_SECTIONS of those where something plays,
    in arrangement order (evenly chosen); [] when none does (the excerpt plays the whole set's families)."""
    rows = [s for s in summary.get("sections") or [] if s.get("instruments")]
    if len(rows) > MAX_SECTIONS:
        rows = [rows[round(i * (len(rows) - 1) / (MAX_SECTIONS - 1))] for i in range(MAX_SECTIONS)]
    return rows


def _sections(summary: dict) -> list[list[str]]:
    """The families of each section the excerpt plays."""
    rows = [list(s["instruments"]) for s in rendered_sections(summary)]
    whole = [i["family"] for i in summary.get("instruments") or [] if isinstance(i, dict) and i.get("family")]
    return rows or [whole[:6] or [STAND_IN]]


def set_notes(summary: dict, seconds: float, at: float = 0.0) -> tuple[list[Note], list[tuple[float, float]]]:
    """The excerpt's notes, timed in seconds from `at` (for a MIDI file at 60 BPM), and each
    section's (start, end) in seconds from the excerpt's start."""
    bpm = min(180.0, max(60.0, float((summary.get("tempo") or {}).get("dominant_bpm") or 120.0)))
    root, minor = _key(summary)
    sections = _sections(summary)
    beats = max(4, int(seconds / len(sections) * bpm / 60 / 4) * 4)  # whole bars per section
    beat_s = 60.0 / bpm
    notes: list[Note] = []
    for i, families in enumerate(sections):
        for family in families:
            for start, length, *rest in _part(family, i * beats, beats, CHANNELS.get(family, 0), root, minor):
                notes.append((at + start * beat_s, length * beat_s, *rest))
    span = beats * beat_s
    return notes, [(i * span, (i + 1) * span) for i in range(len(sections))]


def render_sets(
    summaries: dict[str, dict], path: Path, seconds: float = 12.0, gap: float = 1.0
) -> dict[str, tuple[float, list[tuple[float, float]]]]:
    """Every set's excerpt, one after another in one WAV at `path` (one FluidSynth run: loading
    the 140 MB soundfont is most of a short render's time). Returns name -> (where its excerpt
    starts in the WAV, its sections' spans from there)."""
    notes: list[Note] = []
    placed: dict[str, tuple[float, list[tuple[float, float]]]] = {}
    at = 0.0
    for name, summary in summaries.items():
        found, spans = set_notes(summary, seconds, at)
        notes += found
        placed[name] = (at, spans)
        at += spans[-1][1] + gap
    midi = path.with_suffix(".mid")
    midi.write_bytes(smf_bytes(notes, 60.0))  # 60 BPM: a beat is a second
    cmd = ["fluidsynth", "-ni", "-g", "0.7", "-F", str(path), "-r", "44100", str(soundfont()), str(midi)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    return placed
