"""Key detection: Krumhansl–Schmuckler on a duration-weighted pitch-class profile."""
from __future__ import annotations

from statistics import fmean

# Conventional spellings of key names (Eb major, F# minor, Bb minor ...).
PITCH_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


def _pearson(xs, ys) -> float:
    mx, my = fmean(xs), fmean(ys)
    dx = [x - mx for x in xs]
    dy = [y - my for y in ys]
    den = (sum(a * a for a in dx) * sum(b * b for b in dy)) ** 0.5
    return sum(a * b for a, b in zip(dx, dy, strict=False)) / den if den else 0.0


def detect_key(profile: list[float]) -> dict | None:
    """Best-correlated key for 12 pitch-class weights, or None without usable notes.
    confidence is the correlation (0..1) of the winning key."""
    if len(profile) != 12 or sum(profile) <= 0 or max(profile) == min(profile):
        return None
    best = None
    for tonic in range(12):
        rotated = profile[tonic:] + profile[:tonic]
        for mode, ref in (("major", MAJOR), ("minor", MINOR)):
            r = _pearson(rotated, ref)
            if best is None or r > best[0]:
                best = (r, tonic, mode)
    r, tonic, mode = best
    return {"tonic": PITCH_NAMES[tonic], "mode": mode, "confidence": round(max(r, 0.0), 2), "source": "midi_notes"}


# Live's scale names (Live <= 11 stores the name, Live 12 an index into this list).
LIVE12_SCALES = (
    "Major", "Minor", "Dorian", "Mixolydian", "Lydian", "Phrygian", "Locrian",
)
_MAJORISH = {"major", "ionian", "lydian", "mixolydian", "major pentatonic", "harmonic major", "lydian dominant"}
_MINORISH = {
    "minor", "aeolian", "dorian", "phrygian", "locrian", "minor pentatonic", "minor blues",
    "harmonic minor", "melodic minor", "phrygian dominant",
}


def scale_key(root: int | None, name: str | None) -> dict | None:
    """The set's scale setting as a low-confidence key. Live defaults to C major, so a
    C major setting says almost nothing; any other setting was probably chosen."""
    if root is None or not name:
        return None
    if name.isdigit():
        idx = int(name)
        name = LIVE12_SCALES[idx] if idx < len(LIVE12_SCALES) else ""
    low = name.lower()
    mode = "major" if low in _MAJORISH else "minor" if low in _MINORISH else None
    if mode is None or not 0 <= root < 12:
        return None
    default = root == 0 and mode == "major"
    return {"tonic": PITCH_NAMES[root], "mode": mode, "confidence": 0.1 if default else 0.4,
            "source": "scale_information"}


NO_KEY = {"tonic": None, "mode": None, "confidence": 0.0, "source": "none"}
