"""Does this render belong to its set? Tempo, key and length, judged in words.

`compare` takes plain values (the set's dominant BPM, its key like "A minor", its arrangement
length in seconds); any of them None means "no opinion". Each check gives `agrees`, `doubtful`
or `differs`; the verdict is `mismatch` if one differs, `doubtful` if one is doubtful, else
`matches`. A render that is silent, or silent for most of its length, differs whatever the
set says: there is no music to train on. Warnings (silence at the ends, clipping, quiet, out of
phase) are about the audio alone and never change the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.audio.probe import duration_mismatch
from trainmode.errors import ConfirmationRequired
from trainmode.sets.als.key import key_name

TEMPO_AGREES = 0.02  # within 2 % of the set's tempo (or of half/double, 2:3 or 3:2 of it)
TEMPO_DOUBTFUL = 0.06  # 2-6 % off: doubtful; more: a different tempo
LOW_TEMPO_CONFIDENCE = 0.3  # below this (essentia 1.6 of 5.32, "low") a tempo differs only doubtfully
# Below this key strength an unrelated key is only doubtful: KeyExtractor's strength is how well
# the best key fits, not whether there is a key; white noise reads ~0.8 and drums alone ~0.75,
# clearly tonal music 0.9 and more.
KEY_SURE = 0.9
SILENCE_WARN_S = 2.0
MIN_SOUND_SHARE = 0.5  # a render with sound over less than half its length is a mismatch
CLIP_WARN_RATIO = 1e-4  # 0.01 % of samples at the ceiling
QUIET_WARN_LUFS = -30.0

_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_KEY = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]?)\s*(major|minor|maj|min|m|M)?\s*$")


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "matches" | "doubtful" | "mismatch"
    reasons: tuple[str, ...]  # why it is doubtful or a mismatch, one sentence each
    agreements: tuple[str, ...]  # what was checked and agrees
    warnings: tuple[str, ...]  # about the audio alone; never change the verdict
    tempo_relation: str | None = None  # "same" | "half" | "double" | "2:3" | "3:2" when the tempo agrees

    def require_confirmation(self, confirm: bool) -> None:
        """For the save path: a mismatch raises ConfirmationRequired (with the reasons) unless
        confirmed, like the fact-check findings; doubtful and matching renders save as they are."""
        if self.verdict == "mismatch" and not confirm:
            raise ConfirmationRequired(
                "The audio does not seem to belong to this set: " + " ".join(self.reasons), list(self.reasons)
            )

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "agreements": list(self.agreements),
            "warnings": list(self.warnings),
            "tempo_relation": self.tempo_relation,
        }


def parse_key(text: str | None) -> tuple[int, bool] | None:
    """ "F# minor" / "Gbm" / "A" -> (pitch class, is_minor); None if absent or unreadable."""
    match = _KEY.match(text or "")
    if not match:
        return None
    letter, accidental, mode = match.groups()
    pitch = (_PITCH[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)) % 12
    return pitch, mode in ("minor", "min", "m")


def spelled(key: tuple[int, bool]) -> str:
    """(pitch class, is_minor) spelled as everywhere else (trainmode.sets.als.key.key_name)."""
    return key_name(key[0], "minor" if key[1] else "major")


def relative(key: tuple[int, bool]) -> tuple[int, bool]:
    """A minor <-> C major."""
    pitch, minor = key
    return ((pitch + 3) % 12, False) if minor else ((pitch - 3) % 12, True)


def _bpm(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


# The audio's tempo over the set's that a beat tracker reports for the same music: the tempo
# itself, an octave off (half or double time), or 2:3 and 3:2, when a figure of three notes
# (a 3-note arpeggio in eighths, a triplet feel) is heard as the beat: a 160 BPM set read as 106.7.
TEMPO_RATIOS = {"same": 1.0, "half": 0.5, "double": 2.0, "2:3": 2 / 3, "3:2": 3 / 2}
TEMPO_RELATION_WORDS = {
    "half": "half time",
    "double": "double time",
    "2:3": "at a 2:3 ratio, a common tempo-detection confusion",
    "3:2": "at a 3:2 ratio, a common tempo-detection confusion",
}


OCTAVES = ("same", "half", "double")


def tempo_relation(bpm: float, set_bpm: float) -> tuple[str, float]:
    """(a TEMPO_RATIOS name: "same", "half", "double", "2:3" or "3:2"; relative error) for the
    closest reading of the audio's tempo. 2:3 and 3:2 count only when they agree (TEMPO_AGREES):
    with five readings a tempo is near one of them far too often, and "close to 3:2" would make
    a render of another song only doubtful (178 BPM for a 124 BPM set) or rank a 96 BPM set first
    for a 140 BPM render; otherwise the closest octave reading decides."""
    errors = {name: abs(bpm / (set_bpm * r) - 1) for name, r in TEMPO_RATIOS.items()}
    best = min(errors, key=errors.get)
    if best not in OCTAVES and errors[best] > TEMPO_AGREES:
        best = min(OCTAVES, key=errors.get)
    return best, errors[best]


def check_tempo(bpm: float | None, confidence: float | None, set_bpm: float | None) -> tuple[str, str, str | None]:
    """(outcome, sentence, relation) for the audio's tempo against the set's."""
    if bpm is None or not set_bpm or set_bpm <= 0:
        return "none", "", None
    relation, error = tempo_relation(bpm, set_bpm)
    words = f"the audio runs at {_bpm(bpm)} BPM, the set at {_bpm(set_bpm)}"
    if error <= TEMPO_AGREES:
        said = "" if relation == "same" else f" ({TEMPO_RELATION_WORDS[relation]})"
        return "agrees", f"tempo agrees: {words}{said}", relation
    if error <= TEMPO_DOUBTFUL or (confidence or 0) < LOW_TEMPO_CONFIDENCE:
        unsure = "" if error <= TEMPO_DOUBTFUL else " (the beat is hard to hear, so the tempo is uncertain)"
        return "doubtful", f"{words}: close, but not the same tempo{unsure}", None
    return "differs", words, None


def check_key(key: str | None, strength: float | None, set_key: str | None) -> tuple[str, str]:
    """Same key or its relative agrees; a neighbour (fifth, parallel mode) or a weak reading is doubtful."""
    heard, expected = parse_key(key), parse_key(set_key)
    if heard is None or expected is None:
        return "none", ""
    words = f"the audio sounds in {spelled(heard)}, the set is in {spelled(expected)}"
    if heard == expected:
        return "agrees", f"key agrees: {spelled(heard)}"
    if heard == relative(expected):
        return "agrees", f"key agrees: {words} (its relative key)"
    fifth = (heard[0] - expected[0]) % 12 in (5, 7) and heard[1] == expected[1]
    parallel = heard[0] == expected[0]
    if fifth or parallel or (strength or 0) < KEY_SURE:
        return "doubtful", f"{words}: a related key or a weak reading, so possibly the same music"
    return "differs", words


def check_length(duration_s: float, set_seconds: float | None) -> tuple[str, str]:
    """The existing duration rule (audio.duration_mismatch): far off is a mismatch."""
    if not set_seconds:
        return "none", ""
    problem = duration_mismatch(duration_s, set_seconds)
    if problem:
        return "differs", problem
    return "agrees", f"length agrees: {duration_s:.0f} s of audio for a {set_seconds:.0f} s arrangement"


def check_sound(analysis: AudioAnalysis) -> tuple[str, str]:
    """A silent render, or one silent for most of its length, differs from any set."""
    if analysis.silent:
        return "differs", "the audio is silent: there is no music in it"
    share = analysis.sound_s / analysis.duration_s if analysis.duration_s > 0 else 0.0
    if share < MIN_SOUND_SHARE:
        return "differs", (
            f"the audio is silent for {1 - share:.0%} of its length "
            f"(sound in {analysis.sound_s:.0f} s of {analysis.duration_s:.0f} s)"
        )
    return "none", ""


def audio_warnings(analysis: AudioAnalysis) -> list[str]:
    """Things worth a look whatever the set: silence at the ends, clipping, too quiet, out of phase."""
    out = []
    if analysis.silent:
        return ["The audio is silent."]
    if analysis.silence_start_s > SILENCE_WARN_S:
        out.append(f"{analysis.silence_start_s:.1f} s of silence at the start.")
    if analysis.silence_end_s > SILENCE_WARN_S:
        out.append(f"{analysis.silence_end_s:.1f} s of silence at the end.")
    if analysis.clipped_ratio > CLIP_WARN_RATIO:
        out.append(f"Clipping: {analysis.clipped_ratio:.2%} of the samples are at the ceiling (-0.1 dBFS).")
    if analysis.loudness_lufs is not None and analysis.loudness_lufs < QUIET_WARN_LUFS:
        out.append(f"Very quiet: {analysis.loudness_lufs:.1f} LUFS (below {QUIET_WARN_LUFS:.0f}).")
    if not analysis.mono_compatible:
        out.append("The channels are out of phase: the music cancels out when played in mono.")
    return out


def compare(
    analysis: AudioAnalysis, set_bpm: float | None = None, set_key: str | None = None, set_seconds: float | None = None
) -> Verdict:
    """The combined verdict of tempo, key and length, with the reasons in words."""
    tempo, tempo_words, relation = check_tempo(analysis.bpm, analysis.bpm_confidence, set_bpm)
    checks = [
        check_sound(analysis),
        (tempo, tempo_words),
        check_key(analysis.key, analysis.key_strength, set_key),
        check_length(analysis.duration_s, set_seconds),
    ]
    reasons = tuple(_sentence(words) for outcome, words in checks if outcome in ("doubtful", "differs"))
    agreements = tuple(_sentence(words) for outcome, words in checks if outcome == "agrees")
    outcomes = {outcome for outcome, _ in checks}
    verdict = "mismatch" if "differs" in outcomes else "doubtful" if "doubtful" in outcomes else "matches"
    return Verdict(
        verdict, reasons, agreements, tuple(audio_warnings(analysis)), relation if tempo == "agrees" else None
    )


def _sentence(words: str) -> str:
    words = words.strip()
    return words[:1].upper() + words[1:] + ("" if words.endswith((".", "?", "!")) else ".")
