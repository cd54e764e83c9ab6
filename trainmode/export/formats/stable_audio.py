"""`stable-audio`: Stable Audio Open fine-tuning with Stability-AI/stable-audio-tools.

    train/track-0001.mp3        the audio
    train/track-0001.json       its sidecar: `prompt` (the caption) and the facts
    valid/...                   the validation split, when there is one
    dataset_config.json         `audio_dir` dataset over train/, with the module below
    val_dataset_config.json     the same over valid/ (for --val-dataset-config), when there is one
    custom_metadata.py          returns the sidecar's `prompt` for each audio file
    README.md, MANIFEST.sha256

Paths in the configs are relative: train.py is run from the unzipped folder.

Rules re-stated from Stability-AI/stable-audio-tools@50049e3:
- stable_audio_tools/data/dataset.py `create_dataloader_from_config`: `dataset_type` is
  required; `audio_dir` needs `datasets[]` with `id` and `path`; `custom_metadata_module`
  is loaded with `spec_from_file_location` and must define `get_custom_metadata`.
- `get_audio_filenames`/`fast_scandir`: .wav .mp3 .flac .ogg .aif .opus, recursively,
  hidden files skipped.
- `SampleDataset.__getitem__`: the module's dict is merged into the sample's metadata; the
  conditioners need `prompt` (models/conditioners.py `MultiConditioner` raises for a missing
  key); any Exception there is swallowed and another file is used instead, so the module
  below raises a BaseException for a missing sidecar, and checks every sidecar on import.
"""

from __future__ import annotations

import ast
import json
import posixpath
from collections.abc import Iterator

from trainmode.export.formats.base import (
    AudioMember,
    Build,
    DatasetView,
    Member,
    checker,
    json_file,
    readme,
    splits_of,
    text,
)
from trainmode.export.rows import Row, dumps

NAME = "stable-audio"
TITLE = "Stable Audio Open (stable-audio-tools)"
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".aif", ".opus")
CONFIGS = {"train": "dataset_config.json", "valid": "val_dataset_config.json"}
MODULE = "custom_metadata.py"
MODULE_SOURCE = '''"""Train Mode: the prompt of each audio file, read from the .json beside it.

stable-audio-tools calls get_custom_metadata(info, audio) for every sample. Its dataset
catches every Exception and quietly trains on another file instead, so a missing or
empty sidecar raises MissingSidecar, which is not an Exception and stops training.
Every sidecar under this folder is also checked once, when the module is loaded.
"""
import json
import os

AUDIO = (".wav", ".mp3", ".flac", ".ogg", ".aif", ".opus")


class MissingSidecar(BaseException):
    """An audio file without a usable .json sidecar: its prompt is unknown."""


def _prompt(audio_path):
    sidecar = os.path.splitext(audio_path)[0] + ".json"
    try:
        with open(sidecar, encoding="utf-8") as f:
            prompt = json.load(f)["prompt"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MissingSidecar(f"{sidecar}: no prompt for {audio_path} ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(prompt, str) or not prompt.strip():
        raise MissingSidecar(f"{sidecar}: the prompt for {audio_path} is empty")
    return prompt


def _check_all(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            if name.lower().endswith(AUDIO) and not name.startswith("."):
                _prompt(os.path.join(root, name))


def get_custom_metadata(info, audio):
    return {"prompt": _prompt(info["path"])}


_check_all(os.path.dirname(os.path.abspath(__file__)))
'''


def sidecar(row: Row) -> dict:
    facts = row.facts
    return {
        "prompt": row.caption,
        "captions": dict(sorted(row.captions.items())),
        "tags": row.tags,
        "bpm": facts.bpm,
        "key": facts.key,
        "time_signature": facts.time_signature,
        "instruments": list(facts.instruments),
        "genres": list(facts.genres),
        "moods": list(facts.moods),
        "duration_s": row.duration_s,
        "artist": row.artist,
    }


