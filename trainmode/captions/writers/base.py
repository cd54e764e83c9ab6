"""The caption-writer interface: (set summary, master_schema, heard tags) -> caption, variants + provenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Union

if TYPE_CHECKING:
    from trainmode.audio.tagger.result import Tags

Heard = Union["Tags", dict, None]  # what a writer accepts as the tagger's answer

VARIANTS = ("detailed", "short", "tags")  # every writer returns these three


@dataclass(frozen=True)
class GeneratedCaption:
    text: str  # the chosen caption a text-to-music model is trained on (= the detailed variant)
    model: str  # model as reported by the API ("offline-template" offline)
    version: str  # prompt version (TRAIN_PROMPT_VERSION / offline writer version)
    writer: str  # "openai" | "offline"
    provenance: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)  # bpm, key, time_signature beside the caption
    variants: dict[str, str] = field(default_factory=dict)  # detailed / short / tags (comma-separated)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def written(
        cls, *, writer: str, model: str, version: str, variants: dict[str, str], metadata: dict, **provenance
    ) -> GeneratedCaption:
        """The `detailed` variant as the caption; provenance opens with who wrote it, then `provenance`."""
        return cls(
            text=variants["detailed"],
            model=model,
            version=version,
            writer=writer,
            provenance={"writer": writer, "model": model, "version": version, **provenance},
            metadata=metadata,
            variants=variants,
        )


class CaptionWriter(Protocol):
    """A caption writer."""

    name: str

    def write(
        self,
        summary: dict,
        master_schema: dict,
        *,
        artist_name: str | None = None,
        heard: Heard = None,
        audio: bytes | str | Path | None = None,
    ) -> GeneratedCaption:
        """`artist_name` is kept out of what the writer sends or writes. `heard` is what the
        tagger heard in this audio (the whole render, or the clip's section): a `Tags`, its
        dict, or a `Tagging` dict (its whole render); None when nobody listened, and the
        caption is then written from the set alone. `audio` (MP3/WAV bytes or a path) is the
        render or clip itself, for a writer that listens (the OpenAI writer with
        TRAINMODE_WRITER_AUDIO=1); the others ignore it."""
