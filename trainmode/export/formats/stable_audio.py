"""`stable-audio`: Stable Audio Open fine-tuning with Stability-AI/stable-audio-tools.

    train/track-0001.mp3        the audio
    train/track-0001.json       its sidecar: `prompt` (the caption) and the facts
    valid/...                   the validation split, when there is one
    dataset_config.json         `audio_dir` dataset over train/, with the module below
    val_dataset_config.json     the same over valid/ (for --val-dataset-config), when there is one
    custom_metadata.py          returns the sidecar's `prompt` for each audio file
    README.md, MANIFEST.sha256

Paths in the configs are relative: train.py is run from the unzipped folder.
Both configs say `"drop_last": false`: stable-audio-tools' DataLoader drops a last batch it cannot
fill by default, so a split with fewer files than the batch size would train (or validate) on nothing.

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
- data/dataset.py L852-853 (`audio_dir`): `DataLoader(..., drop_last=dataset_config.get("drop_last",
  True))`; defaults.ini L11 `batch_size = 4`: with drop_last, floor(files / 4) batches per epoch,
  so 1-3 files make none (PyTorch Lightning 2.1.0 then stops: "No training batches"); the
  validation loader (train.py L54-66) uses the same batch size and rule.
- data/utils.py `PadCrop_Normalized_T` (L24-72): one random `sample_size` window per file and
  epoch, zero-padded at the end (with a padding mask) when the file is shorter; audio resampled
  to the model's `sample_rate` (train.py L46) and made stereo (`Stereo`, dataset.py L166-171).
- README.md L100-101, prefigure 0.0.9 `prefigure.py` L69-83: train.py reads `./defaults.ini`
  unless `--config-file` names it, so the command run from the unzipped folder must pass it.
"""

from __future__ import annotations

import ast
import json
import math
import posixpath
from collections.abc import Iterator

from trainmode.errors import DatasetError
from trainmode.export.formats.base import (
    AudioMember,
    Build,
    DatasetView,
    Member,
    Report,
    checker,
    json_file,
    splits_of,
    text,
)
from trainmode.export.formats.card import readme
from trainmode.export.rows import Row, dumps

NAME = "stable-audio"
TITLE = "Stable Audio Open (stable-audio-tools)"
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".aif", ".opus")
BATCH_SIZE = 4  # defaults.ini L11: what train.py uses without --batch-size
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
        "vocals": row.facts.vocals,
        "lyrics": row.lyrics,
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
            "drop_last": False,
            "datasets": [{"id": f"trainmode_{split}", "path": split, "custom_metadata_module": MODULE}],
        }
        yield text(CONFIGS[split], json.dumps(config, indent=2) + "\n")
    yield text(MODULE, MODULE_SOURCE)
    yield readme(TITLE, rows, build, _train_note(groups))


def _train_note(groups: list[tuple[str, list[Row]]]) -> str:
    valid = " --val-dataset-config val_dataset_config.json" if len(groups) > 1 else ""
    batch = min(BATCH_SIZE, len(groups[0][1]))  # the training split's files: a batch it can fill
    return f"""## Train on it

From this folder (the configs' paths are relative to it), with a stable-audio-tools checkout
and the Stable Audio Open model config and checkpoint:

```bash
python /path/to/stable-audio-tools/train.py --config-file /path/to/stable-audio-tools/defaults.ini \\
    --dataset-config dataset_config.json{valid} --batch-size {batch} \\
    --model-config model_config.json --pretrained-ckpt-path model.safetensors --name trainmode
```

`--config-file` is needed because train.py reads `defaults.ini` from the folder it is run in.
The configs set `"drop_last": false`, so every file is trained on even when a split holds fewer
files than the batch size (stable-audio-tools drops an incomplete last batch by default: with its
default batch size of 4, a split of 3 files would train on nothing). Keep `--num-workers` above 0:
the DataLoader is made with `persistent_workers=True`.

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


def _audio_under(view: DatasetView, folder: str) -> list[str]:
    """The audio files stable-audio-tools scans under `folder` (recursively, hidden ones skipped)."""
    return [
        n
        for n in view.files(folder)
        if n.lower().endswith(AUDIO_EXTENSIONS) and not posixpath.basename(n).startswith(".")
    ]


def _audio_problems(view: DatasetView, folder: str, covered: set[str]) -> list[str]:
    audio = _audio_under(view, folder)
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


def _sees(view: DatasetView, report: Report) -> None:
    """Batches per epoch for each split as stable-audio-tools makes them at its default batch size:
    a split that makes none trains (or validates) on nothing, which is a problem."""
    for split, name in CONFIGS.items():
        config = _json_or_none(view, name)
        if not isinstance(config, dict) or not isinstance(config.get("datasets"), list):
            continue
        paths = [posixpath.normpath(d["path"]) for d in config["datasets"] if isinstance(d, dict) and "path" in d]
        files = sum(len(_audio_under(view, p)) for p in paths if isinstance(p, str))
        drop_last = config.get("drop_last", True) is not False
        batches = files // BATCH_SIZE if drop_last else math.ceil(files / BATCH_SIZE)
        what = "trains" if split == "train" else "validates"
        line = (
            f"{name} ({split}): {files} files make {batches} batch{'' if batches == 1 else 'es'} per epoch at "
            "stable-audio-tools' default "
            f"batch size {BATCH_SIZE} (drop_last {str(drop_last).lower()})"
        )
        if files and not batches:
            report.problems.append(
                f"{line}: it {what} on nothing (data/dataset.py L853 drops the incomplete batch; set "
                '"drop_last": false or use at most that many per batch).'
            )
        else:
            report.sees.append(line + ".")
    report.sees.append(
        "Each file is resampled to the model's sample rate (44.1 kHz for Stable Audio Open) and made stereo; "
        "every epoch takes one random window of the model's sample_size from it, zero-padded (and masked) "
        "when the file is shorter."
    )


def _json_or_none(view: DatasetView, name: str):
    if not view.exists(name):
        return None
    try:
        return json.loads(view.read_text(name))
    except (json.JSONDecodeError, DatasetError):
        return None


check, inspect = checker(_rules, _sees)
