"""pandas tables the pages show (kept here so they are testable without Streamlit)."""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd

from trainmode.export.formats.card import stems_noun
from trainmode.sets.facts import label
from trainmode.store.rows import caption_of
from trainmode.store.set_rows import from_summary_row

SUMMARY_COLUMNS = [
    "set",
    "bpm",
    "meter",
    "key",
    "length_s",
    "midi",
    "audio",
    "instruments",
    "plugins",
    "live",
    "parse_id",
]


def sets_frame(set_rows: list[dict]) -> pd.DataFrame:
    """The Library's table from the narrow set rows (TrainMode.list_set_rows): facts computed at
    import are read, never derived again."""
    return pd.DataFrame.from_records(
        [
            {
                "set": r["als_filename"],
                "bpm": r["bpm"],
                "meter": r["meter"],
                "key": r["key"],
                "length_s": round(r["seconds"] or 0, 1),
                "midi": r["midi"] or 0,
                "audio": r["audio"] or 0,
                "instruments": ", ".join(label(f) for f in r["instruments"]),
                "plugins": ", ".join(r["plugins"]),
                "live": r["live"],
                "parse_id": r["parse_id"],
            }
            for r in set_rows
        ],
        columns=SUMMARY_COLUMNS,
    )


def summaries_frame(rows: list[dict]) -> pd.DataFrame:
    """The same table from whole als_summaries rows."""
    return sets_frame([from_summary_row(r) for r in rows])


def filter_sets(
    frame: pd.DataFrame, text: str = "", bpm: tuple[float, float] | None = None, meters: list[str] | None = None
) -> pd.DataFrame:
    """The Library's filters: name contains `text` (any case), bpm within `bpm`, meter in `meters`."""
    keep = pd.Series(True, index=frame.index)
    if text.strip():
        keep &= frame["set"].str.contains(text.strip(), case=False, regex=False)
    if bpm is not None:
        keep &= frame["bpm"].between(*bpm)
    if meters:
        keep &= frame["meter"].isin(meters)
    return frame[keep]


def tempo_histogram(frame: pd.DataFrame, width: int = 5) -> pd.DataFrame:
    """Sets per tempo band ('120–124'), in tempo order, with empty bands between filled in."""
    bpms = frame["bpm"].dropna()
    if bpms.empty:
        return pd.DataFrame(columns=["tempo", "sets", "order"])
    low = int(math.floor(bpms.min() / width) * width)
    starts = range(low, int(bpms.max()) + 1, width)
    counts = Counter(int(b // width * width) for b in bpms)
    return pd.DataFrame([{"tempo": f"{a}–{a + width - 1}", "sets": counts.get(a, 0), "order": a} for a in starts])


def counts_frame(values, label: str, top: int | None = None) -> pd.DataFrame:
    """How many sets have each value (most first, then by name): the Library's bar charts."""
    counts = Counter(v for v in values if v)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return pd.DataFrame(ranked, columns=[label, "sets"])


def set_counts(set_rows: list[dict], parse_ids: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """Keys, meters, instrument families and plugins/devices over the (filtered) narrow set rows."""
    rows = [r for r in set_rows if parse_ids is None or r["parse_id"] in parse_ids]
    return {
        "keys": counts_frame((r["key"] for r in rows), "key"),
        "meters": counts_frame((r["meter"] for r in rows), "meter"),
        "instruments": counts_frame((label(f) for r in rows for f in r["instruments"]), "instrument"),
        "plugins": counts_frame(
            (name for r in rows for name in {*r["plugins"], *r["devices"]}), "plugin or device", top=15
        ),
    }


def profile_counts(rows: list[dict], parse_ids: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """The same counts from whole als_summaries rows."""
    return set_counts([from_summary_row(r) for r in rows], parse_ids)


def items_frame(items: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "audio": i.get("audio_filename"),
                "status": i["status"],
                "caption": caption_of(i),
                "writer": i.get("prompt_writer"),
                "edited": bool(i.get("prompt_edited")),
                "duration_s": i.get("audio_duration_s"),
                "created": i["created_at"],
            }
            for i in items
        ]
    )


def exports_frame(exports: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "created": e["created_at"],
                "status": e["status"],
                "items": e["item_count"],
                "MiB": round((e["bytes"] or 0) / 2**20, 2),
                "sha256": (e.get("sha256") or "")[:16],
                "error": e.get("error"),
                "id": e["id"],
            }
            for e in exports
        ]
    )


AUDIO_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg")
VALID_FOLDERS = {"valid", "validation", "val", "eval", "test"}


def zip_contents(names: list[str]) -> dict:
    """What an export's zip holds, from its member names: rows (audio files), how many in a
    validation folder, whether they are clips ('clip-…') or whole tracks, and `noun`, the
    dataset card's word for them ('clips', 'files' when long tracks were cut into parts, 'tracks')."""
    audio = [n for n in names if n.lower().endswith(AUDIO_SUFFIXES)]
    valid = sum(bool(VALID_FOLDERS & set(n.lower().split("/")[:-1])) for n in audio)
    stems = [n.rsplit("/", 1)[-1] for n in audio]
    clips = any(s.startswith("clip-") for s in stems)
    noun = stems_noun(stems, len(audio))
    return {"rows": len(audio), "valid": valid, "train": len(audio) - valid, "clips": clips, "noun": noun}


NOT_LISTENED = "not listened"


def browse_row(item: dict) -> dict:
    """What the Browse page filters and lists an item by: a few fields of a whole items row."""
    heard = (item.get("metadata") or {}).get("audio") or {}
    return {
        "id": item["id"],
        "audio": item.get("audio_filename") or "",
        "parse_id": item.get("parse_id"),
        "status": item["status"],
        "verdict": heard.get("verdict") or NOT_LISTENED,
        "findings": len(item.get("findings") or []),
        "by": item.get("created_by") or "",
        "created_at": item.get("created_at"),
    }


def filter_browse(rows: list[dict], statuses=(), verdicts=(), findings: str = "any", text: str = "") -> list[dict]:
    """The Browse page's filters: status and verdict in the chosen ones (none chosen: all), with or
    without fact-check findings, the file name containing `text` (any case)."""
    text = text.strip().casefold()
    return [
        r
        for r in rows
        if (not statuses or r["status"] in statuses)
        and (not verdicts or r["verdict"] in verdicts)
        and (findings == "any" or (r["findings"] > 0) == (findings == "with findings"))
        and (not text or text in r["audio"].casefold())
    ]


def zip_rows(names: list[str]) -> list[dict]:
    """An export's rows as a trainer finds them: each audio file of the zip, its split (the folder
    it is in) and its sidecars, the files beside it named after it ('track-0001.json',
    'track-0001.caption.txt', 'track-0001_prompt.txt'), whatever the format. One pass: a zip of
    5,000 rows has 15,000 names."""
    beside: dict[tuple[str, str], list[str]] = {}
    for name in names:
        if name.lower().endswith(AUDIO_SUFFIXES):
            continue
        folder, _, file = name.rpartition("/")
        for mark in (".", "_"):
            if mark in file:
                beside.setdefault((folder, file.split(mark, 1)[0]), []).append(name)
    rows = []
    for name in names:
        if not name.lower().endswith(AUDIO_SUFFIXES):
            continue
        folder, _, file = name.rpartition("/")
        sidecars = list(dict.fromkeys(beside.get((folder, file.rsplit(".", 1)[0]), [])))
        valid = bool(VALID_FOLDERS & set(name.lower().split("/")[:-1]))
        rows.append({"audio": name, "split": "valid" if valid else "train", "sidecars": sidecars})
    return rows
