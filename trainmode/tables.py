"""pandas tables the pages show (kept here so they are testable without Streamlit)."""
from __future__ import annotations

import math
from collections import Counter

import pandas as pd

from .facts import SetFacts

SUMMARY_COLUMNS = ["set", "bpm", "meter", "key", "length_s", "midi", "audio", "instruments", "plugins", "live",
                   "parse_id"]


def summaries_frame(rows: list[dict]) -> pd.DataFrame:
    records = []
    for row in rows:
        s = row["summary"]
        facts = SetFacts.from_summary(s)
        counts = s.get("track_counts") or {}
        records.append({
            "set": row["als_filename"],
            "bpm": facts.dominant_bpm,
            "meter": facts.time_signature,
            "key": facts.key,
            "length_s": round(facts.length_seconds or 0, 1),
            "midi": counts.get("midi", 0),
            "audio": counts.get("audio", 0),
            "instruments": ", ".join(facts.instrument_labels),
            "plugins": ", ".join(s.get("plugins") or []),
            "live": s.get("live_version"),
            "parse_id": row["parse_id"],
        })
    return pd.DataFrame.from_records(records, columns=SUMMARY_COLUMNS)


def filter_sets(frame: pd.DataFrame, text: str = "", bpm: tuple[float, float] | None = None,
                meters: list[str] | None = None) -> pd.DataFrame:
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


def profile_counts(rows: list[dict], parse_ids: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """Keys, meters, instrument families and plugins/devices over the (filtered) sets."""
    sums = [r["summary"] for r in rows if parse_ids is None or r["parse_id"] in parse_ids]
    facts = [SetFacts.from_summary(s) for s in sums]
    return {
        "keys": counts_frame((f.key for f in facts), "key"),
        "meters": counts_frame((f.time_signature for f in facts), "meter"),
        "instruments": counts_frame((name for f in facts for name in f.instrument_labels), "instrument"),
        "plugins": counts_frame((name for s in sums for name in {*(s.get("plugins") or []), *(s.get("devices") or [])}),
                                "plugin or device", top=15),
    }


def items_frame(items: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records([{
        "audio": i.get("audio_filename"), "status": i["status"], "caption": i["prompt_text"],
        "writer": i.get("prompt_writer"), "edited": bool(i.get("prompt_edited")),
        "duration_s": i.get("audio_duration_s"), "created": i["created_at"],
    } for i in items])


def exports_frame(exports: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records([{
        "created": e["created_at"], "status": e["status"], "items": e["item_count"],
        "MiB": round((e["bytes"] or 0) / 2**20, 2), "sha256": (e.get("sha256") or "")[:16],
        "error": e.get("error"), "id": e["id"],
    } for e in exports])
