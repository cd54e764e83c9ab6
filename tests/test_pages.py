"""AppTest drives every page: import sets, pair many MP3s, generate, review, save, export."""

import json
import re
from pathlib import Path

import pytest

from pages._ui import md
from tests.apptest_pages import app, badges, button, click, create_artist, goto, queue, train_page_with, upload
from trainmode.captions.writers import OfflineWriter
from trainmode.errors import StoreError, WriterError
from trainmode.sets.importing import save_master_schema
from trainmode.store import EmbeddedStore

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step


def test_the_whole_flow_in_the_pages(data_dir, demo_files):
    _, als, mp3 = demo_files[0]
    at = app()
    assert [t.value for t in at.title] == ["Library"]
    create_artist(at, "Ada")
    assert at.selectbox[0].value == "Ada"

    at.file_uploader[0].set_value([(als.name, als.read_bytes(), "application/octet-stream")])
    at.run()  # an upload reruns the page, as in a browser
    click(at, "Import")
    assert [s.value for s in at.success] == ["Imported 1 of 1 sets."]
    assert at.dataframe[0].value["set"].tolist() == [als.name]

    goto(at, "train")
    upload(at, [mp3])
    click(at, "Add to queue")
    assert badges(at) == ["⏳ pending"]
    click(at, "Generate")
    caption = at.text_area[0]
    assert re.search(r"124 (?:BPM|beats per minute)", caption.value)  # the tempo, in one of its wordings
    caption.input(caption.value + " Edited by hand.")
    at.run()
    assert "edited" in next(c.value for c in at.caption if "characters" in c.value)
    click(at, "Save")
    assert badges(at) == ["✅ saved"]

    goto(at, "export")
    assert at.metric[0].value == "1"
    click(at, "Export")
    assert any("Exported 1 item (" in s.value for s in at.success)
    assert at.get("download_button")


def test_bulk_upload_pairs_by_name_and_leaves_the_rest_to_a_manual_pick(artist_with_sets, demo_files):
    (_, _, night), (_, _, waltz), (_, _, neon) = demo_files
    at = app()
    goto(at, "train")
    upload(at, [night, waltz, neon], names=["Night_Drive (master).mp3", "sunrise_waltz_final.mp3", "untitled.mp3"])
    picks = {s.label.removeprefix("Set for "): s for s in at.selectbox if s.label.startswith("Set for ")}
    assert picks["Night_Drive (master).mp3"].value == artist_with_sets["night_drive.als"]
    assert picks["sunrise_waltz_final.mp3"].value == artist_with_sets["sunrise_waltz.als"]
    assert picks["untitled.mp3"].value == ""  # no set of that name: the user picks
    assert any("2 of 3 files paired" in c.value for c in at.caption)

    picks["untitled.mp3"].set_value(artist_with_sets["neon_pulse.als"])
    at.run()
    click(at, "Add to queue")
    assert [(e.audio_name, e.als_filename) for e in queue(at)] == [
        ("Night_Drive (master).mp3", "night_drive.als"),
        ("sunrise_waltz_final.mp3", "sunrise_waltz.als"),
        ("untitled.mp3", "neon_pulse.als"),
    ]
    assert [e.pairing for e in queue(at)] == ["same name", "same name", "picked by hand"]
    assert not at.file_uploader[0].value  # the uploader is emptied for the next batch


def test_a_file_left_without_a_set_is_not_added_and_the_user_is_told(artist_with_sets, demo_files):
    at = app()
    goto(at, "train")
    upload(at, [demo_files[0][2], demo_files[2][2]], names=["night_drive.mp3", "untitled.mp3"])
    click(at, "Add to queue")
    assert [e.audio_name for e in queue(at)] == ["night_drive.mp3"]
    assert any("1 file(s) had no set" in w.value for w in at.warning)


def test_generate_all_fail_retry_remove_and_save_all(artist_with_sets, demo_files, monkeypatch):
    at = train_page_with([mp3 for _, _, mp3 in demo_files])
    assert badges(at) == ["⏳ pending"] * 3

    real_write = OfflineWriter.write

    def flaky(self, summary, master_schema, **kwargs):
        if summary["tempo"]["bpm"] == 96.0:  # the waltz fails, the others go on
            raise WriterError("The caption service timed out; try again.")
        return real_write(self, summary, master_schema, **kwargs)

    monkeypatch.setattr(OfflineWriter, "write", flaky)
    click(at, "Generate all")
    assert badges(at) == ["👀 review", "❌ failed", "👀 review"]
    assert any("timed out" in e.value for e in at.error)
    assert button(at, "Retry failed").label == "Retry failed (1)"

    monkeypatch.setattr(OfflineWriter, "write", real_write)
    click(at, "Retry failed")
    assert badges(at) == ["👀 review"] * 3 and not at.error

    spilled = queue(at)[2].audio_path
    [b for b in at.button if b.label == "Remove"][2].click()
    at.run()  # asks first, naming what goes (#29)
    assert Path(spilled).exists() and len(queue(at)) == 3
    assert any("Remove takes neon_pulse.mp3 off the queue" in w.value for w in at.warning)
    click(at, "Yes, remove")
    assert not Path(spilled).exists()
    assert [e.audio_name for e in queue(at)] == ["night_drive.mp3", "sunrise_waltz.mp3"]

    click(at, "Save all reviewed")
    assert badges(at) == ["✅ saved", "✅ saved"]
    assert "2/2 saved" in at.get("progress")[0].proto.text
    assert all(e.item_id for e in queue(at))
    assert not any(Path(e.audio_path).exists() for e in queue(at))  # the store has the audio now


