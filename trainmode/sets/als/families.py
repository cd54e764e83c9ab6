"""The instrument vocabulary: a small fixed list of families and the words that point to them.

A name (track, device, plug-in, sample) is evidence for a family when one of the family's
terms matches it. A term matches at the start of a word; terms of 3 characters or fewer, or
starting with "=", must be the whole word (plural allowed); "^" terms must be the whole name
(Live's "Electric" device, not "Electric Guitar"). The terms know Live's own devices (Operator,
Tension, Collision, Electric, Impulse, Drum Rack ...), Max for Live instruments, common
third-party plug-ins (Serum, Massive, Kontakt libraries, AmpliTube, Melodyne ...) and a few
Italian words (the corpus has them). Samplers (Simpler, Sampler, Kontakt) and External
Instrument name no family: what they play comes from the track or sample names.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The families, in the order consumers list them when there is no better order.
FAMILIES = (
    "drums",
    "percussion",
    "bass",
    "synth",
    "pad",
    "lead",
    "keys",
    "piano",
    "organ",
    "guitar",
    "strings",
    "brass",
    "woodwinds",
    "vocals",
    "bells",
    "plucked",
    "fx",
)

EVIDENCE: dict[str, tuple[str, ...]] = {
    "drums": (
        "drum",
        "kick",
        "snare",
        "hihat",
        "=hat",
        "=hh",
        "clap",
        "cymbal",
        "=tom",
        "=ride",
        "crash",
        "808",
        "909",
        "707",
        "break",
        "=kit",
        "=bd",
        "=sd",
        "kck",
        "snr",
        "drm",
        "impulse",
        "battery",
        "maschine",
        "cassa",
        "batteria",
        "rull",
        "punch bd",
        "groove agent",
        "superior drummer",
        "ezdrummer",
        "addictive drums",
        "=beat",
        "=beats",
        "=top",
        "=tops",
    ),
    "percussion": (
        "perc",
        "shaker",
        "tamb",
        "conga",
        "bongo",
        "tabla",
        "cowbell",
        "djembe",
        "darbu",
        "darbo",
        "clave",
        "=rim",
        "timbal",
        "=guiro",
        "cajon",
    ),
    "bass": ("bass", "=sub", "reese", "sublab", "trilian", "=basso", "ampeg"),
    "synth": (
        "synth",
        "synt",
        "operator",
        "wavetable",
        "instrument vector",
        "analog",
        "^drift",
        "meld",
        "serum",
        "^massive",
        "massive x",
        "diva",
        "sylenth",
        "spire",
        "vital",
        "omnisphere",
        "nexus",
        "zebra",
        "repro",
        "=hive",
        "pigments",
        "mini v",
        "minimoog",
        "moog",
        "jup",
        "juno",
        "prophet",
        "pro 53",
        "dx7",
        "dexed",
        "fm8",
        "absynth",
        "razor",
        "reaktor",
        "rapture",
        "albino",
        "obxd",
        "surge",
        "phase plant",
        "avenger",
        "monark",
        "retrologue",
        "=arp",
        "pluck",
        "=saw",
        "=stab",
        "polysynth",
        "=poli",
        "granulator",
        "vector fm",
        "vector grain",
        "=emit",
        "lusus",
        "theremin",
        "=chord",
    ),
    "pad": ("=pad", "=pads", "atmo", "ambient", "drone", "=texture", "=strings pad"),
    "lead": ("=lead", "=leads", "=hook", "=melody", "=mel", "=topline"),
    "keys": ("=keys", "=keyboard", "keyscape", "=clav", "clavinet"),
    "piano": (
        "piano",
        "=pno",
        "pianoteq",
        "grand",
        "una corda",
        "noire",
        "ivory",
        "rhodes",
        "wurli",
        "lounge lizard",
        "loungelizard",
        "electric piano",
        "e piano",
        "epiano",
        "^electric",
        "=tine",
    ),
    "organ": ("organ", "hammond", "=b3", "vb3", "leslie"),
    "guitar": (
        "guitar",
        "=gt",
        "=gtr",
        "chitarr",
        "gitarr",
        "amplitube",
        "guitar rig",
        "bias fx",
        "nylon",
        "strum",
        "=strat",
    ),
    "strings": ("string", "violin", "viola", "cello", "orchestr", "spitfire", "albion", "pizz", "^tension", "erhu"),
    "brass": ("brass", "trumpet", "trombone", "horn", "tuba", "=tpt", "flugel"),
    "woodwinds": (
        "sax",
        "flute",
        "flaut",
        "piccolo",
        "clarinet",
        "oboe",
        "bassoon",
        "woodwind",
        "accordion",
        "harmonica",
        "bagpipe",
        "didgeridoo",
        "kazoo",
        "recorder flute",
    ),
    "vocals": (
        "vocal",
        "=vox",
        "=voc",
        "voice",
        "=voce",
        "choir",
        "=sing",
        "singing",
        "singer",
        "=rap",
        "acapella",
        "a cappella",
        "adlib",
        "=bv",
        "=bvs",
        "chant",
        "melodyne",
        "autotune",
        "auto tune",
        "waves tune",
        "nectar",
        "=lyrics",
    ),
    "bells": (
        "bell",
        "chime",
        "marimba",
        "vibraphone",
        "xylo",
        "glock",
        "kalimba",
        "mallet",
        "celest",
        "music box",
        "^collision",
        "tree tone",
        "steelpan",
        "steel drum",
        "handpan",
    ),
    "plucked": (
        "harp",
        "sitar",
        "sytar",
        "banjo",
        "mandolin",
        "ukulele",
        "koto",
        "shamisen",
        "=oud",
        "=lute",
        "dulcimer",
        "zither",
        "balalaika",
        "bouzouki",
    ),
    "fx": ("=fx", "=sfx", "riser", "sweep", "impact", "uplift", "downlift", "whoosh", "=noise", "transition"),
}

# The words captions and the dataset use for each family.
FAMILY_LABELS = {family: family for family in FAMILIES} | {
    "synth": "synths",
    "pad": "pads",
    "fx": "effects",
    "plucked": "plucked strings",
}


def words_of(name: str) -> str:
    """'KickDrum_01.wav' -> 'kick drum 01 wav': lower-case words of a track/device/file name."""
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    name = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", name)
    return " ".join(re.findall(r"[a-z0-9]+", name.lower()))


def _evidence_regex(term: str) -> str:
    body = re.escape(words_of(term.lstrip("=^")))
    if term.startswith("^"):
        return rf"^{body}$"
    exact = term.startswith("=") or len(term) <= 3
    return rf"\b{body}(?:s|es)?\b" if exact else rf"\b{body}"


_EVIDENCE_RES = {family: re.compile("|".join(_evidence_regex(t) for t in terms)) for family, terms in EVIDENCE.items()}


def families_in(name: str) -> list[str]:
    """Instrument families a name is evidence for, in vocabulary order ('Sub Bass' -> ['bass'])."""
    return list(_families_in(name))


@lru_cache(maxsize=8192)  # sets repeat names (tracks, samples, devices) many times
def _families_in(name: str) -> tuple[str, ...]:
    # Both 'ampli tube' (camel case split, for 'KickDrum') and 'amplitube' (as written).
    texts = {words_of(name), " ".join(re.findall(r"[a-z0-9]+", name.lower()))}
    return tuple(family for family, pattern in _EVIDENCE_RES.items() if any(pattern.search(t) for t in texts))


def label(family: str) -> str:
    return FAMILY_LABELS.get(family, family)


# A voice cannot come out of an instrument: a track named "Voice" that plays Tension (a modelled
# string) or a synth plays that instrument. Other names say the part an instrument plays (a
# "Nylon Guitar" preset on Tension is a guitar; an "Electric Piano" on Collision a piano; a
# "Colliding Pad" a pad), so they stand. Vocal processors (Auto-Tune, Melodyne) are vocal
# evidence, not an instrument.
NAMES_AN_INSTRUMENT_OVERRULES = frozenset({"vocals"})
SYNTH_PARTS = frozenset({"synth", "pad", "lead", "keys", "fx"})
# A pitched part whose notes all lie in MIDI 24-47 (Live's C0 to B1, 33-123 Hz) is a bass line;
# lower notes are triggers, and one repeated pitch is a one-shot, not a line.
BASS_PITCHES = range(24, 48)


def _found(names) -> set[str]:
    return {f for name in names if isinstance(name, str) for f in families_in(name)}


def bass_line(pitch_min: int | None, pitch_max: int | None, drum_instrument: bool) -> bool:
    """Notes that make a part a bass: at least two pitches, all in the bass register, not on a drum rack."""
    return (
        not drum_instrument
        and pitch_min is not None
        and pitch_max is not None
        and pitch_min < pitch_max
        and pitch_min in BASS_PITCHES
        and pitch_max in BASS_PITCHES
    )


def evidence_families(
    name: str,
    group: str | None,
    samples: list[str],
    devices: list[str],
    *,
    bass_notes: bool = False,
    recorded: bool = True,
) -> list[str]:
    """A track's instrument families: its own evidence first, its group's name last.

    The name says the part: the track's own name, else the samples its instrument plays
    (`recorded` False: Simpler, Sampler). An instrument device overrules a name that says vocals
    (a "Voice" track holding Tension plays strings), and `bass_notes` (bass_line) make a synth's
    part a bass whatever it is called (an "808" track playing a sub-bass synth at MIDI 33-44).
    A track whose name says nothing takes its devices' families ("R Gt" in a group "Chords" plays
    Guitar Rig: a guitar, not a synth); its group's name says the part only when the track has no
    device, or only a synth (which plays any part: a Serum track in "Bass" is the bass), and
    before the names of recorded samples (audio clips: often bounces named after another part, or
    a download's title)."""
    by_device = _found(devices)
    named = _found([name]) or (set() if recorded else _found(samples))
    if not named and by_device <= SYNTH_PARTS:  # nothing, or a synth, which plays any part
        named = _found([group or ""])
    if not named and not by_device:
        named = _found(samples)
    plays_synth = bool(by_device & (SYNTH_PARTS | {"bass"}))
    if bass_notes and (plays_synth or not named & {"drums", "percussion"}):
        named = (named - SYNTH_PARTS - {"drums", "percussion"}) | {"bass"}
        by_device -= SYNTH_PARTS
    instrument = by_device - {"vocals"}
    if named and named <= NAMES_AN_INSTRUMENT_OVERRULES and instrument:
        found = instrument
    else:
        found = named or by_device
    return [f for f in FAMILIES if f in found]
