"""Tempo and key with essentia: RhythmExtractor2013 (multifeature) and KeyExtractor ('edma').

RhythmExtractor2013 (multifeature) costs ~12 ms of CPU per second of audio and ~0.55 MB of
working memory per second, so it never hears a whole long render: a render up to
WINDOW_S x MAX_WINDOWS (60 s) long is one window; a longer one is heard in MAX_WINDOWS
windows of WINDOW_S, one in the middle of each third (a render of a set has one dominant
tempo, and the middle of a third skips beatless intros and outros). The tempo is the
confidence-weighted median of the windows' tempi; when the windows disagree, a note says so.
The key is read from the whole render (KeyExtractor is cheap: ~0.7 ms per second).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from functools import lru_cache

import numpy as np

RHYTHM_RATE = 44100  # RhythmExtractor2013 only works at 44.1 kHz
WINDOW_S = 20.0  # tempo window (20 s keeps the tempo within 0.1 BPM of a 60 s window on our renders)
MAX_WINDOWS = 3  # a render longer than this many windows is heard in one window per third
MIN_TEMPO_AUDIO_S = 4.0  # shorter than this, no tempo is measured (too few beats)
MIN_TEMPO_CONFIDENCE = 1.0  # essentia's scale 0..5.32: below 1 is "very low"
MAX_CONFIDENCE = 5.32
TEMPO_SPREAD = 0.04  # windows more than 4 % apart: the tempo varies
MIN_KEY_STRENGTH = 0.3  # below this the key profile fits no key: none is reported


ALGORITHMS = ("RhythmExtractor2013", "KeyExtractor", "Resample", "LoudnessEBUR128")  # all we (and the tests) use


@lru_cache(maxsize=1)
def essentia_standard():
    """essentia.standard's classes for ALGORITHMS, with its INFO chatter off.

    Importing essentia.standard instantiates every one of essentia's ~300 algorithms once to
    read its description: ~110 MB and ~1 s, a third of the listening memory budget. So its
    module text is run up to, not including, the line that does that, and only the classes we
    use are made; an essentia whose module looks different is imported whole, as before."""
    import essentia

    essentia.log.infoActive = False
    try:
        return _few_algorithms(ALGORITHMS)
    except (ImportError, AttributeError, SyntaxError):
        import essentia.standard as es

        return es


def _few_algorithms(names: tuple[str, ...]) -> types.ModuleType:
    spec = importlib.util.find_spec("essentia.standard")
    source = spec.loader.get_source("essentia.standard") if spec and spec.loader else None
    head, found, _ = (source or "").partition("\n_reloadAlgorithms()")
    if not found:
        raise ImportError("essentia.standard is not laid out as expected")
    module = types.ModuleType("essentia._trainmode_standard")
    module.__package__ = "essentia"  # its relative imports (from . import _essentia)
    sys.modules[module.__name__] = module
    exec(compile(head, spec.origin, "exec"), module.__dict__)  # noqa: S102 - essentia's own module text
    for name in names:
        module._create_essentia_class(name, module.__name__)
    return module


def essentia_version() -> str:
    import essentia

    return essentia.__version__


def downmix_44k(pcm: np.ndarray, rate: int, step: int = 1 << 16, *, in_place: bool = False) -> np.ndarray:
    """Mono float32 in [-1, 1] at 44.1 kHz from int16 (samples, channels), built piece by piece
    (the channels added column by column: ~10x faster than a sum over axis 1 of int16 pairs).
    `in_place`: a writable C-ordered stereo `pcm` is overwritten by the mono mix (frame k's two
    int16 samples and its float32 take the same 4 bytes), so the render is never held twice."""
    reuse = in_place and pcm.shape[1] == 2 and pcm.flags.c_contiguous and pcm.flags.writeable
    mono = pcm.reshape(-1).view(np.float32) if reuse else np.empty(len(pcm), dtype=np.float32)
    for at in range(0, len(pcm), step):
        piece = pcm[at : at + step]
        mixed = piece[:, 0].astype(np.float32)  # a copy: written back over the same frames only after
        for channel in range(1, pcm.shape[1]):
            np.add(mixed, piece[:, channel], out=mixed, dtype=np.float32)
        mono[at : at + step] = mixed
    mono *= np.float32(1 / (32768 * pcm.shape[1]))
    if rate != RHYTHM_RATE:
        mono = essentia_standard().Resample(inputSampleRate=rate, outputSampleRate=RHYTHM_RATE, quality=1)(mono)
    return np.ascontiguousarray(mono, dtype=np.float32)


def _windows(length: int) -> list[tuple[int, int]]:
    """(first, last) samples of the windows tempo is measured in: the whole render when it is at
    most MAX_WINDOWS windows long, else one window in the middle of each of MAX_WINDOWS parts."""
    size = int(WINDOW_S * RHYTHM_RATE)
    if length <= size * MAX_WINDOWS:
        return [(0, length)]
    centres = [length * (2 * i + 1) // (2 * MAX_WINDOWS) for i in range(MAX_WINDOWS)]
    return [(centre - size // 2, centre - size // 2 + size) for centre in centres]


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def tempo(mono44: np.ndarray, notes: list[str]) -> dict:
    """BPM and a 0..1 confidence (essentia's 0..5.32 / 5.32), or None with the reason in notes."""
    if len(mono44) < MIN_TEMPO_AUDIO_S * RHYTHM_RATE:
        notes.append(f"could not measure tempo: the audio is shorter than {MIN_TEMPO_AUDIO_S:g} s")
        return {"bpm": None, "bpm_confidence": None}
    extractor = essentia_standard().RhythmExtractor2013(method="multifeature")
    found = []  # (bpm, confidence, seconds) per window
    for first, last in _windows(len(mono44)):
        bpm, ticks, confidence, *_ = extractor(mono44[first:last])
        if bpm > 0 and len(ticks) >= 4:
            found.append((float(bpm), float(confidence), (last - first) / RHYTHM_RATE))
    bpms, confidences, seconds = (np.array(column) for column in zip(*found, strict=True)) if found else ([], [], [])
    confidence = float(np.average(confidences, weights=seconds)) if found else 0.0
    if confidence < MIN_TEMPO_CONFIDENCE:
        notes.append(f"could not measure tempo: no steady beat was found (confidence {confidence:.2f} of 5.32)")
        return {"bpm": None, "bpm_confidence": None}
    bpm = _weighted_median(bpms, confidences * seconds)
    if bpms.max() > bpms.min() * (1 + TEMPO_SPREAD):
        notes.append(
            f"the tempo varies: {bpms.min():.0f} to {bpms.max():.0f} BPM across the render; "
            f"{bpm:.1f} is the most confident"
        )
    return {"bpm": bpm, "bpm_confidence": min(1.0, confidence / MAX_CONFIDENCE)}


def key(mono44: np.ndarray, notes: list[str]) -> dict:
    """The key with the 'edma' profile (tuned on electronic dance music), or None if no key fits."""
    tonic, scale, strength = essentia_standard().KeyExtractor(profileType="edma", sampleRate=RHYTHM_RATE)(mono44)
    if strength < MIN_KEY_STRENGTH:
        notes.append(f"could not measure key: no key fits the harmony (strength {strength:.2f})")
        return {"key": None, "key_strength": None}
    return {"key": f"{tonic} {scale}", "key_strength": float(strength)}
