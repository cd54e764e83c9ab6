"""Musical time: meters from Live's enum, bars through meter changes, beats to seconds
through the tempo map.

Live plays a tempo ramp as a staircase: the tempo is re-read every 16th note (0.25 beat)
from the straight line between two automation points, and a change between grid lines
takes effect at the next one. dawtool (github.com/offlinemark/dawtool, "daw" mode) measured
this against Live; `TempoMap` follows it, so locator times match what Live shows.
"""

from __future__ import annotations

import math
from bisect import bisect_right

TEMPO_GRID = 0.25  # beats between two tempo reads on a ramp (a 16th note)
MAX_GRID_STEPS = 200_000  # beyond this many 16ths of ramps, ramps are integrated exactly instead


def decode_time_signature(value: int) -> tuple[int, int]:
    """Live stores a meter as one enum: numerator - 1 + 99 * log2(denominator)."""
    return value % 99 + 1, 2 ** (value // 99)


def beats_per_bar(time_signature: str | None) -> float:
    """Live's beat is a quarter note: '6/8' is 3 beats per bar; 4 when unknown."""
    try:
        num, den = (int(x) for x in (time_signature or "4/4").split("/"))
        return num * 4 / den if num > 0 and den > 0 else 4.0
    except ValueError:
        return 4.0


def bars_at(beat: float, meters: list[dict]) -> float:
    """Bars from beat 0 to `beat` through the meter changes ([{beat, time_signature}], sorted)."""
    bars, spans = 0.0, [*meters[1:], {"beat": math.inf}]
    for meter, following in zip(meters, spans, strict=False):
        start, end = max(meter["beat"], 0.0), min(following["beat"], beat)
        if end > start:
            bars += (end - start) / beats_per_bar(meter["time_signature"])
    return bars


class TempoMap:
    """Seconds at any beat from the tempo automation points [(beat, bpm)] (or a constant bpm)."""

    def __init__(self, points: list[tuple[float, float]], bpm: float):
        points = sorted(points, key=lambda p: p[0]) or [(0.0, bpm)]
        self._times = [t for t, _ in points]
        self._values = [v for _, v in points]
        self.points = points
        self._pieces = self._build_pieces()  # (start beat, bpm at start, bpm change per beat)
        self._starts = [p[0] for p in self._pieces]
        self._seconds = [0.0]
        for (b0, v0, slope), b1 in zip(self._pieces, self._starts[1:], strict=False):
            self._seconds.append(self._seconds[-1] + _span(v0, slope, b1 - b0))

    def bpm_at(self, beat: float) -> float:
        """The tempo on the automation line (not quantised), after any jump at `beat`."""
        i = bisect_right(self._times, beat) - 1
        if i < 0:
            return self._values[0]
        if i >= len(self._times) - 1:
            return self._values[-1]
        (t0, v0), (t1, v1) = self.points[i], self.points[i + 1]
        return v0 + (v1 - v0) * (beat - t0) / (t1 - t0)

    def seconds_at(self, beat: float) -> float:
        if beat <= 0:
            return 0.0
        i = bisect_right(self._starts, beat) - 1
        b0, v0, slope = self._pieces[i]
        return self._seconds[i] + _span(v0, slope, beat - b0)

    def _build_pieces(self) -> list[tuple[float, float, float]]:
        grid_points, budget = {0.0}, MAX_GRID_STEPS
        exact: list[tuple[float, float]] = []  # long ramps integrated exactly: (start, end)
        for (t0, v0), (t1, v1) in zip(self.points, self.points[1:], strict=False):
            if t1 <= 0:
                continue
            first = max(math.ceil(max(t0, 0.0) / TEMPO_GRID), 0)
            if v0 == v1 or t1 == t0:
                grid_points.add(first * TEMPO_GRID)
                continue
            last = math.ceil(t1 / TEMPO_GRID)
            if last - first > min(budget, 4096):
                exact.append((max(t0, 0.0), t1))
                grid_points.add(t1)
                continue
            budget -= last - first
            grid_points.update(k * TEMPO_GRID for k in range(first, last))
        grid_points.update(math.ceil(t / TEMPO_GRID) * TEMPO_GRID for t in self._times if t > 0)
        pieces: list[tuple[float, float, float]] = []
        ramps = iter(sorted(exact))
        ramp = next(ramps, None)
        for beat in sorted(grid_points):
            while ramp is not None and ramp[1] <= beat:
                ramp = next(ramps, None)
            if ramp is not None and ramp[0] <= beat < ramp[1]:
                v0, v1 = self.bpm_at(ramp[0]), self.bpm_at(ramp[1] - 1e-9)
                pieces.append((beat, self.bpm_at(beat), (v1 - v0) / (ramp[1] - ramp[0])))
                continue
            bpm = self.bpm_at(beat)
            if not pieces or pieces[-1][2] or pieces[-1][1] != bpm:
                pieces.append((beat, bpm, 0.0))
        return pieces

    def time_per_tempo(self, end: float, start: float = 0.0) -> dict[float, float]:
        """Seconds spent at each tempo (to 0.01 BPM) between beat `start` and `end`."""
        totals: dict[float, float] = {}
        bounds = [*self._starts[1:], math.inf]
        for (b0, v0, slope), b1 in zip(self._pieces, bounds, strict=False):
            if b0 >= end:
                break
            if b1 <= start:
                continue
            first = max(b0, start)
            v_first = v0 + slope * (first - b0)
            length = min(b1, end) - first
            bpm = round(v_first + slope * length / 2, 2)
            totals[bpm] = totals.get(bpm, 0.0) + _span(v_first, slope, length)
        return totals


def _span(bpm: float, slope: float, beats: float) -> float:
    """Seconds for `beats` beats starting at `bpm`, the tempo changing by `slope` per beat."""
    if not slope:
        return 60.0 * beats / bpm
    return 60.0 / slope * math.log((bpm + slope * beats) / bpm)
