"""Saving a training item: validation, storage layout, and nothing left behind on failure."""

import io
import re

import pytest

from trainmode.errors import AudioError, ConfirmationRequired, StoreError, ValidationError
from trainmode.sets.importing import import_sets, require_summary
from trainmode.train.save import SaveRequest, save_item


def save(store, artist, row, *, audio, audio_name, caption, confirm=False, **known):
    return save_item(
        store, artist, row, SaveRequest(audio=audio, audio_name=audio_name, caption=caption, confirm=confirm, **known)
    )


@pytest.fixture
def demo_set(store, demo_files):
    demo, als, mp3 = demo_files[0]
    import_sets(store, "Ada", [(als.name, als)])
    artist = store.find_artist("Ada")
    return artist, require_summary(store, artist, als.name), mp3


CAPTION = "A synthwave groove with punchy drums, a deep bass line and soft pads."


def read(store, path):
    with store.open_blob(path) as fh:
        return fh.read()


def blob_files(store):
    return sorted(p.relative_to(store.blob_dir).as_posix() for p in store.blob_dir.rglob("*") if p.is_file())


@pytest.mark.slow
def test_save_stores_audio_prompt_and_a_ready_row(store, demo_set):
    artist, row, mp3 = demo_set
    result = save(
        store,
        artist,
        row,
        audio=mp3,
        audio_name=mp3.name,
        caption="  Warm synthwave groove with punchy drums, a deep bass line and soft pads.  ",
    )
    item = result.item
    assert item["status"] == "ready" and not result.duplicate
    assert item["audio_path"] == f"artists/{artist['id']}/items/{item['id']}/audio.mp3"
    assert item["prompt_path"] == f"artists/{artist['id']}/items/{item['id']}/prompt.txt"
    assert read(store, item["audio_path"]) == mp3.read_bytes()
    expected = "Warm synthwave groove with punchy drums, a deep bass line and soft pads.\n"
    assert read(store, item["prompt_path"]).decode() == expected
    assert item["audio_duration_s"] == pytest.approx(row["summary"]["length"]["seconds"], abs=0.2)
    assert item["prompt_writer"] == "manual" and item["prompt_edited"] is False


def test_an_upload_object_is_accepted_like_a_path(store, demo_set):
    artist, row, mp3 = demo_set
    upload = io.BytesIO(mp3.read_bytes())  # what Streamlit's UploadedFile is
    item = save(
        store,
        artist,
        row,
        audio=upload,
        audio_name="render.mp3",
        caption="Driving synthwave with punchy drums, a deep bass line and soft pads.",
    ).item
    assert item["audio_filename"] == "render.mp3"
    assert read(store, item["audio_path"]) == mp3.read_bytes()


@pytest.mark.parametrize(
    "name,what",
    [
        ("text_renamed.mp3", "text"),
        ("wav_renamed.mp3", "WAV"),
        ("zero_bytes.mp3", "empty"),
        ("mp2_layer2.mp3", "Layer II"),
    ],
)
def test_a_non_mp3_is_refused_and_nothing_is_stored(store, demo_set, audio_fixtures, name, what):
    artist, row, _ = demo_set
    with pytest.raises(AudioError, match=what):
        save(store, artist, row, audio=audio_fixtures / name, audio_name=name, caption=CAPTION)
    assert store.list_items(artist["id"]) == []
    assert blob_files(store) == []


def test_the_same_audio_saved_twice_is_not_duplicated(store, demo_set):
    artist, row, mp3 = demo_set
    first = save(
        store,
        artist,
        row,
        audio=mp3,
        audio_name=mp3.name,
        caption="One caption about a synthwave groove with punchy drums and a deep bass.",
    )
    second = save(
        store,
        artist,
        row,
        audio=mp3,
        audio_name="copy.mp3",
        caption="Another caption about a synthwave groove with punchy drums and a deep bass.",
    )
    assert second.duplicate and second.item["id"] == first.item["id"]
    assert len(store.list_items(artist["id"])) == 1


@pytest.mark.parametrize("step", ["audio", "prompt", "row"])
def test_a_failure_at_any_step_leaves_no_row_and_no_file(store, demo_set, monkeypatch, step):
    artist, row, mp3 = demo_set
    real_put = store.put_blob

    def put(path, source, content_type):
        if (step == "audio" and path.endswith(".mp3")) or (step == "prompt" and path.endswith(".txt")):
            raise StoreError("disk full")
        return real_put(path, source, content_type)

    def insert(item):
        raise StoreError("database locked")

    monkeypatch.setattr(store, "put_blob", put)
    if step == "row":
        monkeypatch.setattr(store, "insert_item", insert)
    with pytest.raises(StoreError):
        save(store, artist, row, audio=mp3, audio_name=mp3.name, caption=CAPTION)
    assert store.list_items(artist["id"]) == []
    assert blob_files(store) == []


def test_a_blank_prompt_is_refused(store, demo_set):
    artist, row, mp3 = demo_set
    with pytest.raises(ValidationError, match="empty"):
        save(store, artist, row, audio=mp3, audio_name=mp3.name, caption="   ")


