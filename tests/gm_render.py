"""Render short General MIDI pieces with FluidSynth, for tests that need music a person can reason about.

The MIDI bytes are written here (a tiny Standard MIDI File writer, no dependency) and
rendered with Debian's ``fluidsynth`` and the FluidR3 GM soundfont (``fluid-soundfont-gm``):

    render("piano", 10.0, tmp_path / "piano.wav")

``STYLES`` lists the styles; ``FITTING_WORDS[style]`` the tag words a tagger should
reasonably answer for it (any one of them counts as a hit).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

SOUNDFONT_PATHS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2")
TICKS = 480  # ticks per quarter note
DRUMS = 9  # General MIDI channel 10

STYLES = ("piano", "strings", "rock", "techno", "choir", "flute")
FITTING_WORDS: dict[str, tuple[str, ...]] = {
    "piano": ("piano",),
    "strings": ("strings", "violin", "classical", "cello"),
    "rock": ("rock", "guitar", "metal"),
    "techno": ("techno", "electronic", "dance"),
    "choir": ("choir", "voice", "choral", "vocal"),
    "flute": ("flute",),
}

Note = tuple[float, float, int, int, int, int]  # start beat, length in beats, channel, pitch, velocity, program


def soundfont() -> Path | None:
    """The GM soundfont on this machine, or None."""
    return next((Path(p) for p in SOUNDFONT_PATHS if Path(p).is_file()), None)


def missing_tools() -> str | None:
    """Why rendering cannot work here, or None when fluidsynth and the soundfont are present."""
    if shutil.which("fluidsynth") is None:
        return "fluidsynth is not installed (apt-get install fluidsynth)"
    if soundfont() is None:
        return "the FluidR3 GM soundfont is missing (apt-get install fluid-soundfont-gm)"
    return None


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def smf_bytes(notes: list[Note], bpm: float) -> bytes:
    """A format-0 Standard MIDI File playing ``notes`` at ``bpm``."""
    events: list[tuple[int, int, bytes]] = [(0, 0, b"\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big"))]
    programs = {(ch, prog) for _, _, ch, _, _, prog in notes if ch != DRUMS}
    events += [(0, 1, bytes([0xC0 | ch, prog])) for ch, prog in sorted(programs)]
    for start, length, ch, pitch, vel, _ in notes:
        on, off = round(start * TICKS), round((start + length) * TICKS)
        events.append((on, 3, bytes([0x90 | ch, pitch, vel])))
        events.append((off, 2, bytes([0x80 | ch, pitch, 0])))  # offs before ons at the same tick
    track, now = b"", 0
    for tick, _, data in sorted(events, key=lambda e: (e[0], e[1])):
        track += _varlen(tick - now) + data
        now = tick
    track += _varlen(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def _chords(beats: int, ch: int, prog: int, vel: int, length: float = 4.0, octave: int = 0) -> list[Note]:
    """Sustained triads over a I-vi-IV-V progression in C, one chord per ``length`` beats."""
    roots = (60, 57, 53, 55)
    notes: list[Note] = []
    for i, start in enumerate(range(0, beats, int(length))):
        root = roots[i % 4] + octave
        third = 3 if root in (57 + octave,) else 4
        notes += [(start, length, ch, root + iv, vel, prog) for iv in (0, third, 7)]
    return notes


def _melody(beats: int, ch: int, prog: int, vel: int, step: float = 1.0, octave: int = 12) -> list[Note]:
    """A stepwise C-major tune, one note per ``step`` beats."""
    scale = (60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62)
    count = int(beats / step)
    return [(i * step, step * 0.95, ch, scale[i % len(scale)] + octave, vel, prog) for i in range(count)]


def _piano(beats: int) -> list[Note]:
    arps = [(b / 2, 0.5, 0, n, 70, 0) for b in range(beats * 2) for n in [(48, 55, 64, 55)[b % 4]]]
    return arps + _melody(beats, 0, 0, 90, step=0.5)


def _strings(beats: int) -> list[Note]:
    return _chords(beats, 0, 48, 85) + _melody(beats, 1, 40, 95, step=2.0) + _chords(beats, 2, 42, 80, octave=-24)


def _rock(beats: int) -> list[Note]:
    notes: list[Note] = []
    for b in range(beats * 2):  # eighth-note power chords and bass
        root = (40, 40, 43, 45)[(b // 8) % 4]
        notes += [(b / 2, 0.45, 0, root + iv, 110, 30) for iv in (12, 19, 24)]
        notes.append((b / 2, 0.45, 1, root, 100, 33))
        notes.append((b / 2, 0.25, DRUMS, 42, 90, 0))
    for b in range(beats):
        notes.append((b, 0.25, DRUMS, 36 if b % 2 == 0 else 38, 120, 0))
    return notes + [(b, 1.0, DRUMS, 49, 100, 0) for b in range(0, beats, 8)]


def _techno(beats: int) -> list[Note]:
    notes: list[Note] = [(b, 0.25, DRUMS, 36, 127, 0) for b in range(beats)]
    notes += [(b + 0.5, 0.25, DRUMS, 42, 90, 0) for b in range(beats)]
    notes += [(b, 0.25, DRUMS, 39, 100, 0) for b in range(1, beats, 2)]
    notes += [(b / 4, 0.2, 1, (36, 36, 48, 36)[b % 4], 110, 38) for b in range(beats * 4)]
    return notes + [(b + 0.75, 0.2, 2, n, 90, 81) for b in range(0, beats, 2) for n in (60, 63, 67)]


def _choir(beats: int) -> list[Note]:
    return _chords(beats, 0, 52, 100) + _melody(beats, 1, 52, 105, step=2.0)


def _flute(beats: int) -> list[Note]:
    return _melody(beats, 0, 73, 100, step=0.5)


_WRITERS: dict[str, tuple[float, Callable[[int], list[Note]]]] = {
    "piano": (90, _piano),
    "strings": (72, _strings),
    "rock": (130, _rock),
    "techno": (128, _techno),
    "choir": (66, _choir),
    "flute": (100, _flute),
}


def render(style: str, seconds: float, path: str | os.PathLike) -> Path:
    """Render ``seconds`` of ``style`` to a 44.1 kHz stereo WAV at ``path`` and return the path."""
    if style not in _WRITERS:
        raise ValueError(f"unknown style {style!r}; pick one of {', '.join(STYLES)}")
    reason = missing_tools()
    if reason:
        raise RuntimeError(reason)
    bpm, writer = _WRITERS[style]
    beats = max(4, int(seconds * bpm / 60))
    path = Path(path)
    midi = path.with_suffix(".mid")
    midi.write_bytes(smf_bytes(writer(beats), bpm))
    cmd = ["fluidsynth", "-ni", "-g", "0.7", "-F", str(path), "-r", "44100", str(soundfont()), str(midi)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return path


def render_mp3(style: str, seconds: float, path: str | os.PathLike) -> Path:
    """`render` encoded as an MP3 at `path` (the WAV and MIDI files beside it)."""
    from scipy.io import wavfile

    from tests.audio_synth import encode

    path = Path(path)
    rate, pcm = wavfile.read(render(style, seconds, path.with_suffix(".wav")))
    path.write_bytes(encode(pcm / 32768.0, rate))
    return path
