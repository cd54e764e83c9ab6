"""Check a caption against the facts of its Ableton Live set.

A caption is training data: a wrong tempo or an invented saxophone teaches the
model something false. `check_caption` returns user-facing findings; it never
edits the caption. "error" findings contradict the set or break a rule (wrong
BPM, a file name); "warning" findings are claims the set cannot confirm.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .facts import EVIDENCE, SetFacts, audible_tracks, families_in

MAX_CHARS = 512
MIN_WORDS = 10
BPM_TOLERANCE = 1.0


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def to_dict(self) -> dict:
        return asdict(self)


# ---- instrument vocabulary: trainmode.facts (the families); here only the caption words ----
# Caption words (regex, lower case) -> the families any of which supports them.
# Longer phrases first: "bass drum" is drums, "lead vocals" is vocals.
_CLAIMS: list[tuple[str, tuple[str, ...]]] = [
    (r"bass drums?|kick drums?|drum kits?|drum machines?|drumbeats?|drums?|kicks?|snares?|hi-?hats?|hats|"
     r"claps?|cymbals?|toms|rimshots?|breakbeats?|909s?", ("drums",)),
    (r"percussion|shakers?|tambourines?|congas?|bongos?|tablas?|cowbells?|djembes?|darbukas?|timbales|claves?",
     ("percussion", "drums")),
    (r"808s?", ("drums", "bass")),
    (r"lead vocals?|backing vocals?|vocal chops?|vocals?|vox|voices?|singers?|singing|sung|choirs?|choral|"
     r"chants?|chanting|rap|raps|rapping|rappers?|acapellas?|a cappella|spoken word|lyrics", ("vocals",)),
    (r"bass guitars?|double bass|sub-?bass(?:es|lines?)?|bass(?:es|lines?)?", ("bass",)),
    (r"lead guitars?|guitars?", ("guitar",)),
    (r"synth(?:s|esi[sz]ers?)?|pads?|synth leads?|lead synths?|arps?|arpeggios?|arpeggiators?|plucks?|"
     r"stabs|supersaws?", ("synth", "pad", "lead")),
    (r"(?:grand |electric |upright |e-)?pianos?|rhodes|wurlitzers?|wurli", ("piano", "keys")),
    (r"keys|keyboards?", ("keys", "piano", "organ", "synth")),
    (r"organs?|hammond", ("organ",)),
    (r"strings|string (?:sections?|ensembles?|pads?|lines?)|violins?|violas?|cellos?|pizzicato", ("strings",)),
    (r"brass|trumpets?|trombones?|horns?|horn sections?|tubas?|flugelhorns?", ("brass",)),
    (r"sax(?:es|ophones?)?", ("woodwinds",)),
    (r"flutes?|piccolos?", ("woodwinds",)),
    (r"clarinets?", ("woodwinds",)),
    (r"woodwinds?", ("woodwinds",)),
    (r"bells?|chimes?|marimbas?|vibraphones?|xylophones?|glockenspiels?|kalimbas?|mallets?|celestas?|"
     r"music box(?:es)?", ("bells",)),
    (r"harps?", ("plucked",)),
    (r"sitars?", ("plucked",)),
    (r"banjos?|mandolins?|ukuleles?|kotos?|shamisens?|ouds?|lutes?|dulcimers?|zithers?|balalaikas?|bouzoukis?",
     ("plucked",)),
    (r"accordions?|harmonicas?|bagpipes?|didgeridoos?|kazoos?", ("woodwinds",)),
    (r"erhus?", ("strings",)), (r"theremins?", ("synth",)),
                (r"steel ?drums?|steelpans?|handpans?", ("bells", "percussion")),
]
_CLAIM_RE = re.compile(r"\b(" + "|".join(f"(?:{pattern})" for pattern, _ in _CLAIMS) + r")\b")
_CLAIM_FAMILIES = [(re.compile(rf"(?:{pattern})"), families) for pattern, families in _CLAIMS]
# Genre names that contain instrument words but claim no instrument.
_GENRES = re.compile(r"drum\s*(?:and|&|n|'n'|’n’)\s*bass|future bass|bass house|bass music|uk bass|synth-?pop|"
                     r"synth-?wave|synth-?punk|piano house|piano ballad|guitar music|organ house|vocal house|"
                     r"vocal trance|brass band|string quartet music")
_NEGATION = re.compile(r"\b(?:no|without|lacking|absent|minus|sans|free of|not|never|zero)\b(?:\W+\w+){0,3}\W*$")

# ---- what the set supports --------------------------------------------------------
def evidence_names(summary: dict, master_schema: dict | None = None, *, samples: bool = True) -> list[str]:
    """Every name that can support an instrument claim."""
    names: list[str] = []
    tracks = summary.get("tracks")
    if tracks:
        for track in audible_tracks(summary):
            names.append(track.get("name") or "")
            names += list(track.get("devices") or []) + list(track.get("plugins") or [])
    else:  # a summary without per-track detail: fall back to the set-wide lists
        names += list(summary.get("devices") or []) + list(summary.get("plugins") or [])
    if samples:
        names += list(summary.get("samples") or [])
    names += [i for i in (master_schema or {}).get("instruments") or [] if isinstance(i, str)]
    return [n for n in names if isinstance(n, str) and n]


def supported_families(summary: dict, master_schema: dict | None = None, *, samples: bool = True) -> list[str]:
    """Instrument families the set supports, in vocabulary order."""
    found: set[str] = set()
    for name in evidence_names(summary, master_schema, samples=samples):
        found.update(families_in(name))
    return [family for family in EVIDENCE if family in found]


# ---- caption parsing helpers --------------------------------------------------------
_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL = {"#": 1, "♯": 1, "sharp": 1, "b": -1, "♭": -1, "flat": -1, "": 0}
_KEY_RE = re.compile(
    r"(?<![\w#♯♭-])([A-G])(?:\s?(#|♯|♭|b|-sharp|-flat| sharp| flat))?"
    r"(?:\s?((?i:major|minor|maj|min))|(m))(?![\w#-])"
)
_TONIC_ONLY_RE = re.compile(r"(?i:\bkey of )([A-G])(#|♯|♭|b)?(?![\w#♯♭])(?!\s*(?i:major|minor|maj|min))")
_MODE_ONLY_RE = re.compile(r"\b(major|minor)(?:[- ](?:key|tonality|scale|mode)\b)", re.I)
_BPM_RANGE_RE = re.compile(
    r"\b(\d{2,3}(?:\.\d+)?)\s*(?:-|–|to)\s*(\d{2,3}(?:\.\d+)?)\s*-?\s*(?:bpm|beats per minute)\b", re.I)
_BPM_RE = re.compile(
    r"\b(\d{2,3}(?:\.\d+)?)\s*-?\s*(?:bpm|beats (?:per|a) minute)\b"
    r"|\b(?:bpm|tempo)\s*(?:of|:|=|at|around|is)?\s*(\d{2,3}(?:\.\d+)?)\b", re.I)
_METER_RE = re.compile(r"(?<![\d/.])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
FILE_EXTENSIONS = ("wav", "wave", "aif", "aiff", "aifc", "mp3", "flac", "ogg", "m4a", "aac", "wma", "als", "alc",
                   "adg", "adv", "agr", "amxd", "asd", "alp", "mid", "midi", "rx2", "rex", "nki", "nkm", "fxp",
                   "fxb", "sfz", "sf2", "vstpreset", "zip")
FILE_RE = re.compile(r"[\w\-()\[\]&+]+\.(?:" + "|".join(FILE_EXTENSIONS) + r")\b", re.I)
PATH_RE = re.compile(
    r"(?:^|[\s(\"'])(?:~|[A-Za-z]:)?[/\\](?:[\w .\-]+[/\\])*[\w.\-]+"  # /Users/x, ~/Music, C:\Samples
    r"|\w+\\[\w .\-\\]+"                                                   # any backslash path
    r"|\b(?i:users|home|music|samples|documents|desktop|volumes|library|projects|splice|packs)/[\w.\-/]+"
)


def _pitch_class(tonic: str, accidental: str = "") -> int | None:
    tonic = (tonic or "").strip()
    if not tonic or tonic[0].upper() not in _PITCH:
        return None
    accidental = accidental or tonic[1:]
    return (_PITCH[tonic[0].upper()] + _ACCIDENTAL.get(accidental.strip().lower().lstrip("-"), 0)) % 12


def _mode(word: str) -> str:
    return "major" if word.lower().startswith("maj") else "minor"


def _fmt_bpm(value: float) -> str:
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


# ---- the checks ------------------------------------------------------------------------
def check_caption(caption: str, summary: dict, master_schema: dict | None = None, *,
                  artist_name: str | None = None) -> list[Finding]:
    """Findings for `caption` against its set (empty list: nothing to report)."""
    caption = caption or ""
    if not caption.strip():
        return [Finding("empty", "The caption is empty.")]
    findings = _length(caption) + _tempo(caption, summary) + _key(caption, summary) + _meter(caption, summary)
    findings += _instruments(caption, summary, master_schema)
    findings += _leaks(caption, summary, master_schema, artist_name)
    return findings


def _length(caption: str) -> list[Finding]:
    out = []
    if len(caption) > MAX_CHARS:
        out.append(Finding("too_long", f"The caption is {len(caption)} characters; the limit is {MAX_CHARS}."))
    words = len(caption.split())
    if words < MIN_WORDS:
        out.append(Finding("too_short", f"The caption has {words} words; describe the track in at least {MIN_WORDS}.",
                           "warning"))
    return out


def _tempo(caption: str, summary: dict) -> list[Finding]:
    tempo = summary.get("tempo") or {}
    bpm = tempo.get("bpm")
    stated: list[float] = []
    rest = caption
    for match in _BPM_RANGE_RE.finditer(caption):
        stated += [float(match.group(1)), float(match.group(2))]
        rest = rest.replace(match.group(0), " ")
    stated += [float(m.group(1) or m.group(2)) for m in _BPM_RE.finditer(rest)]
    if not stated:
        return []
    if bpm is None:
        return [Finding("tempo_unverified", f"The caption says {_fmt_bpm(stated[0])} BPM but the set's tempo is "
                                            "unknown.", "warning")]
    low = float(tempo.get("min") if tempo.get("min") is not None else bpm)
    high = float(tempo.get("max") if tempo.get("max") is not None else bpm)
    low, high = min(low, high, float(bpm)), max(low, high, float(bpm))
    actual = f"{_fmt_bpm(low)}–{_fmt_bpm(high)} BPM" if high - low > BPM_TOLERANCE else f"{_fmt_bpm(float(bpm))} BPM"
    return [Finding("tempo_mismatch", f"The caption says {_fmt_bpm(value)} BPM but the set is {actual}.")
            for value in dict.fromkeys(stated)
            if not low - BPM_TOLERANCE <= value <= high + BPM_TOLERANCE]


def _key(caption: str, summary: dict) -> list[Finding]:
    actual = SetFacts.from_summary(summary).key  # e.g. "C# minor", or None: nothing to check against
    if not actual:
        return []
    tonic, actual_mode = actual.split()
    actual_pc = _pitch_class(tonic)
    out: list[Finding] = []
    keys = list(_KEY_RE.finditer(caption))
    for match in keys:
        tonic, accidental, mode_word, minor_m = match.groups()
        mode = _mode(mode_word) if mode_word else "minor"
        if _pitch_class(tonic, accidental or "") != actual_pc or mode != actual_mode:
            out.append(Finding("key_mismatch",
                               f"The caption says {match.group(0).strip()} but the set is in {actual}."))
    for match in _TONIC_ONLY_RE.finditer(caption):
        if _pitch_class(match.group(1), match.group(2) or "") != actual_pc:
            out.append(Finding("key_mismatch", f"The caption says the key of {match.group(1)}{match.group(2) or ''} "
                                               f"but the set is in {actual}."))
    for match in _MODE_ONLY_RE.finditer(caption):
        if any(k.start() <= match.start() < k.end() for k in keys):
            continue  # "A minor key": already checked with its tonic
        if match.group(1).lower() != actual_mode:
            out.append(Finding("mode_mismatch", f"The caption says {match.group(0)} but the set is in {actual}."))
    return out


def _meter(caption: str, summary: dict) -> list[Finding]:
    actual = summary.get("time_signature")
    out = []
    for num, den in dict.fromkeys(_METER_RE.findall(caption)):
        if int(num) < 2 or den not in ("2", "4", "8", "16"):
            continue  # "1/8 hats" is a note value, "24/7" not music
        stated = f"{int(num)}/{int(den)}"
        if not actual:
            out.append(Finding("meter_unverified", f"The caption says {stated} but the set's time signature is "
                                                   "unknown.", "warning"))
        elif stated != actual:
            out.append(Finding("meter_mismatch", f"The caption says {stated} time but the set is in {actual}."))
    return out


def claimed_instruments(caption: str, ignore: list[str] | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """(word as written, families that would support it) for each instrument the caption names.

    Genre names ("drum and bass") and the `ignore` phrases (the artist's own words
    from the profile) are not claims; neither is "no vocals".
    """
    text = _GENRES.sub(lambda m: " " * len(m.group(0)), caption.lower())
    for phrase in ignore or []:
        if phrase.strip():
            text = re.sub(rf"(?<!\w){re.escape(phrase.strip().lower())}(?!\w)", lambda m: " " * len(m.group(0)), text)
    out = []
    for match in _CLAIM_RE.finditer(text):
        clause = re.split(r"[.;:!?,(]", text[:match.start()])[-1]
        if _NEGATION.search(clause) or re.match(r"[- ]free\b", text[match.end():]):
            continue  # "no vocals", "without drums", "vocal-free"
        word = match.group(1)
        families = next(f for pattern, f in _CLAIM_FAMILIES if pattern.fullmatch(word))
        out.append((word, families))
    return out


def _instruments(caption: str, summary: dict, master_schema: dict | None) -> list[Finding]:
    supported = set(supported_families(summary, master_schema))
    schema = master_schema or {}
    ignore = [p for field in ("genres", "moods", "descriptors", "instruments") for p in schema.get(field) or []
              if isinstance(p, str)]
    out, seen = [], set()
    for word, families in claimed_instruments(caption, ignore):
        if word in seen or supported.intersection(families):
            continue
        seen.add(word)
        out.append(Finding("unsupported_instrument",
                           f"The caption mentions {word}, but no audible track, device, plugin or sample in the set "
                           "(nor the artist profile's instruments) suggests it.", "warning"))
    return out


def _leaks(caption: str, summary: dict, master_schema: dict | None, artist_name: str | None) -> list[Finding]:
    out = []
    lower = caption.casefold()
    for name in artist_names(master_schema, artist_name):
        if re.search(rf"(?<!\w){re.escape(name.casefold())}(?!\w)", lower):
            out.append(Finding("artist_name", f"The caption names the artist “{name}”; captions must not contain "
                                              "artist names."))
    for sample in summary.get("samples") or []:
        if not isinstance(sample, str) or not sample:
            continue
        stem = distinctive_stem(sample)
        if sample.casefold() in lower or (stem and re.search(rf"(?<!\w){re.escape(stem.casefold())}(?!\w)", lower)):
            out.append(Finding("sample_name", f"The caption contains the sample name “{sample}”."))
    for match in FILE_RE.finditer(caption):
        if not any(f.code == "sample_name" and match.group(0).casefold() in f.message.casefold() for f in out):
            out.append(Finding("file_name", f"The caption contains a file name (“{match.group(0)}”)."))
    for match in PATH_RE.finditer(caption):
        out.append(Finding("path", f"The caption contains a file path (“{match.group(0).strip()}”)."))
    return out