@pytest.mark.slow
def test_fact_check_findings_need_a_confirmation(store, demo_set):
    artist, row, mp3 = demo_set
    wrong = "Dark techno at 170 BPM with a saxophone solo over punchy drums and a deep bass."
    with pytest.raises(ConfirmationRequired) as err:
        save(store, artist, row, audio=mp3, audio_name=mp3.name, caption=wrong)
    assert any("170" in r for r in err.value.reasons)
    assert store.list_items(artist["id"]) == []
    item = save(store, artist, row, audio=mp3, audio_name=mp3.name, caption=wrong, confirm=True).item
    assert item["findings"], "the findings are stored with the item"


def test_a_render_much_shorter_than_the_set_needs_a_confirmation(store, demo_set, audio_fixtures):
    artist, row, _ = demo_set  # the demo set is ~15 s; silence_2s.mp3 is 2 s: a truncated render
    with pytest.raises(ConfirmationRequired, match="0:02"):
        save(
            store,
            artist,
            row,
            audio=audio_fixtures / "silence_2s.mp3",
            audio_name="short.mp3",
            caption="Synthwave groove with punchy drums, a deep bass line and soft pads.",
        )


def test_a_clean_up_that_fails_too_is_logged_not_hidden(store, demo_set, monkeypatch, caplog):
    artist, row, mp3 = demo_set
    monkeypatch.setattr(store, "insert_item", lambda item: (_ for _ in ()).throw(StoreError("database locked")))
    monkeypatch.setattr(store, "delete_blob", lambda path: (_ for _ in ()).throw(StoreError("disk gone")))
    with pytest.raises(StoreError, match="database locked"):  # the real failure is what the user sees
        save(store, artist, row, audio=mp3, audio_name=mp3.name, caption=CAPTION)
    orphans = [r for r in caplog.records if r.levelname == "WARNING" and "orphan" in r.getMessage()]
    assert len(orphans) == 2 and {"audio.mp3", "prompt.txt"} == {r.args[0].rsplit("/", 1)[1] for r in orphans}


# ---- the audio against its set (trainmode/audio/check.py) --------------------------------
@pytest.fixture
def club(store, club_renders):
    import_sets(store, "Ada", [("club.als", club_renders["als"])])
    artist = store.find_artist("Ada")
    return artist, require_summary(store, artist, "club.als")


@pytest.mark.slow
def test_a_render_at_another_tempo_needs_a_confirmation_and_is_stored_as_confirmed(store, club, club_renders):
    artist, row = club
    fast = club_renders["fast"]  # the music runs at 140 BPM; the set at 128
    with pytest.raises(ConfirmationRequired) as err:
        save(store, artist, row, audio=fast, audio_name=fast.name, caption=CAPTION)
    assert any(re.search(r"runs at 1(39\.\d|40) BPM, the set at 128", r) for r in err.value.reasons), err.value.reasons
    assert store.list_items(artist["id"]) == [] and blob_files(store) == []
    item = save(store, artist, row, audio=fast, audio_name=fast.name, caption=CAPTION, confirm=True).item
    audio = store.get_item(item["id"])["metadata"]["audio"]  # read back from the store
    assert audio["verdict"] == "mismatch" and audio["confirmed"] is True
    assert audio["bpm"] == pytest.approx(140, abs=1) and audio["reasons"] == err.value.reasons


def test_the_matching_render_saves_without_a_question_with_its_measurements(store, club, club_renders):
    artist, row = club
    match = club_renders["match"]
    item = save(store, artist, row, audio=match, audio_name=match.name, caption=CAPTION).item
    audio = store.get_item(item["id"])["metadata"]["audio"]
    assert (audio["verdict"], audio["reasons"], audio["warnings"], audio["confirmed"]) == ("matches", [], [], False)
    assert audio["bpm"] == pytest.approx(128, abs=1) and audio["key"] == "A minor"
    assert audio["duration_s"] == pytest.approx(15.0, abs=0.1) and audio["loudness_lufs"] < -5
    assert any(a.startswith("Tempo agrees") for a in audio["agreements"])


@pytest.mark.slow
def test_a_doubtful_render_or_a_warning_is_kept_but_does_not_block(store, club, club_renders):
    artist, row = club
    close, late = club_renders["close"], club_renders["late"]  # 133 BPM; 3 s of silence first
    doubtful = save(store, artist, row, audio=close, audio_name=close.name, caption=CAPTION).item
    warned = save(store, artist, row, audio=late, audio_name=late.name, caption=CAPTION).item
    doubtful, warned = (store.get_item(i["id"])["metadata"]["audio"] for i in (doubtful, warned))
    assert doubtful["verdict"] == "doubtful" and doubtful["confirmed"] is False
    assert "close, but not the same tempo" in doubtful["reasons"][0]
    assert warned["verdict"] == "matches" and warned["warnings"] == ["3.0 s of silence at the start."]


def test_an_analysis_given_with_the_request_is_not_repeated(store, club, club_renders, monkeypatch):
    from trainmode.audio.analysis import analyze_mp3

    artist, row = club
    match = club_renders["match"]
    analysis = analyze_mp3(match)
    monkeypatch.setattr("trainmode.train.save.analyze_mp3", lambda *a, **k: pytest.fail("analysed twice"))
    item = save(store, artist, row, audio=match, audio_name=match.name, caption=CAPTION, analysis=analysis).item
    assert item["metadata"]["audio"]["bpm"] == round(analysis.bpm, 3)
