"""Lyrics on the way to a dataset: when a track is sung but has none (what the Train and Browse pages
warn about, by the export's own rule), and lyrics pasted for an MP3 that was saved before."""

from __future__ import annotations

import pytest

from tests.als_synth import audio_clip, device, live_set, midi_clip, track
from trainmode.service import TrainMode
from trainmode.sets.als import parse_als
from trainmode.train.lyrics import sung_without_lyrics


def summary(*, vocals: bool) -> dict:
    kicks = [(36, float(b), 0.25) for b in range(16)]
    tracks = [track("midi", "Drums", id=1, devices=device("DrumGroupDevice"), arrangement=midi_clip(0, 16, kicks))]
    if vocals:
        tracks.append(track("audio", "Lead Vox", id=2, arrangement=audio_clip(0, 16)))
    return parse_als(live_set(tracks), filename="set.als").summary


def item(*, voice: bool | None = None, lyrics: str | None = None, **meta) -> dict:
    tags = {"whole": {"vocals": {"present": voice}}}
    return {"parse_id": "p", "metadata": {"audio": {"tags": tags}, **({"lyrics": lyrics} if lyrics else {}), **meta}}


@pytest.mark.parametrize(
    ("voice", "set_vocals", "meta", "said"),
    [
        (True, False, {}, "the tagger hears a voice in it"),
        (None, True, {}, "a vocal track plays in its set"),  # the tagger unsure: the set decides
        (False, True, {}, None),  # the tagger hears none: instrumental, whatever the set says
        (None, False, {"vocals": True}, "it is marked as sung"),
        (None, False, {}, None),
    ],
)
def test_who_says_a_track_without_lyrics_is_sung(voice, set_vocals, meta, said):
    assert sung_without_lyrics(item(voice=voice, **meta), summary(vocals=set_vocals)) == said


def test_lyrics_or_no_set_say_nothing():
    assert sung_without_lyrics(item(voice=True, lyrics="[Verse]\nla la"), summary(vocals=True)) is None
    assert sung_without_lyrics(item(voice=None), None) is None  # the set is gone and nobody heard a voice
    assert sung_without_lyrics(item(voice=True), None) == "the tagger hears a voice in it"


@pytest.fixture
def tm(data_dir, settings, store, demo_files):
    tm = TrainMode(store, settings)
    tm.import_sets("Ada", [(als.name, als) for _, als, _ in demo_files])
    return tm


def queued(tm: TrainMode, demo_files, lyrics: str):
    """Night Drive's MP3 on the queue, captioned, with `lyrics` pasted."""
    artist, (_, als, mp3) = tm.artist("Ada"), demo_files[0]
    queue: list = []
    entry = tm.add_to_queue(
        queue,
        artist,
        tm.find_set(artist, als.name),
        mp3.read_bytes(),
        name=mp3.name,
        info=tm.measure_upload(mp3, mp3.name),
        pairing="same name",
    )
    tm.generate_entries([entry], artist)
    tm.set_entry_lyrics(entry, lyrics)
    return artist, entry


def test_lyrics_pasted_for_an_mp3_saved_before_go_onto_its_item(tm, demo_files):
    artist, first = queued(tm, demo_files, "first words\n")
    tm.save_entries([first], artist)
    assert first.state == "saved" and tm.store.get_item(first.item_id)["metadata"]["lyrics"] == "first words"
    # The same MP3 again with the same caption: already saved; its new lyrics replace the old ones.
    _, again = queued(tm, demo_files, "[Verse]\nnew words  \r\n")
    tm.save_entries([again], artist)
    assert again.state == "saved" and again.item_id == first.item_id
    assert tm.store.get_item(first.item_id)["metadata"]["lyrics"] == "[Verse]\nnew words"
    # ... and with another caption, Update its caption takes the lyrics too.
    _, third = queued(tm, demo_files, "third words")
    tm.edit_entry(third, "Warm pads over a steady kick and a deep bass line.", artist, tm.master_schema(artist))
    tm.save_entries([third], artist)
    assert third.state == "review" and third.item_id == first.item_id
    third.confirmed = True
    tm.update_entry_caption(third, artist)
    saved = tm.store.get_item(first.item_id)
    assert third.state == "saved" and saved["metadata"]["lyrics"] == "third words"
    assert saved["prompt_text"] == third.caption
