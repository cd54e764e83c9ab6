"""What a tagger answers: ``Tags`` for one stretch of audio, ``Tagging`` for a render and its spans.

Both are plain dataclasses that round-trip through JSON-ready dicts (``to_dict`` /
``from_dict``), because they are stored in an item's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trainmode.audio.tagger.vocab import VOCABULARIES, threshold

Ranked = list[tuple[str, float]]


@dataclass(frozen=True)
class VocalsVerdict:
    """Is a voice heard? ``present`` is None when the model is unsure either way.

    ``probability`` is the strongest probability behind the verdict: of a vocal tag when
    present (or unsure), of a "no vocals"/"instrumental" tag when absent. ``gender`` is
    "female", "male" or "mixed" when gendered vocal tags are confidently heard.
    """

    present: bool | None = None
    probability: float = 0.0
    gender: str | None = None


@dataclass(frozen=True)
class Tags:
    """Tags for one stretch of audio. ``tags`` holds every canonical tag's probability;
    the category lists hold only the confidently heard ones, most probable first.
    An empty result (no tags, no patches) carries the ``reason``."""

    model: str
    version: str
    tags: dict[str, float] = field(default_factory=dict)
    genre: Ranked = field(default_factory=list)
    mood: Ranked = field(default_factory=list)
    instrument: Ranked = field(default_factory=list)
    vocals: VocalsVerdict = field(default_factory=VocalsVerdict)
    span: tuple[float, float] | None = None  # seconds; None for the whole render
    patches: int = 0  # 3 s model inputs averaged
    reason: str | None = None  # why the result is empty

    @property
    def empty(self) -> bool:
        return not self.tags

    def top(self, n: int = 5) -> Ranked:
        """The ``n`` most probable tags of any category."""
        return sorted(self.tags.items(), key=lambda kv: -kv[1])[:n]

    def heard(self) -> list[str]:
        """Every confidently heard tag name (genre, mood, instrument, then vocals words)."""
        names = [t for t, _ in self.genre + self.mood + self.instrument]
        if self.vocals.present:
            names.append(f"{self.vocals.gender} vocals" if self.vocals.gender in ("female", "male") else "vocals")
        elif self.vocals.present is False:
            names.append("instrumental")
        return names

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "tags": dict(self.tags),
            "genre": [list(x) for x in self.genre],
            "mood": [list(x) for x in self.mood],
            "instrument": [list(x) for x in self.instrument],
            "vocals": {
                "present": self.vocals.present,
                "probability": self.vocals.probability,
                "gender": self.vocals.gender,
            },
            "span": list(self.span) if self.span else None,
            "patches": self.patches,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tags:
        ranked = {k: [(str(t), float(p)) for t, p in d.get(k) or []] for k in ("genre", "mood", "instrument")}
        span = d.get("span")
        return cls(
            model=d["model"],
            version=d["version"],
            tags={k: float(v) for k, v in d.get("tags", {}).items()},
            vocals=VocalsVerdict(**d.get("vocals") or {}),
            span=tuple(span) if span else None,
            patches=int(d.get("patches", 0)),
            reason=d.get("reason"),
            **ranked,
        )


@dataclass(frozen=True)
class Tagging:
    """A whole render's tags plus one ``Tags`` per requested span, in the order asked."""

    whole: Tags
    spans: list[Tags] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"whole": self.whole.to_dict(), "spans": [s.to_dict() for s in self.spans]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tagging:
        return cls(whole=Tags.from_dict(d["whole"]), spans=[Tags.from_dict(s) for s in d.get("spans", [])])


def empty_tags(model: str, version: str, reason: str, span: tuple[float, float] | None = None) -> Tags:
    return Tags(model=model, version=version, span=span, reason=reason)


def summarise(
    probs: dict[str, np.ndarray], bases: dict[str, np.ndarray], labels: dict[str, tuple[str, ...]], **meta: Any
) -> Tags:
    """Merge per-model mean probabilities into canonical tags, categories and a vocals verdict."""
    tags: dict[str, float] = {}
    heard: dict[str, float] = {}
    for model, p in probs.items():
        vocab = VOCABULARIES[model]
        for label, prob, base in zip(labels[model], p.tolist(), bases[model].tolist(), strict=True):
            canon = vocab[label].tag
            tags[canon] = max(tags.get(canon, 0.0), round(prob, 4))
            if prob >= threshold(base):
                heard[canon] = max(heard.get(canon, 0.0), round(prob, 4))
    category = {lab.tag: lab for vocab in VOCABULARIES.values() for lab in vocab.values()}

    def ranked(cat: str) -> Ranked:
        return sorted(((t, p) for t, p in heard.items() if category[t].category == cat), key=lambda x: -x[1])

    return Tags(
        tags=tags,
        genre=ranked("genre"),
        mood=ranked("mood"),
        instrument=ranked("instrument"),
        vocals=_vocals(tags, heard, category),
        **meta,
    )


def _vocals(tags: dict[str, float], heard: dict[str, float], category: dict) -> VocalsVerdict:
    """Voice heard if any voice tag is; absent if only "no vocals"/"instrumental" is; else unsure."""
    voiced = {t: p for t, p in heard.items() if category[t].vocals}
    silent = {t: p for t, p in heard.items() if category[t].vocals is False}
    best_voice = max((p for t, p in tags.items() if category[t].vocals), default=0.0)
    if voiced and max(voiced.values()) >= max(silent.values(), default=0.0):
        genders = {category[t].gender for t in voiced} - {None}
        gender = genders.pop() if len(genders) == 1 else ("mixed" if genders else None)
        return VocalsVerdict(True, max(voiced.values()), gender)
    if silent:
        return VocalsVerdict(False, max(silent.values()), None)
    return VocalsVerdict(None, best_voice, None)
