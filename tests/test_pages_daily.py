"""AppTest for daily use (issue 19): the artist in the URL, one import summary, the export page
refreshed, chart labels, pairing with lengths, blocking findings, captions never lost, deletes,
re-export, exports history, the queue kept over a reload, who did what."""

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_pages import TIMEOUT, app, badges, button, click, create_artist, goto, queue, train_page_with, upload
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step


def test_create_artist_selects_the_new_artist_and_keeps_it_in_the_url(artist_with_sets):
    at = app()
    assert at.selectbox[0].value == "Ada" and at.query_params["artist"] == "Ada"
    create_artist(at, "Zed")
    assert at.selectbox[0].value == "Zed" and at.query_params["artist"] == "Zed"
    assert any("Created and selected Zed" in s.value for s in at.success)
    create_artist(at, "ada")
    assert at.selectbox[0].value == "Ada"
    assert any("Selected the existing artist Ada" in s.value for s in at.success)


def test_the_artist_in_the_url_is_the_one_shown(artist_with_sets, store):
    store.ensure_artist("Zed")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["artist"] = "Zed"
    at.run()
    assert at.selectbox[0].value == "Zed"
    at.query_params["artist"] = "Ada"  # back/forward or a pasted link
    at.run()
    assert at.selectbox[0].value == "Ada"
    at.selectbox[0].select("Zed")
    at.run()
    assert at.selectbox[0].value == "Zed" and at.query_params["artist"] == "Zed"


def test_importing_many_sets_is_one_summary_and_empties_the_uploader(data_dir, demo_files):
    at = app()
    create_artist(at, "Bo")
    files = [(als.name, als.read_bytes(), "application/octet-stream") for _, als, _ in demo_files]
    at.file_uploader[0].set_value([*files, ("broken.als", b"nope", "application/octet-stream")])
    at.run()
    click(at, "Import")
    assert not at.success and not at.error and len(at.warning) == 1  # not one banner per file
    assert "Imported 3 of 4 sets; 1 failed:" in at.warning[0].value and "broken.als" in at.warning[0].value
    assert not at.file_uploader[0].value and button(at, "Import").disabled
    at.file_uploader[0].set_value(files[:1])
    at.run()
    click(at, "Import")
    assert [s.value for s in at.success] == ["Imported 0 of 1 sets; 1 already imported."]


def test_a_new_artist_profile_is_empty_and_derive_adds_no_example_values(artist_with_sets):
    at = app()
    assert at.text_area[0].value == "" and "electronic" in at.text_area[0].placeholder
    click(at, "Derive from the artist's sets")
    draft = json.loads(at.text_area[0].value)
    assert draft["tempo_range"] == [96, 128] and "genres" not in draft and "moods" not in draft


def test_the_export_page_shows_the_export_s_effect_at_once(artist_with_sets, demo_files):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    goto(at, "export")
    assert at.metric[0].value == "2"
    click(at, "Export")
    assert any("Exported 2 items (" in s.value for s in at.success) and at.get("download_button")
    assert at.metric[0].value == "0"  # not "Ready to export 2" any more
    assert button(at, "Export").disabled
    assert not any("ready" in df.value.get("status", []).tolist() for df in at.dataframe if "status" in df.value)


def test_no_chart_drops_its_category_labels(artist_with_sets):
    at = app()
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 5
    for spec in specs:
        category = next(v for v in spec["encoding"].values() if isinstance(v, dict) and v.get("type") == "nominal")
        assert category["axis"]["labelOverlap"] is False  # Vega-Lite's default hides every other label


def test_pairing_shows_lengths_a_player_and_a_mismatch_before_anything_is_queued(artist_with_sets, demo_files, store):
    (_, _, night), (_, _, waltz), _ = demo_files
    artist = store.find_artist("Ada")
    row = store.get_summary(artist["id"], artist_with_sets["neon_pulse.als"])
    store.add_summary(
        artist["id"],
        "long0000000000000000000000000000",
        "long_jam.als",
        dict(row["summary"], length={"beats": 480, "seconds": 240.0, "bars": 120}),
    )
    at = app()
    goto(at, "train")
    upload(at, [night, waltz], names=["night_drive.mp3", "untitled.mp3"])
    assert len(at.get("audio")) == 2  # a player next to each MP3
    [picked, unpaired] = [s for s in at.selectbox if s.label.startswith("Set for ")]
    label = picked.format_func(picked.value)
    assert label.startswith("night_drive.als — ") and "124 BPM" in label and ":" in label and "minor" in label
    assert any(m.value.startswith("❔ **untitled.mp3**") for m in at.markdown)
    unpaired.select("long0000000000000000000000000000")
    at.run()
    assert any(m.value.startswith("✅ **untitled.mp3**") for m in at.markdown)  # ❔ goes once picked by hand
    assert not any(m.value.startswith("❔") for m in at.markdown)
    assert any("long but the set's arrangement is 4:00" in w.value for w in at.warning)  # seen at pairing time
    assert not queue_or_empty(at)


