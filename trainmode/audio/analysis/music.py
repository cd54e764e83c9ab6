"""Tempo and key with essentia: RhythmExtractor2013 (multifeature) and KeyExtractor ('edma').

RhythmExtractor2013 needs ~0.55 MB of working memory per second of audio, so a 4-minute render
would need ~140 MB on its own: it runs over 60-second windows instead, and the tempo is the
confidence-weighted median of the windows' tempi (a render of a set has one dominant tempo;
when the windows disagree, a note says so).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RHYTHM_RATE = 44100  # RhythmExtractor2013 only works at 44.1 kHz
WINDOW_S = 60.0  # tempo window; a last window shorter than half of this joins the previous one
MIN_TEMPO_AUDIO_S = 4.0  # shorter than this, no tempo is measured (too few beats)
MIN_TEMPO_CONFIDENCE = 1.0  # essentia's scale 0..5.32: below 1 is "very low"
MAX_CONFIDENCE = 5.32
TEMPO_SPREAD = 0.04  # windows more than 4 % apart: the tempo varies
MIN_KEY_STRENGTH = 0.3  # below this the key profile fits no key: none is reported


@lru_cache(maxsize=1)
def essentia_standard():
    """essentia.standard, imported on first use (~1 s, ~150 MB) with its INFO chatter off."""
    import essentia

    essentia.log.infoActive = False
    import essentia.standard as es

    return es


def essentia_version() -> str:
    import essentia

    return essentia.__version__


def downmix_44k(pcm: np.ndarray, rate: int, step: int = 1 << 20) -> np.ndarray:
    """Mono float32 in [-1, 1] at 44.1 kHz from int16 (samples, channels), built piece by piece."""
    mono = np.empty(len(pcm), dtype=np.float32)
    gain = np.float32(1 / (32768 * pcm.shape[1]))
    for at in range(0, len(pcm), step):
        mono[at : at + step] = pcm[at : at + step].sum(axis=1, dtype=np.float32) * gain
    if rate != RHYTHM_RATE:
        mono = essentia_standard().Resample(inputSampleRate=rate, outputSampleRate=RHYTHM_RATE, quality=1)(mono)
    return np.ascontiguousarray(mono, dtype=np.float32)


def _windows(length: int) -> list[tuple[int, int]]:
    size = int(WINDOW_S * RHYTHM_RATE)
    bounds = list(range(0, length, size)) + [length]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < size // 2:
        del bounds[-2]  # a short tail joins the previous window
    return list(zip(bounds, bounds[1:], strict=False))


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
