"""What a caption may say about the sound: the tagger's confidently heard tags, cross-checked
with the set and put in the artist's words.

    sound = listen(tags, facts, profile)   # tags: Tags, its dict, a Tagging dict, or None
    sound.genres, sound.moods, sound.instruments, sound.instrumental

Rules (docs/captions.md):
- Genres and moods come only from tags above the tagger's "confidently heard" threshold. A
  profile genre or mood (the artist's vocabulary) replaces the tag that supports it ("house"
  heard -> the artist's "deep house"; "mellow" heard -> the artist's "dreamy"); a profile word
  no heard tag supports is never used. At most two of each; never two moods that contradict
  (happy and sad, fast and calm), and never a tempo word the set's tempo contradicts ("slow"
  at 124 BPM: musicnn's slow/fast hear density and loudness as much as tempo, the BPM is exact).
- Without tags there is no audio evidence: no mood, and a genre only when the profile lists
  exactly one (then it is the artist's genre, not a choice among several).
- A genre never contradicts the set: a beat-driven genre (BEAT_GENRES: techno, house, hip hop...)
  only when drums or percussion play in the caption's scope and the tagger does not deny them.
- Instruments: the set's families (what the fact checker accepts), the heard ones first and in
  the tagger's word ("violin" for strings, "acoustic guitar"); a family the tagger covers but
  hears far below its usual level (p < DENY) is left out: muted by the mix; unless that would
  leave no instrument the set plays in that scope (then the tagger missed them).
- Vocals: said when the set has a vocal track and the tagger does not deny a voice (heard, or
  unsure); a voice heard without a vocal track in the set is not said (the fact checker would
  flag it: the set is the evidence for instruments). "Instrumental" when the tagger hears no
  voice and the set has no vocal track.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from trainmode.audio.tagger.result import Tags
from trainmode.captions.text import fits_tempo

# A family the tagger covers is "not heard" below this probability: musicnn's drums sit at
# 0.07 on a GM techno render and at 0.01 on piano, strings and flute (docs/captions.md).
DENY = 0.02
MAX_GENRES = MAX_MOODS = 2
SECOND_GENRE_SHARE = 0.6  # a second genre only when nearly as probable as the first

# Families the tagger can speak for, and the tags that speak for each.
FAMILY_TAGS: dict[str, tuple[str, ...]] = {
    "drums": ("drums", "beat"),
    "percussion": ("drums", "beat"),
    "guitar": ("guitar", "acoustic"),
    "synth": ("synth",),
    "lead": ("synth",),
    "pad": ("synth", "strings"),
    "piano": ("piano", "harpsichord"),
    "keys": ("piano", "harpsichord", "synth"),
    "strings": ("strings", "violin", "cello"),
    "woodwinds": ("flute",),
    "plucked": ("harp", "sitar", "guitar"),
}
# Heard instrument tag -> the set families that let a caption name it (the fact checker's evidence).
TAG_FAMILIES: dict[str, tuple[str, ...]] = {
    "piano": ("piano", "keys"),
    "harpsichord": ("keys", "piano"),
    "guitar": ("guitar",),
    "strings": ("strings",),
    "violin": ("strings",),
    "cello": ("strings",),
    "synth": ("synth", "lead", "pad"),
    "drums": ("drums", "percussion"),
    "flute": ("woodwinds",),
    "harp": ("plucked",),
    "sitar": ("plucked",),
    "choir": ("vocals",),
}

SAID = {"choir": "choir vocals"}  # a heard tag as a caption names it

# Heard tag -> profile words it supports beyond a shared word (the artist's vocabulary).
GENRE_KIN = {
    "hip-hop": ("hip hop", "rap", "trap", "boom bap"),
    "r&b": ("rnb", "r and b", "neo soul"),
    "electronic": ("electronica", "electronic music"),
    "electronica": ("electronic",),
    "chillout": ("chill", "chill-out", "downtempo", "lounge", "lo-fi"),
    "classical": ("orchestral", "neoclassical", "neo-classical", "chamber"),
    "dance": ("edm", "dance music"),
    "easy listening": ("lounge",),
    "ambient": ("drone", "soundscape"),
    "experimental": ("avant-garde", "idm"),
}
# Genres defined by their beat: a listener told "techno" expects a kick drum, so a caption says
# one only when drums or percussion play in its scope and the tagger does not deny them. musicnn
# hears "techno" in a guitar-only render (0.24, drums 0.02): synthetic timbres, not a beat. A word
# is beat-driven when it holds one of these ("deep house", "dance-pop", "uk garage").
BEAT_GENRES = (
    "techno",
    "house",
    "trance",
    "drum and bass",
    "drum & bass",
    "dnb",
    "jungle",
    "dubstep",
    "hip hop",
    "hip-hop",
    "rap",
    "trap",
    "boom bap",
    "disco",
    "dance",
    "edm",
    "breakbeat",
    "breaks",
    "electro",
    "garage",
    "grime",
    "footwork",
    "juke",
    "hardstyle",
    "hardcore",
    "gabber",
    "reggaeton",
    "dancehall",
    "big beat",
)
BEAT_FAMILIES = ("drums", "percussion")
MOOD_KIN = {
    "happy": ("uplifting", "joyful", "cheerful", "euphoric", "bright", "playful", "upbeat", "sunny", "feel-good"),
    "sad": ("melancholic", "melancholy", "somber", "sombre", "wistful", "moody", "dark", "emotional", "gloomy"),
    "mellow": ("calm", "relaxed", "dreamy", "laid-back", "smooth", "warm", "gentle", "soothing", "hazy"),
    "chill": ("calm", "relaxed", "laid-back", "chilled", "dreamy", "hazy"),
    "soft": ("gentle", "tender", "delicate", "intimate", "dreamy"),
    "quiet": ("calm", "peaceful", "intimate", "meditative", "serene"),
    "slow": ("calm", "meditative", "laid-back", "hypnotic"),
    "beautiful": ("lush", "dreamy", "ethereal", "serene", "romantic"),
    "fast": ("energetic", "driving", "upbeat", "frantic", "intense"),
    "loud": ("intense", "aggressive", "powerful", "heavy", "raw", "energetic"),
    "party": ("euphoric", "energetic", "upbeat", "festive", "groovy"),
    "sexy": ("sensual", "seductive", "groovy", "romantic", "sultry"),
    "catchy": ("upbeat", "playful", "hooky", "groovy"),
    "weird": ("quirky", "strange", "eerie", "psychedelic", "trippy", "odd"),
}
# Mood words on two axes: valence (happy +, sad -) and arousal (energetic +, calm -).
_POSITIVE = "happy uplifting joyful cheerful euphoric bright playful upbeat sunny feel-good catchy party festive"
_NEGATIVE = "sad melancholic melancholy somber sombre wistful moody dark gloomy"
_AROUSED = "fast loud energetic driving intense aggressive powerful frantic party euphoric upbeat heavy raw festive"
_CALM = "slow quiet soft calm relaxed chill chilled mellow peaceful soothing gentle serene dreamy laid-back meditative"
AXES = {
    "valence": (set(_POSITIVE.split()), set(_NEGATIVE.split())),
    "arousal": (set(_AROUSED.split()), set(_CALM.split())),
}


@dataclass(frozen=True)
class Sound:
    """What one caption says about the sound; `heard` is False when there were no tags."""

    heard: bool = False
    genres: list[str] = field(default_factory=list)
    moods: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)  # caption words: heard first, then the set's
    names: dict[str, str] = field(default_factory=dict)  # set family -> the heard word for it ("strings" -> "violin")
    hidden: frozenset[str] = frozenset()  # set families the tagger does not hear (not stated)
    instrumental: bool = False
    evidence: list[str] = field(default_factory=list)  # the heard tags behind the words, for provenance


def as_tags(heard) -> Tags | None:
    """`heard` as Tags: a Tags, its to_dict(), or a Tagging dict (its whole render); None if empty."""
    if heard is None:
        return None
    if isinstance(heard, dict):
        heard = Tags.from_dict(heard["whole"] if "whole" in heard else heard)
    return None if heard.empty else heard


def _tokens(word: str) -> set[str]:
    return set(re.findall(r"[a-z0-9&]+", word.lower().replace("-", " ")))


def supports(tag: str, word: str, kin: dict[str, tuple[str, ...]]) -> bool:
    """Does heard `tag` support the profile's `word`? Same words, one inside the other
    ("house" / "deep house", "indie rock" / "rock"), or kin by the table."""
    a, b = _tokens(tag), _tokens(word)
    if a and b and (a <= b or b <= a):
        return True
    return word.lower().strip() in kin.get(tag, ())


def contradicts(a: str, b: str) -> bool:
    """Two mood words on opposite ends of one axis (happy/sad, energetic/calm)."""
    for high, low in AXES.values():
        if (a in high and b in low) or (a in low and b in high):
            return True
    return False


def needs_beat(genre: str) -> bool:
    """Is `genre` beat-driven (holds a BEAT_GENRES word: "deep house", "hip-hop", "dance-pop")?"""
    words = _tokens(genre)
    return any(_tokens(beat) <= words for beat in BEAT_GENRES)


def _pick(
    ranked: list[tuple[str, float]], profile: list[str], kin: dict, limit: int, moods: bool, fits: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """Heard tags in rank order, each as the artist's word it supports when there is one (and
    that `fits` the set): (the words, the heard tags behind them)."""
    chosen: list[str] = []
    behind: list[str] = []
    for tag, _ in ranked:
        options = [w for w in profile if supports(tag, w, kin) and w not in chosen] or [tag]
        options = [w for w in options if fits(w)]
        word = next((w for w in options if not (moods and any(contradicts(w, c) for c in chosen))), None)
        if word and word not in chosen and not any(_tokens(word) <= _tokens(c) for c in chosen):
            chosen.append(word)
            behind.append(tag)
        if len(chosen) >= limit:
            break
    return chosen, behind


def _genres(tags: Tags, profile: list[str], beat: bool) -> tuple[list[str], list[str]]:
    """At most two heard genres (the second nearly as probable as the first), minus any the set
    contradicts: a beat-driven one without a `beat` (drums or percussion that play and are
    heard). The two are picked before that, so that a clip never promotes a genre its track
    does not say ("jazz" moving up when "techno" cannot be said over a beatless break)."""
    if not tags.genre:
        return [], []
    best = tags.genre[0][1]
    ranked = [(t, p) for t, p in tags.genre if p >= SECOND_GENRE_SHARE * best]
    chosen, behind = _pick(ranked, profile, GENRE_KIN, MAX_GENRES, moods=False, fits=lambda w: True)
    kept = [i for i, word in enumerate(chosen) if beat or not (needs_beat(word) or needs_beat(behind[i]))]
    return [chosen[i] for i in kept], [behind[i] for i in kept]


def _instruments(tags: Tags, families: list[str]) -> tuple[list[str], dict[str, str], frozenset[str], list[str]]:
    """(caption words, family -> word, hidden families, evidence) from the set's families and the heard tags."""

    def denied(family: str) -> bool:  # a tag the tagger did not report is no evidence either way
        probs = [tags.tags[t] for t in FAMILY_TAGS.get(family, ()) if t in tags.tags]
        return bool(probs) and max(probs) < DENY

    hidden = frozenset(f for f in families if denied(f))
    if families and not set(families) - hidden - {"vocals"}:
        # The tagger would silence every instrument the set plays here: then it is the tagger that
        # misses them (musicnn hears a GM guitar at 0.016), not the mix; the set is the evidence.
        hidden = hidden & {"vocals"}
    words, names, evidence = [], {}, []
    heard = dict(tags.instrument)
    for tag, _ in tags.instrument:
        family = next((f for f in TAG_FAMILIES.get(tag, ()) if f in families and f not in names), None)
        if family is None or (tag == "choir" and tags.vocals.present is False):
            continue
        names[family] = SAID.get(tag, tag) if tag != "guitar" or "acoustic" not in heard else "acoustic guitar"
        words.append(names[family])
        evidence.append(tag)
    hidden |= {"vocals"} if tags.vocals.present is False else set()
    for family in families:
        if family in names or family in hidden:
            continue
        if family == "vocals":
            names[family] = _vocals_word(tags)
        words.append(names.get(family, family))
    return words, names, hidden, evidence