def test_saving_over_fact_check_findings_needs_a_confirmation(artist_with_sets, demo_files):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    at.text_area[0].input("A dark synthwave track at 90 BPM with a driving bassline, pads and drums in A minor.")
    at.run()
    assert any("90" in w.value and "124" in w.value for w in at.warning)  # the finding shows while editing
    assert badges(at) == ["👀 review"]
    assert any("Needs your confirmation" in w.value for w in at.warning)  # asked before any click on Save
    assert button(at, "Save").disabled
    at.checkbox[0].check()
    at.run()
    click(at, "Save")
    assert badges(at) == ["✅ saved"]


def test_regenerate_replaces_an_edited_caption(artist_with_sets, demo_files):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    generated = at.text_area[0].value
    at.text_area[0].input("My own words.")
    at.run()
    assert "edited" in next(c.value for c in at.caption if "words" in c.value)
    click(at, "Regenerate")  # asks first: the hand edit would go (#29)
    assert at.text_area[0].value == "My own words."
    assert any("Regenerate replaces the caption you edited by hand (“My own words.”)" in w.value for w in at.warning)
    click(at, "Cancel")
    assert at.text_area[0].value == "My own words." and not any("Regenerate replaces" in w.value for w in at.warning)
    click(at, "Regenerate")
    click(at, "Yes, regenerate")
    assert at.text_area[0].value == generated
    assert "edited" not in next(c.value for c in at.caption if "words" in c.value)


def test_the_queue_and_an_edited_caption_survive_a_page_switch(artist_with_sets, demo_files):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    edited = at.text_area[0].value + " Recorded live."
    at.text_area[0].input(edited)
    at.run()
    goto(at, "library")
    goto(at, "export")
    goto(at, "train")
    assert badges(at) == ["👀 review", "👀 review"]
    assert at.text_area[0].value == edited
    assert "edited" in next(c.value for c in at.caption if "words" in c.value)


def test_a_batch_cut_short_is_recovered_on_the_next_run(artist_with_sets, demo_files):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    first, second = queue(at)
    first.state, second.state = "generating", "saving"  # as if the user left mid-batch
    at.run()
    assert badges(at) == ["❌ failed", "👀 review"]
    assert any("Interrupted" in e.value for e in at.error)


def test_a_broken_als_and_a_non_mp3_get_clear_messages(data_dir, demo_files, audio_fixtures):
    _, als, _ = demo_files[0]
    at = app()
    create_artist(at, "Bo")
    at.file_uploader[0].set_value(
        [
            ("notes.als", b"not a live set", "application/octet-stream"),
            (als.name, als.read_bytes(), "application/octet-stream"),
        ]
    )
    at.run()  # an upload reruns the page, as in a browser
    click(at, "Import")
    [summary] = at.warning  # one message, the failure listed in it
    assert summary.value.startswith("Imported 1 of 2 sets; 1 failed:") and "notes.als" in summary.value
    assert at.dataframe[0].value["set"].tolist() == [als.name]  # the good one still imported

    goto(at, "train")
    bad = audio_fixtures / "text_renamed.mp3"
    at.file_uploader[0].set_value([(als.stem + ".mp3", bad.read_bytes(), "audio/mpeg")])
    at.run()
    assert any("text file, not an MP3" in e.value for e in at.error)
    assert button(at, "Add to queue").disabled


def test_the_library_filters_and_charts_the_sets(artist_with_sets):
    at = app()
    assert sorted(at.dataframe[0].value["set"]) == ["neon_pulse.als", "night_drive.als", "sunrise_waltz.als"]
    assert len(at.get("vega_lite_chart")) == 5
    assert {"**Tempo**", "**Keys**", "**Meters**"} <= {m.value for m in at.markdown}
    next(t for t in at.text_input if t.label == "Filter by name").input("N")  # any case
    at.run()
    assert sorted(at.dataframe[0].value["set"]) == ["neon_pulse.als", "night_drive.als", "sunrise_waltz.als"]
    next(t for t in at.text_input if t.label == "Filter by name").input("ni")
    at.run()
    assert sorted(at.dataframe[0].value["set"]) == ["night_drive.als"]
    next(t for t in at.text_input if t.label == "Filter by name").input("")
    at.run()
    next(m for m in at.multiselect if m.label == "Meter").select("4/4")
    at.run()
    assert sorted(at.dataframe[0].value["set"]) == ["neon_pulse.als", "night_drive.als"]
    at.slider[0].set_range(120, 125)
    at.run()
    assert at.dataframe[0].value["set"].tolist() == ["night_drive.als"]
    assert any("1 of 3 sets" in c.value for c in at.caption)


