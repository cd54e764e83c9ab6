"""The offline caption writer: deterministic captions from what the tagger heard and the set's facts.

It is the default when no OpenAI key is configured, so a fresh laptop can build a
dataset. The caption leads with the sound (genre, mood, instruments, vocals: heard.py
decides which, from the tags above the tagger's confident threshold, cross-checked with the
set and put in the artist profile's words), then what the arrangement does, then tempo,
key and an unusual meter once. No sentence only restates a default or counts parts.
The wording of each phrase is drawn from a hash of the summary (the same set always reads
the same, different sets differently); what is said never is. Every instrument comes from
the set (trainmode.sets.facts.SetFacts), so the captions pass the fact checker by construction. Returns the
three variants: detailed, short, tags (docs/captions.md).
"""

from __future__ import annotations

import re

from trainmode.captions.factcheck import DETAILED_WORDS, artist_names
from trainmode.captions.writers import phrases as ph
from trainmode.captions.writers.base import GeneratedCaption
from trainmode.captions.writers.context import clean_caption, fingerprint
from trainmode.captions.writers.heard import Sound, as_tags, listen
from trainmode.captions.writers.heard import provenance as heard_provenance
from trainmode.sets.facts import SetFacts, audible_tracks

# v6: every instrument named, the detailed target reached from what is known, no connective twice
OFFLINE_VERSION = "offline-v6"
OFFLINE_MODEL = "offline-template"
LEAD_INSTRUMENTS = 2
TAG_INSTRUMENTS = 5
MIN_WORDS = 12  # still under this (nothing else known): the kind of parts is said (the fact checker wants 10)
SHORT_MAX_WORDS, MIN_TAGS, MAX_TAGS = 15, 5, 15
MAX_PROFILE = 6  # profile genres/moods considered; the audio picks at most two of each


def _profile(master_schema: dict, field: str, limit: int, artists: list[str]) -> list[str]:
    """The artist's own words, minus anything naming the artist."""
    values = []
    for value in master_schema.get(field) or []:
        if (
            isinstance(value, str)
            and value.strip()
            and not any(re.search(rf"(?i)(?<!\w){re.escape(a)}(?!\w)", value) for a in artists)
        ):
            values.append(" ".join(value.split()))
    return values[:limit]


class _Plan:
    """What one caption says (the Sound, the set's facts), with its wording drawn from `rng`."""

    def __init__(self, facts: SetFacts, sound: Sound, descriptors: list[str], rng: ph.Wording):
        self.f, self.sound, self.rng = facts, sound, rng
        self.genre = sound.genres[0] if sound.genres else ""
        self.second_genre = sound.genres[1] if len(sound.genres) > 1 else ""
        self.moods = sound.moods
        self.all_descriptors = descriptors
        self.descriptors = (
            rng.sample(descriptors, min(len(descriptors), rng.choice((1, 2))))
            if descriptors and rng.random() < 0.7
            else []
        )
        self.instruments = list(sound.instruments)  # every one is named in the detailed caption
        self.lead = self.instruments[:LEAD_INSTRUMENTS]
        self.rest = self.instruments[LEAD_INSTRUMENTS:]
        self.noun = rng.choice(ph.NOUNS)
        self.effects: list[str] = []
        self.length = ""

    def style(self) -> str:
        """'mellow, slow classical' / 'deep house' / '': what is heard, before the noun."""
        return " ".join(x for x in (", ".join(self.moods), self.genre) if x)

    def body(self) -> str:
        """The instruments, or (when nothing was heard either) the kind of parts."""
        if self.lead:
            return ph.lead_phrase(self.rng, self.lead)
        if self.style() or self.sound.instrumental:
            return ""
        texture = ph.texture_phrase(self.rng, self.f)
        return f"made of {texture}" if texture else ""

    def coda(self) -> str:
        """A second genre and the absence of a voice, as a trailing clause ('' when neither was heard)."""
        parts = []
        if self.second_genre:
            g = self.second_genre
            parts.append(self.rng.choice((f"with {ph.an(g)} edge", f"with {g} leanings", f"leaning towards {g}")))
        if self.sound.instrumental:
            parts.append(self.rng.choice(("instrumental throughout", "with no vocals", "without vocals")))
        return ", ".join(parts)


