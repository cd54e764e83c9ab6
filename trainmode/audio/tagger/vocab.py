"""Every musicnn tag (MTT and MSD vocabularies) mapped to a category, and the "confidently heard" rule.

Categories: genre, mood (mood, theme, tempo and dynamics words), instrument, vocals, other
(decades, "beat", "solo"). Aliases across and within the two models merge into one
canonical tag ("female", "woman", "female vocal", "female voice" and MSD's "female
vocalists" all become "female vocals"); a canonical tag's probability is the largest of
its raw labels'.

Threshold scheme (see docs/tagger.md for the measurements behind the numbers): a raw
label k is confidently heard when

    p_k >= clip(LIFT * base_k, FLOOR, CEIL)

where ``base_k`` is the model's own "typical" output for k: the sigmoid of the output
layer at the training-set mean of the penultimate layer (the final batch norm's beta),
read from the checkpoint. It tracks the label's prior in the training data (guitar,
slow, rock are common; choral, metal, House rare), so a rare tag must rise further above
its usual level than a common one, while FLOOR keeps rare tags from firing on noise and
CEIL keeps very common tags reachable.
"""

from __future__ import annotations

from typing import NamedTuple

LIFT = 4.0  # how far above its typical output a label must rise
FLOOR = 0.15  # never confident below this probability
CEIL = 0.50  # always confident at or above this probability

CATEGORIES = ("genre", "mood", "instrument", "vocals", "other")


class Label(NamedTuple):
    tag: str  # canonical name
    category: str  # one of CATEGORIES
    vocals: bool | None = None  # True: says voice is heard; False: says none is
    gender: str | None = None  # "female" | "male" for gendered vocal tags


def _same(category: str, names: str) -> dict[str, Label]:
    """Labels that keep their own name: ``names`` separated by "|" (some contain spaces)."""
    return {name: Label(name, category) for name in names.split("|")}


_VOICE = Label("vocals", "vocals", True)
_FEMALE = Label("female vocals", "vocals", True, "female")
_MALE = Label("male vocals", "vocals", True, "male")
_NONE = Label("instrumental", "vocals", False)

MTT: dict[str, Label] = {
    **_same("genre", "classical|techno|electronic|rock|ambient|indian|pop|new age|dance|country|metal"),
    "opera": Label("opera", "genre", True),
    "classic": Label("classical", "genre"),
    **_same("mood", "slow|fast|loud|quiet|soft|weird"),
    **_same("instrument", "guitar|strings|drums|piano|violin|synth|harpsichord|flute|sitar|harp|cello"),
    **_same("other", "beat|solo"),
    "choir": Label("choir", "instrument", True),
    "choral": Label("choir", "instrument", True),
    "beats": Label("beat", "other"),
    "vocal": _VOICE,
    "vocals": _VOICE,
    "singing": _VOICE,
    "voice": _VOICE,
    "female": _FEMALE,
    "woman": _FEMALE,
    "female vocal": _FEMALE,
    "female voice": _FEMALE,
    "male": _MALE,
    "man": _MALE,
    "male vocal": _MALE,
    "male voice": _MALE,
    "no vocals": _NONE,
    "no vocal": _NONE,
    "no voice": _NONE,
}

MSD: dict[str, Label] = {
    **_same(
        "genre",
        "rock|pop|alternative|indie|electronic|dance|alternative rock|jazz|metal|classic rock|soul|"
        "indie rock|electronica|folk|punk|blues|hard rock|ambient|experimental|country|funk|"
        "electro|heavy metal|indie pop|chillout|easy listening",
    ),
    "Hip-Hop": Label("hip-hop", "genre"),
    "rnb": Label("r&b", "genre"),
    "House": Label("house", "genre"),
    "Progressive rock": Label("progressive rock", "genre"),
    **_same("mood", "beautiful|chill|sexy|catchy|party|sad|happy"),
    "Mellow": Label("mellow", "mood"),
    **_same("instrument", "guitar|acoustic"),
    **_same("other", "00s|80s|90s|70s|60s|oldies"),
    "female vocalists": _FEMALE,
    "female vocalist": _FEMALE,
    "male vocalists": _MALE,
    "instrumental": _NONE,
}

VOCABULARIES = {"MTT_musicnn": MTT, "MSD_musicnn": MSD}


def threshold(base: float) -> float:
    """Probability at which a raw label with typical output ``base`` counts as heard."""
    return min(CEIL, max(FLOOR, LIFT * base))