def test_an_invalid_master_schema_is_refused_with_its_position(data_dir):
    at = app()
    create_artist(at, "Cy")
    at.text_area[0].input('{"genres": ["house",]}')
    at.run()
    assert any("not valid JSON" in e.value and "line 1" in e.value for e in at.error)
    assert button(at, "Save profile").disabled


def test_derive_fills_the_profile_from_the_sets_and_keeps_the_words(artist_with_sets, store):
    save_master_schema(store, store.find_artist("Ada")["id"], {"genres": ["synthwave"], "moods": ["nostalgic"]})
    at = app()
    click(at, "Derive from the artist's sets")
    draft = json.loads(at.text_area[0].value)
    assert draft["tempo_range"] == [96, 128] and draft["genres"] == ["synthwave"] and draft["moods"] == ["nostalgic"]
    assert any("Filled tempo_range" in i.value for i in at.info)
    goto(at, "train")
    goto(at, "library")
    assert json.loads(at.text_area[0].value) == draft  # the unsaved draft survives a page switch
    click(at, "Save profile")
    assert store.get_master_schema(store.find_artist("Ada")["id"])["tempo_range"] == [96, 128]


@pytest.mark.parametrize("page", ["library", "train", "export"])
def test_a_misconfigured_backend_is_a_clear_message_on_every_page(data_dir, monkeypatch, page):
    secret = "eyJ-this-key-must-never-be-shown"
    monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", secret)  # but no SUPABASE_URL
    at = app()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception
    [error] = at.error
    assert "SUPABASE_URL" in error.value
    everything = " ".join(str(e.value) for e in at.main if hasattr(e, "value"))
    assert secret not in everything


@pytest.mark.parametrize("page", ["library", "train", "export"])
def test_a_storage_outage_is_one_clear_message_on_every_page(data_dir, monkeypatch, page):
    def down(self):
        raise StoreError("The database could not be reached (connection refused).")

    monkeypatch.setattr(EmbeddedStore, "list_artists", down)
    at = app()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception
    [error] = at.error
    assert "could not be reached" in error.value and "reload the page" in error.value


def test_a_bug_on_a_page_is_one_message_naming_the_log(data_dir, monkeypatch):
    monkeypatch.setattr(EmbeddedStore, "list_artists", lambda self: 1 / 0)
    at = app()
    assert not at.exception
    [error] = at.error
    log = data_dir.resolve() / "logs" / "trainmode.log"
    assert "ZeroDivisionError" in error.value and str(log) in error.value
    assert "Traceback" in log.read_text()


def test_names_from_users_are_shown_as_written_not_as_markdown(artist_with_sets, demo_files):
    hostile = "**Loud** [click](http://evil.example) _x_ $y$.mp3"
    at = app()
    goto(at, "train")
    upload(at, [demo_files[0][2]], names=[hostile])
    [shown] = [m.value for m in at.markdown if "Loud" in m.value]
    assert f"**{md(hostile)}** · " in shown
    assert r"\*\*Loud\*\* \[click\](http://evil.example) \_x\_ \$y\$.mp3" in shown


def test_creating_an_artist_that_exists_in_another_case_selects_it(artist_with_sets):
    at = app()
    create_artist(at, "  ada ")
    assert at.selectbox[0].value == "Ada" and at.selectbox[0].options == ["Ada"]


def test_a_blocking_finding_disables_save_until_the_caption_is_edited(artist_with_sets, demo_files, monkeypatch):
    import dataclasses

    import trainmode.captions.generate
    from trainmode.captions.factcheck import Finding

    @dataclasses.dataclass(frozen=True)
    class Blocking(Finding):
        blocking: bool = True

    monkeypatch.setattr(
        trainmode.captions.generate,
        "check_caption",
        lambda *args, **kwargs: [Blocking("sample_file", "The caption names a sample file.")],
    )
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    assert any("Cannot be saved until edited" in e.value for e in at.error)
    assert button(at, "Save").disabled and button(at, "Save all reviewed").disabled
    at.text_area[0].input("A dark synthwave track with a driving bassline, pads and drums.")
    at.run()
    assert not at.error and not button(at, "Save").disabled  # the edit was checked again: nothing blocks


def test_a_misconfigured_supabase_backend_shows_the_check_report_on_the_library(data_dir, monkeypatch):
    secret = "eyJ-this-key-must-never-be-shown"
    monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", secret)  # but no SUPABASE_URL
    at = app()
    at.run()
    assert not at.exception
    [report] = at.code
    assert report.value.startswith("FAIL settings") and "SUPABASE_URL" in report.value
    assert secret not in report.value
