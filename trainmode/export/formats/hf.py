"""`hf`: Hugging Face `datasets` audiofolder (the default, today's layout).

    track-0001.mp3   the audio
    track-0001.txt   its caption
    track-0001.json  its facts: caption, variants, tags, bpm, key, meter, duration,
                     instruments, genres, moods, artist, provenance
    metadata.jsonl   one flat line per track, read by audiofolder
    README.md        the dataset card; its YAML `configs` names the data files
    MANIFEST.sha256  the SHA-256 of every other member (`sha256sum -c` format)

With a validation split the tracks and their metadata.jsonl go in `train/` and
`valid/`, and the card's YAML declares both splits. `load_dataset(folder)` (or a Hub
repo) guesses the loader from the most common file extension, which would be
.txt/.json here: the card's YAML therefore names the files of each split.

Rules re-stated from huggingface/datasets@b7cb10b:
src/datasets/packaged_modules/folder_based_builder/folder_based_builder.py
(METADATA_FILENAMES; "Found metadata files with different extensions"; every split's
metadata must have the same features; `_generate_examples`: `file_name` must be a
relative path inside the metadata file's folder, no "://", no ".."),
src/datasets/packaged_modules/audiofolder/audiofolder.py (AUDIO_EXTENSIONS),
src/datasets/data_files.py (SPLIT_KEYWORDS: `valid` names the validation split).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from fnmatch import fnmatch

import yaml

from trainmode.export.formats import card
from trainmode.export.formats.base import AudioMember, Build, DatasetView, Member, checker, json_lines, splits_of, text
from trainmode.export.rows import Row, dumps

NAME = "hf"
TITLE = "Hugging Face datasets (audiofolder)"
FIELD_NOTES = {
    "file_name": "the MP3 this line describes (audiofolder loads it as the `audio` column)",
    "caption": "the training caption, also in the `.txt` of the same name",
    "tags": "short descriptors: the caption's tags variant, else genres, moods, instruments, tempo and key",
    "bpm": "tempo of the Live set (number, or null)",
    "key": "key of the set, e.g. `A minor` (a clip's: of its section; null when the notes do not "
    "show one clearly; never the key heard in the MP3, which is `audio_key`)",
    "time_signature": "meter of the set, e.g. `4/4`",
    "duration_s": "length of the MP3 in seconds",
    "instruments": "the instrument families that play in the set's arrangement (a clip's: in its section), "
    "longest playing first (never the profile's)",
    "genres": "the genres the caption states, in its words: heard by the music tagger (`tags_genre`) and put in "
    "the artist profile's words where one matches; empty when the caption states none",
    "moods": "the moods the caption states, heard the same way (`tags_mood`)",
    "artist": "an opaque artist id, or the artist's name when exported with `--artist-name`",
    "vocals": "`yes` when the track is sung (lyrics attached, else the tagger hears a voice, else a vocal "
    "track plays in its set), `no` when known instrumental, empty when nobody knows (true/false/null in "
    "the `.json` sidecars)",
    "lyrics": "the lyrics the user attached (`save --lyrics-file`), or null",
    "audio_bpm": "tempo measured in the MP3, with `audio_bpm_confidence` (0-1); null when not measured, and in a "
    "clip's row, like every measured field up to `audio_analyzer`: renders are measured whole",
    "audio_bpm_confidence": "how sure the tempo measurement is (0-1)",
    "audio_key": "key heard in the MP3, e.g. `F# minor`, with `audio_key_strength` (0-1)",
    "audio_key_strength": "how clearly the key is heard (0-1)",
    "loudness_lufs": "integrated loudness (EBU R 128), with `loudness_range_lu`",
    "loudness_range_lu": "loudness range in LU",
    "peak_dbfs": "sample peak in dBFS",
    "silence_start_s": "silence before the music starts, in seconds",
    "silence_end_s": "silence after it ends, in seconds",
    "clipped_ratio": "share of samples at full scale",
    "audio_mono": "whether the render is effectively mono",
    "audio_analyzer": "what measured it",
    "audio_verdict": "the render (a clip's: its parent render) against its set: `matches`, `doubtful` or "
    "`mismatch` (see docs/audio-analysis.md)",
    "confirmed_despite_doubt": "true when someone confirmed saving it over a `mismatch` (a `doubtful` one asks no one)",
    "tags_genre": "genres heard in the MP3 by the music tagger (musicnn), most probable first, comma-separated; "
    "a clip's: its section's; empty when none was heard or it was not tagged (docs/tagger.md); lists in "
    "the `.json` sidecars",
    "tags_mood": "moods and themes heard, most probable first, comma-separated",
    "tags_instrument": "instruments heard, most probable first, comma-separated",
    "vocals_heard": "`yes` the tagger hears a voice, `no` only instruments, empty when it is unsure or did not "
    "listen (true/false/null in the `.json` sidecars)",
    "vocals_gender": "`female`, `male` or `mixed` when the tagger says so, else empty",
}
CARD_FIELDS = tuple(FIELD_NOTES)[1:]  # metadata.jsonl fields after file_name
TAG_LISTS = ("tags_genre", "tags_mood", "tags_instrument")
SPLIT_NAMES = {"train": "train", "valid": "validation"}
AUDIO_EXTENSIONS = (".aiff", ".flac", ".mp3", ".ogg", ".opus", ".wav")  # the ones we could write, all listed upstream


def track_record(row: Row) -> dict:
    """Everything known about one track (its `track-NNNN.json`)."""
    return {
        "file_name": f"{row.stem}{row.audio.suffix}",
        "caption": row.caption,
        "captions": dict(sorted(row.captions.items())),
        "tags": row.tags,
        "bpm": row.facts.bpm,
        "key": row.facts.key,
        "time_signature": row.facts.time_signature,
        "duration_s": row.duration_s,
        "instruments": list(row.facts.instruments),
        "genres": list(row.facts.genres),
        "moods": list(row.facts.moods),
        "artist": row.artist,
        "vocals": row.facts.vocals,
        "lyrics": row.lyrics,
        **row.heard,
        **row.source,
    }


def metadata_line(record: dict) -> str:
    """One metadata.jsonl line: `file_name` + the flat fields (no nested provenance)."""
    clip = [k for k in ("section", "start_s", "end_s", "parent_track") if k in record]  # a clip row
    line = {k: record[k] for k in ("file_name", *CARD_FIELDS, *clip)}
    # audiofolder requires every split's metadata file to read as the same types, and a split whose
    # lists are all empty reads as list<null>: the heard tags are plain strings here, "" for none.
    line.update({k: ", ".join(line[k] or []) for k in TAG_LISTS})
    # Likewise a split whose flags are all null would read as null, not bool: "yes" / "no" / "".
    for flag in ("vocals", "vocals_heard"):
        line[flag] = {True: "yes", False: "no"}.get(line[flag], "")
    line["vocals_gender"] = line["vocals_gender"] or ""
    return dumps(line) + "\n"


def members(rows: list[Row], build: Build) -> Iterator[Member]:
    groups = splits_of(rows)
    folders = len(groups) > 1  # a validation split: one folder per split
    for split, split_rows in groups:
        prefix = f"{split}/" if folders else ""
        records = []
        for row in split_rows:
            record = track_record(row)
            records.append(record)
            yield AudioMember(f"{prefix}{record['file_name']}", row)
            yield text(f"{prefix}{row.stem}.txt", row.caption + "\n")
            yield text(f"{prefix}{row.stem}.json", dumps(record) + "\n")
        yield text(f"{prefix}metadata.jsonl", "".join(metadata_line(r) for r in records))
    yield text("README.md", dataset_card(build, rows, [split for split, _ in groups] if folders else []))


def card_yaml(split_folders: list[str]) -> str:
    """The card's YAML: each split is its MP3s plus its metadata.jsonl, so loading the folder
    (or a Hub repo made from it) uses audiofolder with the captions."""
    entries = [("train", "")] if not split_folders else [(SPLIT_NAMES[s], f"{s}/") for s in split_folders]
    files = "".join(
        f'  - split: {name}\n    path:\n    - "{prefix}*.mp3"\n    - {prefix}metadata.jsonl\n'
        for name, prefix in entries
    )
    return f"---\ntask_categories:\n- text-to-audio\nconfigs:\n- config_name: default\n  data_files:\n{files}---\n"


def _listened(rows: list[Row]) -> str:
    """The card's line on what the renders were measured to be."""
    loudness = [r.heard["loudness_lufs"] for r in rows if r.heard.get("loudness_lufs") is not None]
    doubted = sum(bool(r.heard.get("confirmed_despite_doubt")) for r in rows)
    if any(r.parent_id for r in rows):
        return (
            f"Renders are measured whole, so a clip's row leaves the measured fields (`audio_bpm` to "
            f"`audio_analyzer`) empty; {doubted} clips come from renders saved over a mismatch with their set "
            "(someone confirmed it)."
        )
    measured = (
        f"Loudness from {min(loudness):.1f} to {max(loudness):.1f} LUFS over {len(loudness)} measured tracks; "
        if loudness
        else "No track's loudness was measured; "
    )
    return f"{measured}{doubted} saved over a mismatch with its set (someone confirmed it)."


