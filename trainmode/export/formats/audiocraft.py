"""`audiocraft`: MusicGen training with facebookresearch/audiocraft.

    dataset/NAME/train/track-0001.mp3    the audio
    dataset/NAME/train/track-0001.json   its MusicInfo sidecar (every field)
    dataset/NAME/valid/...               the validation split, when there is one
    egs/NAME/train/data.jsonl            the manifests (AudioMeta lines)
    egs/NAME/valid/data.jsonl
    config/dset/audio/NAME.yaml          the datasource config naming them
    README.md, MANIFEST.sha256

The layout mirrors audiocraft's own example (dataset/example, egs/example,
config/dset/audio/example.yaml): unzipped at the root of an audiocraft checkout,
`dset=audio/NAME` trains on it as is. Manifest paths are relative to that root.

Rules re-stated from facebookresearch/audiocraft@896ec7c:
- audiocraft/data/audio_dataset.py: `AudioMeta(path, duration, sample_rate, ...)` has no
  defaults for those three, so a manifest line without one fails; `from_meta` reads
  `data.jsonl` (or `.gz`) in the folder named by the config; `AudioDataset` asserts a
  non-empty manifest; DEFAULT_EXTS.
- audiocraft/data/music_dataset.py: the sidecar is `Path(meta.path).with_suffix('.json')`,
  read only if it exists (a missing one silently trains without a description);
  `MusicInfo.from_dict(fields_required=True)` raises KeyError for any missing field but
  `keywords`; `description` is the text the conditioner reads; `get_musical_key` drops a
  key containing a comma; `has_music_meta` is `name is not None`.
- audiocraft/data/info_audio_dataset.py: `get_keyword_list` splits a string on commas and
  whitespace ("hip hop" -> ["hip", "hop"]), so moods/keywords are written as lists.
- audiocraft/solvers/builders.py `get_audio_datasets`: `datasource.max_sample_rate`,
  `max_channels`, and the train/valid/evaluate/generate manifest folders.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator

import yaml

from trainmode.export.formats.base import (
    AudioMember,
    Build,
    DatasetView,
    Member,
    checker,
    json_file,
    json_lines,
    readme,
    slug,
    splits_of,
    stem_of,
    text,
)
from trainmode.export.rows import Row, dumps

NAME = "audiocraft"
TITLE = "MusicGen (audiocraft)"
READS_AUDIO_HEADERS = True  # the manifest's sample_rate, the config's max_sample_rate/max_channels
MUSIC_INFO = ("title", "artist", "key", "bpm", "genre", "moods", "keywords", "description", "name", "instrument")
MANIFEST_KEYS = ("path", "duration", "sample_rate")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a")
STAGES = ("train", "valid", "evaluate", "generate")


def dataset_name(artist: str) -> str:
    return f"trainmode_{slug(artist)}"


def music_info(row: Row) -> dict:
    """The sidecar: every MusicInfo field, lists where audiocraft splits strings. Genre, moods and
    instrument are what the tagger heard; the profile's and the set's when the item was not tagged."""
    facts = row.facts
    genres, moods, instruments = (row.heard.get(k) for k in ("tags_genre", "tags_mood", "tags_instrument"))
    tagged = genres is not None
    return {
        "title": row.captions.get("short"),
        "artist": row.artist,
        "key": facts.key,
        "bpm": facts.bpm,
        "genre": (genres[0] if genres else None) if tagged else (facts.genres[0] if facts.genres else None),
        "moods": list(moods or []) if tagged else list(facts.moods),
        "keywords": row.tags,
        "description": row.caption,
        "name": row.stem,
        "instrument": ", ".join(instruments if tagged else facts.instruments) or None,
    }


def members(rows: list[Row], build: Build) -> Iterator[Member]:
    name = dataset_name(build.artist)
    groups = splits_of(rows)
    for split, split_rows in groups:
        for row in split_rows:
            audio = f"dataset/{name}/{split}/{row.stem}{row.audio.suffix}"
            yield AudioMember(audio, row)
            yield text(f"dataset/{name}/{split}/{row.stem}.json", dumps(music_info(row)) + "\n")
        lines = [_manifest_line(f"dataset/{name}/{split}/{r.stem}{r.audio.suffix}", r, build) for r in split_rows]
        yield text(f"egs/{name}/{split}/data.jsonl", "".join(lines))
    headers = [h for h in (build.header(r) for r in rows) if h]
    manifests = {split: f"egs/{name}/{split}" for split, _ in groups}
    valid = manifests.get("valid", manifests["train"])
    config = {
        "datasource": {
            "max_sample_rate": max((h.sample_rate for h in headers), default=48000),
            "max_channels": max((h.channels for h in headers), default=2),
            "train": manifests["train"],
            "valid": valid,
            "evaluate": valid,
            "generate": valid,
        }
    }
    yield text(f"config/dset/audio/{name}.yaml", "# @package __global__\n\n" + yaml.safe_dump(config, sort_keys=False))
    yield readme(TITLE, rows, build, _train_note(name, "valid" in manifests))


def _manifest_line(path: str, row: Row, build: Build) -> str:
    header = build.header(row)
    return (
        json.dumps(
            {
                "path": path,
                "duration": row.duration_s,
                "sample_rate": header.sample_rate if header else None,
                "amplitude": None,
                "weight": None,
                "info_path": None,
            }
        )
        + "\n"
    )


def _train_note(name: str, has_valid: bool) -> str:
    valid = f"`egs/{name}/valid`" if has_valid else "the training manifest (there is no validation split)"
    return f"""## Train on it

