"""The shared corpus of real Live sets (../shared/corpus/als or $TRAINMODE_CORPUS) and its
EXPECTED.json, each set parsed once per run; summaries as a v1 import stored them; and a corpus
set saved with a mostly silent render (save_vocal_only)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from tests.audio_synth import encode, song, with_silence
from trainmode.sets.als import parse_als
from trainmode.sets.importing import import_sets, require_summary
from trainmode.train.save import SaveRequest, save_item

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


VOCAL_PROJECT = "polisen__ableton-project-analyzer__test_vocal_project.als"


def save_vocal_only(store, folder: Path) -> tuple[dict, dict, dict]:
    """test_vocal_project (real corpus set): 111 s at 160 BPM; "2-helios 2" plays throughout, the
    vocal only from 59.836 s to 96.764 s. Its render here sounds only the vocal (as QA's render
    did): silent for its first 59.8 s and its last 14.2 s, 37 s of sound in 111 s. Saved over its
    mismatch; (artist, set row, item)."""
    import_sets(store, "Ada", [(VOCAL_PROJECT, CORPUS / VOCAL_PROJECT)])
    artist = store.find_artist("Ada")
    set_row = require_summary(store, artist, VOCAL_PROJECT)
    render = Path(folder) / "test_vocal_project.mp3"
    render.write_bytes(encode(with_silence(song(160, "C major", 96.764 - 59.836), 59.836, 111.0 - 96.764)))
    caption = "A lone vocal over a quiet backing at 160 BPM."
    request = SaveRequest(audio=render, audio_name=render.name, caption=caption, confirm=True)
    return artist, set_row, save_item(store, artist, set_row, request).item