def dataset_card(build: Build, rows: list[Row], split_folders: list[str]) -> str:
    total = sum(r.duration_s or 0 for r in rows)
    fields = "\n".join(f"| `{name}` | {note} |" for name, note in FIELD_NOTES.items())
    where = "`train/` and `valid/`" if split_folders else "the top folder"
    splits = ", ".join(f"{sum(r.split == s for r in rows)} in `{s}/` (split `{SPLIT_NAMES[s]}`)" for s in split_folders)
    stem, clips = card.stem_pattern(rows), build.clips
    return f"""{card_yaml(split_folders)}
# {build.artist} — Train Mode dataset

{len(rows)} {card.noun(rows, len(rows))}, {card.duration_text(total)} of audio in total ({total:.0f} s), each with a
caption for text-to-music training, made with Train Mode from the artist's Ableton Live sets.
{f"Files per split: {splits}." if splits else ""}{chr(10) + clips + chr(10) if clips else ""}
{_listened(rows)}

{card.sections(rows, build)}
## Files

In {where}:

- `{stem}.mp3`: the audio; `{stem}.txt`: its caption;
  `{stem}.json`: its facts, its caption variants (`captions`), plus where the caption
  came from (`provenance`: writer, model, prompt version) and whether it was edited by hand
  (`prompt_edited`).
- `metadata.jsonl`: one line per file, the fields below.

`MANIFEST.sha256`: the SHA-256 of every other file; check with `sha256sum -c MANIFEST.sha256`.

## Fields

| field | meaning |
|---|---|
{fields}

## Load it

```python
from datasets import load_dataset

ds = load_dataset("audiofolder", data_dir="path/to/unzipped/dataset")
print(ds["train"][0]["caption"])
```

`load_dataset("path/to/unzipped/dataset")` works too, as does a Hugging Face Hub dataset
repo made from this folder (the YAML above picks the files). `datasets` 4 and 5 decode the
`audio` column with `torchcodec`: install it with `pip install "datasets[audio]"` (torchcodec
and torch; FFmpeg's libraries must be on the system). `ds["train"][0]["audio"]["array"]` is then
the average of the channels (mono); for stereo, cast the column with
`Audio(num_channels=2)` or read the samples from the decoder itself.
"""


