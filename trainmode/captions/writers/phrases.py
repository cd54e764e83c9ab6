"""Phrases the offline writer builds captions from, each stating one fact of the set.

Every phrase has several wordings; `rng` (seeded from the set's facts) picks one, so the
same set always reads the same and different sets read differently. Nothing here adds a
claim the facts do not make: no mood or energy from the tempo, no adjectives on
instruments, no key unless it is determined, BPM as whole numbers.
"""

from __future__ import annotations

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
}
NOUNS = ("track", "piece", "cut", "production", "arrangement", "tune", "composition")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def label(family: str) -> str:
    return LABELS.get(family, family)


def join(words) -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def plural(families) -> bool:
    families = list(families)
    return len(families) > 1 or bool(families) and families[0] not in _SINGULAR


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
                f"at a steady {f.bpm} BPM",
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


def tempo_sentence(rng: Random, f: SetFacts, *, stated: bool = False) -> str:
    """A sentence about tempo changes (or a constant tempo); '' when the tempo is unknown.
    When the caption already `stated` the tempo, no number is repeated."""
    if f.tempo_low is None or stated and f.tempo_changes:
        return ""
    if stated:
        return rng.choice(
            (
                "The tempo never changes",
                "There are no tempo changes",
                "The tempo holds steady",
                "It never speeds up or slows down",
                "Its pace stays constant",
                "The pulse stays even",
            )
        )
    if not f.tempo_changes:
        return rng.choice(
            (
                f"The tempo holds at {f.bpm} BPM throughout",
                f"It keeps one tempo, {f.bpm} BPM, from start to finish",
                f"Its {f.bpm} BPM tempo is constant",
                "The tempo never changes",
                "There are no tempo changes",
            )
        )
    span = f"from {f.tempo_low} to {f.tempo_high} BPM" if f.tempo_high - f.tempo_low >= 2 else "slightly"
    if f.bpm is not None:
        return rng.choice(
            (
                f"The tempo changes {span}, spending most of its time at {f.bpm} BPM",
                f"Tempo changes take it {span}; {f.bpm} BPM is where it mostly sits",
            )
        )
    return rng.choice((f"The tempo changes {span}", f"Its tempo moves {span}"))


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
    if f.tempo_changes:
        return ["tempo changes"] + ([f"{f.bpm} bpm"] if f.bpm is not None else [])
    if f.bpm is None:
        return []
    feel = "slow tempo" if f.bpm < 90 else "mid-tempo" if f.bpm < 120 else "uptempo" if f.bpm < 150 else "fast tempo"
    return [f"{f.bpm} bpm", feel]


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
    if section.name and section.name not in named_before:
        return f"the {section.name}"
    return f"the {ORDINALS[index]} section" if index < len(ORDINALS) else "a later section"


def arrangement_sentences(rng: Random, f: SetFacts, lead: list[str]) -> list[str]:
    """What enters and drops out between sections (v2), or the named sections (v1). The
    opening section is described unless it is just the `lead` instruments already named."""
    sections = [s for s in f.sections]
    if len(sections) < 2:
        return []
    if not any(s.instruments for s in sections):
        return _named_sections(rng, sections)
    first = list(sections[0].instruments)
    words = join(label(i) for i in first)
    opening = rng.choice(("It opens with {x}", "The first section has {x}", "At the start there {are} {x}"))
    out = [opening.format(x=words, are=verb(first, "is", "are"))] if first and not set(first) <= set(lead) else []
    named: set[str] = {sections[0].name} if sections[0].name else set()
    events = []
    for i in range(1, min(len(sections), len(ORDINALS))):
        where = _where(sections[i], i, named)
        named.add(sections[i].name or "")
        event = _change(rng, list(sections[i - 1].instruments), list(sections[i].instruments), where)
        if event and len(events) < 3:
            events.append(event)
    if events:
        out.append(", then ".join(events))
    return out


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
        joins = rng.choice((("enters", "enter"), ("arrives", "arrive"), ("joins", "join")))
        return f"{ins} {verb(entered, *joins)} in {where}"
    if dropped and 0 < len(now) <= 2:
        return f"{where} strips back to just {join(label(x) for x in now)}"
    if dropped:
        leaves = rng.choice((("drops out", "drop out"), ("falls away", "fall away")))
        return f"{outs} {verb(dropped, *leaves)} in {where}"
    return ""


def _named_sections(rng: Random, sections) -> list[str]:
    names = list(dict.fromkeys(s.name for s in sections if s.name))
    count = len(sections)
    if len(names) >= 2:
        return [
            rng.choice(
                (
                    f"It moves through {count} sections, including {an(names[0])} and {an(names[1])}",
                    f"Its {count} sections take in {join('the ' + n for n in names[:4])}",
                    f"The structure runs across {count} sections, with {join(names[:4])} parts",
                )
            )
        ]
    return [
        rng.choice(
            (
                f"It is laid out in {count} sections",
                f"The arrangement unfolds over {count} sections",
                f"There are {count} distinct sections",
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
