"""Trainer-true exports (issue 28): for each way a trainer's own data code would feed its model
silence, contradictions or nothing, a test builds the export, runs the checker on the copy the old
exporter made (caught, with its numbers) and on the export as it is now (fixed, with its numbers).

The trainers' rules are re-stated from their source at the commits named in
trainmode/export/formats/ (the trainers need torch, too heavy for CI)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import lameenc
import pytest
import yaml
from mutagen.mp3 import MP3

from tests.exporting import save_render
from trainmode.cli import main
from trainmode.config import Settings
from trainmode.export import formats
from trainmode.export.formats import ace_step, ace_step_v1, audiocraft
from trainmode.ops import demo
from trainmode.ops.demo import DEMO_ARTIST, DemoSet, install_demo
from trainmode.service import TrainMode
from trainmode.store import EmbeddedStore


# ---- helpers -----------------------------------------------------------------------------------
def unzip(path, folder: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        zf.extractall(folder)
    return folder


def report_of(path, fmt: str):
    return formats.dataset_report(path, fmt)


def mp3_at(s: DemoSet, rate: int, channels: int) -> bytes:
    """The demo render of `s` at another sample rate and channel count (decimated: the demo is 44.1 kHz)."""
    pcm = demo.render_pcm(s)[:: 44100 // rate]
    pcm = pcm[:, :1] if channels == 1 else pcm
    enc = lameenc.Encoder()
    enc.set_bit_rate(64)
    enc.set_in_sample_rate(rate)
    enc.set_channels(channels)
    enc.set_quality(5)
    return bytes(enc.encode(pcm.tobytes()) + enc.flush())


@pytest.fixture
def tm(store, settings):
    return TrainMode(store, settings)


@pytest.fixture
def demo_artist(tm, store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    return store.find_artist(DEMO_ARTIST)


def ratio_splitting(store, artist) -> float:
    """A split ratio that trains the first demo item and holds out the second."""
    from trainmode.export.rows import split_point

    first, second = sorted(split_point(i["id"]) for i in store.list_items(artist["id"]))
    return (first + second) / 2


# ---- stable-audio-tools: drop_last and the batch size ------------------------------------------
def test_stable_audio_a_split_under_the_batch_size_trained_on_nothing_and_now_makes_a_batch(
    tm, store, demo_artist, tmp_path, capsys
):
    """stable-audio-tools (data/dataset.py L853, defaults.ini L11): drop_last defaults to True at batch
    size 4. The demo split 1 + 1: the old configs made 0 batches for each split (training on nothing,
    validation never run); with "drop_last": false each split makes 1 batch."""
    result = tm.export(demo_artist, format="stable-audio", split=ratio_splitting(store, demo_artist))
    after = report_of(result.local_path, "stable-audio")
    assert after.problems == []
    assert "dataset_config.json (train): 1 files make 1 batch per epoch" in after.sees[0]
    assert "val_dataset_config.json (valid): 1 files make 1 batch per epoch" in after.sees[1]
    old = unzip(result.local_path, tmp_path / "old")
    for name in ("dataset_config.json", "val_dataset_config.json"):  # what the old exporter wrote
        config = json.loads((old / name).read_text())
        del config["drop_last"]
        (old / name).write_text(json.dumps(config))
    before = report_of(old, "stable-audio")
    assert [p.split(":")[0] for p in before.problems] == [
        "dataset_config.json (train)",
        "val_dataset_config.json (valid)",
    ]
    assert "1 files make 0 batches per epoch" in before.problems[0] and "trains on nothing" in before.problems[0]
    assert "validates on nothing" in before.problems[1]
    assert main(["check-dataset", str(old), "--format", "stable-audio"]) == 1
    assert "make 0 batches" in capsys.readouterr().out
    readme = (old / "README.md").read_text()
    assert "--config-file /path/to/stable-audio-tools/defaults.ini" in readme and "--batch-size 1" in readme


# ---- audiocraft: padding, the solver's sample rate, its README ------------------------------------
def test_audiocraft_padding_per_30_s_sample_is_reported_and_the_command_masks_it(tm, demo_artist, tmp_path):
    """audio_dataset.py L434-454 with segment_duration 30, min_segment_ratio 0.8: a 15.5 s track is
    48 % zero padding in every sample; the card's command sets tokens.padding_with_special_token."""
    assert audiocraft.padding_share(15.517) == pytest.approx(0.4828, abs=1e-4)
    assert audiocraft.padding_share(27.0) == pytest.approx(0.15) and audiocraft.padding_share(40.0) == 0.0375
    result = tm.export(demo_artist, format="audiocraft")
    [warning] = report_of(result.local_path, "audiocraft").warnings
    assert warning.startswith("train: 49.1% of each 30 s MusicGen sample is zero padding on average (2 files")
    assert "(the README's command sets it)" in warning
    folder = unzip(result.local_path, tmp_path / "ac")
    [card] = folder.glob("dataset/*/README.md")
    assert "tokens.padding_with_special_token=true" in card.read_text()
    card.write_text(card.read_text().replace(" \\\n    tokens.padding_with_special_token=true", ""))  # the old command
    [old_warning] = report_of(folder, "audiocraft").warnings
    assert "49.1%" in old_warning and "(the README's command does not set it)" in old_warning


