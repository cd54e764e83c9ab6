"""docs/dataset-formats.md shows, per format, "what your trainer sees": a file of a real export of
the demo artist as the trainer reads it, then what `check-dataset` says the trainer will make of
the export. This test makes those exports and compares; `TRAINMODE_UPDATE_DOCS=1` rewrites the doc
(then read the diff: a change here is a change in what a trainer is fed)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from trainmode.config import Settings
from trainmode.export import formats
from trainmode.export.formats import ai_toolkit
from trainmode.ops.demo import DEMO_ARTIST, install_demo
from trainmode.service import TrainMode
from trainmode.store import EmbeddedStore

DOC = Path(__file__).resolve().parent.parent / "docs" / "dataset-formats.md"
ARTIST_ID = re.compile(r"artist[-_][0-9a-f]{12}")


def _json(value: dict) -> str:
    """One key a line, each value on it whole (lists too): short enough for the doc."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def _files(zf: zipfile.ZipFile) -> dict[str, str]:
    return {n: zf.read(n).decode("utf-8") for n in zf.namelist() if not n.endswith(".mp3")}


def excerpt(fmt: str, files: dict[str, str]) -> str:
    """The first training file's text as its trainer's loader reads it."""
    if fmt == "hf":
        line = json.loads(files["metadata.jsonl"].splitlines()[0])
        keys = ("file_name", "caption", "tags", "bpm", "key", "time_signature", "duration_s", "vocals", "lyrics")
        return "metadata.jsonl, line 1 (some columns):\n" + _json({k: line[k] for k in keys})
    if fmt == "audiocraft":
        manifest = next(n for n in files if n.endswith("train/data.jsonl"))
        line = files[manifest].splitlines()[0]
        info = json.loads(files[json.loads(line)["path"].replace(".mp3", ".json")])
        shown = {k: info[k] for k in ("description", "keywords", "bpm", "key", "name")}
        return f"{manifest}, line 1:\n{line}\nits MusicInfo sidecar (some fields):\n{_json(shown)}"
    if fmt == "stable-audio":
        prompt = json.loads(files["train/track-0001.json"])["prompt"]
        return (
            f"dataset_config.json:\n{files['dataset_config.json'].strip()}\n"
            f"get_custom_metadata(train/track-0001.mp3):\n{_json({'prompt': prompt})}"
        )
    if fmt == "ace-step":
        row = next(csv.DictReader(io.StringIO(files["train/metadata.csv"])))
        return f"train/metadata.csv, row 1:\n{_json(row)}\ntrain/track-0001.json:\n{files['train/track-0001.json']}"
    if fmt == "ace-step-v1":
        row = {
            "keys": "track-0001",
            "tags": files["train/track-0001_prompt.txt"].strip().split(", "),
            "norm_lyrics": files["train/track-0001_lyrics.txt"].strip(),
        }
        return "convert2hf_dataset.py's row for train/track-0001.mp3 (some fields):\n" + _json(row)
    document = files["train/track-0001.txt"]
    parsed = ai_toolkit.parse_caption(document)
    return f"train/track-0001.txt:\n{document}parse_ace_step_caption(...):\n{_json(parsed)}"


def snippet(fmt: str, path: Path) -> str:
    report = formats.dataset_report(path, fmt)
    with zipfile.ZipFile(path) as zf:
        shown = excerpt(fmt, _files(zf))
    said = [*report.problems, *(f"warning: {w}" for w in report.warnings), *(f"trainer: {s}" for s in report.sees)]
    text = (
        f"```text\n{shown.rstrip()}\n```\n\n"
        f"```text\n$ python -m trainmode check-dataset {path.name} --format {fmt}\n" + "\n".join(said) + "\n```"
    )
    return ARTIST_ID.sub("NAME", text)


def replaced(doc: str, fmt: str, body: str) -> str:
    start, end = f"<!-- trainer-sees:{fmt} -->", f"<!-- /trainer-sees:{fmt} -->"
    before, rest = doc.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{body}\n{end}{after}"


@pytest.fixture(scope="module")
def snippets(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("sees")
    settings = Settings(data_dir=folder, writer="offline")
    store = EmbeddedStore(folder)
    install_demo(store, settings, echo=lambda *_: None)
    tm = TrainMode(store, settings)
    artist = store.find_artist(DEMO_ARTIST)
    out = {}
    for fmt in formats.FORMATS:
        result = tm.export_everything(artist, format=fmt)
        out[fmt] = snippet(fmt, Path(result.local_path))
    store.close()
    return out


def test_each_format_shows_what_its_trainer_sees_from_a_real_export(snippets):
    doc = DOC.read_text(encoding="utf-8")
    wanted = doc
    for fmt, body in snippets.items():
        wanted = replaced(wanted, fmt, body)
    if os.environ.get("TRAINMODE_UPDATE_DOCS") == "1":
        DOC.write_text(wanted, encoding="utf-8")
        doc = wanted
    stale = [fmt for fmt, body in snippets.items() if replaced(doc, fmt, body) != doc]
    assert not stale, (
        f"docs/dataset-formats.md's 'What your trainer sees' is out of date for {stale}: run "
        "TRAINMODE_UPDATE_DOCS=1 pytest tests/test_trainer_sees.py and read the diff."
    )


def test_the_ai_toolkit_snippet_parses_to_the_facts_not_the_loaders_defaults(snippets):
    """The documented caption file is a real one: BPM and duration are the demo's, not 120 and 1.0."""
    parsed = json.loads(snippets["ai-toolkit"].split("parse_ace_step_caption(...):\n", 1)[1].split("\n```", 1)[0])
    assert parsed["bpm"] == 124.0 and parsed["duration"] == 15.0 and parsed["keyscale"] == "A minor"
