"""Saving a training item: validation, storage layout, and nothing left behind on failure."""
import io

import pytest

from trainmode.errors import AudioError, ConfirmationRequired, StoreError, ValidationError
from trainmode.library import import_sets, require_summary
from trainmode.saving import SaveRequest, save_item


def save(store, artist, row, *, audio, audio_name, caption, confirm=False, **known):
    return save_item(store, artist, row, SaveRequest(audio=audio, audio_name=audio_name, caption=caption,
                                                     confirm=confirm, **known))


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


def test_save_stores_audio_prompt_and_a_ready_row(store, demo_set):
    artist, row, mp3 = demo_set
    result = save(store, artist, row, audio=mp3, audio_name=mp3.name,
                                caption="  Warm synthwave groove with punchy drums, a deep bass line and soft pads.  ")
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
    item = save(store, artist, row, audio=upload, audio_name="render.mp3",
                              caption="Driving synthwave with punchy drums, a deep bass line and soft pads.").item
    assert item["audio_filename"] == "render.mp3"
    assert read(store, item["audio_path"]) == mp3.read_bytes()


@pytest.mark.parametrize("name,what", [("text_renamed.mp3", "text"), ("wav_renamed.mp3", "WAV"),
                                       ("zero_bytes.mp3", "empty"), ("mp2_layer2.mp3", "Layer II")])
def test_a_non_mp3_is_refused_and_nothing_is_stored(store, demo_set, audio_fixtures, name, what):
    artist, row, _ = demo_set
    with pytest.raises(AudioError, match=what):
        save(store, artist, row, audio=audio_fixtures / name, audio_name=name, caption=CAPTION)
    assert store.list_items(artist["id"]) == []
    assert blob_files(store) == []


def test_the_same_audio_saved_twice_is_not_duplicated(store, demo_set):
    artist, row, mp3 = demo_set
    first = save(store, artist, row, audio=mp3, audio_name=mp3.name,
                 caption="One caption about a synthwave groove with punchy drums and a deep bass.")
    second = save(store, artist, row, audio=mp3, audio_name="copy.mp3",
                  caption="Another caption about a synthwave groove with punchy drums and a deep bass.")
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
        save(store, artist, row, audio=audio_fixtures / "silence_2s.mp3", audio_name="short.mp3",
                           caption="Synthwave groove with punchy drums, a deep bass line and soft pads.")


def test_a_clean_up_that_fails_too_is_logged_not_hidden(store, demo_set, monkeypatch, caplog):
    artist, row, mp3 = demo_set
    monkeypatch.setattr(store, "insert_item", lambda item: (_ for _ in ()).throw(StoreError("database locked")))
    monkeypatch.setattr(store, "delete_blob", lambda path: (_ for _ in ()).throw(StoreError("disk gone")))
    with pytest.raises(StoreError, match="database locked"):  # the real failure is what the user sees
        save(store, artist, row, audio=mp3, audio_name=mp3.name, caption=CAPTION)
    orphans = [r for r in caplog.records if r.levelname == "WARNING" and "orphan" in r.getMessage()]
    assert len(orphans) == 2 and {"audio.mp3", "prompt.txt"} == {r.args[0].rsplit("/", 1)[1] for r in orphans}