def _head(plan: _Plan, choice: int) -> str:
    """The first sentence, what is heard: seven shapes so that captions do not all open alike."""
    rng = plan.rng
    thing = f"{plan.style()} {plan.noun}".strip()
    words = ph.join(ph.label(x) for x in plan.lead)
    if choice == 1 and plan.lead:
        verb = ph.verb(plan.lead, "carries", "carry")
        head = rng.said(f"{words[:1].upper()}{words[1:]} {verb} this {thing}")
    elif choice == 2 and plan.moods and plan.genre and plan.lead:  # "Fast techno built around..."
        head = f"{plan.style()[:1].upper()}{plan.style()[1:]} {plan.body()}".strip()
    elif choice == 3 and plan.lead:
        where = rng.choice(("up front", "at its core", "in the lead"))
        head = f"{ph.an(thing)}, {words} {where}"
    elif choice == 4 and plan.lead:
        verb = ph.verb(plan.lead, "takes", "take")
        head = rng.said(f"In this {thing}, {words} {verb} the lead")
    elif choice == 5:
        head = f"{ph.an(thing)} {plan.body()}".strip()
    elif choice == 6 and plan.lead:
        head = rng.said(f"With {words} up front, this is {ph.an(thing)}")
    else:
        opener = rng.choice(("Here is", "This is", "Expect", "Picture", "You hear"))
        head = f"{opener} {ph.an(thing)} {plan.body()}".strip()
    return ", ".join(x for x in (head, plan.coda()) if x)


def _numbers_sentence(rng: ph.Wording, numbers: str) -> str:
    """The numbers clause as a sentence of its own."""
    if not numbers:
        return ""
    numbers = numbers.removeprefix("running ")
    if numbers.startswith(("at ", "mostly")):
        return rng.choice(("It runs ", "It plays ", "It moves along ")) + numbers
    if numbers.startswith(("clocked", "centred", "in ", "set ", "rooted", "shifting")):
        return "It is " + numbers
    return rng.said("It plays ") + numbers


def _detailed(plan: _Plan) -> str:
    """Sound first, then what the arrangement does, every instrument named once, effects and the
    artist's descriptors, the numbers once; more of what is known (never filler) while under
    the detailed variant's DETAILED_WORDS."""
    rng, f = plan.rng, plan.f
    rng.new_caption()
    head = _head(plan, rng.randrange(7))
    numbers = ph.numbers_phrase(rng, f)
    inline = bool(numbers) and rng.random() < 0.5  # numbers once: in the head, or as the last sentence
    sentences = [", ".join((head, numbers)) if inline else head]
    last = "" if inline else _numbers_sentence(rng, numbers)
    budget = DETAILED_WORDS[1] - len(" ".join([*sentences, last]).split())
    sentences += _instruments(plan, budget)
    if len(plan.instruments) == 1 and f.audio_tracks + f.midi_tracks == 1:  # a solo, not a count
        word = ph.label(plan.instruments[0])
        alone = (
            f"{word} {ph.verb([word], 'plays', 'play')} alone",
            f"nothing but {word} is heard",
            f"it is {word} alone",
        )
        sentences.append(rng.choice(alone))
    sentences.append(ph.effects_sentence(rng, plan.effects))
    sentences.append(_descriptors_sentence(rng, _descriptors(plan, len(" ".join([*sentences, last]).split()))))
    if len(" ".join([*sentences, last]).split()) < MIN_WORDS:  # too little to go on otherwise
        texture = "" if plan.lead or not plan.style() else ph.texture_phrase(rng, f)  # else the head said it
        sentences.append(f"it lasts {plan.length}" if plan.length else f"it is made of {texture}" if texture else "")
    return _fit([s[:1].upper() + s[1:] for s in sentences if s], last[:1].upper() + last[1:], DETAILED_WORDS[1])


def _instruments(plan: _Plan, budget: int) -> list[str]:
    """What the arrangement does and the instruments the head did not name: every one is named
    once. An arrangement longer than `budget` words gives way to the list of the others."""
    rng, sound = plan.rng, plan.sound
    arrangement, named = ph.arrangement_sentences(rng, plan.f, plan.lead, sound.names, sound.hidden)
    support = ph.support_phrase(rng, [x for x in plan.rest if x not in named])
    if arrangement and len(" ".join([*arrangement, support]).split()) > budget:
        arrangement, support = [], ph.support_phrase(rng, plan.rest)
    return [x for x in ([support, *arrangement] if rng.random() < 0.5 else [*arrangement, support]) if x]


def _descriptors_sentence(rng: ph.Wording, descriptors: list[str]) -> str:
    """The artist's descriptors, adjectives ("warm") or nouns ("analog warmth"): only a label
    before them reads right for both ("The sound is analog warmth" does not)."""
    if not descriptors:
        return ""
    words = ph.join(descriptors)
    return rng.choice(
        (f"Production notes: {words}", f"Sound palette: {words}", f"Character: {words}", f"In its sound: {words}")
    )


def _descriptors(plan: _Plan, words: int) -> list[str]:
    """The artist's descriptors the caption draws (some or none), or all of them while the
    caption (`words` long without them) is under the detailed target."""
    drawn = len(" ".join(plan.descriptors).split()) + 2 * bool(plan.descriptors)
    return plan.all_descriptors if words + drawn < DETAILED_WORDS[0] else plan.descriptors


