"""Dataset layouts for the trainers people use, one module per format.

Each module has NAME, TITLE, `members(rows, build)` (the zip members, lazily, in
order; `zip_members` adds MANIFEST.sha256), `check(zip_or_dir) -> list[str]` (the tool's loader rules,
re-stated with the commit they were read at; empty when the dataset meets them) and
`inspect(zip_or_dir) -> Report` (those problems, plus what the trainer will make of the data: batches,
padding, seconds cut, unknown tokens, as problems, warnings with their numbers, and what it sees).
Optional: `MAX_SECONDS` (the trainer keeps only that much of a file: the export cuts longer tracks
into parts, trainmode/export/parts.py) and `leaves_out(row) -> reason | None` (rows the trainer
cannot take as they are, left out and counted in the card). docs/dataset-formats.md shows each
layout and how to train on it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from trainmode.errors import DatasetError, ValidationError
from trainmode.export.formats import ace_step, ace_step_v1, ai_toolkit, audiocraft, hf, stable_audio
from trainmode.export.formats.base import Build, Member, Report, with_manifest
from trainmode.export.rows import Row

FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (hf, audiocraft, stable_audio, ace_step, ace_step_v1, ai_toolkit)}
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
    return dataset_report(path, format_name).problems


def dataset_report(path: str | Path, format_name: str) -> Report:
    """What the format's trainer would make of the dataset at `path`: problems, warnings, what it sees."""
    fmt = get_format(format_name)
    if not str(path).strip():
        raise ValidationError("No dataset path was given.")
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path} does not exist.")
    try:
        return fmt.inspect(path)
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"{path} is neither a folder nor a readable zip ({exc}).") from None


def require_valid(path: str | Path, format_name: str) -> Report:
    """The dataset's report; DatasetError (every problem, one sentence each) when it has a problem."""
    report = dataset_report(path, format_name)
    problems = report.problems
    if problems:
        shown = " ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        raise DatasetError(f"The {format_name} dataset breaks {get_format(format_name).TITLE}'s rules: {shown}")
    return report
