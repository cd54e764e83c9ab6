"""Settings from the environment, falling back to .streamlit/secrets.toml.

Secrets are held in `Secret` so that repr(), logs and error messages never show them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from trainmode.errors import ConfigError

BACKENDS = ("embedded", "supabase")
WRITERS = ("auto", "openai", "offline")


class Secret(str):
    """A str whose repr/str-in-containers is masked; use .reveal() to get the value."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True)
class Settings:
    backend: str = "embedded"
    data_dir: Path = Path(".trainmode")
    supabase_url: str = field(default="", repr=False)  # may hold user:password (redact.py)
    supabase_key: Secret = field(default=Secret(""), repr=False)
    bucket: str = "train-mode"
    openai_api_key: Secret = field(default=Secret(""), repr=False)
    openai_base_url: str = field(default="", repr=False)  # may hold user:password too
    model: str = "gpt-4o-mini"
    writer: str = "auto"
    signed_url_expiry_s: int = 3600
    download_max_bytes: int = 200 * 1024 * 1024  # above this, no in-memory download_button
    license: str = "all rights reserved by the artist"  # the dataset card's rights line


def _secrets_file(path: Path | None) -> dict:
    path = path or Path(os.environ.get("TRAINMODE_SECRETS", ".streamlit/secrets.toml"))
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc.__class__.__name__}); fix or remove it.") from None
    # Accept flat keys and a [trainmode] / [supabase] / [openai] table.
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for section in data.values():
        if isinstance(section, dict):
            flat.update({k: v for k, v in section.items() if not isinstance(v, dict)})
    return {k.upper(): str(v) for k, v in flat.items()}


def load_settings(env: dict | None = None, secrets_path: Path | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    file_values = _secrets_file(secrets_path)

    def get(name: str, default: str = "") -> str:
        value = env.get(name)
        if value is None or value == "":
            value = file_values.get(name, default)
        return value.strip()

    backend = get("TRAINMODE_BACKEND", "embedded").lower()
    if backend not in BACKENDS:
        raise ConfigError(f"TRAINMODE_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}.")
    writer = get("TRAINMODE_WRITER", "auto").lower()
    if writer not in WRITERS:
        raise ConfigError(f"TRAINMODE_WRITER must be one of {', '.join(WRITERS)}, not {writer!r}.")

    def integer(name: str, default: int) -> int:
        raw = get(name, str(default))
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None

    return Settings(
        backend=backend,
        data_dir=Path(get("TRAINMODE_DATA_DIR", ".trainmode")).expanduser(),
        supabase_url=get("SUPABASE_URL").rstrip("/"),
        supabase_key=Secret(get("SUPABASE_SERVICE_ROLE_KEY")),
        bucket=get("TRAINMODE_BUCKET", "train-mode"),
        openai_api_key=Secret(get("OPENAI_API_KEY")),
        openai_base_url=get("OPENAI_BASE_URL"),
        model=get("TRAINMODE_MODEL", "gpt-4o-mini"),
        writer=writer,
        signed_url_expiry_s=integer("TRAINMODE_SIGNED_URL_EXPIRY", 3600),
        download_max_bytes=integer("TRAINMODE_DOWNLOAD_MAX_MB", 200) * 1024 * 1024,
        license=" ".join(get("TRAINMODE_LICENSE", "all rights reserved by the artist").split()),
    )