Unzip this folder at the root of an audiocraft checkout (the layout mirrors its
`dataset/example`), then:

```bash
dora run solver=musicgen/musicgen_base_32khz model/lm/model_scale=small \\
    continue_from=//pretrained/facebook/musicgen-small conditioner=text2music dset=audio/{name}
```

Manifest paths are relative to that root. Unzipped anywhere else, make them absolute once,
from the unzipped folder: `sed -i "s#\\"path\\": \\"#\\"path\\": \\"$PWD/#" egs/{name}/*/data.jsonl`.
The config's validation, evaluation and generation stages read {valid}.
"""


# ---- the checker -----------------------------------------------------------------------
def _rules(view: DatasetView) -> list[str]:
    """What audiocraft's loaders need (see the module docstring for where each rule is read)."""
    configs = view.files("config/dset/audio", ".yaml")
    if len(configs) != 1:
        return [f"Expected one config/dset/audio/NAME.yaml, found {len(configs)}."]
    try:
        config = yaml.safe_load(view.read_text(configs[0]))
    except yaml.YAMLError as exc:
        return [f"{configs[0]} is not YAML ({exc.__class__.__name__})."]
    source = (config.get("datasource") if isinstance(config, dict) else None) or {}
    problems = [
        f"{configs[0]}: datasource.{k} must be a whole number."
        for k in ("max_sample_rate", "max_channels")
        if not isinstance(source.get(k), int)
    ]
    listed: set[str] = set()
    for stage in STAGES:
        folder = source.get(stage)
        if not isinstance(folder, str) or not view.exists(f"{folder}/data.jsonl"):
            problems.append(f"{configs[0]}: datasource.{stage} must name a folder holding data.jsonl.")
            continue
        if stage in ("train", "valid") or folder not in (source.get("train"), source.get("valid")):
            problems += _manifest_problems(view, f"{folder}/data.jsonl", source, listed)
    audio = [n for n in view.files("dataset", "") if n.lower().endswith(AUDIO_EXTENSIONS)]
    problems += [f"{n} is in no manifest, so audiocraft never trains on it." for n in audio if n not in listed]
    stems = [stem_of(n) for n in audio]
    problems += [
        f"{s}.json would be the sidecar of {stems.count(s)} audio files."
        for s in sorted(set(stems))
        if stems.count(s) > 1
    ]
    return problems


def _manifest_problems(view: DatasetView, manifest: str, source: dict, listed: set[str]) -> list[str]:
    problems: list[str] = []
    lines = json_lines(view, manifest, problems)
    if not lines and not problems:
        problems.append(f"{manifest} is empty (AudioDataset asserts at least one line).")
    for number, entry in enumerate(lines, 1):
        where = f"{manifest} line {number}"
        missing = [k for k in MANIFEST_KEYS if entry.get(k) is None]
        if not missing and not isinstance(entry["path"], str):
            missing = ["a string path"]
        if missing:
            problems.append(f"{where} lacks {', '.join(missing)} (AudioMeta needs path, duration and sample_rate).")
            continue
        if not isinstance(entry["sample_rate"], int) or entry["sample_rate"] > (source.get("max_sample_rate") or 0):
            problems.append(f"{where}: sample_rate {entry['sample_rate']} is not a whole number up to max_sample_rate.")
        path = posixpath.normpath(entry["path"])
        if not view.exists(path):
            problems.append(f"{where}: {entry['path']} is not in the dataset.")
            continue
        listed.add(path)
        problems += _sidecar_problems(view, stem_of(path) + ".json")
    return problems


def _sidecar_problems(view: DatasetView, sidecar: str) -> list[str]:
    if not view.exists(sidecar):
        return [f"{sidecar} is missing: audiocraft would train on its audio with no description."]
    problems: list[str] = []
    info = json_file(view, sidecar, problems)
    if not isinstance(info, dict):
        return problems or [f"{sidecar} is not a JSON object."]
    problems += [f"{sidecar} lacks `{k}` (MusicInfo.from_dict raises KeyError)." for k in MUSIC_INFO if k not in info]
    problems += [
        f"{sidecar}: `{k}` must be a list of strings."
        for k in ("moods", "keywords")
        if not (isinstance(info.get(k), list) and all(isinstance(v, str) for v in info[k]))
    ]
    if not (isinstance(info.get("description"), str) and info["description"].strip()):
        problems.append(f"{sidecar}: `description` (the text MusicGen is conditioned on) is empty.")
    if info.get("name") is None:
        problems.append(f"{sidecar}: `name` is null, so audiocraft treats it as having no music metadata.")
    if isinstance(info.get("key"), str) and "," in info["key"]:
        problems.append(f"{sidecar}: `key` holds a comma, so audiocraft drops it.")
    if info.get("bpm") is not None and not isinstance(info["bpm"], (int, float)):
        problems.append(f"{sidecar}: `bpm` must be a number or null.")
    return problems


check = checker(_rules)
