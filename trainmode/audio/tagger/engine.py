"""The musicnn tagger: picks 3 s patches, computes their log-mels and averages both models' outputs.

Cost is almost all in the two forward passes (about 50 ms per 3 s patch per model on
one core), so instead of musicnn's every-patch average we tag a render from at most
``whole_patches`` evenly spaced patches and each span from at most ``span_patches``,
reusing the render's patches that fall inside a span. Only the audio under the chosen
patches is resampled (scipy's resample_poly) and turned into a log-mel, on the same
16 kHz frame grid a whole-file spectrogram would use, so one song costs the same
whatever its length. ``whole_patches=None`` reproduces musicnn's full average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import resample_poly

from trainmode.audio.tagger import musicnn as mn
from trainmode.audio.tagger.result import Tagging, Tags, empty_tags, summarise

MODELS = ("MTT_musicnn", "MSD_musicnn")
VERSION = "0.1.0+np1"  # musicnn wheel version + revision of this numpy port
SILENT_DB = -60.0  # a patch quieter than this (RMS, dBFS) is not tagged
MIN_FRAMES = 94  # spans of 1.5-3 s are repeat-padded to 3 s, as musicnn's training did; shorter ones are refused
MARGIN = 1024  # extra 16 kHz samples each side of a patch so resampling edge effects stay outside it


@dataclass
class MusicnnTagger:
    """musicnn MTT + MSD on CPU. See the package docstring for the licence and weights."""

    whole_patches: int | None = 8
    span_patches: int | None = 1
    name: str = "musicnn"
    version: str = VERSION
    weights: dict[str, mn.MusicnnWeights] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.weights:
            folder = mn.package_dir()
            self.weights = {m: mn.MusicnnWeights.load(m, folder) for m in MODELS}

    def tag(self, samples: np.ndarray, sample_rate: int, spans: list[tuple[float, float]] | None = None) -> Tagging:
        """Tag the whole of ``samples`` ((n,) or (n, channels), int or float PCM) and each span (seconds)."""
        audio = _Audio(samples, sample_rate)
        cache: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        whole_starts = _pick(audio.usable(audio.grid(0, audio.frames - 1)), self.whole_patches)
        whole = self._tags(audio, whole_starts, cache, None, audio.frames)
        results = []
        for start_s, end_s in spans or []:
            first, last = audio.frame_range(start_s, end_s)
            reused = [p for p in whole_starts if first <= p[0] and p[0] + p[1] - 1 <= last]
            own = [k for k in _pick(audio.usable(audio.grid(first, last)), self.span_patches) if k not in reused]
            starts = (reused + own)[: self.span_patches] if self.span_patches else reused + own
            results.append(self._tags(audio, starts, cache, (start_s, end_s), last - first + 1))
        return Tagging(whole=whole, spans=results)

    def _tags(
        self, audio: _Audio, starts: list[tuple[int, int]], cache: dict, span: tuple[float, float] | None, frames: int
    ) -> Tags:
        if frames < MIN_FRAMES:
            return empty_tags(self.name, self.version, f"too short: under {MIN_FRAMES * mn.HOP / mn.SR:.1f} s", span)
        if not starts:
            return empty_tags(self.name, self.version, "silent", span)
        outs = [self._patch(audio, key, cache) for key in starts]
        probs = {m: np.mean([o[m] for o in outs], axis=0) for m in MODELS}
        bases = {m: self.weights[m].base for m in MODELS}
        labels = {m: self.weights[m].labels for m in MODELS}
        return summarise(probs, bases, labels, model=self.name, version=self.version, span=span, patches=len(outs))

    def _patch(self, audio: _Audio, key: tuple[int, int], cache: dict) -> dict[str, np.ndarray]:
        if key not in cache:
            first, count = key
            mel = audio.log_mel(first, count)
            if count < mn.PATCH:  # repeat-pad short spans
                mel = np.tile(mel, (-(-mn.PATCH // count), 1))[: mn.PATCH]
            cache[key] = {m: mn.forward(mel, self.weights[m]) for m in MODELS}
        return cache[key]


def _pick(candidates: list[tuple[int, int]], cap: int | None) -> list[tuple[int, int]]:
    """At most ``cap`` candidates, evenly spread (all of them when cap is None)."""
    if cap is None or len(candidates) <= cap:
        return candidates
    idx = np.unique(np.round(np.linspace(0, len(candidates) - 1, cap)).astype(int))
    return [candidates[i] for i in idx]


class _Audio:
    """PCM at its own rate, read lazily on musicnn's 16 kHz frame grid (frame k centred on sample 256 k)."""

    def __init__(self, samples: np.ndarray, sample_rate: int) -> None:
        if samples.ndim not in (1, 2) or sample_rate <= 0:
            raise ValueError("samples must be (n,) or (n, channels) PCM with a positive sample rate")
        self.samples = samples if samples.ndim == 2 else samples[:, None]
        self.rate = int(sample_rate)
        self.scale = 1.0 / np.iinfo(samples.dtype).max if samples.dtype.kind in "iu" else 1.0
        g = math.gcd(mn.SR, self.rate)
        self.up, self.down = mn.SR // g, self.rate // g
        self.length16 = -(-len(self.samples) * self.up // self.down)
        self.frames = 1 + self.length16 // mn.HOP if len(self.samples) else 0

    def frame_range(self, start_s: float, end_s: float) -> tuple[int, int]:
        """First and last frame whose centre lies inside [start_s, end_s]."""
        first = max(0, math.ceil(start_s * mn.SR / mn.HOP))
        last = min(self.frames - 1, math.floor(end_s * mn.SR / mn.HOP))
        return first, last

    def grid(self, first: int, last: int) -> list[tuple[int, int]]:
        """musicnn's non-overlapping patches (start, frames) from ``first``; one short patch if the range is short."""
        count = last - first + 1
        if count < mn.PATCH:
            return [(first, count)] if count >= MIN_FRAMES else []
        return [(first + i * mn.PATCH, mn.PATCH) for i in range((count - mn.PATCH) // mn.PATCH + 1)]

    def usable(self, patches: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Patches that are not (near) silent, judged on every 4th sample at the source rate."""
        out = []
        for first, count in patches:
            i0, i1 = (self._source_index(k * mn.HOP) for k in (first, first + count))
            chunk = self.samples[i0:i1:4].astype(np.float32) * self.scale
            rms = float(np.sqrt(np.mean(np.square(chunk)))) if chunk.size else 0.0
            if rms > 0 and 20 * math.log10(rms) > SILENT_DB:
                out.append((first, count))
        return out

    def _source_index(self, s16: int) -> int:
        return min(len(self.samples), max(0, s16 * self.down // self.up))

    def log_mel(self, first: int, count: int) -> np.ndarray:
        """Log-mel frames first..first+count-1, as a whole-file spectrogram would have them."""
        step = math.lcm(mn.HOP, self.up)  # segment starts on a 16 kHz sample that is a frame and source boundary
        s0 = max(0, (first * mn.HOP - mn.N_FFT // 2 - MARGIN) // step * step)
        s1 = min(self.length16, (first + count - 1) * mn.HOP + mn.N_FFT // 2 + MARGIN)
        i0, i1 = s0 * self.down // self.up, min(len(self.samples), -(-s1 * self.down // self.up))
        mono = self.samples[i0:i1].astype(np.float32).mean(axis=1) * np.float32(self.scale)
        y = resample_poly(mono, self.up, self.down).astype(np.float32) if self.up != self.down else mono
        pre = mn.N_FFT // 2 if s0 == 0 else 0  # centred frames: reflect-pad only at the true file edges
        post = mn.N_FFT // 2 if s1 >= self.length16 else 0
        y = np.pad(y, (pre, post), mode="reflect" if len(y) > mn.N_FFT // 2 else "constant")
        offset = first * mn.HOP - mn.N_FFT // 2 - (s0 - pre)
        y = np.pad(y, (0, max(0, offset + (count - 1) * mn.HOP + mn.N_FFT - len(y))))  # rounding at the very end
        frames = sliding_window_view(y[offset:], mn.N_FFT)[:: mn.HOP][:count]
        return mn.frames_log_mel(frames)