# ---- the checker -------------------------------------------------------------------------
def _rules(view: DatasetView) -> list[str]:
    """What audiofolder needs (see the module docstring for where each rule is read)."""
    problems: list[str] = []
    config = _card_config(view, problems)
    if config is None:
        return problems
    columns: dict[str, set[str]] = {}
    for split in config:
        name, patterns = split.get("split"), split.get("path")
        patterns = [p for p in ([patterns] if isinstance(patterns, str) else patterns or []) if isinstance(p, str)]
        matched = [n for n in view.names if any(fnmatch(n, p) for p in patterns)]
        problems += _split_problems(view, name, matched, columns)
    if len({frozenset(c) for c in columns.values()}) > 1:
        problems.append(f"The splits' metadata.jsonl have different columns: {sorted(columns)}.")
    return problems


def _sees(view: DatasetView, report) -> None:
    report.sees.append(
        'datasets 4 and 5 decode the audio column with torchcodec (pip install "datasets[audio]"); '
        "the decoded array is the mean of the channels (mono) unless the column is cast to Audio(num_channels=2)."
    )


check, inspect = checker(_rules, _sees)


def _card_config(view: DatasetView, problems: list[str]) -> list[dict] | None:
    if not view.exists("README.md"):
        problems.append("README.md (the dataset card naming the data files) is missing.")
        return None
    front = re.match(r"---\n(.*?)\n---\n", view.read_text("README.md"), re.S)
    try:
        card = yaml.safe_load(front.group(1)) if front else None
    except yaml.YAMLError as exc:
        card = None
        problems.append(f"README.md: its YAML header does not parse ({exc.__class__.__name__}).")
    configs = [c for c in (card or {}).get("configs") or [] if isinstance(c, dict)]
    default = next((c for c in configs if c.get("config_name") == "default"), None)
    if default is None or not isinstance(default.get("data_files"), list):
        problems.append("README.md: its YAML has no `configs` entry named `default` with `data_files`.")
        return None
    return [s for s in default["data_files"] if isinstance(s, dict)]


