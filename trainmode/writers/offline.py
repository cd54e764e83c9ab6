"""The offline prompt writer: a deterministic caption built from facts only.

It is the default when no OpenAI key is configured, so a fresh laptop can build a
dataset. Every word it writes comes from the summary, the master_schema or the
fact checker's instrument vocabulary (only instruments the set supports), so its
captions pass the fact checker by construction.
"""
from __future__ import annotations

import re

from ..factcheck import artist_names, claimed_instruments, supported_families
from ..facts import FAMILY_LABELS
from .base import GeneratedPrompt
from .context import caption_metadata, clean_caption, fingerprint

OFFLINE_VERSION = "offline-v2"
OFFLINE_MODEL = "offline-template"
MAX_INSTRUMENTS = 5


def _join(words: list[str]) -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _energy(bpm: float | None) -> str:
    if bpm is None:
        return ""
    if bpm < 90:
        return "laid-back"
    if bpm < 118:
        return "mid-tempo"
    if bpm < 135:
        return "energetic"
    return "high-energy"


def _texture(notes: dict) -> str:
    density = notes.get("density")
    if not notes.get("count") or density is None:
        return ""
    if density >= 4:
        return "busy, dense note patterns"
    if density < 1:
        return "sparse note patterns"
    return ""


def _profile(master_schema: dict, field: str, limit: int, artists: list[str]) -> list[str]:
    """The artist's own words, minus anything naming the artist."""
    values = []
    for value in master_schema.get(field) or []:
        if isinstance(value, str) and value.strip() and not any(
                re.search(rf"(?i)(?<!\w){re.escape(a)}(?!\w)", value) for a in artists):
            values.append(" ".join(value.split()))
    return values[:limit]


def _instruments(summary: dict, master_schema: dict, artists: list[str]) -> list[str]:
    """The profile's instruments as written, then the set's own instrument families."""
    named = _profile(master_schema, "instruments", 3, artists)
    covered = {f for phrase in named for _, families in claimed_instruments(phrase) for f in families}
    # Sample names are left out: a sample may sit on a muted track or in an unused clip.
    for family in supported_families(summary, master_schema, samples=False):
        if len(named) >= MAX_INSTRUMENTS:
            break
        if family not in covered:
            named.append(FAMILY_LABELS.get(family, family))
            covered.add(family)
    return named


def _an(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


class OfflineWriter:
    name = "offline"

    def write(self, summary: dict, master_schema: dict, *, artist_name: str | None = None) -> GeneratedPrompt:
        master_schema = master_schema or {}
        artists = artist_names(master_schema, artist_name)
        meta = caption_metadata(summary)
        genres = _profile(master_schema, "genres", 2, artists)
        moods = _profile(master_schema, "moods", 2, artists)
        descriptors = _profile(master_schema, "descriptors", 3, artists)
        instruments = _instruments(summary, master_schema, artists)
        counts = summary.get("track_counts") or {}

        head = " ".join(x for x in [_join(moods), _join(genres), "track"] if x)
        if meta["bpm"] is not None:
            head += f" at {meta['bpm']:g} BPM"
        if meta["key"]:
            head += f" in {meta['key']}"
        if meta["time_signature"] and meta["time_signature"] != "4/4":
            head += f", in {meta['time_signature']} time"
        sentences = [head[0].upper() + head[1:]]

        parts = []
        if counts.get("midi"):
            parts.append("programmed parts")
        if counts.get("audio"):
            parts.append("audio layers")
        body = " ".join(x for x in [_energy(meta["bpm"]), "arrangement"] if x)
        body = _an(body) + " of " + (_join(instruments) or _join(parts) or "layered parts")
        if descriptors:
            body += f" with {_an(_join(descriptors))} sound"
        sentences.append(body[0].upper() + body[1:])

        texture = _texture(summary.get("notes") or {})
        locators = summary.get("locators") or []
        sections = len(locators) if len(locators) >= 2 else 0
        if texture and sections:
            sentences.append(f"Features {texture}, moving through {sections} distinct sections")
        elif texture:
            sentences.append(f"Features {texture}")
        elif sections:
            sentences.append(f"Moves through {sections} distinct sections")
        total = sum(counts.get(k) or 0 for k in ("audio", "midi"))
        if len(" ".join(sentences).split()) < 14 and total >= 2:
            sentences.append(f"Built from {total} layered parts")
        prompt = clean_caption(". ".join(sentences) + ".")
        return GeneratedPrompt(
            prompt=prompt,
            model=OFFLINE_MODEL,
            version=OFFLINE_VERSION,
            writer=self.name,
            provenance={
                "writer": self.name,
                "model": OFFLINE_MODEL,
                "version": OFFLINE_VERSION,
                "temperature": None,
                "summary_sha256": fingerprint(summary),
                "master_schema_sha256": fingerprint(master_schema),
            },
            metadata=meta,
        )