def test_audiocraft_section_clips_are_mostly_padding_and_say_so(tm, demo_artist):
    result = tm.export(demo_artist, format="audiocraft", clips="sections")
    [warning] = report_of(result.local_path, "audiocraft").warnings
    share = float(re.match(r"train: ([\d.]+)% of each 30 s", warning).group(1))
    assert 70 < share < 76, warning  # 7.5-7.8 s clips: about 74 % of every sample is silence


def test_audiocraft_22_khz_renders_declared_below_the_solver_are_refused_and_now_declared_48k(tm, store, tmp_path):
    """solvers/builders.py L309-336 asserts the solver's 32000 Hz <= datasource.max_sample_rate. The
    old exporter declared the MP3s' own 22050: check-dataset now fails that; the export declares
    48000 Hz and 2 channels (audiocraft resamples and mixes each file itself)."""
    for s in demo.DEMO_SETS[:2]:
        artist = save_render(tm, tmp_path, "Low Rate", s, mp3_at(s, 22050, 1))
    result = tm.export(artist, format="audiocraft")
    folder = unzip(result.local_path, tmp_path / "low")
    [config_path] = folder.glob("config/dset/audio/*.yaml")
    source = yaml.safe_load(config_path.read_text())["datasource"]
    assert (source["max_sample_rate"], source["max_channels"]) == (48000, 2)
    lines = [json.loads(x) for x in next(folder.glob("egs/*/train/data.jsonl")).read_text().splitlines()]
    assert {x["sample_rate"] for x in lines} == {22050}
    assert report_of(folder, "audiocraft").problems == []
    config_path.write_text(config_path.read_text().replace("max_sample_rate: 48000", "max_sample_rate: 22050"))
    [problem] = report_of(folder, "audiocraft").problems
    assert "max_sample_rate 22050 is below the 32000 Hz of every MusicGen solver" in problem


def test_audiocraft_card_is_not_at_the_top_where_it_would_overwrite_audiocrafts_readme(tm, demo_artist, tmp_path):
    result = tm.export(demo_artist, format="audiocraft")
    folder = unzip(result.local_path, tmp_path / "ac")
    assert not (folder / "README.md").exists() and len(list(folder.glob("dataset/*/README.md"))) == 1
    (folder / "README.md").write_text("# a card at the top, as the old exporter wrote it\n")
    problems = formats.check_dataset(folder, "audiocraft")
    assert any("overwrites audiocraft's own README.md" in p for p in problems)


# ---- ACE-Step v1: [inst], lyric tokens -------------------------------------------------------------
def test_ace_step_v1_instrumental_is_its_inst_token_and_instrumental_alone_is_caught(tm, demo_artist, tmp_path):
    """vocab.json (d612523) has `[inst]` (6688) and no `[instrumental]`: the old lyrics file trained on
    [UNK] pieces. check-dataset fails it; the export writes `[inst]`."""
    result = tm.export(demo_artist, format="ace-step-v1")
    after = report_of(result.local_path, "ace-step-v1")
    assert after.problems == [] and after.warnings == []
    folder = unzip(result.local_path, tmp_path / "v1")
    lyrics = sorted(folder.glob("train/*_lyrics.txt"))
    assert [p.read_text() for p in lyrics] == ["[inst]\n", "[inst]\n"]
    lyrics[0].write_text("[instrumental]\n")  # what the old exporter wrote
    [problem] = report_of(folder, "ace-step-v1").problems
    assert "is only [instrumental] (x1)" in problem and "[UNK]" in problem


