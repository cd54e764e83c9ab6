"""The dataset card every export carries (issue 26): the licence (TRAINMODE_LICENSE), provenance,
files and seconds per split, the audio verdicts, what was left out and why (a clip export used to
drop renders whose set has no sections without a word), known limitations and the real file names."""

from __future__ import annotations

import dataclasses
import zipfile

import pytest

from tests.exporting import save_render
from trainmode import __version__
from trainmode.config import load_settings
from trainmode.errors import ValidationError
from trainmode.ops import demo
from trainmode.ops.demo import DEMO_ARTIST, DemoSet, install_demo
from trainmode.service import TrainMode
from trainmode.train import save


def card_of(result) -> str:
    with zipfile.ZipFile(result.local_path) as zf:
        [name] = [n for n in zf.namelist() if n.endswith("README.md")]
        return zf.read(name).decode("utf-8")


@pytest.fixture
def demo_artist(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    return store.find_artist(DEMO_ARTIST)


def test_the_licence_is_the_setting_and_provenance_and_splits_are_stated(store, demo_artist, monkeypatch):
    monkeypatch.setenv("TRAINMODE_LICENSE", "  CC BY-NC 4.0,   with the artist's written consent ")
    settings = load_settings()
    assert settings.license == "CC BY-NC 4.0, with the artist's written consent"
    tm = TrainMode(store, settings)
    for fmt in ("hf", "stable-audio", "ai-toolkit"):
        card = card_of(tm.export_everything(demo_artist, format=fmt))
        assert "Licence: CC BY-NC 4.0, with the artist's written consent." in card, fmt
        assert f"Made with Train Mode {__version__}" in card
        assert "Captions: 2 by offline (offline-template, prompt offline-v" in card
        assert "0 edited by hand" in card
        assert "| `train` | 2 | 30.5 | 0:00:31 |" in card or "| `train` | 2 | 30.6 | 0:00:31 |" in card
        assert "Audio against its set: 2 matches" in card and "## Known limitations" in card
        assert "## Left out\n\nNothing: every ready item is in the dataset." in card


def test_default_licence_is_all_rights_reserved(store, settings, demo_artist):
    assert "Licence: all rights reserved by the artist." in card_of(TrainMode(store, settings).export(demo_artist))


def test_a_clip_export_counts_the_render_without_sections_and_keeps_it_ready(
    store, settings, demo_artist, tmp_path, monkeypatch
):
    tm = TrainMode(store, settings)
    flat = DemoSet("No Locators", 110.0, 4, tonic=2, minor=True)
    monkeypatch.setattr(save, "training_blocker", lambda summary: None)  # an item saved before empty sets were refused
    save_render(tm, tmp_path, DEMO_ARTIST, flat, demo.mp3_bytes(flat), empty=True)
    monkeypatch.undo()
    unsectioned = next(i for i in store.list_items(demo_artist["id"]) if i["audio_filename"] == "no_locators.mp3")
    result = tm.export(demo_artist, format="hf", clips="sections")
    assert result.item_count == 2 and result.left_out == (
        "1: items whose set has no arrangement sections to cut clips at (export them without clips); they stay ready",
    )
    assert [i["id"] for i in store.list_items(demo_artist["id"], "ready")] == [unsectioned["id"]]
    card = card_of(result)
    assert "- 1: items whose set has no arrangement sections to cut clips at" in card
    assert "4 clips" in card and "`clip-NNNN-NN.mp3`: the audio; `clip-NNNN-NN.txt`: its caption" in card
    assert "track-NNNN" not in card


def test_every_formats_card_names_clip_files_as_they_are(store, settings, demo_artist):
    tm = TrainMode(store, settings)
    for fmt in ("audiocraft", "ace-step", "ace-step-v1"):
        card = card_of(tm.export_everything(demo_artist, format=fmt, clips="sections"))
        assert "4 clips" in card and "Files are named\n`clip-NNNN-NN`" in card, fmt
        assert "track-NNNN" not in card, fmt


def test_the_card_counts_doubtful_renders_sung_tracks_and_taggers():
    from trainmode.export import rows as dataset
    from trainmode.export.formats import card
    from trainmode.export.formats.base import Build

    base = dataset.row_for(1, {"id": "i", "audio_path": "a.mp3", "prompt_text": "x"}, {}, {}, artist="a")
    tags = {"model": "musicnn", "version": "0.1.0+np1"}
    rows = [
        dataclasses.replace(base, heard={"audio_verdict": "doubtful", "confirmed_despite_doubt": True}, lyrics="la"),
        dataclasses.replace(
            base,
            stem="track-0002",
            facts=dataclasses.replace(base.facts, vocals=True),
            listening=dataset.Listening(tags, True),
        ),
        dataclasses.replace(base, stem="track-0003", split="valid", duration_s=61.0, listening=dataset.Listening(tags)),
        dataclasses.replace(base, stem="track-0004", listening=dataset.Listening(tags, None)),
    ]
    text = card.sections(rows, Build("a", left_out={"clips dropped when their item's clips were reviewed": 2}))
    assert "Audio against its set: 1 doubtful, 3 not measured; 1 saved over a mismatch (someone confirmed" in text
    assert "`tags_genre`" not in text  # nothing tagged: no word on the tagger's raw fields
    assert "Vocals: 1 with lyrics, 1 sung with lyrics unknown, 2 instrumental" in text
    assert "Captions: 4 by manual (`manual`: typed by hand)" in text
    assert (
        "Listening: the music tagger musicnn 0.1.0+np1 heard 3 of the 4 tracks; "
        "of the 4 captions: 1 written with what it heard (genre, mood, instruments, vocals), 2 written from the "
        "Live set alone or typed by hand, 1 by a writer that does not record whether it was given what was heard"
    ) in text
    assert "2 of the 4 tracks have captions not written from what was heard" in text
    assert "| `valid` | 1 | 61.0 | 0:01:01 |" in text
    assert "- 2: clips dropped when their item's clips were reviewed" in text


def test_the_card_says_which_tagger_the_captions_were_written_with(store, settings, demo_artist):
    """QA walk: the card said "Tags: no tagger" and "Captions are written from the Live set ... not from
    listening to the render" while every caption led with the genres musicnn heard (provenance `heard`)."""
    tm = TrainMode(store, settings)
    whole = card_of(tm.export_everything(demo_artist, format="hf"))
    heard = "Listening: the music tagger musicnn 0.1.0+np1 heard {0} of the {0} {1}"
    assert heard.format(2, "tracks;") in whole
    assert "of the 2 captions: 2 written with what it heard (genre, mood, instruments, vocals)." in whole
    assert "Tags: no tagger" not in whole and "not from listening to the render" not in whole
    assert "Genres and moods in the captions are only what the music tagger heard confidently" in whole
    assert "the key heard in the render is never used" in whole
    assert "are the music tagger's own words, not checked against the set" in whole  # QA: raw tags_* fields
    clips = card_of(tm.export_everything(demo_artist, format="ace-step", clips="sections"))
    assert heard.format(4, "clips (a clip or part: in its sections);") in clips
    assert "of the 4 captions: 4 written with what it heard" in clips


def test_a_caption_written_from_the_set_alone_is_counted_so(store, settings, demo_artist, tmp_path):
    """`save --generate` captions from the set alone (its provenance `heard` is null), though the
    render is then listened to and tagged: the card tells the two apart."""
    tm = TrainMode(store, settings)
    late = DemoSet("Late Bus", 118.0, 4, tonic=7, minor=False)
    save_render(tm, tmp_path, DEMO_ARTIST, late, demo.mp3_bytes(late))
    card = card_of(tm.export(demo_artist, format="stable-audio"))
    assert "heard 3 of the 3 tracks" in card
    assert "of the 3 captions: 2 written with what it heard (genre, mood, instruments, vocals), 1 written from" in card
    assert "1 of the 3 tracks has captions not written from what was heard (from the Live set alone" in card


def test_a_silent_render_saved_over_its_mismatch_never_reaches_an_export(store, settings, demo_artist, tmp_path):
    """Issue 26: a 'mismatch' saved on the user's confirmation still holds no music: the export
    leaves it out, counts it in the card, and it stays ready; with only silent renders it refuses."""
    import numpy as np

    from tests.audio_synth import encode

    tm = TrainMode(store, settings)
    hush = DemoSet("Hush", 120.0, 4, tonic=0, minor=False)
    save_render(tm, tmp_path, DEMO_ARTIST, hush, encode(np.zeros((16 * 44100, 2))))
    silent = next(i for i in store.list_items(demo_artist["id"]) if i["audio_filename"] == "hush.mp3")
    assert silent["metadata"]["audio"]["verdict"] == "mismatch"
    result = tm.export(demo_artist, format="hf")
    assert result.item_count == 2 and "1: silent renders (no music to train on)" in result.left_out[0]
    assert "silent renders (no music to train on)" in card_of(result)
    assert [i["id"] for i in store.list_items(demo_artist["id"], "ready")] == [silent["id"]]
    with pytest.raises(ValidationError, match="silent renders: there is nothing to train on"):
        tm.export(demo_artist, format="hf")  # only the silent one is left ready
