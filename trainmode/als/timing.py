"""Musical time: meters from Live's enum, beats to seconds through the tempo map."""
from __future__ import annotations

import math


def decode_time_signature(value: int) -> tuple[int, int]:
    """Live stores a meter as one enum: numerator - 1 + 99 * log2(denominator)."""
    return value % 99 + 1, 2 ** (value // 99)


def beats_per_bar(numerator: int, denominator: int) -> float:
    """Live's beat is a quarter note: 6/8 is 3 beats per bar."""
    return numerator * 4 / denominator


def beats_to_seconds(beats: float, tempo_points: list[tuple[float, float]], bpm: float) -> float:
    """Seconds from beat 0 to `beats`. Tempo automation is piecewise linear in beat time;
    two points at the same time are a jump. Without points the tempo is `bpm`."""
    if beats <= 0:
        return 0.0
    points = sorted(tempo_points, key=lambda p: p[0]) or [(0.0, bpm)]
    # Constant before the first point and after the last one.
    points = [(-math.inf, points[0][1]), *points, (math.inf, points[-1][1])]
    seconds = 0.0
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        a, b = max(t0, 0.0), min(t1, beats)
        if b <= a:
            continue
        if v0 == v1:  # always true for the two open-ended segments
            seconds += 60.0 * (b - a) / v0
            continue
        slope = (v1 - v0) / (t1 - t0)
        va, vb = v0 + slope * (a - t0), v0 + slope * (b - t0)
        seconds += 60.0 / slope * math.log(vb / va)
    return seconds
