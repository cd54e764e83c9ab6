"""Check a caption against the facts of its Ableton Live set.

A caption is training data: a wrong tempo or an invented saxophone teaches the
model something false. `check_caption` returns user-facing findings; it never
edits the caption. "error" findings contradict the set or break a rule (wrong
BPM, a file name); "warning" findings are claims the set cannot confirm. Blocking
findings (the artist's name, a sample or file name, a path, a URL) cannot be confirmed
away; the others need the user's confirmation before saving.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from trainmode.captions import text as ct
from trainmode.captions.text import (  # noqa: F401 (strip_markdown: public here)
    artist_names,
    distinctive_stem,
    strip_markdown,
)
from trainmode.sets.facts import EVIDENCE, SetFacts, audible_tracks, families_in, playing_track_names

MAX_CHARS = 512
MIN_WORDS = 10
BPM_TOLERANCE = 1.0
DETAILED_WORDS = (25, 60)  # the `detailed` variant: what audiocraft, Stable Audio and ACE-Step read as the caption
SHORT_MAX_WORDS = 15  # the `short` variant
TAGS_MIN, TAGS_MAX = 5, 15  # the `tags` variant: a comma-separated list
# Each variant's rule in words, as the Train page shows it beside the variant.
VARIANT_RULES = {
    "detailed": f"{DETAILED_WORDS[0]}–{DETAILED_WORDS[1]} words",
    "short": f"at most {SHORT_MAX_WORDS} words",
    "tags": f"{TAGS_MIN}–{TAGS_MAX} comma-separated tags",
}


# A caption with one of these cannot be saved, even confirmed: the user must edit it.
BLOCKING = frozenset({"artist_name", "sample_name", "file_name", "path", "url"})


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: str = "error"  # "error" | "warning"
    blocking: bool = False  # True: the caption cannot be saved until edited (see BLOCKING)

    def to_dict(self) -> dict:
        return asdict(self)


# ---- instrument vocabulary: trainmode.sets.facts (the families); here only the caption words ----
# Caption words (regex, lower case) -> the families any of which supports them.
# Longer phrases first: "bass drum" is drums, "lead vocals" is vocals.
_CLAIMS: list[tuple[str, tuple[str, ...]]] = [
    (
        r"bass drums?|kick drums?|drum kits?|drum machines?|drumbeats?|drums?|kicks?|snares?|hi-?hats?|hats|"
        r"claps?|cymbals?|toms|rimshots?|breakbeats?|909s?",
        ("drums",),
    ),
    (
        r"percussion|shakers?|tambourines?|congas?|bongos?|tablas?|cowbells?|djembes?|darbukas?|timbales|claves?",
        ("percussion", "drums"),
    ),
    (r"808s?", ("drums", "bass")),
    (
        r"lead vocals?|backing vocals?|vocal chops?|vocals?|vox|voices?|singers?|singing|sung|choirs?|choral|"
        r"chants?|chanting|rap|raps|rapping|rappers?|acapellas?|a cappella|spoken word|lyrics",
        ("vocals",),
    ),
    (r"bass guitars?|double bass|sub-?bass(?:es|lines?)?|bass(?:es|lines?)?", ("bass",)),
    (r"lead guitars?|guitars?", ("guitar",)),
    (
        r"synth(?:s|esi[sz]ers?)?|pads?|synth leads?|lead synths?|arps?|arpeggios?|arpeggiators?|plucks?|"
        r"stabs|supersaws?",
        ("synth", "pad", "lead"),
    ),
    (r"(?:grand |electric |upright |e-)?pianos?|rhodes|wurlitzers?|wurli", ("piano", "keys")),
    (r"keys|keyboards?", ("keys", "piano", "organ", "synth")),
    (r"organs?|hammond", ("organ",)),
    (r"plucked (?:strings|instruments)", ("plucked",)),
    (
        r"strings|string (?:sections?|ensembles?|pads?|lines?|quartets?|trios?|orchestras?)|"
        r"(?:chamber |symphony |string )?orchestras?|orchestral strings|violins?|violas?|cellos?|pizzicato",
        ("strings",),
    ),
    (r"brass|trumpets?|trombones?|horns?|horn sections?|tubas?|flugelhorns?", ("brass",)),
    (r"sax(?:es|ophones?)?", ("woodwinds",)),
    (r"flutes?|piccolos?", ("woodwinds",)),
    (r"clarinets?", ("woodwinds",)),
    (r"woodwinds?", ("woodwinds",)),
    (
        r"bells?|chimes?|marimbas?|vibraphones?|xylophones?|glockenspiels?|kalimbas?|mallets?|celestas?|"
        r"music box(?:es)?",
        ("bells",),
    ),
    (r"harps?", ("plucked",)),
    (r"sitars?", ("plucked",)),
    (
        r"banjos?|mandolins?|ukuleles?|kotos?|shamisens?|ouds?|lutes?|dulcimers?|zithers?|balalaikas?|bouzoukis?",
        ("plucked",),
    ),
    (r"accordions?|harmonicas?|bagpipes?|didgeridoos?|kazoos?", ("woodwinds",)),
    (r"erhus?", ("strings",)),
    (r"theremins?", ("synth",)),
    (r"steel ?drums?|steelpans?|handpans?", ("bells", "percussion")),
]
_CLAIM_RE = re.compile(r"\b(" + "|".join(f"(?:{pattern})" for pattern, _ in _CLAIMS) + r")\b")
_CLAIM_FAMILIES = [(re.compile(rf"(?:{pattern})"), families) for pattern, families in _CLAIMS]
# Genre names that contain instrument words but claim no instrument.
_GENRES = re.compile(
    r"drum\s*(?:and|&|n|'n'|’n’)\s*bass|future bass|bass house|bass music|uk bass|synth-?pop|"
    r"synth-?wave|synth-?punk|piano house|piano ballad|guitar music|organ house|vocal house|"
    r"vocal trance|brass band|string quartet music"
)
_NEGATION = re.compile(r"\b(?:no|without|lacking|absent|minus|sans|free of|not|never|zero)\b(?:\W+\w+){0,3}\W*$")


# ---- what the set supports --------------------------------------------------------
def evidence_names(summary: dict, *, samples: bool = True) -> list[str]:
    """Every name in the set that can support an instrument claim (the artist profile's are not)."""
    names: list[str] = []
    tracks = summary.get("tracks")
    playing = playing_track_names(summary)  # v2: only tracks that play in the arrangement are evidence
    if tracks:
        for track in audible_tracks(summary):
            if playing is not None and track.get("name") not in playing:
                continue
            names.append(track.get("name") or "")
            names += list(track.get("devices") or []) + list(track.get("plugins") or [])
    else:  # a summary without per-track detail: fall back to the set-wide lists
        names += list(summary.get("devices") or []) + list(summary.get("plugins") or [])
    if samples:
        names += list(summary.get("samples") or [])
    return [n for n in names if isinstance(n, str) and n]


def supported_families(summary: dict, *, samples: bool = True) -> list[str]:
    """Instrument families the set supports, in vocabulary order."""
    found: set[str] = set()
    for name in evidence_names(summary, samples=samples):
        found.update(families_in(name))
    return [family for family in EVIDENCE if family in found]


# ---- the checks ------------------------------------------------------------------------
def _facts(summary: dict) -> SetFacts:
    return SetFacts.from_summary(summary)


def check_caption(
    text: str, summary: dict, master_schema: dict | None = None, *, artist_name: str | None = None
) -> list[Finding]:
    """Findings for caption `text` against its set (empty list: nothing to report)."""
    return (_length(text) if (text or "").strip() else []) + _claims(text, summary, master_schema, artist_name)


def check_variants(
    variants: dict[str, str], summary: dict, master_schema: dict | None = None, *, artist_name: str | None = None
) -> dict[str, list[Finding]]:
    """The same check on every variant, with each variant's own length rule: `detailed` as a
    caption and 25–60 words (a warning), `short` at most 15 words, `tags` 5–15 tags; any other as a caption."""
    out = {}
    for name, text in variants.items():
        if name == "tags":
            tags = ct.split_tags(text)
            out[name] = _claims(ct.tags_as_prose(text), summary, master_schema, artist_name)
            if text.strip() and not TAGS_MIN <= len(tags) <= TAGS_MAX:
                out[name].append(
                    Finding(
                        "variant_length", f"The tag list has {len(tags)} tags; use {TAGS_MIN} to {TAGS_MAX}.", "warning"
                    )
                )
        elif name == "short":
            out[name] = _claims(text, summary, master_schema, artist_name)
            if len(text.split()) > SHORT_MAX_WORDS:
                out[name].append(
                    Finding(
                        "variant_length",
                        f"The short caption has {len(text.split())} words; keep it to {SHORT_MAX_WORDS}.",
                        "warning",
                    )
                )
        else:
            out[name] = check_caption(text, summary, master_schema, artist_name=artist_name)
            if name == "detailed":
                out[name] += _detailed_length(text)
    return out


def _detailed_length(text: str) -> list[Finding]:
    """A warning when the detailed variant is outside DETAILED_WORDS (an empty one is already a finding)."""
    low, high = DETAILED_WORDS
    words = len(text.split())
    if not text.strip() or low <= words <= high:
        return []
    aim = "say more of what is heard: instruments, sections, production" if words < low else "shorten it"
    return [
        Finding(
            "variant_length",
            f"The detailed caption has {words} words; the detailed variant is {low} to {high} words ({aim}).",
            "warning",
        )
    ]


def _claims(text: str, summary: dict, master_schema: dict | None, artist_name: str | None) -> list[Finding]:
    text = text or ""
    if not text.strip():
        return [Finding("empty", "The caption is empty.")]
    facts = _facts(summary or {})
    findings = _tempo(text, facts) + _tempo_words(text, facts) + _key(text, facts) + _meter(text, facts)
    findings += _instruments(text, summary or {}, facts, master_schema)
    return findings + _leaks(text, summary or {}, master_schema, artist_name)


def _length(caption: str) -> list[Finding]:
    out = []
    if len(caption) > MAX_CHARS:
        out.append(Finding("too_long", f"The caption is {len(caption)} characters; the limit is {MAX_CHARS}."))
    words = len(caption.split())
    if words < MIN_WORDS:
        out.append(
            Finding(
                "too_short", f"The caption has {words} words; describe the track in at least {MIN_WORDS}.", "warning"
            )
        )
    return out


def _stated_bpms(caption: str) -> list[float]:
    stated: list[float] = []
    rest = caption
    for match in ct.BPM_RANGE_RE.finditer(caption):
        stated += [float(match.group(1)), float(match.group(2))]
        rest = rest.replace(match.group(0), " ")
    return stated + [float(m.group(1) or m.group(2)) for m in ct.BPM_RE.finditer(rest)]


def _tempo(caption: str, facts) -> list[Finding]:
    """A stated tempo must be one the set holds (v2: a tempo-map point or the dominant tempo;
    v1, which has only min and max, anything between them)."""
    stated, values = _stated_bpms(caption), facts.tempo_values
    change = ct.says_change(caption, "tempo")
    if change and values and not facts.tempo_changes:
        return [
            Finding("tempo_change_unsupported", f"The caption says “{change}” but the set keeps one tempo.", "warning")
        ] + _tempo(caption.replace(change, " "), facts)
    if not stated:
        return []
    if not values:
        return [
            Finding(
                "tempo_unverified",
                f"The caption says {ct.fmt_bpm(stated[0])} BPM but the set's tempo is unknown.",
                "warning",
            )
        ]
    low, high = values[0], values[-1]
    if facts.tempo_map:

        def ok(value: float) -> bool:
            return any(abs(value - v) <= BPM_TOLERANCE for v in values)
    else:

        def ok(value: float) -> bool:
            return low - BPM_TOLERANCE <= value <= high + BPM_TOLERANCE

    low_s, high_s = ct.fmt_bpm(round(low, 2)), ct.fmt_bpm(round(high, 2))
    if not facts.tempo_changes:
        actual = f"{low_s} BPM"
    elif facts.bpm is not None:
        actual = f"mostly {facts.bpm} BPM, changing between {low_s} and {high_s}"
    else:
        actual = f"{low_s}–{high_s} BPM"
    return [
        Finding("tempo_mismatch", f"The caption says {ct.fmt_bpm(value)} BPM but the set is {actual}.")
        for value in dict.fromkeys(stated)
        if not ok(value)
    ]


def _tempo_words(caption: str, facts) -> list[Finding]:
    """ "slow" or "fast" for the track's tempo must fit every tempo the set plays (a warning: the
    words are loose, the BPM is exact)."""
    values = facts.tempo_values
    return [
        Finding(
            "tempo_word_mismatch",
            f"The caption calls the tempo {word.lower()} but the set plays at {ct.fmt_bpm(round(values[0], 2))}"
            + (f"–{ct.fmt_bpm(round(values[-1], 2))}" if values[-1] != values[0] else "")
            + " BPM.",
            "warning",
        )
        for word in dict.fromkeys(m.group(1).lower() for m in ct.TEMPO_WORD_RE.finditer(caption))
        if values and not any(ct.fits_tempo(word, v) for v in values)
    ]


def _key(caption: str, facts) -> list[Finding]:
    keys = list(ct.KEY_RE.finditer(caption))
    tonic_only = list(ct.TONIC_ONLY_RE.finditer(caption))
    if not facts.key:
        stated = [m.group(0).strip() for m in keys] + [f"the key of {m.group(1)}{m.group(2) or ''}" for m in tonic_only]
        return (
            [
                Finding(
                    "key_unverified",
                    f"The caption says {stated[0]} but the set's key could not be determined.",
                    "warning",
                )
            ]
            if stated
            else []
        )
    tonic, actual_mode = facts.key.rsplit(" ", 1)
    actual_pc, actual = ct.pitch_class(tonic), facts.key
    out: list[Finding] = []
    for match in keys:
        letter, accidental, mode_word, _minor_m = match.groups()
        mode = ct.mode_of(mode_word) if mode_word else "minor"
        if ct.pitch_class(letter, accidental or "") != actual_pc or mode != actual_mode:
            out.append(
                Finding("key_mismatch", f"The caption says {match.group(0).strip()} but the set is in {actual}.")
            )
    for match in tonic_only:
        if ct.pitch_class(match.group(1), match.group(2) or "") != actual_pc:
            out.append(
                Finding(
                    "key_mismatch",
                    f"The caption says the key of {match.group(1)}{match.group(2) or ''} but the set is in {actual}.",
                )
            )
    for match in ct.MODE_ONLY_RE.finditer(caption):
        if any(k.start() <= match.start() < k.end() for k in keys):
            continue  # "A minor key": already checked with its tonic
        if match.group(1).lower() != actual_mode:
            out.append(Finding("mode_mismatch", f"The caption says {match.group(0)} but the set is in {actual}."))
    return out


def _meter(caption: str, facts) -> list[Finding]:
    change = ct.says_change(caption, "meter")
    out = (
        [Finding("meter_change_unsupported", f"The caption says “{change}” but the set keeps one meter.", "warning")]
        if change and len(facts.meters) == 1
        else []
    )
    for num, den in dict.fromkeys(ct.METER_RE.findall(caption)):
        if int(num) < 2 or den not in ("2", "4", "8", "16"):
            continue  # "1/8 hats" is a note value, "24/7" not music
        stated = f"{int(num)}/{int(den)}"
        if not facts.meters:
            out.append(
                Finding(
                    "meter_unverified", f"The caption says {stated} but the set's time signature is unknown.", "warning"
                )
            )
        elif stated not in facts.meters:
            out.append(
                Finding(
                    "meter_mismatch", f"The caption says {stated} time but the set is in {' and '.join(facts.meters)}."
                )
            )
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
        clause = re.split(r"[.;:!?,(]", text[: match.start()])[-1]
        if _NEGATION.search(clause) or re.match(r"[- ]free\b", text[match.end() :]):
            continue  # "no vocals", "without drums", "vocal-free"
        word = match.group(1)
        families = next(f for pattern, f in _CLAIM_FAMILIES if pattern.fullmatch(word))
        out.append((word, families))
    return out


def _instruments(caption: str, summary: dict, facts, master_schema: dict | None) -> list[Finding]:
    """Every instrument named must be in the set; the profile's instruments are not evidence
    (an artist who often plays guitar did not necessarily play it on this set)."""
    supported = set(facts.instruments) | set(supported_families(summary))
    schema = master_schema or {}
    ignore = [p for field in ("genres", "moods", "descriptors") for p in schema.get(field) or [] if isinstance(p, str)]
    out, seen = [], set()
    for word, families in claimed_instruments(caption, ignore):
        if word in seen or supported.intersection(families):
            continue
        seen.add(word)
        out.append(
            Finding(
                "unsupported_instrument",
                f"The caption mentions {word}, but no audible track, device, plugin or sample in the set suggests it.",
                "warning",
            )
        )
    return out


# "in the style of Daft Punk": a capitalised name after a phrase that compares the track to
# someone. Captions describe this set's sound; naming another artist teaches the model a name.
_OTHER_ARTIST_RE = re.compile(
    r"\b(?:in the (?:style|vein|manner|spirit) of|(?:reminiscent|evocative) of|inspired by|influenced by|"
    r"sounds? like|à la|a la)\s+((?:the\s+)?[A-Z][\w'’&-]*(?:\s+(?:[A-Z][\w'’&-]*|&|and|of|the))*)"
)


# A capitalised place or scene before a lowercase noun is a genre ("Chicago house", "UK garage"),
# unless that word only goes on with the sentence ("... of Daft Punk with soft keys").
_GOES_ON = frozenset("with and but or over under in on at for to from by as while then that which its".split())


def _other_artists(caption: str) -> list[Finding]:
    out = []
    for match in _OTHER_ARTIST_RE.finditer(caption):
        following = re.match(r"\s+([a-z][\w-]*)", caption[match.end() :])
        if following and following.group(1) not in _GOES_ON:
            continue
        name = re.sub(r"\s+(?:&|and|of|the)$", "", match.group(1).strip())
        out.append(
            Finding(
                "other_artist",
                f"The caption compares the track to “{name}”; describe the sound itself, not another artist.",
                "warning",
            )
        )
    return out


def _leaks(caption: str, summary: dict, master_schema: dict | None, artist_name: str | None) -> list[Finding]:
    out = _other_artists(caption)
    lower = caption.casefold()
    for name in artist_names(master_schema, artist_name):
        if re.search(rf"(?<!\w){re.escape(name.casefold())}(?!\w)", lower):
            out.append(
                Finding(
                    "artist_name", f"The caption names the artist “{name}”; captions must not contain artist names."
                )
            )
    for sample in summary.get("samples") or []:
        if not isinstance(sample, str) or not sample:
            continue
        stem = distinctive_stem(sample)
        if sample.casefold() in lower or (stem and re.search(rf"(?<!\w){re.escape(stem.casefold())}(?!\w)", lower)):
            out.append(Finding("sample_name", f"The caption contains the sample name “{sample}”."))
    for match in ct.FILE_RE.finditer(caption):
        if not any(f.code == "sample_name" and match.group(0).casefold() in f.message.casefold() for f in out):
            out.append(Finding("file_name", f"The caption contains a file name (“{match.group(0)}”)."))
    for match in ct.PATH_RE.finditer(caption):
        out.append(Finding("path", f"The caption contains a file path (“{match.group(0).strip()}”)."))
    for match in ct.URL_RE.finditer(caption):
        out.append(Finding("url", f"The caption contains a web address (“{match.group(0)}”)."))
    return [replace(f, blocking=True) if f.code in BLOCKING else f for f in out]