def _fit(sentences: list[str], last: str, max_words: int) -> str:
    """Whole sentences, in order, up to max_words: the first and `last` (the numbers) always kept."""
    kept = [sentences[0]]
    budget = max_words - len(last.split())
    for sentence in sentences[1:]:
        if len(" ".join([*kept, sentence]).split()) <= budget:  # a shorter one after may still fit
            kept.append(sentence)
    return " ".join(f"{s}." for s in [*kept, last] if s)


def _short(plan: _Plan) -> str:
    """The sound in a line, then tempo and key once: a user may make it the caption, and Stable
    Audio reads numbers only from the caption's text."""
    f = plan.f
    plan.rng.new_caption()
    words = ph.join(ph.label(x) for x in plan.lead) or ("" if plan.style() else ph.texture_phrase(plan.rng, f))
    parts = [
        _short_head(plan),
        f"with {words}" if words else ("instrumental" if plan.sound.instrumental else ""),
        (f"mostly at {f.bpm} BPM" if f.tempo_changes else f"at {f.bpm} BPM")
        if f.bpm is not None
        else ("with tempo changes" if f.tempo_changes else ""),
        f"in {f.key}" if f.key else "",
        ph.meter_phrase(plan.rng, f),
    ]
    text = " ".join(p for p in parts if p)
    while len(text.split()) > SHORT_MAX_WORDS and len(parts) > 1:
        parts.pop()
        text = " ".join(p for p in parts if p)
    return text[:1].upper() + text[1:] + "."


def _short_head(plan: _Plan) -> str:
    """'Fast techno' / 'A slow piece' (moods alone need a noun) / 'A track'."""
    if plan.genre:
        return plan.style()
    if plan.moods:
        return ph.an(f"{plan.style()} {plan.noun}")
    return plan.rng.choice(("A track", "A piece", "Music", "A tune", "A cut", "An arrangement"))


def _tags(plan: _Plan) -> str:
    """Heard words, instruments, the numbers once (ACE-Step v1 reads only this), the artist's descriptors.
    Defaults (4/4, a tempo feel, the kind of parts...) only fill a list that would have fewer than 5
    (the fact checker's minimum): for a set that says nothing else."""
    f, sound = plan.f, plan.sound
    tags = [*sound.genres, *sound.moods, *(ph.label(x) for x in plan.instruments[:TAG_INSTRUMENTS])]
    tags += ["instrumental"] if sound.instrumental else []
    tags += ph.tempo_tag(f)
    if f.tempo_changes and f.tempo_low is not None and f.bpm is None:
        tags.append(f"{f.tempo_low}-{f.tempo_high} bpm")
    tags += [f.key or "", "changing meter" if f.meter_changes else (f.meter if f.meter != "4/4" else "")]
    tags += plan.descriptors[:2]
    padding = [f.meter if f.meter == "4/4" else "", ph.tempo_feel(f), ph.texture_tag(f)]
    padding += ["steady tempo" if f.bpm is not None and not f.tempo_changes else ""]
    padding += ["multi-section arrangement" if len(f.sections) >= 2 else ""]
    tags = list(dict.fromkeys(t.lower() if t != f.key else t for t in tags if t))
    tags += [t for t in padding if t and t not in tags][: max(0, MIN_TAGS - len(tags))]
    return ", ".join(tags[:MAX_TAGS])


class OfflineWriter:
    name = "offline"

    def write(
        self, summary: dict, master_schema: dict, *, artist_name: str | None = None, heard=None, audio=None
    ) -> GeneratedCaption:
        """`heard`: the tagger's Tags for this audio (or their dict); None when nobody listened.
        `audio` is ignored: this writer hears through the tags."""
        master_schema = master_schema or {}
        artists = artist_names(master_schema, artist_name)
        facts = SetFacts.from_summary(summary)
        profile = {
            "genres": _profile(master_schema, "genres", MAX_PROFILE, artists),
            "moods": _profile(master_schema, "moods", MAX_PROFILE, artists),
        }
        sound = listen(heard, list(facts.instruments), profile, facts.bpm)
        summary_sha = fingerprint(summary)
        descriptors = _profile(master_schema, "descriptors", 3, artists)
        plan = _Plan(facts, sound, descriptors, ph.Wording(int(summary_sha[:16], 16)))
        plan.effects = ph.effects(audible_tracks(summary))
        plan.length = ph.length_phrase(((summary or {}).get("length") or {}).get("seconds"))
        variants = {
            "detailed": clean_caption(_detailed(plan)),
            "short": clean_caption(_short(plan)),
            "tags": _tags(plan),
        }
        tags = as_tags(heard)
        return GeneratedCaption.written(
            writer=self.name,
            model=OFFLINE_MODEL,
            version=OFFLINE_VERSION,
            variants=variants,
            metadata=facts.caption_metadata(),
            temperature=None,
            summary_sha256=summary_sha,
            master_schema_sha256=fingerprint(master_schema),
            heard=heard_provenance(tags, sound),
        )