def test_ace_step_v1_writes_lyric_tags_as_its_tokens_and_names_the_ones_it_has_none_for():
    assert ace_step_v1.unknown_tags("[Verse 1]\nla\n[inst]\n[Pre-Chorus]") == ["[verse 1]"]
    text = "[Verse 1]\nla la\n\n[Pre Chorus]\noh\n[Instrumental]\n[Guitar Solo]"
    mapped = ace_step_v1.TAG.sub(ace_step_v1.v1_tag, text)
    assert mapped == "[verse]\nla la\n\n[pre-chorus]\noh\n[inst]\n[Guitar Solo]"
    assert ace_step_v1.unknown_tags(mapped) == ["[guitar solo]"]


# ---- both ACE-Steps: 240 s ----------------------------------------------------------------------------
LONG = DemoSet("Long Night", 124.0, 4, tonic=9, minor=True, bars=140)  # 270.97 s: Intro 0-135.5 s, Drop to the end


@pytest.fixture(scope="module")
def long_track(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    settings = Settings(data_dir=folder / "data", writer="offline")
    store = EmbeddedStore(settings.data_dir)
    tm = TrainMode(store, settings)
    artist = save_render(tm, folder, "Long Artist", LONG, demo.mp3_bytes(LONG))
    yield tm, artist
    store.close()


@pytest.mark.parametrize("fmt, module", [("ace-step", ace_step), ("ace-step-v1", ace_step_v1)])
def test_ace_step_cut_a_long_track_at_240_s_and_now_exports_it_in_parts(long_track, tmp_path, monkeypatch, fmt, module):
    """ACE-Step 1.5 (preprocess.py max_duration 240) and v1 (text2music_dataset.py L501-503) keep the
    first 240 s. The old export wrote the 271 s track whole: the checker says 31 s are cut. Now it is
    cut at its sections into two parts, each with its own caption and a duration the trainer keeps."""
    tm, artist = long_track
    monkeypatch.setattr(module, "MAX_SECONDS", None)  # the old exporter
    before = report_of(tm.export_everything(artist, format=fmt).local_path, fmt)
    [warning] = before.warnings
    assert warning.startswith("1 files are longer than 240 s") and "cuts 31 s in all" in warning
    monkeypatch.undo()
    result = tm.export_everything(artist, format=fmt)
    after = report_of(result.local_path, fmt)
    assert after.problems == [] and after.warnings == []
    assert any(s.startswith("Cut: 0 s. The longest of 2 measured files is 135.") for s in after.sees)
    folder = unzip(result.local_path, tmp_path / fmt)
    parts = sorted(folder.glob("train/*.mp3"))
    assert [p.name for p in parts] == ["track-0001-part-1.mp3", "track-0001-part-2.mp3"]
    assert [round(MP3(p).info.length) for p in parts] == [135, 136]
    assert "cut into parts of at most 240 s" in (folder / "README.md").read_text()
    if fmt == "ace-step":
        captions = [json.loads(p.with_suffix(".json").read_text())["caption"] for p in parts]
        assert captions[0] != captions[1] and "4-minute" not in captions[0]


def test_parts_are_captioned_from_what_was_heard_and_keep_their_sections_key(long_track, tmp_path):
    """QA walk: each part got a fresh caption with no genre (the writer was not given the heard tags)
    and `keyscale: null` though its sections are in A minor. Now a part reads like a clip of its
    section: the genre heard there, the key its notes show, and the metas' genre is the caption's."""
    tm, artist = long_track
    [item] = tm.list_items(artist)
    whole_caption = item["prompt_text"].lower()  # captioned by `save --generate`: from the set alone
    assert not any(g in whole_caption for g in ("electronic", "ambient"))
    result = tm.export_everything(artist, format="ace-step")
    folder = unzip(result.local_path, tmp_path / "parts")
    metas = [json.loads(p.read_text()) for p in sorted(folder.glob("train/*.json"))]
    assert [m["keyscale"] for m in metas] == ["A minor", "A minor"]
    for part in metas:
        genres = part["genre"].split(", ")
        assert genres and all(g in part["caption"].lower() for g in genres), part
        assert "A minor" in part["caption"]
    rows = list(csv.DictReader(io.StringIO((folder / "train/metadata.csv").read_text())))
    assert [r["Key"] for r in rows] == ["A minor", "A minor"]
    card = (folder / "README.md").read_text()
    assert "1 file was longer than the 240 s" in card
    assert "of the 2 captions: 2 written with what it heard" in card


def test_a_part_of_several_sections_states_a_key_only_its_notes_support():
    """A section has the key its own notes show, or none (too few notes to tell). A part of several sections
    states the one key they show when all show it, or when it is also the set's key from all its notes;
    never a key none of its sections shows, and none when they disagree."""
    from trainmode.export.parts import span_key

    a_minor = {"name": "A minor", "tonic": "A", "mode": "minor", "confidence": 0.81, "source": "midi_notes"}
    d_minor = {**a_minor, "name": "D minor", "tonic": "D"}
    set_in = {"key": a_minor}
    bare = {}
    assert span_key(set_in, [{"key": None}, {"key": a_minor}, {"key": None}]) == a_minor  # QA's part 1
    assert span_key(set_in, [{"key": None}, {"key": None}]) is None  # QA's part 2: no notes of its own say
    assert span_key(set_in, [{"key": a_minor}, {"key": d_minor}]) is None
    assert span_key(set_in, [{"key": d_minor}, {"key": None}]) is None  # not the set's: the rest may not be
    assert span_key(set_in, [{"key": d_minor}, {"key": d_minor}]) == d_minor
    assert span_key(bare, [{"key": d_minor}]) == d_minor  # one section: its own key, as its clip
    assert span_key(bare, [{"key": a_minor}, {"key": None}]) is None  # the set shows no key
    scale = {"key": {**a_minor, "source": "scale_information", "confidence": 0.6}}
    assert span_key(scale, [{"key": a_minor}, {"key": None}]) is None  # Live's scale is not the notes


def test_the_export_pages_word_for_parts_is_the_cards():
    """QA walk: the Export page said "3 tracks" where the card said "3 files" (2 tracks, one cut in parts)."""
    from trainmode.export.history import zip_contents

    names = ["train/track-0001-part-1.mp3", "train/track-0001-part-2.mp3", "train/track-0002.mp3", "README.md"]
    assert zip_contents(names)["noun"] == "files"
    assert zip_contents(["train/clip-0001-01.mp3"])["noun"] == "clip"
    assert zip_contents(["track-0001.mp3", "track-0002.mp3"])["noun"] == "tracks"


# ---- lyrics, and sung tracks whose lyrics are unknown ---------------------------------------------
LYRICS = "[Verse 1]\nNight drive, city lights\n\n[Chorus]\nOh, oh\n[Guitar Solo]"


@pytest.fixture
def sung(tm, store, demo_artist):
    """The first demo item with lyrics attached, the second known to be sung (a tagger's `vocals`) without."""
    first, second = store.list_items(demo_artist["id"])
    tm.set_lyrics(demo_artist, first["id"], LYRICS + "\r\n\r\n")
    store.update_row("training_items", second["id"], {"metadata": {**second["metadata"], "vocals": True}})
    return first, second


def test_lyrics_reach_each_trainer_and_a_sung_track_without_them_is_what_each_can_say(
    tm, store, demo_artist, sung, tmp_path
):
    first, second = sung
    assert store.get_item(first["id"])["metadata"]["lyrics"] == LYRICS  # line breaks kept, edges trimmed
    # ACE-Step 1.5 cannot say "sung, lyrics unknown" (it would train [Instrumental]): left out, counted, kept ready.
    result = tm.export(demo_artist, format="ace-step")
    assert result.item_count == 1 and result.left_out[0].startswith("1: sung tracks whose lyrics are unknown")
    assert [i["id"] for i in store.list_items(demo_artist["id"], "ready")] == [second["id"]]
    folder = unzip(result.local_path, tmp_path / "a15")
    assert (folder / "train/track-0001.lyrics.txt").read_text() == LYRICS + "\n"
    assert (folder / "train/track-0001.txt").read_text() == LYRICS + "\n"  # f30aee4 reads only .txt
    assert "language" not in json.loads((folder / "train/track-0001.json").read_text())
    assert "- 1: sung tracks whose lyrics are unknown" in (folder / "README.md").read_text()
    assert report_of(folder, "ace-step").problems == []
    # ACE-Step v1: the user's tags as v1's tokens; empty lyrics (token 0) for the sung one.
    result = tm.export_everything(demo_artist, format="ace-step-v1")
    folder = unzip(result.local_path, tmp_path / "v1")
    assert (folder / "train/track-0001_lyrics.txt").read_text() == (
        "[verse]\nNight drive, city lights\n\n[chorus]\nOh, oh\n[Guitar Solo]\n"
    )
    assert (folder / "train/track-0002_lyrics.txt").read_text() == "\n"
    report = report_of(folder, "ace-step-v1")
    assert report.warnings == [
        "train/track-0001_lyrics.txt: tags ACE-Step v1's lyric tokenizer does not know: [guitar solo] (x1)."
    ]
    assert "1 with empty lyrics (token 0: sung, lyrics unknown)" in report.sees[-1]
    # hf: the fields.
    result = tm.export_everything(demo_artist, format="hf")
    lines = [json.loads(x) for x in zipfile.ZipFile(result.local_path).read("metadata.jsonl").splitlines()]
    # metadata.jsonl flags are strings, so no split reads as null-typed: "yes" / "no" / "".
    assert [(x["vocals"], x["lyrics"]) for x in lines] == [("yes", LYRICS), ("yes", None)]


def test_save_lyrics_file_attaches_lyrics_also_to_an_item_saved_before(
    demo_artist, store, demo_files, tmp_path, capsys
):
    lyrics = tmp_path / "lyrics.txt"
    lyrics.write_text("[Verse]\nla la la\n", encoding="utf-8")
    _, als, mp3 = demo_files[0]
    args = ["save", "--artist", DEMO_ARTIST, "--als", als.name, "--audio", str(mp3), "--caption", "x", "--force"]
    assert main([*args, "--lyrics-file", str(lyrics)]) == 0  # the demo saved this MP3 already
    assert "its lyrics were attached" in capsys.readouterr().err
    [item] = [i for i in store.list_items(demo_artist["id"]) if i["audio_filename"] == mp3.name]
    assert item["metadata"]["lyrics"] == "[Verse]\nla la la"
    lyrics.write_bytes(b"\xff\xfe")
    assert main([*args, "--lyrics-file", str(lyrics)]) == 1
    assert "save the lyrics file as UTF-8" in capsys.readouterr().err


def test_window_clips_are_at_most_30_s(tm, demo_artist, tmp_path):
    s = DemoSet("Long Window", 120.0, 4, tonic=0, minor=False, bars=34)  # 68 s: one section of 34 s, then 34 s
    save_render(tm, tmp_path, DEMO_ARTIST, s, demo.mp3_bytes(s))
    result = tm.export(demo_artist, format="audiocraft", clips="windows")
    with zipfile.ZipFile(result.local_path) as zf:
        lengths = []
        for name in (n for n in zf.namelist() if n.endswith(".mp3")):
            with zf.open(name) as fh:
                lengths.append(MP3(fh).info.length)
    assert max(lengths) <= 30.05, sorted(lengths)


def test_a_long_sung_track_is_kept_whole_since_its_lyrics_cannot_be_cut(long_track):
    """Lyrics have no times: a part could not be given its own. The track stays whole, the card says
    why, and the checker warns with the 31 s ACE-Step cuts."""
    tm, artist = long_track
    [item] = tm.list_items(artist)
    tm.set_lyrics(artist, item["id"], "[verse]\nla la")
    try:
        result = tm.export_everything(artist, format="ace-step")
    finally:
        tm.set_lyrics(artist, item["id"], None)
    [warning] = result.warnings
    assert "cuts 31 s in all" in warning
    with zipfile.ZipFile(result.local_path) as zf:
        assert "train/track-0001.mp3" in zf.namelist()
        assert "1 sung files longer than 240 s were kept whole" in zf.read("README.md").decode()