def members(rows: list[Row], build: Build) -> Iterator[Member]:
    groups = splits_of(rows)
    for split, split_rows in groups:
        for row in split_rows:
            yield AudioMember(f"{split}/{row.stem}{row.audio.suffix}", row)
            yield text(f"{split}/{row.stem}.json", dumps(sidecar(row)) + "\n")
    for split, _ in groups:
        config = {
            "dataset_type": "audio_dir",
            "random_crop": True,
            "datasets": [{"id": f"trainmode_{split}", "path": split, "custom_metadata_module": MODULE}],
        }
        yield text(CONFIGS[split], json.dumps(config, indent=2) + "\n")
    yield text(MODULE, MODULE_SOURCE)
    yield readme(TITLE, rows, build, _train_note(len(groups) > 1))


def _train_note(has_valid: bool) -> str:
    valid = " --val-dataset-config val_dataset_config.json" if has_valid else ""
    return f"""## Train on it

From this folder (the configs' paths are relative to it), with a stable-audio-tools checkout
and the Stable Audio Open model config and checkpoint:

```bash
python /path/to/stable-audio-tools/train.py --dataset-config dataset_config.json{valid} \\
    --model-config model_config.json --pretrained-ckpt-path model.safetensors --name trainmode
```

`custom_metadata.py` gives each file the `prompt` from its `.json` sidecar, and stops training
with `MissingSidecar` if one is missing instead of quietly using another file.
"""


# ---- the checker -------------------------------------------------------------------------
def _rules(view: DatasetView) -> list[str]:
    """What stable-audio-tools' audio_dir loader needs (see the module docstring)."""
    if not view.exists(CONFIGS["train"]):
        return [f"{CONFIGS['train']} is missing."]
    problems: list[str] = []
    covered: set[str] = set()
    for name in CONFIGS.values():
        if view.exists(name):
            problems += _config_problems(view, name, covered)
    audio = [n for n in view.names if n.lower().endswith(AUDIO_EXTENSIONS)]
    problems += [f"{n} is under no dataset path, so it is never trained on." for n in audio if n not in covered]
    return problems


def _config_problems(view: DatasetView, name: str, covered: set[str]) -> list[str]:
    problems: list[str] = []
    config = json_file(view, name, problems)
    if (
        not isinstance(config, dict)
        or config.get("dataset_type") != "audio_dir"
        or not isinstance(config.get("datasets"), list)
        or not config["datasets"]
    ):
        return problems + [f'{name}: needs dataset_type "audio_dir" and a non-empty `datasets` list.']
    for entry in config["datasets"]:
        if not (isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("path"), str)):
            problems.append(f"{name}: every dataset needs a string `id` and `path`.")
            continue
        module = entry.get("custom_metadata_module")
        if not (isinstance(module, str) and view.exists(module) and _defines(view, module, "get_custom_metadata")):
            problems.append(
                f"{name}: dataset {entry['id']} needs a custom_metadata_module defining "
                "get_custom_metadata, or no sample has a prompt."
            )
        problems += _audio_problems(view, posixpath.normpath(entry["path"]), covered)
    return problems


def _audio_problems(view: DatasetView, folder: str, covered: set[str]) -> list[str]:
    audio = [
        n
        for n in view.files(folder)
        if n.lower().endswith(AUDIO_EXTENSIONS) and not posixpath.basename(n).startswith(".")
    ]
    if not audio:
        return [f"{folder}/ holds no audio file stable-audio-tools would load."]
    problems: list[str] = []
    for name in audio:
        covered.add(name)
        side = posixpath.splitext(name)[0] + ".json"
        data = json_file(view, side, problems) if view.exists(side) else None
        prompt = data.get("prompt") if isinstance(data, dict) else None
        if not (isinstance(prompt, str) and prompt.strip()):
            problems.append(f"{side} has no `prompt` for {name}: custom_metadata.py would stop training.")
    return problems


def _defines(view: DatasetView, module: str, function: str) -> bool:
    try:
        tree = ast.parse(view.read_text(module))
    except (SyntaxError, UnicodeDecodeError):
        return False
    return any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body)


check = checker(_rules)
