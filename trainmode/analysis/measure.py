"""Listen to one MP3: decode it and measure tempo, key, loudness, peak, silence, clipping and stereo.

The music analysis is essentia's (C++): AudioLoader decodes (its bundled FFmpeg, which honours
the LAME gapless tag), RhythmExtractor2013 finds the tempo, KeyExtractor the key and
LoudnessEBUR128 the loudness. Only plain level arithmetic (peak, silence, clipping, the
left/right correlation) is numpy here.

The file is validated with `probe_mp3` first, so anything the save path refuses is refused
here too, with the same AudioError, before a decoder ever sees it.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from ..audio import probe_mp3
from ..errors import AudioError
from .result import AudioAnalysis

SILENCE_DBFS = -60.0  # quieter than this is silence (leading/trailing)
CLIP_DBFS = -0.1  # a sample at or above this is counted as clipped
BLOCK_S = 0.01  # silence is found in 10 ms blocks
RHYTHM_RATE = 44100  # RhythmExtractor2013 only works at 44.1 kHz
MIN_TEMPO_AUDIO_S = 4.0  # shorter than this, no tempo is measured (too few beats)
MIN_TEMPO_CONFIDENCE = 1.0  # essentia's scale 0..5.32: below 1 is "very low"
MAX_CONFIDENCE = 5.32
MIN_KEY_STRENGTH = 0.3  # below this the key profile fits no key: none is reported
LOUDNESS_FLOOR = -69.9  # LoudnessEBUR128 answers -70 (its absolute gate) for silence
MONO_SIDE_DB = -40.0  # side this far below mid: effectively mono
PHASE_CORRELATION = -0.2  # left/right correlation below this: the mono downmix cancels


def _db(amplitude: float) -> float:
    return 20.0 * float(np.log10(amplitude))


@lru_cache(maxsize=1)
def _essentia():
    """essentia.standard, imported on first use (it takes ~1 s) with its INFO chatter off."""
    import essentia

    essentia.log.infoActive = False
    import essentia.standard as es

    return es


def analyzer_name() -> str:
    import essentia

    return f"essentia {essentia.__version__}"


def decode(path: str | os.PathLike, name: str) -> tuple[np.ndarray, int, int]:
    """(samples, channels) float32 PCM, sample rate, channel count. A mono file gives one column."""
    try:
        stereo, rate, channels, *_ = _essentia().AudioLoader(filename=str(path))()
    except RuntimeError as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else "unknown decoder error"
        raise AudioError(f"{name} could not be decoded: {first_line}") from None
    if len(stereo) == 0:
        raise AudioError(f"{name} decodes to no audio at all.")
    pcm = stereo[:, :1] if channels == 1 else stereo  # AudioLoader pads mono with a silent right channel
    return np.ascontiguousarray(pcm, dtype=np.float32), int(rate), int(channels)


def levels(pcm: np.ndarray, rate: int) -> dict:
    """Sample peak, leading/trailing silence and the share of clipped samples."""
    magnitude = np.maximum(pcm.max(axis=1), -pcm.min(axis=1))
    peak = float(magnitude.max())
    block = max(1, int(rate * BLOCK_S))
    blocks = len(magnitude) // block
    loud = magnitude[: blocks * block].reshape(blocks, block).max(axis=1) >= 10 ** (SILENCE_DBFS / 20)
    duration = len(pcm) / rate
    if not loud.any():
        lead = tail = duration
    else:
        lead = int(np.argmax(loud)) * block / rate
        tail = max(0.0, duration - (blocks - int(np.argmax(loud[::-1]))) * block / rate)
    ceiling = 10 ** (CLIP_DBFS / 20)
    clipped = int(np.count_nonzero(pcm >= ceiling)) + int(np.count_nonzero(pcm <= -ceiling))
    return {
        "peak_dbfs": _db(peak) if peak > 0 else None,
        "silence_start_s": lead,
        "silence_end_s": tail,
        "clipped_ratio": clipped / pcm.size,
    }


def stereo_image(pcm: np.ndarray) -> dict:
    """Effectively mono? Out of phase? From left/right dot products (no big temporaries)."""
    if pcm.shape[1] == 1:
        return {"mono": True, "mono_compatible": True, "stereo_correlation": None}
    left, right = np.ascontiguousarray(pcm[:, 0]), np.ascontiguousarray(pcm[:, 1])
    n = len(left)
    ll, rr, lr = (float(np.dot(a, b)) for a, b in ((left, left), (right, right), (left, right)))
    mean_l, mean_r = float(left.mean()), float(right.mean())
    side, mid = ll + rr - 2 * lr, ll + rr + 2 * lr
    if mid + side <= 0:
        return {"mono": True, "mono_compatible": True, "stereo_correlation": None}
    spread = (ll / n - mean_l**2) * (rr / n - mean_r**2)
    correlation = (lr / n - mean_l * mean_r) / spread**0.5 if spread > 0 else None
    return {
        "mono": side <= mid * 10 ** (MONO_SIDE_DB / 10),
        "mono_compatible": correlation is None or correlation > PHASE_CORRELATION,
        "stereo_correlation": correlation,
    }


def downmix_44k(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 at 44.1 kHz, the rate the rhythm and key extractors are tuned for."""
    mono = pcm.mean(axis=1, dtype=np.float32) if pcm.shape[1] > 1 else pcm[:, 0]
    if rate != RHYTHM_RATE:
        mono = _essentia().Resample(inputSampleRate=rate, outputSampleRate=RHYTHM_RATE, quality=1)(mono)
    return np.ascontiguousarray(mono, dtype=np.float32)


