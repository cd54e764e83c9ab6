"""pandas tables the pages show (kept here so they are testable without Streamlit)."""
from __future__ import annotations

import pandas as pd


def summaries_frame(rows: list[dict]) -> pd.DataFrame:
    records = []
    for row in rows:
        s = row["summary"]
        key = s.get("key") or {}
        counts = s.get("track_counts") or {}
        records.append({
            "set": row["als_filename"],
            "bpm": (s.get("tempo") or {}).get("bpm"),
            "meter": s.get("time_signature"),
            "key": f"{key['tonic']} {key['mode']}" if key.get("tonic") else None,
            "length_s": round((s.get("length") or {}).get("seconds") or 0, 1),
            "midi": counts.get("midi", 0),
            "audio": counts.get("audio", 0),
            "plugins": ", ".join(s.get("plugins") or []),
            "live": s.get("live_version"),
            "parse_id": row["parse_id"],
        })
    return pd.DataFrame.from_records(records)


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
