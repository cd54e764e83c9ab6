"""Music the tests and the benchmark make themselves (numpy + lameenc): a drum pattern at a
known tempo, a chord progression in a known key, silence, clipping, odd formats.

Everything is float PCM in [-1, 1] shaped (samples, channels) until `encode` turns it into MP3.
"""

from __future__ import annotations

import lameenc
import numpy as np

RATE = 44100
PITCHES = {"C": 0, "C#": 1, "D": 2, "D#": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "G#": 8, "A": 9, "A#": 10, "B": 11}


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _place(out: np.ndarray, sound: np.ndarray, start: int) -> None:
    end = min(len(out), start + len(sound))
    if start < end:
        out[start:end] += sound[: end - start]


def drums(bpm: float, seconds: float, rate: int = RATE, seed: int = 7) -> np.ndarray:
    """Four-on-the-floor kick, snare on 2 and 4, closed hi-hat on the off-beats (mono)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    t = np.arange(int(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * (45 + 110 * np.exp(-t * 35)) * t) * np.exp(-t * 14)
    snare = (0.6 * rng.standard_normal(len(t)) + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 28)
    hat = rng.standard_normal(int(0.04 * rate)) * np.exp(-np.arange(int(0.04 * rate)) / rate * 120)
    hat = np.diff(hat, prepend=0.0)  # brighter: a first-difference high-pass
    beat = 60.0 / bpm
    for k in range(int(seconds / beat) + 1):
        at = int(round(k * beat * rate))
        _place(out, 0.9 * kick, at)
        if k % 2 == 1:
            _place(out, 0.5 * snare, at)
        _place(out, 0.25 * hat, at + int(round(beat * rate / 2)))
    return out


def chords(key: str, bpm: float, seconds: float, rate: int = RATE) -> np.ndarray:
    """A diatonic progression in `key` ("A minor", "F# major"): one chord per bar, bass an octave down."""
    tonic_name, mode = key.split()
    tonic = 48 + PITCHES[tonic_name]
    minor = mode == "minor"
    # i-iv-v-i in natural minor (all minor triads) or I-IV-V-I in major.
    degrees = [(0, minor), (5, minor), (7, minor), (0, minor)]
    out = np.zeros(int(seconds * rate))
    bar = int(round(4 * 60.0 / bpm * rate))
    t = np.arange(bar) / rate
    env = np.minimum(1.0, t / 0.02) * np.exp(-t * 0.8)
    for i, start in enumerate(range(0, len(out), bar)):
        step, is_minor = degrees[i % len(degrees)]
        root = tonic + step
        notes = [root, root + (3 if is_minor else 4), root + 7, root - 12]
        tone = sum(_partials(_hz(n), t) for n in notes)
        _place(out, 0.12 * tone * env, start)
    return out


def _partials(freq: float, t: np.ndarray) -> np.ndarray:
    """A soft saw: the first four harmonics at 1/n."""
    return sum(np.sin(2 * np.pi * freq * n * t) / n for n in range(1, 5))


def song(bpm: float, key: str, seconds: float, rate: int = RATE, peak: float = 0.5) -> np.ndarray:
    """Drums + chords, stereo (the chords a little louder on the left), normalised to `peak`."""
    d, c = drums(bpm, seconds, rate), chords(key, bpm, seconds, rate)
    pcm = np.stack([d + c, d + 0.8 * c], axis=1)
    return pcm * (peak / np.abs(pcm).max())


def with_silence(pcm: np.ndarray, lead_s: float, tail_s: float, rate: int = RATE) -> np.ndarray:
    pad = lambda s: np.zeros((int(s * rate), pcm.shape[1]))  # noqa: E731
    return np.concatenate([pad(lead_s), pcm, pad(tail_s)])


def clipped(pcm: np.ndarray, drive: float = 4.0) -> np.ndarray:
    """Driven into the ceiling and hard-clipped, like a master pushed past 0 dBFS."""
    return np.clip(pcm * drive, -1.0, 1.0)


def encode(pcm: np.ndarray, rate: int = RATE, kbps: int = 192, quality: int = 5, vbr: bool = False) -> bytes:
    """Float PCM (samples, channels) -> MP3 bytes. lameenc writes no Xing/Info tag, so a VBR
    file made here is VBR without a header."""
    pcm = pcm if pcm.ndim == 2 else pcm[:, None]
    enc = lameenc.Encoder()
    if vbr:
        enc.set_vbr(4)  # LAME's vbr_mtrh, what -V uses
        enc.set_vbr_quality(4)
    else:
        enc.set_bit_rate(kbps)
    enc.set_in_sample_rate(rate)
    enc.set_channels(pcm.shape[1])
    enc.set_quality(quality)
    data = (np.clip(pcm, -1.0, 1.0) * 32767).astype("<i2")
    return bytes(enc.encode(data.tobytes()) + enc.flush())


def write_set(path, bpm: float, key: str = "A minor", bars: int = 8) -> float:
    """A small .als set at `bpm` in `key` (the demo's writer: drums, bass, chords); returns its seconds."""
    from trainmode.ops.demo import DemoSet, als_bytes

    tonic, mode = key.split()
    demo_set = DemoSet(path.stem, bpm, 4, tonic=PITCHES[tonic], minor=mode == "minor", bars=bars)
    path.write_bytes(als_bytes(demo_set))
    return demo_set.seconds


def write_render(path, bpm: float, seconds: float, key: str = "A minor", lead_silence_s: float = 0.0):
    """An MP3 of drums and chords at `bpm` in `key`, `seconds` long (after `lead_silence_s` of silence)."""
    pcm = song(bpm, key, seconds)
    path.write_bytes(encode(with_silence(pcm, lead_silence_s, 0.0) if lead_silence_s else pcm))
    return path
