"""Phrases the offline writer builds captions from, each stating one fact of the set.

Every phrase has several wordings; `rng` (a `Wording`, seeded from the set's facts) picks one,
so the same set always reads the same and different sets read differently, and one caption
never uses a connective twice ("centred on drums ..., centred on 138 BPM"). Nothing here adds a
claim the facts do not make: no mood or energy from the tempo, no adjectives on
instruments, no key unless it is determined, BPM as whole numbers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from random import Random

from trainmode.sets.facts import SetFacts

# The words a caption uses for each instrument family (v1 and v2 vocabularies).
LABELS = {
    "synth": "synths",
    "pad": "pads",
    "lead": "lead synths",
    "keys": "keys",
    "fx": "sound effects",
    "bells": "bells",
    "woodwinds": "woodwinds",
    "plucked": "plucked strings",
}
_SINGULAR = {
    "bass",
    "brass",
    "percussion",
    "piano",
    "organ",
    "guitar",
    "saxophone",
    "flute",
    "clarinet",
    "harp",
    "sitar",
    "violin",
    "cello",
    "harpsichord",
    "choir",
    "acoustic guitar",
    "reverb",
    "delay",
    "chorus",
}
NOUNS = ("track", "piece", "cut", "production", "arrangement", "tune", "composition")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")

# The words that link a phrase to the caption (verbs, prepositions of the phrase tables below).
# One caption says each at most once: "centred on drums and synths, centred on 138 BPM" reads
# as a template, and a model learns the template. Verb forms count as one ("enters", "enter").
CONNECTIVES = re.compile(
    r"\b(?:centred on|built around|driven by|led by|anchored by|up front|at its core|in the lead|takes? the lead|"
    r"carr(?:y|ies)|with|leanings|edge|throughout|clocked|running|rooted in|set in|"
    r"in the key of|mostly|chang(?:e|es|ing)|shifting|opens|enters?|arrives?|joins?|adds?|brings? in|"
    r"takes? over|strips? back|thins? out|leaves? only|drops? out|falls? away|fills? out|further back|"
    r"rounds? out|also|colours?|shapes?|leans on|include|plays?|moves? along|runs|then|after which|later|"
    r"after that|introduces?|loses?|go(?:es)? without)\b",
    re.IGNORECASE,
)


_IRREGULAR = {"carries": "carry", "goes": "go", "changes": "change", "changing": "change", "leanings": "leanings"}


def connectives(text: str) -> set[str]:
    """The connectives in `text`, each in one form ("enters" and "enter", "carries" and "carry")."""
    out = set()
    for match in CONNECTIVES.finditer(text):
        first, *rest = match.group(0).lower().split()
        first = _IRREGULAR.get(first, first[:-1] if first.endswith("s") else first)
        out.add(" ".join([first, *rest]))
    return out


class Wording(Random):
    """The Random the phrases draw their wording from, for one caption at a time: `choice`
    among wordings (strings) skips those whose connective the caption already used (while any
    is left), and remembers the one it picks; `said` records a fixed text's; `new_caption`
    forgets them. Other draws are Random's, so the same seed gives the same caption."""

    def __init__(self, seed: int):
        super().__init__(seed)
        self.used: set[str] = set()

    def choice(self, seq):
        if not seq or not all(isinstance(x, str) for x in seq):
            return super().choice(seq)
        fresh = [x for x in seq if not connectives(x) & self.used] or list(seq)
        return self.said(super().choice(fresh))

    def said(self, text: str) -> str:
        self.used |= connectives(text)
        return text

    def new_caption(self) -> None:
        self.used = set()


def label(family: str) -> str:
    return LABELS.get(family, family)


def join(words) -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def plural(families) -> bool:
    """Families or caption words: 'drums', 'strings', 'female vocals' are plural; 'piano', 'bass' not."""
    families = list(families)
    if len(families) != 1:
        return len(families) > 1
    word = label(families[0])
    return word.endswith("s") and word not in _SINGULAR


def verb(families, singular: str, plural_form: str) -> str:
    return plural_form if plural(families) else singular


