"""The ai-toolkit format (issue 31): every caption file of a demo export and of a clip export, read
with the rules of ai-toolkit's `parse_ace_step_caption` (ostris/ai-toolkit@27a03a9,
extensions_built_in/audio_models/ace_step/ace_step_15_model.py L33-65, re-stated below on its
own so the exporter's parser is checked too), holds the item's facts: BPM and duration are never
the loader's defaults (120, 1.0) for an item that has them."""

from __future__ import annotations

import re
import zipfile

import pytest
import yaml
from mutagen.mp3 import MP3

from trainmode.export import formats
from trainmode.export.formats import ai_toolkit
from trainmode.ops.demo import DEMO_ARTIST, install_demo
from trainmode.service import TrainMode


def to_number(str_or_number, default):
    """ace_step_15_model.py L33-46, verbatim but for the names."""
    if isinstance(str_or_number, (int, float)):
        return str_or_number
    if str_or_number is None:
        return default
    if str_or_number == "":
        return default
    try:
        return float(str_or_number)
    except ValueError:
        try:
            return int(str_or_number)
        except ValueError as e:
            raise ValueError(f"Could not convert {str_or_number} to a number") from e


def parse_ace_step_caption(text):
    """ace_step_15_model.py L49-65, verbatim."""

    def tag(name):
        m = re.search(rf"<{name}>(.*?)</{name}>", text, re.DOTALL)
        return m.group(1).strip() if m else ""

    return {
        "caption": tag("CAPTION"),
        "lyrics": tag("LYRICS"),
        "bpm": to_number(tag("BPM"), 120),
        "keyscale": tag("KEYSCALE"),
        "timesignature": tag("TIMESIGNATURE"),
        "duration": to_number(tag("DURATION"), 1.0),
        "language": tag("LANGUAGE"),
    }