def queue_or_empty(at: AppTest) -> list:
    return at.session_state["tm_queue"] if "tm_queue" in at.session_state else []


def test_a_session_only_set_shows_session_only_not_zero_seconds(artist_with_sets, store):
    artist = store.find_artist("Ada")
    row = store.get_summary(artist["id"], artist_with_sets["neon_pulse.als"])
    summary = dict(row["summary"], length={"beats": 0, "seconds": 0, "bars": 0})
    store.add_summary(artist["id"], "sessiononly0000000000000000000000", "jam.als", summary)
    at = app()
    table = at.dataframe[0].value.set_index("set")
    assert table.loc["jam.als", "length_s"] == "session only" and table.loc["night_drive.als", "length_s"] != "0 s"


def test_a_set_without_a_key_or_live_version_shows_a_dash_not_none(artist_with_sets, store):
    artist = store.find_artist("Ada")
    row = store.get_summary(artist["id"], artist_with_sets["neon_pulse.als"])
    summary = dict(row["summary"], key=None, live_version=None)
    store.add_summary(artist["id"], "keyless000000000000000000000000", "keyless.als", summary)
    at = app()
    table = at.dataframe[0].value.set_index("set")
    assert table.loc["keyless.als", "key"] == "—" and table.loc["keyless.als", "live"] == "—"
    assert table.loc["night_drive.als", "key"] not in ("—", None)  # a set with a key shows it
    assert not table.drop(columns=["bpm"]).isna().any().any()  # no cell of text shows "None"


def test_save_anyway_never_overrides_a_blocking_finding(artist_with_sets, demo_files, monkeypatch):
    import dataclasses

    import trainmode.captions.generate
    from trainmode.captions.factcheck import Finding

    @dataclasses.dataclass(frozen=True)
    class Blocking(Finding):
        blocking: bool = True

    found = [Blocking("artist_name", "The caption names the artist."), Finding("tempo", "The set is at 124 BPM.")]
    monkeypatch.setattr(trainmode.captions.generate, "check_caption", lambda *args, **kwargs: found)
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    [entry] = queue(at)
    entry.needs_confirmation, entry.confirmed = ["The set is at 124 BPM."], True  # "Save anyway" ticked earlier
    at.run()
    assert any("names the artist" in e.value for e in at.error)
    assert not at.checkbox  # no "Save anyway" to tick
    assert any("No confirmation can override" in c.value for c in at.caption)
    assert button(at, "Save").disabled and button(at, "Save all reviewed").disabled
    import trainmode.service

    tm = trainmode.service.TrainMode.open()
    tm.save_entries([entry], tm.artist("Ada"))  # the door refuses it too
    assert entry.state == "failed" and "cannot be saved" in entry.error and not tm.list_items(tm.artist("Ada"))


