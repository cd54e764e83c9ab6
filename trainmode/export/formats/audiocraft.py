"""`audiocraft`: MusicGen training with facebookresearch/audiocraft.

    dataset/NAME/train/track-0001.mp3    the audio
    dataset/NAME/train/track-0001.json   its MusicInfo sidecar (every field)
    dataset/NAME/valid/...               the validation split, when there is one
    egs/NAME/train/data.jsonl            the manifests (AudioMeta lines)
    egs/NAME/valid/data.jsonl
    config/dset/audio/NAME.yaml          the datasource config naming them
    dataset/NAME/README.md               the card (not at the top: audiocraft has its own README.md)
    MANIFEST.sha256

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
- audiocraft/solvers/builders.py `get_audio_datasets` (L309-336): `datasource.max_sample_rate`,
  `max_channels`, and the train/valid/evaluate/generate manifest folders; it asserts the solver's
  `sample_rate` (32000 in every MusicGen solver) <= max_sample_rate and `channels` <= max_channels,
  while each file is resampled and mixed by `convert_audio`: the config declares 48000 Hz and 2
  channels (as audiocraft's own example.yaml declares 44100 and 2), whatever the MP3s are.
- audiocraft/data/audio_dataset.py `__getitem__` (L434-454) with config/solver/musicgen/default.yaml
  (L38-49: segment_duration 30, min_segment_ratio 0.8): a file shorter than the 30 s segment is
  zero-padded to it, and the padding is trained as audio unless `tokens.padding_with_special_token`
  (default false, solvers/musicgen.py L330-344) masks it: the README's command turns it on.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator

import yaml

from trainmode.errors import DatasetError
from trainmode.export.formats.base import (
    AudioMember,
    Build,
    DatasetView,
    Member,
    Report,
    checker,
    json_file,
    json_lines,
    slug,
    splits_of,
    stem_of,
    text,
)
from trainmode.export.formats.card import readme
from trainmode.export.rows import Row, dumps

NAME = "audiocraft"
TITLE = "MusicGen (audiocraft)"
READS_AUDIO_HEADERS = True  # the manifest's sample_rate
MUSIC_INFO = ("title", "artist", "key", "bpm", "genre", "moods", "keywords", "description", "name", "instrument")
MANIFEST_KEYS = ("path", "duration", "sample_rate")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a")
STAGES = ("train", "valid", "evaluate", "generate")
SOLVER_RATE = 32000  # sample_rate of every MusicGen solver (config/solver/musicgen/*.yaml)
DECLARED_RATE, DECLARED_CHANNELS = 48000, 2  # what the datasource says it holds: convert_audio resamples and mixes
SEGMENT_S, MIN_SEGMENT_RATIO = 30.0, 0.8  # config/solver/musicgen/default.yaml L38-49
PADDING_FLAG = "tokens.padding_with_special_token=true"
PADDING_WARN = 0.10  # a mean share of padding per sample above this is worth a warning


def dataset_name(artist: str) -> str:
    return f"trainmode_{slug(artist)}"


def music_info(row: Row) -> dict:
    """The sidecar: every MusicInfo field, lists where audiocraft splits strings. Genre and moods are
    those the caption states (of what the tagger heard); instrument is the instrument families that
    play in the row's set or section, the caption's evidence: never the tagger's raw instrument tags,
    which hear "violin, strings" in a guitar render the caption rightly calls guitar."""
    facts = row.facts
    return {
        "title": row.captions.get("short"),
        "artist": row.artist,
        "key": facts.key,
        "bpm": facts.bpm,
        "genre": facts.genres[0] if facts.genres else None,
        "moods": list(facts.moods),
        "keywords": row.tags,
        "description": row.caption,
        "name": row.stem,
        "instrument": ", ".join(facts.instruments) or None,
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
            "max_sample_rate": max([DECLARED_RATE, *(h.sample_rate for h in headers)]),
            "max_channels": max([DECLARED_CHANNELS, *(h.channels for h in headers)]),
            "train": manifests["train"],
            "valid": valid,
            "evaluate": valid,
            "generate": valid,
        }
    }
    yield text(f"config/dset/audio/{name}.yaml", "# @package __global__\n\n" + yaml.safe_dump(config, sort_keys=False))
    yield readme(TITLE, rows, build, _train_note(name, "valid" in manifests), name=f"dataset/{name}/README.md")


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

Unzip the zip at the root of an audiocraft checkout (the layout mirrors its
`dataset/example`; this card is `dataset/{name}/README.md`, so audiocraft's own README.md is
left alone), then:

```bash
dora run solver=musicgen/musicgen_base_32khz model/lm/model_scale=small \\
    continue_from=//pretrained/facebook/musicgen-small conditioner=text2music dset=audio/{name} \\
    {PADDING_FLAG}
```

MusicGen trains on 30 s segments: a shorter file is zero-padded to 30 s. `{PADDING_FLAG}`
turns that padding into a special token left out of the loss; without it MusicGen learns to
end every short file in silence (`check-dataset` says how much of each sample is padding). The
config declares 48 kHz stereo: audiocraft resamples and mixes every file to the solver's
32 kHz mono itself, and refuses a datasource declaring less than the solver's rate.

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
    if isinstance(source.get("max_sample_rate"), int) and source["max_sample_rate"] < SOLVER_RATE:
        problems.append(
            f"{configs[0]}: datasource.max_sample_rate {source['max_sample_rate']} is below the {SOLVER_RATE} Hz "
            f"of every MusicGen solver: solvers/builders.py asserts sample_rate <= max_sample_rate and stops "
            f"(declare {DECLARED_RATE}: audiocraft resamples each file itself)."
        )
    if view.exists("README.md"):
        problems.append(
            "README.md is at the top of the zip: unzipped at the root of an audiocraft checkout it overwrites "
            "audiocraft's own README.md (put the card under dataset/NAME/)."
        )
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


def padding_share(duration_s: float, segment_s: float = SEGMENT_S, ratio: float = MIN_SEGMENT_RATIO) -> float:
    """The expected share of a `segment_s` sample that is zero padding for a file `duration_s` long,
    as audio_dataset.py `__getitem__` draws it (L434-454): the start is uniform in
    [0, max(0, duration - segment * ratio)], then `segment_s` is read and padded to full length."""
    shortest = segment_s * ratio
    if duration_s <= shortest:
        return max(0.0, segment_s - duration_s) / segment_s
    if duration_s <= segment_s:  # what is left after the start: uniform in [shortest, duration]
        return (segment_s - (shortest + duration_s) / 2) / segment_s
    return (segment_s - shortest) ** 2 / 2 / (duration_s - shortest) / segment_s  # only late starts pad


def _sees(view: DatasetView, report: Report) -> None:
    """The padding in each 30 s sample MusicGen draws, per manifest (a warning above 10 %)."""
    source = _datasource(view)
    flagged = any(_command_sets_padding(view.read_text(n)) for n in view.files("dataset", "README.md"))
    for stage in ("train", "valid"):
        folder = source.get(stage)
        if (
            not isinstance(folder, str)
            or not view.exists(f"{folder}/data.jsonl")
            or (stage == "valid" and folder == source.get("train"))
        ):
            continue
        durations = _durations(view, f"{folder}/data.jsonl")
        if not durations:
            continue
        shares = [padding_share(d) for d in durations]
        mean, longer = sum(shares) / len(shares), sum(d > SEGMENT_S for d in durations)
        line = (
            f"{stage}: {mean:.1%} of each {SEGMENT_S:g} s MusicGen sample is zero padding on average "
            f"({len(durations)} files of {min(durations):.1f}-{max(durations):.1f} s, the worst {max(shares):.1%}; "
            f"segment_duration {SEGMENT_S:g}, min_segment_ratio {MIN_SEGMENT_RATIO:g})"
        )
        if mean > PADDING_WARN:
            masked = "the README's command sets it" if flagged else "the README's command does not set it"
            report.warnings.append(f"{line}: MusicGen learns that silence unless {PADDING_FLAG} ({masked}).")
        else:
            report.sees.append(line + ".")
        if longer:
            report.sees.append(
                f"{stage}: {longer} files are longer than {SEGMENT_S:g} s: each sample is a random "
                f"{SEGMENT_S:g} s of one."
            )
    report.sees.append(
        f"Every file is resampled to the solver's rate ({SOLVER_RATE} Hz for MusicGen) and mixed to its channels "
        "(mono) by convert_audio; files are drawn uniformly (musicgen_base_32khz: sample_on_duration false)."
    )


def _command_sets_padding(card: str) -> bool:
    """The card's `dora run` command sets tokens.padding_with_special_token=true."""
    return any("dora run" in block and PADDING_FLAG in block for block in re.findall(r"```bash\n(.*?)```", card, re.S))


def _datasource(view: DatasetView) -> dict:
    configs = view.files("config/dset/audio", ".yaml")
    try:
        config = yaml.safe_load(view.read_text(configs[0])) if len(configs) == 1 else None
    except (yaml.YAMLError, DatasetError):
        config = None
    source = config.get("datasource") if isinstance(config, dict) else None
    return source if isinstance(source, dict) else {}


def _durations(view: DatasetView, manifest: str) -> list[float]:
    """Each listed file's length: measured from its MP3 when it can be, else the manifest's."""
    out = []
    for entry in json_lines(view, manifest, []):
        path = posixpath.normpath(entry["path"]) if isinstance(entry.get("path"), str) else ""
        sound = view.sound(path) if view.exists(path) else None
        duration = sound.duration_s if sound else entry.get("duration")
        if isinstance(duration, (int, float)) and not isinstance(duration, bool):
            out.append(float(duration))
    return out


check, inspect = checker(_rules, _sees)
