"""The offline prompt writer: a deterministic caption built from facts only.

It is the default when no OpenAI key is configured, so a fresh laptop can build a
dataset. Every word it writes comes from the summary or master_schema, so its
captions pass the fact checker by construction.
"""
from __future__ import annotations

from .base import GeneratedPrompt
from .context import caption_metadata, fingerprint

OFFLINE_VERSION = "offline-v1"
OFFLINE_MODEL = "offline-template"


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


class OfflineWriter:
    name = "offline"

    def write(self, summary: dict, master_schema: dict) -> GeneratedPrompt:
        meta = caption_metadata(summary)
        genres = [g for g in master_schema.get("genres", []) if isinstance(g, str)][:2]
        moods = [m for m in master_schema.get("moods", []) if isinstance(m, str)][:2]
        instruments = [i for i in master_schema.get("instruments", []) if isinstance(i, str)][:3]
        counts = summary.get("track_counts", {})

        parts = []
        head = " ".join(x for x in [_energy(meta.get("bpm")), _join(genres) or "electronic"] if x)
        parts.append(f"{_join(moods).capitalize() + ' ' if moods else ''}{head} track".strip().capitalize())
        if meta.get("bpm") is not None:
            parts[0] += f" at {meta['bpm']:g} BPM"
        if meta.get("time_signature") and meta["time_signature"] != "4/4":
            parts[0] += f" in {meta['time_signature']} time"
        if meta.get("key"):
            parts[0] += f" in {meta['key']}"
        layers = []
        if counts.get("midi"):
            layers.append(f"{counts['midi']} MIDI parts")
        if counts.get("audio"):
            layers.append(f"{counts['audio']} audio layers")
        if instruments:
            parts.append("featuring " + _join(instruments))
        if layers:
            parts.append("built from " + _join(layers))
        locators = summary.get("locators") or []
        if len(locators) >= 2:
            parts.append(f"with {len(locators)} marked sections")
        prompt = ", ".join(parts) + "."
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