def test_an_edited_caption_for_audio_saved_before_is_never_silently_lost(artist_with_sets, demo_files, store):
    mp3 = demo_files[0][2]
    at = train_page_with([mp3])
    click(at, "Generate")
    click(at, "Save")
    click(at, "Clear saved")
    upload(at, [mp3])  # the same audio again, later
    click(at, "Add to queue")
    click(at, "Generate")
    at.text_area[0].input("A new caption, written after listening again.")
    at.run()
    assert any("Needs your confirmation before saving" in w.value for w in at.warning)  # a short caption (#29)
    at.checkbox(key=f"confirm_{queue(at)[0].id}").check()
    at.run()
    click(at, "Save")
    assert badges(at) == ["👀 review"]  # not "✅ saved" while the store keeps the old text
    assert any("already saved, with another caption" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Save"]
    assert button(at, "Update its caption").disabled  # replacing the saved caption is another yes
    assert any("before updating the saved caption" in w.value for w in at.warning)
    at.checkbox(key=f"confirm_{queue(at)[0].id}").check()
    at.run()
    click(at, "Update its caption")
    assert badges(at) == ["✅ saved"]
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert item["prompt_text"] == "A new caption, written after listening again." and item["prompt_edited"]


def test_re_export_all_and_a_readable_exports_history_with_delete(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    goto(at, "export")
    assert button(at, "Re-export all").disabled  # nothing exported yet
    click(at, "Export")
    click(at, "Re-export all")
    assert any("Exported 2 items as a new dataset" in s.value for s in at.success)
    history = at.dataframe[-1].value
    assert len(history) == 2 and history["rows"].tolist() == ["2 tracks", "2 tracks"]
    assert history["format"].tolist() == ["hf", "hf"] and history["split"].tolist() == ["no validation split"] * 2
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d( UTC)?", w) for w in history["when"])  # no raw ISO
    assert "None" not in history.to_string() and all(s.endswith("KiB") or s.endswith("MiB") for s in history["size"])
    click(at, "Delete this export")  # asks first, naming the export (#29)
    assert len(store.list_exports(store.find_artist("Ada")["id"])) == 2
    assert any("removes the export of" in w.value and "hf, 2 tracks" in w.value for w in at.warning)
    click(at, "Yes, delete this export")
    assert any("Deleted the export" in s.value for s in at.success)
    assert len(store.list_exports(store.find_artist("Ada")["id"])) == 1


def saved_items_for_ada(demo_files) -> AppTest:
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    return goto(at, "library")


def test_the_library_deletes_an_item_with_its_files_and_a_set_only_with_its_items(artist_with_sets, demo_files, store):
    at = saved_items_for_ada(demo_files)
    ada = store.find_artist("Ada")
    first, second = store.list_items(ada["id"])
    assert any("Saved items (2)" in h.value for h in at.subheader)
    next(s for s in at.selectbox if s.label == "Saved item").select(first["id"])
    at.run()
    click(at, "Delete item")  # asks first, naming the item (#29)
    assert len(store.list_items(ada["id"])) == 2
    assert any(f"Delete item removes {first['audio_filename']}" in w.value for w in at.warning)
    click(at, "Yes, delete item")
    assert [i["id"] for i in store.list_items(ada["id"])] == [second["id"]]
    assert store.local_path(first["audio_path"]) is None or not store.local_path(first["audio_path"]).exists()
    pick = next(s for s in at.selectbox if s.label == "Set")
    pick.select(second["parse_id"])
    at.run()
    assert button(at, "Delete set").disabled  # in use: refused
    next(c for c in at.checkbox if c.label.startswith("Also delete the 1 saved item")).check()
    at.run()
    click(at, "Delete set")
    assert not store.list_items(ada["id"]) and second["parse_id"] not in {
        r["parse_id"] for r in store.list_summaries(ada["id"])
    }


def test_deleting_the_artist_needs_its_name_typed(artist_with_sets, demo_files, store):
    at = saved_items_for_ada(demo_files)
    items = store.list_items(store.find_artist("Ada")["id"])
    confirm = next(t for t in at.text_input if t.label.startswith("Type Ada"))
    confirm.input("Ad")
    at.run()
    assert button(at, "Delete artist").disabled
    next(t for t in at.text_input if t.label.startswith("Type Ada")).input("Ada")
    at.run()
    click(at, "Delete artist")
    assert store.list_artists() == [] and "artist" not in at.query_params
    assert not any(store.local_path(i["audio_path"]).exists() for i in items)


def test_the_queue_survives_a_reload_and_can_be_discarded(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    edited = at.text_area[0].value + " Recorded live."
    at.text_area[0].input(edited)
    at.run()

    again = app()  # a reload: a new session, nothing in st.session_state
    goto(again, "train")
    assert badges(again) == ["👀 review", "👀 review"]
    assert again.text_area[0].value == edited
    assert any("Restored the queue as you left it" in i.value for i in again.info)
    click(again, "Save all reviewed")
    assert badges(again) == ["✅ saved", "✅ saved"]
    click(again, "Discard the queue")
    assert not badges(again)
    third = app()
    goto(third, "train")
    assert not badges(third) and store.get_draft(store.find_artist("Ada")["id"]) is None


def test_who_did_what_is_the_sidebar_name_kept_in_the_url(artist_with_sets, demo_files, store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["by"] = "Kim"
    at.run()
    assert at.sidebar.text_input[0].value == "Kim"
    goto(at, "train")
    assert at.query_params["by"] == "Kim"  # kept across a page switch
    upload(at, [demo_files[0][2]])
    click(at, "Add to queue")
    assert any("added by Kim" in c.value for c in at.caption)
    click(at, "Generate")
    click(at, "Save")
    goto(at, "export")
    click(at, "Export")
    ada = store.find_artist("Ada")["id"]
    assert [i["created_by"] for i in store.list_items(ada)] == ["Kim"]
    assert at.dataframe[-1].value["by"].tolist() == ["Kim"]
    goto(at, "library")
    assert at.dataframe[1].value["by"].tolist() == ["Kim"]


def test_an_import_cut_short_says_so_on_the_next_visit(data_dir, demo_files, monkeypatch):
    import streamlit as st

    from trainmode.service import TrainMode

    real = TrainMode.import_sets

    def leaves_after_two(self, name, sources, on_progress=None):
        sources = list(sources)
        real(self, name, sources[:2], on_progress)
        st.stop()  # the user went to another page: the script run ends here

    monkeypatch.setattr(TrainMode, "import_sets", leaves_after_two)
    at = app()
    create_artist(at, "Bo")
    at.file_uploader[0].set_value([(a.name, a.read_bytes(), "application/octet-stream") for _, a, _ in demo_files])
    at.run()
    click(at, "Import")
    at.run()  # the next visit
    assert any("stopped after 2 of 3 files" in w.value for w in at.warning)
