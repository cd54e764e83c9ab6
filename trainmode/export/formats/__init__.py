"""Dataset layouts for the trainers people use, one module per format.

Each module has NAME, TITLE, `members(rows, build)` (the zip members, lazily, in
order; `zip_members` adds MANIFEST.sha256) and `check(zip_or_dir) -> list[str]` (the tool's loader rules, re-stated with
the commit they were read at; empty when the dataset meets them). docs/dataset-formats.md
shows each layout and how to train on it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from trainmode.errors import DatasetError, ValidationError
from trainmode.export.formats import ace_step, ace_step_v1, audiocraft, hf, stable_audio
from trainmode.export.formats.base import Build, Member, with_manifest
from trainmode.export.rows import Row

FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (hf, audiocraft, stable_audio, ace_step, ace_step_v1)}
DEFAULT = hf.NAME


def get_format(name: str) -> ModuleType:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValidationError(f"Unknown dataset format {name!r}: use one of {', '.join(FORMATS)}.") from None


def zip_members(fmt: ModuleType, rows: list[Row], build: Build) -> Iterator[Member]:
    """Every member of the format's zip for `rows`, in order, MANIFEST.sha256 last."""
    return with_manifest(fmt.members(rows, build))


def check_dataset(path: str | Path, format_name: str) -> list[str]:
    """The problems a trainer would have with the dataset at `path` (a .zip or a folder)."""
    fmt = get_format(format_name)
    if not str(path).strip():
        raise ValidationError("No dataset path was given.")
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path} does not exist.")
    try:
        return fmt.check(path)
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"{path} is neither a folder nor a readable zip ({exc}).") from None


def require_valid(path: str | Path, format_name: str) -> None:
    """Raise DatasetError (every problem, one sentence each) unless the dataset meets its format's rules."""
    problems = check_dataset(path, format_name)
    if problems:
        shown = " ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        raise DatasetError(f"The {format_name} dataset breaks {get_format(format_name).TITLE}'s rules: {shown}")