@pytest.fixture
def demo_artist(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    return store.find_artist(DEMO_ARTIST)


def caption_files(path) -> dict[str, tuple[str, float]]:
    """{caption file: (its text, its audio's length)} of an export."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".mp3"):
                with zf.open(name) as fh:
                    length = MP3(fh).info.length
                out[name[:-4] + ".txt"] = (zf.read(name[:-4] + ".txt").decode("utf-8"), length)
    return out


@pytest.mark.parametrize("clips", ["none", "sections"])
def test_every_caption_file_parses_to_the_items_facts(store, settings, demo_artist, clips):
    items = {i["audio_filename"]: i for i in store.list_items(demo_artist["id"])}
    bpms = {round(i["metadata"]["bpm"]) for i in items.values()}
    result = TrainMode(store, settings).export(demo_artist, format="ai-toolkit", clips=clips)
    files = caption_files(result.local_path)
    assert len(files) == (2 if clips == "none" else 4)
    for name, (document, length) in files.items():
        parsed = parse_ace_step_caption(document)
        assert parsed == ai_toolkit.parse_caption(document), name
        assert all(f"<{t}>" in document and f"</{t}>" in document for t in ai_toolkit.TAGS)
        assert parsed["bpm"] in bpms and parsed["bpm"] != 120  # the set's tempo, never the default
        assert parsed["duration"] == int(length + 0.05) != 1.0  # the whole seconds of this file: clip or track
        assert parsed["keyscale"] in ai_toolkit.KEYSCALES and parsed["timesignature"] in ("3", "4")
        assert parsed["lyrics"] == "[Instrumental]" and parsed["language"] == "unknown"
        assert parsed["caption"] and "<" not in parsed["caption"]
    assert formats.dataset_report(result.local_path, "ai-toolkit").problems == []


def test_the_job_config_points_at_train_and_keeps_the_caption_file_whole(store, settings, demo_artist):
    result = TrainMode(store, settings).export(demo_artist, format="ai-toolkit")
    with zipfile.ZipFile(result.local_path) as zf:
        job_text = zf.read(ai_toolkit.JOB).decode()
        first_caption = zf.read("train/track-0001.txt").decode()
    assert "Assembled from ai-toolkit's UI defaults" in job_text and "so this is not one" in job_text
    job = yaml.safe_load(job_text)
    [process] = job["config"]["process"]
    [dataset] = process["datasets"]
    assert dataset["folder_path"].endswith("/train") and dataset["caption_ext"] == "txt"
    assert dataset["caption_dropout_rate"] == 0.0 and not dataset["shuffle_tokens"]
    assert process["model"]["arch"] == "ace_step_15" and process["train"]["noise_scheduler"] == "flowmatch"
    assert process["sample"]["samples"] == [{"prompt": first_caption}]


def test_the_checker_reads_each_caption_file_as_the_parser_does(store, settings, demo_artist, tmp_path):
    result = TrainMode(store, settings).export(demo_artist, format="ai-toolkit")
    folder = tmp_path / "ait"
    with zipfile.ZipFile(result.local_path) as zf:
        zf.extractall(folder)
    report = formats.dataset_report(folder, "ai-toolkit")
    assert any("keyscale C, 4/4" in s for s in report.sees)  # the upstream quirk, said
    assert any("48000 Hz stereo and encoded whole, no cut" in s for s in report.sees)
    caption = folder / "train" / "track-0001.txt"
    good = caption.read_text()
    breaks = {
        re.sub(r"<DURATION>.*</DURATION>\n", "", good): "lacks <DURATION>",
        re.sub(r"<BPM>\d+</BPM>", "<BPM></BPM>", good): "<BPM> is empty, so ai-toolkit uses 120",
        re.sub(r"<BPM>\d+</BPM>", "<BPM>fast</BPM>", good): "Could not convert fast to a number",
        re.sub(r"<DURATION>\d+</DURATION>", "<DURATION>200</DURATION>", good): "DURATION 200 s, but its audio is",
        re.sub(r"<KEYSCALE>.*</KEYSCALE>", "<KEYSCALE>A minor pentatonic</KEYSCALE>", good): "not one of ACE-Step",
        re.sub(r"<TIMESIGNATURE>\d</TIMESIGNATURE>", "<TIMESIGNATURE>7</TIMESIGNATURE>", good): "is not 2, 3, 4 or 6",
    }
    for document, words in breaks.items():
        caption.write_text(document)
        problems = formats.check_dataset(folder, "ai-toolkit")
        assert any(words in p for p in problems), (words, problems)
    caption.unlink()
    assert any("track-0001.txt is missing" in p for p in formats.check_dataset(folder, "ai-toolkit"))


def test_keyscale_is_the_sets_key_never_the_one_heard_and_a_heard_tempo_is_said():
    """QA walk: a set with no key got `<KEYSCALE>C major</KEYSCALE>` from the render's audio (a mismatched
    render), where every other format writes no key and the card said the key was the set's. Now KEYSCALE is
    the set's or empty (the parser takes an empty one); a <BPM> heard in the render is said in the card."""
    from dataclasses import replace

    from trainmode.export import rows as dataset
    from trainmode.export.formats.base import Build

    base = dataset.row_for(1, {"id": "i", "audio_path": "a.mp3", "prompt_text": "A loop."}, {}, {}, artist="a")
    heard = {**base.heard, "audio_key": "C major", "audio_bpm": 106.6}
    keyless = replace(base, facts=replace(base.facts, bpm=160.0, key=None), heard=heard, duration_s=12.0)
    document = ai_toolkit.caption_file(keyless)
    assert "<KEYSCALE></KEYSCALE>" in document and "<BPM>160</BPM>" in document
    assert parse_ace_step_caption(document)["keyscale"] == ""
    assert "<KEYSCALE>A minor</KEYSCALE>" in ai_toolkit.caption_file(
        replace(keyless, facts=replace(keyless.facts, key="A minor"))
    )
    tempoless = replace(keyless, stem="track-0002", facts=replace(keyless.facts, bpm=None))
    assert "<BPM>107</BPM>" in ai_toolkit.caption_file(tempoless)  # not the parser's 120
    members = {m.name: m for m in ai_toolkit.members([keyless, tempoless], Build("a"))}
    card = members["README.md"].data.decode()
    assert "1 of the 2 files has no tempo in their set: their `<BPM>` is the tempo heard in the render" in card
    assert "the key heard in the render is never used" in card