def tempo(mono44: np.ndarray, notes: list[str]) -> dict:
    """BPM and a 0..1 confidence, or None with the reason in notes."""
    seconds = len(mono44) / RHYTHM_RATE
    if seconds < MIN_TEMPO_AUDIO_S:
        notes.append(f"could not measure tempo: the audio is shorter than {MIN_TEMPO_AUDIO_S:g} s")
        return {"bpm": None, "bpm_confidence": None}
    bpm, ticks, confidence, *_ = _essentia().RhythmExtractor2013(method="multifeature")(mono44)
    if bpm <= 0 or len(ticks) < 4 or confidence < MIN_TEMPO_CONFIDENCE:
        notes.append(f"could not measure tempo: no steady beat was found (confidence {confidence:.2f} of 5.32)")
        return {"bpm": None, "bpm_confidence": None}
    return {"bpm": float(bpm), "bpm_confidence": min(1.0, float(confidence) / MAX_CONFIDENCE)}


def key(mono44: np.ndarray, notes: list[str]) -> dict:
    """The key with the 'edma' profile (tuned on electronic dance music), or None if no key fits."""
    tonic, scale, strength = _essentia().KeyExtractor(profileType="edma", sampleRate=RHYTHM_RATE)(mono44)
    if strength < MIN_KEY_STRENGTH:
        notes.append(f"could not measure key: no key fits the harmony (strength {strength:.2f})")
        return {"key": None, "key_strength": None}
    return {"key": f"{tonic} {scale}", "key_strength": float(strength)}


def loudness(pcm: np.ndarray, rate: int, notes: list[str]) -> dict:
    """EBU R128 integrated loudness and loudness range. A mono file is measured as one channel."""
    stereo = pcm if pcm.shape[1] == 2 else np.concatenate([pcm, np.zeros_like(pcm)], axis=1)
    _, _, integrated, lra = _essentia().LoudnessEBUR128(sampleRate=rate)(stereo)
    if integrated <= LOUDNESS_FLOOR:
        notes.append("could not measure loudness: the audio is below the EBU R128 gate (-70 LUFS)")
        return {"loudness_lufs": None, "loudness_range_lu": None}
    return {"loudness_lufs": float(integrated), "loudness_range_lu": float(lra)}


def _silent_music(notes: list[str]) -> dict:
    notes.append("could not measure tempo, key or loudness: the audio is silent")
    return {"bpm": None, "bpm_confidence": None, "key": None, "key_strength": None,
            "loudness_lufs": None, "loudness_range_lu": None}


def analyze_mp3(path: str | os.PathLike) -> AudioAnalysis:
    """Validate (probe_mp3: AudioError for anything the save path refuses), decode and measure."""
    name = os.path.basename(path)
    if not os.path.isfile(path):
        raise AudioError(f"{name} was not found (no such file: {path}).")
    probe_mp3(path, name=name)
    pcm, rate, channels = decode(path, name)
    notes: list[str] = []
    found = {**levels(pcm, rate), **stereo_image(pcm)}
    if found["peak_dbfs"] is None or found["silence_start_s"] >= len(pcm) / rate:
        found.update(_silent_music(notes))
    else:
        mono44 = downmix_44k(pcm, rate)
        found.update(tempo(mono44, notes))
        found.update(key(mono44, notes))
        del mono44
        found.update(loudness(pcm, rate, notes))
    return AudioAnalysis(duration_s=len(pcm) / rate, sample_rate=rate, channels=channels,
                         analyzer=analyzer_name(), notes=tuple(notes), **found)
