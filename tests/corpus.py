"""The shared corpus of real Live sets (../shared/corpus/als or $TRAINMODE_CORPUS) and its
EXPECTED.json, each set parsed once per run; and summaries as a v1 import stored them."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from trainmode.sets.als import parse_als

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("TRAINMODE_CORPUS") or REPO.parent / "shared" / "corpus" / "als")
EXPECTED_FILE = CORPUS / "EXPECTED.json"
EXPECTED = json.loads(EXPECTED_FILE.read_text("utf-8")) if EXPECTED_FILE.is_file() else {}
_cache: dict[str, dict] = {}


def summary_of(name: str) -> dict:
    if name not in _cache:
        _cache[name] = parse_als(CORPUS / name).summary
    return _cache[name]


def corpus_summaries(corpus_dir, count=3) -> list:
    return [parse_als(p, filename=p.name) for p in sorted(corpus_dir.glob("*.als"))[:count]]


def as_v1(summary: dict) -> dict:
    """A summary as imported before v2: no stored families, dominant tempo or key name."""
    old = copy.deepcopy(summary)
    for field in ("schema_version", "instruments", "sections", "time_signatures"):
        old.pop(field, None)
    old["tempo"] = {"bpm": (summary.get("tempo") or {}).get("bpm")}
    return old
