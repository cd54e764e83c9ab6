"""The offline caption writer: deterministic captions built from the set's facts only.

It is the default when no OpenAI key is configured, so a fresh laptop can build a
dataset. A sentence plan and the wording of each phrase are chosen from the set's own
facts (a hash of the summary), so the same set always gets the same caption and
different sets read differently. Every claim comes from the summary (through
trainmode.sets.facts.SetFacts) or the artist profile's genres, moods and descriptors, so the captions pass
the fact checker by construction. Returns the three variants: detailed, short, tags.
"""

from __future__ import annotations

import re
from random import Random

from trainmode.captions.factcheck import artist_names
from trainmode.captions.writers import phrases as ph
from trainmode.captions.writers.base import GeneratedCaption
from trainmode.captions.writers.context import clean_caption, fingerprint
from trainmode.sets.facts import SetFacts

OFFLINE_VERSION = "offline-v4"  # v4: descriptors after a label, never as a predicate
OFFLINE_MODEL = "offline-template"
LEAD_INSTRUMENTS = 2
MAX_INSTRUMENTS = 6
MIN_WORDS, MAX_WORDS = 25, 60
SHORT_MAX_WORDS, MAX_TAGS = 15, 15


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
    """What one caption says, with its wording drawn from `rng`."""

    def __init__(self, facts: SetFacts, profile: dict[str, list[str]], rng: Random):
        self.f, self.rng = facts, rng
        genres, moods = profile["genres"], profile["moods"]
        self.genre = rng.choice(genres) if genres else ""
        self.moods = rng.sample(moods, min(len(moods), rng.choice((1, 2)))) if moods else []
        descriptors = profile["descriptors"]
        self.descriptors = (
            rng.sample(descriptors, min(len(descriptors), rng.choice((1, 2))))
            if descriptors and rng.random() < 0.7
            else []
        )
        self.instruments = list(facts.instruments[:MAX_INSTRUMENTS])
        self.lead = self.instruments[:LEAD_INSTRUMENTS]
        self.rest = self.instruments[LEAD_INSTRUMENTS:]
        self.noun = rng.choice(ph.NOUNS)

    def style(self) -> str:
        """'dreamy deep house' / 'deep house' / '' — the profile's words in one of several places."""
        return " ".join(x for x in (ph.join(self.moods), self.genre) if x)

    def body(self) -> str:
        """The instruments, or the kind of parts when none can be named."""
        if self.lead:
            return ph.lead_phrase(self.rng, self.lead)
        texture = ph.texture_phrase(self.rng, self.f)
        return f"made of {texture}" if texture else ""

    def facts_tail(self) -> str:
        return ", ".join(x for x in (ph.key_phrase(self.rng, self.f), ph.meter_phrase(self.rng, self.f)) if x)


def _head(plan: _Plan, choice: int) -> str:
    """The first sentence: six shapes so that captions do not all open alike."""
    f, rng = plan.f, plan.rng
    thing, body = f"{plan.style()} {plan.noun}".strip(), plan.body()
    tempo, tail = ph.tempo_at(rng, f), plan.facts_tail()
    if choice == 0 and plan.style():
        return ", ".join(x for x in (f"{ph.an(thing)} {body}".strip(), tempo, tail) if x)
    if choice == 1 and plan.lead:
        plain = re.sub(r"^(?:clocked|running) ", "", tempo)
        moves = f"this {thing} {'moves' if plain.startswith(('at ', 'mostly at ')) else 'unfolds'} {plain}"
        return ", ".join(x for x in (f"{body[:1].upper()}{body[1:]}", moves if plain else f"this {thing}", tail) if x)
    if choice == 2 and f.bpm is not None and not f.tempo_changes:
        return ", ".join(x for x in (f"At {f.bpm} BPM", tail, f"{ph.an(thing)} {body}".strip()) if x)
    if choice == 3 and f.key:
        return ", ".join(
            x for x in (f"{ph.an(f'{f.key} {thing}')} {body}".strip(), tempo, ph.meter_phrase(rng, f)) if x
        )
    if choice == 4 and plan.lead:
        words = ph.join(ph.label(x) for x in plan.lead)
        verb = ph.verb(plan.lead, "carries", "carry")
        return ", ".join(x for x in (f"{words[:1].upper()}{words[1:]} {verb} this {thing}", tempo, tail) if x)
    opener = rng.choice(("Here is", "This is", "Expect", "Picture", "You hear"))
    return ", ".join(x for x in (f"{opener} {ph.an(thing)} {body}".strip(), tempo, tail) if x)


