"""Caption writers: pick one from the settings."""

from __future__ import annotations

from trainmode.captions.writers.base import CaptionWriter, GeneratedCaption
from trainmode.captions.writers.offline import OfflineWriter
from trainmode.config import Settings
from trainmode.errors import ConfigError

__all__ = ["GeneratedCaption", "CaptionWriter", "OfflineWriter", "get_writer"]


def get_writer(settings: Settings, name: str | None = None) -> CaptionWriter:
    """`name` (or settings.writer): 'openai', 'offline' or 'auto' — OpenAI when a key or
    an OpenAI-compatible endpoint (OPENAI_BASE_URL, e.g. a local Ollama) is configured."""
    name = (name or settings.writer or "auto").lower()
    if name == "auto":
        name = "openai" if settings.openai_api_key or settings.openai_base_url else "offline"
    if name == "offline":
        return OfflineWriter()
    if name == "openai":
        from trainmode.captions.writers.openai_writer import OpenAIWriter  # imported lazily: the client is heavy

        return OpenAIWriter.from_settings(settings)
    raise ConfigError(f"Unknown caption writer {name!r}: use 'openai' or 'offline'.")
