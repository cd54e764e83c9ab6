"""The dataset layout inside dataset.zip: what each member holds and is called.

track-0001.mp3 / .txt (caption) / .json (facts + provenance), metadata.jsonl for
Hugging Face `datasets` audiofolder, a README.md dataset card and MANIFEST.sha256.
Everything here is a pure function of the items, so the same items give the same bytes.
"""
from __future__ import annotations

import json

CARD_FIELDS = ("caption", "bpm", "key", "time_signature", "duration_s", "instruments", "genres", "moods")


def member_stem(index: int) -> str:
    return f"track-{index:04d}"


def _instruments(summary: dict, master_schema: dict) -> list[str]:
    named = [i for i in master_schema.get("instruments", []) if isinstance(i, str)]
    found = set(summary.get("devices", [])) | set(summary.get("plugins", []))
    return sorted(set(named) | found)


def track_record(stem: str, item: dict, summary: dict, master_schema: dict) -> dict:
    meta = item.get("metadata") or {}
    return {
        "file_name": f"{stem}.mp3",
        "caption": item["prompt_text"].strip(),
        "bpm": meta.get("bpm"),
        "key": meta.get("key"),
        "time_signature": meta.get("time_signature"),
        "duration_s": item.get("audio_duration_s"),
        "instruments": _instruments(summary, master_schema),
        "genres": [g for g in master_schema.get("genres", []) if isinstance(g, str)],
        "moods": [m for m in master_schema.get("moods", []) if isinstance(m, str)],
        "source_set": item.get("parse_id"),
        "prompt_edited": bool(item.get("prompt_edited")),
        "provenance": item.get("provenance") or {},
    }


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def metadata_line(record: dict) -> str:
    """One metadata.jsonl line: audiofolder needs `file_name` + flat fields (no nested provenance)."""
    return dumps({k: record[k] for k in ("file_name", *CARD_FIELDS)}) + "\n"


def dataset_card(artist_name: str, records: list[dict]) -> str:
    total = sum(r["duration_s"] or 0 for r in records)
    return f"""---
task_categories:
- text-to-audio
configs:
- config_name: default
  data_files: "*.mp3"
---
# {artist_name} — Train Mode dataset

{len(records)} tracks, {total / 60:.1f} minutes of audio in total.

Each track is `track-NNNN.mp3` with its caption in `track-NNNN.txt` and its facts in
`track-NNNN.json`. `metadata.jsonl` has one line per track with the fields
{", ".join(f"`{f}`" for f in ("file_name",) + CARD_FIELDS)}.
`MANIFEST.sha256` lists the SHA-256 of every other member (`sha256sum -c MANIFEST.sha256`).

## Load it

```python
from datasets import load_dataset
ds = load_dataset("audiofolder", data_dir="path/to/unzipped/dataset")
```
"""
