"""The caption-writer interface: (ALS summary, master_schema) -> caption + provenance."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class GeneratedCaption:
    text: str              # the caption a text-to-music model is trained on
    model: str             # model as reported by the API ("offline-template" offline)
    version: str           # prompt version (TRAIN_PROMPT_VERSION / offline template version)
    writer: str            # "openai" | "offline"
    provenance: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)  # bpm, key, time_signature beside the caption
    variants: dict = field(default_factory=dict)  # other phrasings of the same facts, by name

    def to_dict(self) -> dict:
        return asdict(self)


class PromptWriter(Protocol):
    name: str

    def write(self, summary: dict, master_schema: dict, *, artist_name: str | None = None) -> GeneratedCaption:
        """`artist_name` is kept out of what the writer sends or writes."""
