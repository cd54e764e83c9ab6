"""EBU R128 loudness of a long render in bounded memory.

essentia's LoudnessEBUR128 takes the whole signal as one float32 array and copies it: two
copies of a 4-minute stereo render are 170 MB on top of the ~150 MB essentia itself needs.
So we run LoudnessEBUR128 over 60-second pieces that overlap (each piece starts a few hops
early so its K-weighting filter has settled and its 400 ms / 3 s windows are whole), keep
each piece's momentary (400 ms) and short-term (3 s) loudness values on the common 100 ms
grid, and apply the two gates of ITU-R BS.1770-4 / EBU Tech 3342 to the joined values. That
gives the same integrated loudness as one call on the whole signal (to ~0.001 LU, checked in
the tests), because integrated loudness *is* the gated mean of the 400 ms blocks at 75 %
overlap, which are exactly the momentary values.
"""

from __future__ import annotations

import numpy as np

HOP_S = 0.1  # LoudnessEBUR128's default hop: the grid of momentary and short-term values
SHORT_TERM_S = 3.0
PIECE_S = 60.0
SETTLE_HOPS = 5  # hops computed and dropped at the start of each later piece (filter warm-up)
ABSOLUTE_GATE = -70.0
INTEGRATED_RELATIVE_GATE = -10.0
RANGE_RELATIVE_GATE = -20.0


def _power(lufs: np.ndarray) -> np.ndarray:
    return 10 ** ((lufs + 0.691) / 10)


def _lufs(power: float) -> float:
    return -0.691 + 10 * float(np.log10(power))


def _gated(values: np.ndarray, relative_gate: float) -> np.ndarray:
    """The values above the -70 LUFS absolute gate and above `relative_gate` LU under their power mean."""
    blocks = values[values > ABSOLUTE_GATE]
    if blocks.size == 0:
        return blocks
    return blocks[blocks > _lufs(_power(blocks).mean()) + relative_gate]


def integrated(momentary: np.ndarray) -> float | None:
    """BS.1770-4 integrated loudness from the 400 ms block loudness values (None: all gated)."""
    kept = _gated(momentary, INTEGRATED_RELATIVE_GATE)
    return _lufs(_power(kept).mean()) if kept.size else None


def loudness_range(short_term: np.ndarray) -> float | None:
    """EBU Tech 3342 loudness range: 95th minus 10th percentile of the gated short-term values."""
    kept = _gated(short_term, RANGE_RELATIVE_GATE)
    return float(np.percentile(kept, 95) - np.percentile(kept, 10)) if kept.size else None


def _pieces(frames: int, rate: int, piece_s: float):
    """(first, last, skip, count) per piece: its sample span, how many leading values belong to
    the previous piece (windows starting before this piece's own start), and how many to keep.
    Value k of a piece is the window starting k hops after `first`, for both momentary and
    short-term loudness; a piece reaches far enough for its last 3 s window to be whole."""
    hop = int(round(HOP_S * rate))
    count = max(1, int(round(piece_s / HOP_S)))
    for start in range(0, frames, count * hop):
        first = max(0, start - SETTLE_HOPS * hop)
        last = min(frames, start + (count - 1) * hop + int(round(SHORT_TERM_S * rate)))
        yield first, last, (start - first) // hop, count


def measure(pcm: np.ndarray, rate: int, meter, piece_s: float = PIECE_S) -> tuple[float | None, float | None]:
    """(integrated LUFS, loudness range LU) of int16 or float PCM (samples, channels); `meter`
    is essentia.standard.LoudnessEBUR128(sampleRate=rate). A mono file is one channel (BS.1770)."""
    scale = 1 / 32768 if pcm.dtype == np.int16 else 1.0
    momentary, short_term = [], []
    for first, last, skip, count in _pieces(len(pcm), rate, piece_s):
        piece = pcm[first:last].astype(np.float32) * np.float32(scale)
        if piece.shape[1] == 1:  # the right channel silent: the sum of powers is the one channel's
            piece = np.concatenate([piece, np.zeros_like(piece)], axis=1)
        m, s, _, _ = meter(piece)
        momentary.append(np.asarray(m)[skip : skip + count])
        short_term.append(np.asarray(s)[skip : skip + count])
    if not momentary:
        return None, None
    return integrated(np.concatenate(momentary)), loudness_range(np.concatenate(short_term))