def _vocals_word(tags: Tags) -> str:
    gender = tags.vocals.gender if tags.vocals.present else None
    return f"{gender} vocals" if gender in ("female", "male") else "vocals"


def listen(heard, families: list[str], profile: dict[str, list[str]], bpm: float | None = None) -> Sound:
    """The Sound for a caption: `families` are the set's instrument families (longest-playing
    first) in the caption's scope, `profile` the artist's "genres" and "moods", `bpm` the tempo
    the caption states."""
    tags = as_tags(heard)
    if tags is None:
        genres = [g for g in profile.get("genres") or [] if _has_beat(families, frozenset()) or not needs_beat(g)]
        return Sound(genres=genres[:1] if len(profile.get("genres") or []) == 1 else [], instruments=list(families))
    instruments, names, hidden, evidence = _instruments(tags, list(families))
    genres, genre_tags = _genres(tags, profile.get("genres") or [], _has_beat(families, hidden))
    moods, mood_tags = _pick(
        tags.mood, profile.get("moods") or [], MOOD_KIN, MAX_MOODS, moods=True, fits=lambda w: fits_tempo(w, bpm)
    )
    instrumental = tags.vocals.present is False and "vocals" not in families
    evidence = genre_tags + mood_tags + evidence + (["instrumental"] if instrumental else [])
    return Sound(True, genres, moods, instruments, names, hidden, instrumental, evidence)


def _has_beat(families: list[str], hidden: frozenset[str]) -> bool:
    """Do drums or percussion play (among `families`) and go unhidden by the tagger?"""
    return any(f in BEAT_FAMILIES and f not in hidden for f in families)


def provenance(tags: Tags | None, sound: Sound) -> dict | None:
    """For a caption's provenance: which tagger spoke and which of its tags the caption was told
    to use (None: no tags). The dataset card counts captions written with what was heard by it."""
    if tags is None:
        return None
    return {"model": tags.model, "version": tags.version, "used": sound.evidence, "hidden": sorted(sound.hidden)}