def _detailed(plan: _Plan) -> str:
    rng, f = plan.rng, plan.f
    sentences = [_head(plan, rng.randrange(6))]
    arrangement = ph.arrangement_sentences(rng, f, plan.lead)
    if not any(s.instruments for s in f.sections):  # otherwise the arrangement already says what joins
        support = ph.support_phrase(rng, plan.rest)
        arrangement = [support, *arrangement] if rng.random() < 0.5 else [*arrangement, support]
    sentences += [s for s in arrangement if s]
    if plan.descriptors:
        words = ph.join(plan.descriptors)
        # Descriptors are the artist's own words, adjectives ("warm") or nouns ("analog warmth"):
        # only a label before them reads right for both ("The sound is analog warmth" does not).
        sentences.append(
            rng.choice(
                (
                    f"Production notes: {words}",
                    f"Sound palette: {words}",
                    f"Character: {words}",
                    f"In its sound: {words}",
                )
            )
        )
    parts = f.audio_tracks + f.midi_tracks
    fillers = [
        ph.tempo_sentence(rng, f, stated=bool(re.search(r"\d+ (?:BPM|beats)", sentences[0]))),
        _meter_sentence(plan),
        _texture_sentence(plan),
        rng.choice((f"{parts} parts are layered together", f"It stacks {parts} separate parts")) if parts >= 2 else "",
    ]
    for filler in fillers:
        if len(" ".join(sentences).split()) >= MIN_WORDS:
            break
        if filler:
            sentences.append(filler)
    text = ". ".join(s[:1].upper() + s[1:] for s in sentences if s) + "."
    return _trim(text, MAX_WORDS)


def _meter_sentence(plan: _Plan) -> str:
    f, rng = plan.f, plan.rng
    if f.meter_changes or not f.meter:
        return ""
    return rng.choice(
        (
            f"It stays in {f.meter} throughout",
            f"The meter is {f.meter} all the way through",
            f"It keeps a {f.meter} meter",
            f"Every bar is in {f.meter}",
        )
    )


def _texture_sentence(plan: _Plan) -> str:
    texture = ph.texture_phrase(plan.rng, plan.f)
    if not texture or not plan.lead:
        return ""
    return plan.rng.choice((f"It is made of {texture}", f"Everything is built from {texture}"))


def _trim(text: str, max_words: int) -> str:
    """Whole sentences up to max_words (the first is always kept)."""
    sentences = re.split(r"(?<=\.) ", text)
    kept = [sentences[0]]
    for sentence in sentences[1:]:
        if len(" ".join([*kept, sentence]).split()) > max_words:
            break
        kept.append(sentence)
    return " ".join(kept)


def _short(plan: _Plan) -> str:
    f = plan.f
    words = ph.join(ph.label(x) for x in plan.lead) or ph.texture_phrase(plan.rng, f)
    parts = [
        plan.style() or plan.rng.choice(("A track", "A piece", "Music")),
        f"with {words}" if words else "",
        (f"mostly at {f.bpm} BPM" if f.tempo_changes else f"at {f.bpm} BPM")
        if f.bpm is not None
        else ("and tempo changes" if f.tempo_changes else ""),
        f"in {f.key}" if f.key else "",
        ph.meter_phrase(plan.rng, f),
    ]
    text = " ".join(p for p in parts if p)
    while len(text.split()) > SHORT_MAX_WORDS and parts:
        parts.pop()
        text = " ".join(p for p in parts if p)
    return text[:1].upper() + text[1:] + "."


def _tags(plan: _Plan) -> str:
    f = plan.f
    tags = [plan.genre, *plan.moods, *(ph.label(x) for x in plan.instruments[:5]), *ph.tempo_tag(f)]
    if f.meter_changes:
        tags.append("changing meter")
    elif f.meter:
        tags.append(f.meter)
    tags += [f.key or "", *plan.descriptors[:2]]
    if len(f.sections) >= 2:
        tags.append("multi-section arrangement")
    if f.tempo_changes and f.tempo_low is not None:
        tags.append(f"{f.tempo_low}-{f.tempo_high} bpm")
    tags.append(ph.texture_tag(f))
    if not f.tempo_changes and f.bpm is not None:
        tags.append("steady tempo")
    return ", ".join(list(dict.fromkeys(t.lower() if t != f.key else t for t in tags if t))[:MAX_TAGS])


class OfflineWriter:
    name = "offline"

    def write(self, summary: dict, master_schema: dict, *, artist_name: str | None = None) -> GeneratedCaption:
        master_schema = master_schema or {}
        artists = artist_names(master_schema, artist_name)
        facts = SetFacts.from_summary(summary)
        profile = {
            "genres": _profile(master_schema, "genres", 3, artists),
            "moods": _profile(master_schema, "moods", 3, artists),
            "descriptors": _profile(master_schema, "descriptors", 3, artists),
        }
        summary_sha = fingerprint(summary)
        plan = _Plan(facts, profile, Random(int(summary_sha[:16], 16)))
        variants = {
            "detailed": clean_caption(_detailed(plan)),
            "short": clean_caption(_short(plan)),
            "tags": _tags(plan),
        }
        return GeneratedCaption.written(
            writer=self.name,
            model=OFFLINE_MODEL,
            version=OFFLINE_VERSION,
            variants=variants,
            metadata=facts.caption_metadata(),
            temperature=None,
            summary_sha256=summary_sha,
            master_schema_sha256=fingerprint(master_schema),
        )
