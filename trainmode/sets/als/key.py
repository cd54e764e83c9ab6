"""Key detection: Krumhansl–Schmuckler on a duration-weighted pitch-class profile, with
the rules that keep a guess out: enough notes, enough distinct pitch classes, and a clear
margin over the runner-up key that is not the relative major/minor."""

from __future__ import annotations

from statistics import fmean

# Usual spellings: flats for major keys except F#, sharps for C#/G# minor (C# minor, F# major,
# Eb major, Bb minor ...).
MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
TONICS = tuple(dict.fromkeys(MAJOR_NAMES + MINOR_NAMES))

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)

MIN_NOTES = 24  # fewer notes than this say too little about a key
MIN_PITCH_CLASSES = 5  # a key needs more than a chord's worth of pitch classes
MIN_PITCH_SHARE = 0.02  # a pitch class counts as present above this share of the weight
MIN_CORRELATION = 0.6
MIN_MARGIN = 0.02  # over the best key that is neither the winner nor its relative
SCALE_CONFIDENCE = 0.6  # a scale the user chose in Live (not the default C major)


def tonic_name(tonic_pc: int, mode: str) -> str:
    """The usual spelling of a key's tonic: 1 is "Db" in major, "C#" in minor."""
    return (MAJOR_NAMES if mode == "major" else MINOR_NAMES)[tonic_pc % 12]


def key_name(tonic_pc: int, mode: str) -> str:
    """The one spelling of a key everywhere (Library, captions, fact check, verdict, export):
    key_name(1, "major") -> "Db major", key_name(1, "minor") -> "C# minor"."""
    return f"{tonic_name(tonic_pc, mode)} {mode}"


def make_key(tonic_pc: int, mode: str, confidence: float, source: str) -> dict:
    tonic = tonic_name(tonic_pc, mode)
    return {
        "tonic": tonic,
        "mode": mode,
        "name": key_name(tonic_pc, mode),
        "confidence": round(confidence, 2),
        "source": source,
    }


def _pearson(xs, ys) -> float:
    mx, my = fmean(xs), fmean(ys)
    dx = [x - mx for x in xs]
    dy = [y - my for y in ys]
    den = (sum(a * a for a in dx) * sum(b * b for b in dy)) ** 0.5
    return sum(a * b for a, b in zip(dx, dy, strict=False)) / den if den else 0.0


def rank_keys(profile: list[float]) -> list[tuple[float, int, str]]:
    """(correlation, tonic pitch class, mode) for all 24 keys, best first."""
    ranked = []
    for tonic in range(12):
        rotated = profile[tonic:] + profile[:tonic]
        for mode, ref in (("major", MAJOR), ("minor", MINOR)):
            ranked.append((_pearson(rotated, ref), tonic, mode))
    return sorted(ranked, key=lambda r: -r[0])


def detect_key(profile: list[float], notes: int) -> dict | None:
    """The key of 12 pitch-class weights from `notes` notes, or None when they do not show one."""
    total = sum(profile)
    if len(profile) != 12 or notes < MIN_NOTES or total <= 0:
        return None
    if sum(w > MIN_PITCH_SHARE * total for w in profile) < MIN_PITCH_CLASSES:
        return None
    ranked = rank_keys(profile)
    r, tonic, mode = ranked[0]
    relative = ((tonic + 9) % 12, "minor") if mode == "major" else ((tonic + 3) % 12, "major")
    runner_up = next(x for x in ranked[1:] if (x[1], x[2]) != relative)
    if r < MIN_CORRELATION or r - runner_up[0] < MIN_MARGIN:
        return None
    return make_key(tonic, mode, r, "midi_notes")


# Live's scale names (Live <= 11 stores the name, Live 12 an index into this list).
LIVE12_SCALES = ("Major", "Minor", "Dorian", "Mixolydian", "Lydian", "Phrygian", "Locrian")
_MAJORISH = {"major", "ionian", "lydian", "mixolydian", "major pentatonic", "harmonic major", "lydian dominant"}
_MINORISH = {
    "minor",
    "aeolian",
    "dorian",
    "phrygian",
    "locrian",
    "minor pentatonic",
    "minor blues",
    "harmonic minor",
    "melodic minor",
    "phrygian dominant",
}


def scale_key(root: int | None, name: str | None) -> dict | None:
    """The set's scale setting as a key, when the user chose one. Every new set defaults to
    C major, so C major says nothing and gives None."""
    if root is None or not name:
        return None
    if name.isdigit():
        idx = int(name)
        name = LIVE12_SCALES[idx] if idx < len(LIVE12_SCALES) else ""
    low = name.lower()
    mode = "major" if low in _MAJORISH else "minor" if low in _MINORISH else None
    if mode is None or not 0 <= root < 12 or (root == 0 and mode == "major"):
        return None
    return make_key(root, mode, SCALE_CONFIDENCE, "scale_information")


def spell_key(text: str | None) -> str | None:
    """Any spelling of a key ("G# major", "Ab major") as key_name spells it; None if unreadable."""
    tonic, _, mode = (text or "").strip().partition(" ")
    pc = pitch_class(tonic) if mode in ("major", "minor") else None
    return None if pc is None else key_name(pc, mode)


_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def pitch_class(tonic: str) -> int | None:
    """'C#' -> 1, 'Db' -> 1, 'Bb' -> 10."""
    if not tonic or tonic[0].upper() not in _PITCH:
        return None
    shift = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(tonic[1:2], 0)
    return (_PITCH[tonic[0].upper()] + shift) % 12