def an(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


# ---- tempo, key, meter -------------------------------------------------------------------
def tempo_at(rng: Random, f: SetFacts) -> str:
    """'at 122 BPM' and the like; '' when the tempo is unknown."""
    if f.bpm is not None and not f.tempo_changes:
        return rng.choice(
            (
                f"at {f.bpm} BPM",
                f"at {f.bpm} beats per minute",
                f"clocked at {f.bpm} BPM",
                f"running at {f.bpm} BPM",
            )
        )
    if f.tempo_low is None:
        return ""
    if f.bpm is not None:
        return rng.choice(
            (
                f"mostly at {f.bpm} BPM, with tempo changes",
                f"centred on {f.bpm} BPM while the tempo changes",
                f"at a mostly {f.bpm} BPM pace that changes along the way",
            )
        )
    return rng.choice(
        (
            f"with the tempo changing from {f.tempo_low} to {f.tempo_high} BPM",
            f"with tempo changes between {f.tempo_low} and {f.tempo_high} BPM",
            f"at a shifting tempo ({f.tempo_low} to {f.tempo_high} BPM)",
        )
    )


def key_phrase(rng: Random, f: SetFacts) -> str:
    if not f.key:
        return ""
    return rng.choice((f"in {f.key}", f"in the key of {f.key}", f"set in {f.key}", f"rooted in {f.key}"))


def meter_phrase(rng: Random, f: SetFacts, *, always: bool = False) -> str:
    """The meter when it is not plain 4/4 (or `always`)."""
    if f.meter_changes:
        if len(f.meters) <= 3:
            return rng.choice((f"shifting between {join(f.meters)} time", f"with meter changes ({join(f.meters)})"))
        return rng.choice(("with frequent meter changes", f"through {len(f.meters)} different meters"))
    if f.meter and (f.meter != "4/4" or always):
        return rng.choice((f"in {f.meter}", f"in {f.meter} time", f"with {an(f.meter)} meter"))
    return ""


def tempo_tag(f: SetFacts) -> list[str]:
    """The tempo as tags, once: '124 bpm', or 'tempo changes' with the main tempo."""
    if f.tempo_changes:
        return ["tempo changes"] + ([f"{f.bpm} bpm"] if f.bpm is not None else [])
    return [f"{f.bpm} bpm"] if f.bpm is not None else []


def tempo_feel(f: SetFacts) -> str:
    """'mid-tempo' and the like: only to fill a tag list that would be too short."""
    if f.bpm is None or f.tempo_changes:
        return ""
    return "slow tempo" if f.bpm < 90 else "mid-tempo" if f.bpm < 120 else "uptempo" if f.bpm < 150 else "fast tempo"


def numbers_phrase(rng: Random, f: SetFacts) -> str:
    """Tempo, key and an unusual meter in one clause ('at 124 BPM in A minor'); '' when none is known.
    The one place a caption states numbers: 4/4 is the default and goes unsaid."""
    return ", ".join(x for x in (tempo_at(rng, f), key_phrase(rng, f), meter_phrase(rng, f)) if x)


# ---- instruments and the arrangement --------------------------------------------------------
def lead_phrase(rng: Random, lead: list[str]) -> str:
    """'built around drums and bass' and the like."""
    words = join(label(x) for x in lead)
    return rng.choice(
        (
            f"built around {words}",
            f"driven by {words}",
            f"centred on {words}",
            f"led by {words}",
            f"with {words} up front",
            f"anchored by {words}",
        )
    )


def support_phrase(rng: Random, rest: list[str]) -> str:
    if not rest:
        return ""
    words = join(label(x) for x in rest)
    return rng.choice(
        (
            f"{words} {verb(rest, 'fills', 'fill')} out the mix",
            f"{words} {verb(rest, 'sits', 'sit')} further back",
            f"{words} {verb(rest, 'adds', 'add')} support",
            f"{words} {verb(rest, 'rounds', 'round')} out the arrangement",
            f"there {verb(rest, 'is', 'are')} also {words}",
        )
    )


def _where(section, index: int, named_before: set[str]) -> str:
    """A section as a caption names it: its locator name ("the chorus"), else its place ("the
    third section"), one word for one idea across the dataset (not "part three" beside it)."""
    if section.name and section.name not in named_before:
        return f"the {section.name}"
    return f"the {ORDINALS[index]} section" if index < len(ORDINALS) else "a later section"


def arrangement_sentences(
    rng: Random, f: SetFacts, lead: list[str], names: dict[str, str] | None = None, hidden=frozenset()
) -> tuple[list[str], set[str]]:
    """What enters and drops out between sections (v2), or the named sections (v1), and the
    instruments (caption words) these sentences name. The opening section is described unless it
    is just the `lead` instruments already named. `names` says a family the way the caption does
    ("strings" -> "violin"); `hidden` families (not heard in the render) are left out."""
    names = names or {}
    sections = [
        replace(s, instruments=tuple(names.get(i, i) for i in s.instruments if i not in hidden)) for s in f.sections
    ]
    if len(sections) < 2:
        return [], set()
    if not any(s.instruments for s in sections):
        return _named_sections(rng, sections), set()
    first = list(sections[0].instruments)
    out, named = [], set()
    if first and not set(first) <= set(lead):
        out.append(_opening(rng, first, lead))
        named |= set(first)
    seen: set[str] = {sections[0].name} if sections[0].name else set()
    events = []
    for i in range(1, min(len(sections), len(ORDINALS))):
        where = _where(sections[i], i, seen)
        seen.add(sections[i].name or "")
        before, now = list(sections[i - 1].instruments), list(sections[i].instruments)
        event = _change(rng, before, now, where)
        if event and len(events) < 3:
            events.append(event)
            changed = set(before) ^ set(now)
            thinned = changed <= set(before) and 0 < len(now) <= 2  # "strips back to just bass and drums"
            named |= changed | (set(now) if thinned else set())
    if events:
        joined = events[0]
        for event in events[1:]:  # each joiner once: ", then ... , then ..." reads as a template
            joined += rng.choice((", then ", ", after which ", "; later, ", ", and after that ")) + event
        out.append(joined)
    return out, named


def _opening(rng: Random, first: list[str], lead: list[str]) -> str:
    """What the first section holds; when the caption led with some of it, only the others, as
    joining them ("synths and drums carry ... At the start, bass and percussion play with them"),
    so that no instrument is named twice in a row."""
    extra = [i for i in first if i not in lead]
    x, are = join(label(i) for i in extra), verb(extra, "is", "are")
    if len(extra) < len(first):
        play = verb(extra, "plays", "play")
        options = (
            f"From the start, {x} {play} with them",
            f"The first section also has {x}",
            f"At the start {x} {play} too",
        )
    else:
        options = (f"It opens with {x}", f"The first section has {x}", f"At the start there {are} {x}")
    return rng.choice(options)


def _change(rng: Random, before: list[str], now: list[str], where: str) -> str:
    """One clause for what changes from one section to the next ('' when nothing does)."""
    entered = [x for x in now if x not in before]
    dropped = [x for x in before if x not in now]
    ins, outs = join(label(x) for x in entered), join(label(x) for x in dropped)
    if entered and dropped:
        return rng.choice(
            (
                f"{where} brings in {ins} while {outs} {verb(dropped, 'drops', 'drop')} out",
                f"{ins} {verb(entered, 'takes', 'take')} over from {outs} in {where}",
            )
        )
    if entered:
        joins = (("enters", "enter"), ("arrives", "arrive"), ("joins", "join"))
        return rng.choice(
            [f"{ins} {verb(entered, *v)} in {where}" for v in joins]
            + [f"{where} adds {ins}", f"{where} introduces {ins}"]
        )
    if dropped and 0 < len(now) <= 2:
        left = join(label(x) for x in now)
        return rng.choice(
            (f"{where} strips back to just {left}", f"{where} thins out to {left}", f"{where} leaves only {left}")
        )
    if dropped:
        leaves = (("drops out", "drop out"), ("falls away", "fall away"))
        return rng.choice(
            [f"{outs} {verb(dropped, *v)} in {where}" for v in leaves]
            + [f"{where} loses {outs}", f"{where} goes without {outs}"]
        )
    return ""


def _named_sections(rng: Random, sections) -> list[str]:
    """The order of the named sections ('' with fewer than two names: a count says nothing)."""
    names = list(dict.fromkeys(s.name for s in sections if s.name))
    if len(names) < 2:
        return []
    words = join(f"the {n}" for n in names[:4])
    return [
        rng.choice(
            (
                f"It moves through {words}",
                f"Its sections take in {words}",
                f"The structure runs through {words}",
            )
        )
    ]


def texture_phrase(rng: Random, f: SetFacts) -> str:
    """For sets whose instruments cannot be named: what kind of parts there are."""
    if f.audio_tracks and f.midi_tracks:
        return rng.choice(("recorded audio mixed with programmed parts", "a blend of recorded and programmed parts"))
    if f.audio_tracks:
        return rng.choice(("recorded audio layers", "layers of recorded audio"))
    if f.midi_tracks:
        return rng.choice(("programmed parts", "sequenced, programmed parts"))
    return ""


def texture_tag(f: SetFacts) -> str:
    if f.audio_tracks and f.midi_tracks:
        return "recorded and programmed parts"
    return "recorded audio" if f.audio_tracks else "programmed parts" if f.midi_tracks else ""


# ---- effects: what the set's own devices do to the sound --------------------------------------
# Live's built-in effects -> what a listener would call them (brand plug-ins are never named).
EFFECTS = {
    "Reverb": "reverb",
    "Hybrid Reverb": "reverb",
    "Convolution Reverb": "reverb",
    "Ping Pong Delay": "ping-pong delay",
    "Simple Delay": "delay",
    "Delay": "delay",
    "Filter Delay": "filtered delay",
    "Grain Delay": "grainy delay",
    "Echo": "echo",
    "Beat Repeat": "stuttering repeats",
    "Saturator": "saturation",
    "Overdrive": "overdrive",
    "Dynamic Tube": "tube saturation",
    "Amp": "amp distortion",
    "Pedal": "pedal distortion",
    "Erosion": "digital grit",
    "Vinyl Distortion": "vinyl crackle",
    "Redux": "bit-crushing",
    "Roar": "distortion",
    "Auto Filter": "filter sweeps",
    "Chorus": "chorus",
    "Chorus-Ensemble": "chorus",
    "Flanger": "flanging",
    "Phaser": "phasing",
    "Phaser-Flanger": "phasing",
    "Auto Pan": "auto-panning",
    "Frequency Shifter": "frequency shifting",
    "Vocoder": "vocoder",
}
MAX_EFFECTS = 3


def effects(tracks: list[dict]) -> list[str]:
    """The effects on the audible `tracks`, the most used first (at most MAX_EFFECTS)."""
    used: dict[str, int] = {}
    for track in tracks:
        for device in dict.fromkeys(d for d in track.get("devices") or [] if isinstance(d, str)):
            if device in EFFECTS:
                used[EFFECTS[device]] = used.get(EFFECTS[device], 0) + 1
    return sorted(used, key=lambda e: -used[e])[:MAX_EFFECTS]


def effects_sentence(rng: Random, found: list[str]) -> str:
    if not found:
        return ""
    words = join(found)
    return rng.choice(
        (
            f"{words} {verb(found, 'colours', 'colour')} the sound",
            f"the mix leans on {words}",
            f"effects include {words}",
            f"{words} {verb(found, 'shapes', 'shape')} its texture",
        )
    )


def length_phrase(seconds) -> str:
    """'about 3 minutes' / 'about 40 seconds'; '' when unknown."""
    if not seconds or seconds <= 0:
        return ""
    if seconds < 90:
        return f"about {int(round(seconds / 5.0) * 5) or 5} seconds"
    return f"about {int(round(seconds / 60.0))} minutes"
