"""Reading what a caption says: tempo, key and meter phrases, file names, paths, URLs,
artist names, Markdown, and the comma-separated tag list. No facts of a set here:
trainmode/captions/factcheck.py compares what this reads against the set.
"""

from __future__ import annotations

import re

PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
ACCIDENTAL = {"#": 1, "♯": 1, "sharp": 1, "b": -1, "♭": -1, "flat": -1, "": 0}
KEY_RE = re.compile(
    r"(?<![\w#♯♭-])([A-G])(?:\s?(#|♯|♭|b|-sharp|-flat| sharp| flat))?"
    r"(?:\s?((?i:major|minor|maj|min))|(m))(?![\w#-])"
)
TONIC_ONLY_RE = re.compile(r"(?i:\bkey of )([A-G])(#|♯|♭|b)?(?![\w#♯♭])(?!\s*(?i:major|minor|maj|min))")
MODE_ONLY_RE = re.compile(r"\b(major|minor)(?:[- ](?:key|tonality|scale|mode)\b)", re.I)
BPM_RANGE_RE = re.compile(
    r"\b(\d{2,3}(?:\.\d+)?)\s*(?:-|–|to|and)\s*(\d{2,3}(?:\.\d+)?)\s*-?\s*(?:bpm|beats per minute)\b", re.I
)
BPM_RE = re.compile(
    r"\b(\d{2,3}(?:\.\d+)?)\s*-?\s*(?:bpm|beats (?:per|a) minute)\b"
    r"|\b(?:bpm|tempo)\s*(?:of|:|=|at|around|is)?\s*(\d{2,3}(?:\.\d+)?)\b",
    re.I,
)
METER_RE = re.compile(r"(?<![\d/.])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
FILE_EXTENSIONS = (
    "wav",
    "wave",
    "aif",
    "aiff",
    "aifc",
    "mp3",
    "flac",
    "ogg",
    "m4a",
    "aac",
    "wma",
    "als",
    "alc",
    "adg",
    "adv",
    "agr",
    "amxd",
    "asd",
    "alp",
    "mid",
    "midi",
    "rx2",
    "rex",
    "nki",
    "nkm",
    "fxp",
    "fxb",
    "sfz",
    "sf2",
    "vstpreset",
    "zip",
)
FILE_RE = re.compile(r"[\w\-()\[\]&+]+\.(?:" + "|".join(FILE_EXTENSIONS) + r")\b", re.I)
PATH_RE = re.compile(
    r"(?:^|[\s(\"'])(?:~|[A-Za-z]:)?[/\\](?:[\w .\-]+[/\\])*[\w.\-]+"  # /Users/x, ~/Music, C:\Samples
    r"|\w+\\[\w .\-\\]+"  # any backslash path
    r"|\b(?i:users|home|music|samples|documents|desktop|volumes|library|projects|splice|packs)/[\w.\-/]+"
)


URL_RE = re.compile(
    r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>()\[\]\"']+|\b[\w-]+\.(?:com|net|org|io|fm|co)(?:/[^\s]*)?\b"
)
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK_RE = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)|\[([^\]]*)\]\[[^\]]*\]")
_REF_DEF_RE = re.compile(r"(?m)^\s*\[[^\]]+\]:\s*\S+.*$")
_AUTOLINK_RE = re.compile(r"<(?:https?|ftp|mailto):[^>\s]*>", re.I)