def _split_problems(view: DatasetView, split: str, matched: list[str], columns: dict) -> list[str]:
    audio = [n for n in matched if n.lower().endswith(AUDIO_EXTENSIONS)]
    metadata = [n for n in matched if posixpath.basename(n) == "metadata.jsonl"]
    others = [n for n in matched if posixpath.basename(n) in ("metadata.csv", "metadata.parquet")]
    if not audio or len(metadata) != 1 or others:
        return [
            f"Split {split}: its files must match audio and exactly one metadata.jsonl "
            f"(found {len(audio)} audio, metadata files {metadata + others})."
        ]
    folder = posixpath.dirname(metadata[0])
    problems: list[str] = []
    lines = json_lines(view, metadata[0], problems)
    listed = set()
    for number, entry in enumerate(lines, 1):
        name = entry.get("file_name")
        relative = posixpath.normpath(name) if isinstance(name, str) else ".."
        if "://" in relative or posixpath.isabs(relative) or relative == ".." or relative.startswith("../"):
            where = f"the line of {name!r}" if isinstance(name, str) else f"line {number}"
            problems.append(f"{metadata[0]}, {where}: `file_name` must be a path inside its folder.")
            continue
        listed.add(posixpath.normpath(posixpath.join(folder, relative)))
    problems += [
        f"Split {split}: {n} has no line in {metadata[0]}, so it would be left out." for n in audio if n not in listed
    ]
    files = set(audio)  # a set: a list here made this check quadratic in the rows (minutes for 80,000 clips)
    problems += [
        f"{metadata[0]} lists {n}, which is not an audio file of split {split}."
        for n in sorted(listed)
        if n not in files
    ]
    problems += _column_problems(metadata[0], lines)
    columns[split] = set().union(*(set(e) for e in lines))
    return problems


def _column_problems(name: str, lines: list[dict]) -> list[str]:
    """Every line has the same columns, and each column one JSON type (null aside)."""
    keys = {frozenset(e) for e in lines}
    problems = [f"{name}: its lines have different columns."] if len(keys) > 1 else []
    for column in set().union(*keys) if keys else ():
        kinds = {type(e.get(column)).__name__ for e in lines if e.get(column) is not None}
        if len(kinds) > 1:
            problems.append(f"{name}: column `{column}` mixes types {sorted(kinds)}.")
    return problems
