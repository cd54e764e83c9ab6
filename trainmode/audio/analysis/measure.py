"""Listen to one MP3: decode it and measure tempo, key, loudness, peak, silence, clipping and stereo.

miniaudio (dr_mp3) decodes to int16, honouring the LAME gapless tag and skipping junk before the
first frame; essentia measures the music (music.py: RhythmExtractor2013, KeyExtractor), numpy +
scipy the loudness (loudness.py: EBU R128) and the tagger what is heard (trainmode.audio.tagger:
genre, mood, instruments, vocals) in the whole render and in given spans, from the same mono mix
the tempo and key are read from. Only plain level arithmetic (sample peak, silence, clipping,
the left/right correlation) is numpy here, piece by piece so a long render stays small in memory.

The file is validated with `probe_mp3` first, so anything the save path refuses is refused
here too, with the same AudioError, before a decoder ever sees it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import BinaryIO

import miniaudio
import numpy as np

from trainmode.audio.analysis import loudness as r128
from trainmode.audio.analysis.music import RHYTHM_RATE, downmix_44k, essentia_version, key, tempo
from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.audio.probe import probe_mp3
from trainmode.audio.tagger import Tagger, TaggerError, open_tagger
from trainmode.errors import AudioError
from trainmode.sets.als.key import spell_key

SILENCE_DBFS = -60.0  # quieter than this is silence (leading/trailing)
BRIDGE_S = 1.0  # silences shorter than this inside the music are part of it (a rest, a break)
MAX_SPANS = 256  # a render of many short bursts keeps its spans few: wider gaps are bridged
CLIP_DBFS = -0.1  # a sample at or above this is counted as clipped
BLOCK_S = 0.01  # silence is found in 10 ms blocks
MONO_SIDE_DB = -40.0  # side this far below mid: effectively mono
PHASE_CORRELATION = -0.2  # left/right correlation below this: the mono downmix cancels
FULL_SCALE = 32768
STEP = 1 << 18  # samples per piece for the running sums (6 s at 44.1 kHz: a few MB of float64)

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO
Spans = Sequence[tuple[float, float]]


def _db(amplitude: float) -> float:
    return 20.0 * float(np.log10(amplitude))


def decode(source: str | os.PathLike | bytes, name: str) -> tuple[np.ndarray, int, int]:
    """int16 PCM shaped (samples, channels), sample rate, channel count, from a path or MP3 bytes."""
    try:
        if isinstance(source, bytes):
            decoded = miniaudio.mp3_read_s16(source)
            pcm = np.frombuffer(decoded.samples, dtype=np.int16).reshape(-1, decoded.nchannels)
            rate, channels = decoded.sample_rate, decoded.nchannels
        else:
            pcm, rate, channels = _stream(str(source))
    except miniaudio.DecodeError as e:
        raise AudioError(f"{name} could not be decoded ({e}).") from None
    if len(pcm) == 0:
        raise AudioError(f"{name} decodes to no audio at all.")
    return pcm, rate, channels


def _stream(path: str) -> tuple[np.ndarray, int, int]:
    """A file decoded in pieces into one array sized from its header: reading it whole would hold
    dr_mp3's growing buffer and its copy at once (a 4-minute render peaked at 2x its 42 MB)."""
    info = miniaudio.mp3_get_file_info(path)
    flat = np.empty(info.num_frames * info.nchannels, dtype=np.int16)
    at = 0
    for chunk in miniaudio.mp3_stream_file(path, frames_to_read=1 << 16):
        piece = np.frombuffer(chunk, dtype=np.int16)
        if at + len(piece) > len(flat):  # the header under-counted: grow
            flat = np.concatenate([flat[:at], np.empty(max(len(piece), len(flat) // 4), dtype=np.int16)])
        flat[at : at + len(piece)] = piece
        at += len(piece)
    return flat[:at].reshape(-1, info.nchannels), info.sample_rate, info.nchannels


def _block_peaks(pcm: np.ndarray, block: int) -> np.ndarray:
    """The peak |sample| of each `block`-frame block (the last one may be short), without a copy of `pcm`."""
    whole = len(pcm) // block * block
    peaks = []
    for at in range(0, whole, STEP // block * block):  # one row per block, channels interleaved
        grid = pcm[at : min(at + STEP // block * block, whole)].reshape(-1, block * pcm.shape[1])
        peaks.append(np.maximum(grid.max(axis=1).astype(np.int32), -grid.min(axis=1).astype(np.int32)))
    if whole < len(pcm):
        tail = pcm[whole:]
        peaks.append(np.array([max(int(tail.max()), -int(tail.min()))]))
    return np.concatenate(peaks)


def levels(pcm: np.ndarray, rate: int) -> dict:
    """Sample peak, leading/trailing silence (10 ms blocks under -60 dBFS) and the share of clipped samples."""
    block = max(1, int(rate * BLOCK_S))
    block_peak = _block_peaks(pcm, block)
    blocks = len(block_peak)
    peak = int(block_peak.max())
    loud = block_peak >= 10 ** (SILENCE_DBFS / 20) * FULL_SCALE
    duration = len(pcm) / rate
    if not loud.any():
        lead = tail = duration
    else:
        lead = min(duration, int(np.argmax(loud)) * block / rate)
        tail = max(0.0, duration - (blocks - int(np.argmax(loud[::-1]))) * block / rate)
    ceiling = int(10 ** (CLIP_DBFS / 20) * FULL_SCALE)
    clipped = sum(
        int(np.count_nonzero(pcm[at : at + STEP] >= ceiling)) + int(np.count_nonzero(pcm[at : at + STEP] <= -ceiling))
        for at in range(0, len(pcm), STEP)
    )
    return {
        "peak_dbfs": _db(peak / FULL_SCALE) if peak > 0 else None,
        "silence_start_s": lead,
        "silence_end_s": tail,
        "clipped_ratio": clipped / pcm.size,
        "sound_spans": sound_spans(loud, block / rate, duration),
    }


def sound_spans(loud: np.ndarray, block_s: float, duration: float) -> tuple[tuple[float, float], ...]:
    """Runs of loud blocks as (start_s, end_s), silences under BRIDGE_S bridged (doubled until at
    most MAX_SPANS remain)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
    runs = [(a * block_s, min(duration, b * block_s)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    bridge = BRIDGE_S
    while True:
        merged: list[tuple[float, float]] = []
        for start, end in runs:
            if merged and start - merged[-1][1] < bridge:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        if len(merged) <= MAX_SPANS:
            return tuple((round(float(a), 2), round(float(b), 2)) for a, b in merged)
        runs, bridge = merged, bridge * 2


def _sums(pcm: np.ndarray) -> tuple[float, ...]:
    """Sums of l, r, l*l, r*r, l*r over the whole render, in float64, piece by piece."""
    totals = np.zeros(5)
    for at in range(0, len(pcm), STEP):
        lr = pcm[at : at + STEP].astype(np.float64)
        left, right = lr[:, 0], lr[:, 1]
        totals += (left.sum(), right.sum(), left @ left, right @ right, left @ right)
    return tuple(totals)


def stereo_image(pcm: np.ndarray) -> dict:
    """Effectively mono (side 40 dB below mid)? Out of phase (left/right correlation below -0.2)?"""
    if pcm.shape[1] == 1:
        return {"mono": True, "mono_compatible": True, "stereo_correlation": None}
    sl, sr, ll, rr, lr = _sums(pcm)
    n = len(pcm)
    side, mid = ll + rr - 2 * lr, ll + rr + 2 * lr
    if mid + side <= 0:
        return {"mono": True, "mono_compatible": True, "stereo_correlation": None}
    spread = (ll / n - (sl / n) ** 2) * (rr / n - (sr / n) ** 2)
    correlation = (lr / n - sl * sr / n**2) / spread**0.5 if spread > 0 else None
    return {
        "mono": bool(side <= mid * 10 ** (MONO_SIDE_DB / 10)),
        "mono_compatible": bool(correlation is None or correlation > PHASE_CORRELATION),
        "stereo_correlation": None if correlation is None else float(correlation),
    }


def loudness(pcm: np.ndarray, rate: int, notes: list[str]) -> dict:
    """EBU R128 integrated loudness and loudness range (loudness.py). A mono file is one channel."""
    lufs, lra = r128.measure(pcm, rate)
    if lufs is None:
        notes.append("could not measure loudness: the audio is below the EBU R128 gate (-70 LUFS)")
        return {"loudness_lufs": None, "loudness_range_lu": None}
    return {"loudness_lufs": lufs, "loudness_range_lu": lra}


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """The tagger of this process ($TRAINMODE_TAGGER, default musicnn), opened once (~0.65 s)."""
    return open_tagger()


def tag_audio(samples: np.ndarray, rate: int, spans: Spans | None, notes: list[str]) -> dict | None:
    """What the tagger hears in the whole of `samples` and in each span (seconds), as a dict;
    None with a note when no tagger can be opened (the measurements stand without tags)."""
    try:
        tagger = default_tagger()
    except TaggerError as exc:
        notes.append(f"could not tag the audio: {exc}")
        return None
    return tagger.tag(samples, rate, [tuple(s) for s in spans or ()]).to_dict()


def _silent_music(notes: list[str]) -> dict:
    notes.append("could not measure tempo, key or loudness: the audio is silent")
    return {
        "bpm": None,
        "bpm_confidence": None,
        "key": None,
        "key_strength": None,
        "loudness_lufs": None,
        "loudness_range_lu": None,
    }


def _readable(source: Source, name: str | None) -> tuple[str | os.PathLike | bytes, str]:
    """A path (checked to exist) or the bytes of an in-memory upload, and the name to show."""
    if isinstance(source, (str, os.PathLike)):
        name = name or os.path.basename(source)
        if not os.path.isfile(source):
            raise AudioError(f"{name} was not found (no such file: {source}).")
        return source, name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "The file"
    source.seek(0)  # a file object such as a Streamlit UploadedFile: read it, leave it rewound
    data = source.read()
    source.seek(0)
    return data, name or getattr(source, "name", None) or "The file"


def analyze_mp3(source: Source, *, name: str | None = None, spans: Spans | None = None) -> AudioAnalysis:
    """Validate (probe_mp3: AudioError for anything the save path refuses), decode, measure and tag.
    `source` is a path, MP3 bytes or a seekable binary file; `name` is shown in error messages;
    `spans` ((start, end) seconds, e.g. the set's sections) are tagged as well as the whole render."""
    path, name = _readable(source, name)
    probe_mp3(path, name=name)
    pcm, rate, channels = decode(path, name)
    del path  # the MP3 bytes of an upload are no longer needed
    duration = len(pcm) / rate
    notes: list[str] = []
    found = {**levels(pcm, rate), **stereo_image(pcm)}
    if found["peak_dbfs"] is None or found["silence_start_s"] >= duration:
        found.update(_silent_music(notes))
        found["tags"] = tag_audio(pcm, rate, spans, notes)  # every patch silent: empty tags that say so
    else:
        found.update(loudness(pcm, rate, notes))
        mono44 = downmix_44k(pcm, rate, in_place=True)
        del pcm  # the stereo render is gone (its memory holds the mono mix): keep the peak memory low
        # Tempo and key from the music only: silence before and after it says nothing about either.
        first = int(found["silence_start_s"] * RHYTHM_RATE)
        last = len(mono44) - int(found["silence_end_s"] * RHYTHM_RATE)
        music = mono44[first:last]
        found.update(tempo(music, notes))
        heard = key(music, notes)
        found.update(heard, key=spell_key(heard["key"]) or heard["key"])  # spelled as the set's key is
        found["tags"] = tag_audio(mono44, RHYTHM_RATE, spans, notes)  # the same mono mix: spans are render times
    return AudioAnalysis(
        duration_s=duration,
        sample_rate=rate,
        channels=channels,
        analyzer=f"essentia {essentia_version()} + miniaudio {miniaudio.__version__}",
        notes=tuple(notes),
        **found,
    )


def decode_mono44(source: str | os.PathLike | bytes, name: str) -> np.ndarray:
    """The render as analyze_mp3 hears it (mono float32 at 44.1 kHz), for a second, cheaper listen."""
    pcm, rate, _ = decode(source, name)
    return downmix_44k(pcm, rate, in_place=True)