def strip_markdown(text: str) -> str:
    """Captions are plain text: Markdown images go, links keep only their text.

    '![cover](a.png) Deep [house](https://x.io) groove' -> 'Deep house groove'. A bare URL
    stays (the fact checker blocks it: the user decides what to write instead).
    """
    text = _REF_DEF_RE.sub(" ", text or "")
    text = _IMAGE_RE.sub(" ", text)
    text = _LINK_RE.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = _AUTOLINK_RE.sub(" ", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


_CHANGES = {
    "tempo": re.compile(
        r"(?i)\b(?:tempo|bpm)\s+(?:changes?|shifts?|ramps?|speeds? up|slows? down)\b"
        r"|\b(?:changing|shifting|accelerating|decelerating)\s+tempos?\b"
    ),
    "meter": re.compile(
        r"(?i)\b(?:meter|time signature)\s+(?:changes?|shifts?)\b"
        r"|\b(?:changing|shifting)\s+(?:meters?|time signatures?)\b"
    ),
}
_NEGATED = re.compile(r"(?i)\b(?:no|never|not|without|zero)\b[^.;:!?,]*$")


def says_change(text: str, what: str) -> str | None:
    """The phrase claiming the tempo (what="tempo") or meter ("meter") changes, unless negated."""
    for match in _CHANGES[what].finditer(text or ""):
        if not _NEGATED.search(text[: match.start()]):
            return match.group(0)
    return None


def split_tags(text: str) -> list[str]:
    """The `tags` variant as a list: comma-separated, stripped, empty ones dropped."""
    return [t.strip() for t in re.split(r"[,;\n]", text or "") if t.strip()]


def tags_as_prose(text: str) -> str:
    """Tags read as claims: 'a minor' alone is a key, so a tonic letter is written upper case."""
    tonic = re.compile(r"^([a-g])(?=(?:#|b|♯|♭)?\s*(?:major|minor|maj|min|m)$)", re.I)
    tags = [tonic.sub(lambda m: m.group(1).upper(), t) for t in split_tags(text)]
    return ", ".join(tags)


def pitch_class(tonic: str, accidental: str = "") -> int | None:
    tonic = (tonic or "").strip()
    if not tonic or tonic[0].upper() not in PITCH:
        return None
    accidental = accidental or tonic[1:]
    return (PITCH[tonic[0].upper()] + ACCIDENTAL.get(accidental.strip().lower().lstrip("-"), 0)) % 12


def mode_of(word: str) -> str:
    return "major" if word.lower().startswith("maj") else "minor"


def fmt_bpm(value: float) -> str:
    return f"{value:g}"


def distinctive_stem(sample: str) -> str | None:
    """A sample's name without extension, if it is unlike ordinary words ('Kick_01' yes, 'kick', 'Warm Pad' no)."""
    stem = sample.rsplit(".", 1)[0] if "." in sample else sample
    if len(stem) >= 5 and re.search(r"[\d_]", stem) and re.search(r"[A-Za-z]", stem):
        return stem
    return None


def artist_names(master_schema: dict | None, artist_name: str | None = None) -> list[str]:
    """Names a caption must never contain: the caller's artist and the profile's name/aliases."""
    schema = master_schema or {}
    names = [artist_name, schema.get("artist"), schema.get("artist_name"), schema.get("name")]
    aliases = schema.get("aliases")
    if isinstance(aliases, list):
        names += aliases
    seen: dict[str, str] = {}
    for name in names:
        if isinstance(name, str) and len(name.strip()) >= 2:
            seen.setdefault(name.strip().casefold(), name.strip())
    return list(seen.values())


# Tempo words a stated BPM must agree with: "slow" up to 95 BPM, "fast" from 125 (house at 124
# is neither; "slow ... at 124 BPM" teaches a model two tempos for one sound).
TEMPO_WORDS = {"slow": (None, 95.0), "fast": (125.0, None)}
# "slow" or "fast" as the track's tempo: "slow tempo", "fast-paced", "slow, quiet ..." (not
# "fast hi-hats" or "a slow build", which speak of a part or of the arrangement).
TEMPO_WORD_RE = re.compile(r"\b(slow|fast)(?=[- ]?paced\b| tempo\b| pace\b|,| and\b)", re.IGNORECASE)


def fits_tempo(word: str, bpm: float | None) -> bool:
    """False for a tempo word ("slow", "fast") the stated BPM contradicts; True for any other word."""
    low, high = TEMPO_WORDS.get(word.lower().strip(), (None, None))
    return bpm is None or ((low is None or bpm >= low) and (high is None or bpm <= high))
