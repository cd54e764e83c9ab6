"""The dataset layout inside dataset.zip: what each member holds and is called.

    track-0001.mp3   the audio
    track-0001.txt   its caption (the prompt)
    track-0001.json  its facts: caption, bpm, key, meter, duration, instruments,
                     genres, moods, provenance
    metadata.jsonl   one flat line per track, read by Hugging Face `datasets`' audiofolder
    README.md        the dataset card
    MANIFEST.sha256  the SHA-256 of every other member (`sha256sum -c` format)

audiofolder only reads the audio files and metadata.jsonl and skips the rest, but
`load_dataset(folder)` (or a Hub repo) guesses the loader from the most common file
extension, which would be .txt/.json here: the card's YAML therefore names the
files of the default config. Everything here is a pure function of the items, so
the same items give the same bytes.
"""
from __future__ import annotations

import json

from .facts import SetFacts
from .writers.context import caption_metadata

FIELD_NOTES = {
    "file_name": "the MP3 this line describes (audiofolder loads it as the `audio` column)",
    "caption": "the training prompt, also in `track-NNNN.txt`",
    "bpm": "tempo of the Live set (number, or null)",
    "key": "key of the set, e.g. `A minor` (null when the set does not show it clearly)",
    "time_signature": "meter of the set, e.g. `4/4`",
    "duration_s": "length of the MP3 in seconds",
    "instruments": "the artist profile's instruments, then the set's instrument families, longest playing first",
    "genres": "from the artist profile",
    "moods": "from the artist profile",
}
CARD_FIELDS = tuple(FIELD_NOTES)[1:]  # metadata.jsonl fields after file_name
# The card's YAML: the default config is the MP3s plus metadata.jsonl, so loading the
# folder (or a Hub repo made from it) uses audiofolder with the captions.
CARD_YAML = """---
task_categories:
- text-to-audio
configs:
- config_name: default
  data_files:
  - split: train
    path:
    - "*.mp3"
    - metadata.jsonl
---
"""


def member_stem(index: int) -> str:
    return f"track-{index:04d}"


def instruments(summary: dict, master_schema: dict) -> list[str]:
    """What plays: the profile's instruments as the artist wrote them, then the set's
    instrument families (drums, bass, synths ...) longest playing first. Devices and
    plug-ins are never instruments. Case-insensitive duplicates are dropped."""
    named = _strings(master_schema.get("instruments"))
    seen: set[str] = set()
    out: list[str] = []
    for name in named + SetFacts.from_summary(summary).instrument_labels:
        name = name.strip()
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return out


def _number(value) -> float | None:
    """bpm/duration are always floats (or null) so every metadata.jsonl line has one type."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _strings(values) -> list[str]:
    return [v for v in values or [] if isinstance(v, str)]


def track_record(stem: str, item: dict, summary: dict, master_schema: dict) -> dict:
    """The facts of one track. bpm/key/meter come from the item (what the caption was
    written from), else from its set's summary (items captioned by hand)."""
    facts = {**caption_metadata(summary), **{k: v for k, v in (item.get("metadata") or {}).items() if v is not None}}
    return {
        "file_name": f"{stem}.mp3",
        "caption": item["prompt_text"].strip(),
        "bpm": _number(facts.get("bpm")),
        "key": facts.get("key"),
        "time_signature": facts.get("time_signature"),
        "duration_s": _number(item.get("audio_duration_s")),
        "instruments": instruments(summary, master_schema),
        "genres": _strings(master_schema.get("genres")),
        "moods": _strings(master_schema.get("moods")),
        "source_set": item.get("parse_id"),
        "prompt_edited": bool(item.get("prompt_edited")),
        "provenance": item.get("provenance") or {},
    }


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def metadata_line(record: dict) -> str:
    """One metadata.jsonl line: `file_name` + the flat fields (no nested provenance)."""
    return dumps({k: record[k] for k in ("file_name", *CARD_FIELDS)}) + "\n"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def dataset_card(artist_name: str, records: list[dict]) -> str:
    total = sum(r["duration_s"] or 0 for r in records)
    title = " ".join(artist_name.split())
    fields = "\n".join(f"| `{name}` | {note} |" for name, note in FIELD_NOTES.items())
    return f"""{CARD_YAML}
# {title} — Train Mode dataset

{len(records)} tracks, {_duration(total)} of audio in total ({total:.0f} s), each with a caption
for text-to-music training, made with Train Mode from the artist's Ableton Live sets.

## Files

- `track-NNNN.mp3`: the audio; `track-NNNN.txt`: its caption;
  `track-NNNN.json`: its facts, plus where the caption came from (`provenance`: writer,
  model, prompt version) and whether it was edited by hand (`prompt_edited`).
- `metadata.jsonl`: one line per track, the fields below.
- `MANIFEST.sha256`: the SHA-256 of every other file; check with `sha256sum -c MANIFEST.sha256`.

## Fields

| field | meaning |
|---|---|
{fields}

## Load it

```python
from datasets import load_dataset

ds = load_dataset("audiofolder", data_dir="path/to/unzipped/dataset", split="train")
print(ds[0]["caption"])
```

`load_dataset("path/to/unzipped/dataset")` works too, as does a Hugging Face Hub dataset
repo made from this folder (the YAML above picks the files). Recent `datasets`
releases need `torchcodec` installed to load the `audio` column.
"""
