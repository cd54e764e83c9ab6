"""AppTest for a team's day, part 2 (#29): the artist never changes behind your back, shared queue
work without clobbering, confirmations before anything is lost."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_pages import (
    TIMEOUT,
    app,
    badges,
    button,
    click,
    create_artist,
    goto,
    queue,
    train_page_with,
    upload,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # AppTest runs of whole flows: 5 to 20 s each


def test_leaving_a_page_you_did_nothing_on_keeps_the_artist(store):
    store.ensure_artist("Demo Artist")
    store.ensure_artist("Night Drive")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["artist"] = "Night Drive"
    at.run()
    for name in ["train", "export", "library", "export"]:
        goto(at, name)
        assert at.selectbox[0].value == "Night Drive", name
        assert at.query_params["artist"] == "Night Drive", name


def test_saving_an_mp3_saved_by_a_queue_entry_still_shown_does_not_crash_and_update_asks_to_confirm(
    artist_with_sets, demo_files, store
):
    night = demo_files[0][2]
    at = train_page_with([night])
    click(at, "Generate")
    click(at, "Save")
    upload(at, [night], names=["night_drive_again.mp3"])  # the same render once more, first entry still shown
    click(at, "Add to queue")
    second = queue(at)[1]
    click(at, "Generate all")
    text = at.text_area(key=f"caption_{second.id}")
    text.input(text.value + " Played at 172 BPM.")  # a finding: the set is at 124 BPM
    at.run()
    at.checkbox(key=f"confirm_{second.id}").check()  # "Save anyway", asked before the click
    at.run()
    button(at, "Save").click()
    at.run()
    assert not at.exception, at.exception  # was StreamlitDuplicateElementKey clips_offset_<item id>
    assert second.item_id == queue(at)[0].item_id and second.state == "review"
    assert "172 BPM" not in store.get_item(second.item_id)["prompt_text"]  # not stored without another yes
    assert any("Needs your confirmation before updating" in w.value for w in at.warning)
    assert button(at, "Update its caption").disabled
    at.checkbox(key=f"confirm_{second.id}").check()
    at.run()
    click(at, "Update its caption")
    assert "172 BPM" in store.get_item(second.item_id)["prompt_text"] and second.state == "saved"


def test_a_clip_caption_goes_through_the_hard_rules_and_the_fact_check(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    click(at, "Save")
    captions = [t for t in at.text_area if t.key and t.key.startswith("clip_")]
    captions[1].input("The drop, download it at https://example.com/drop.mp3")
    at.run()
    click(at, "Save clip captions")
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert store.list_clips(item["id"], "sections") == []  # nothing stored, not even the good clip
    assert any("Clip 2 (Drop) cannot be saved" in e.value and "Edit its caption" in e.value for e in at.error)
    captions = [t for t in at.text_area if t.key and t.key.startswith("clip_")]
    captions[1].input("The [drop](https://example.com): kick and bass at 172 BPM.")
    at.run()
    click(at, "Save clip captions")
    saved = store.list_clips(item["id"], "sections")
    assert saved[1]["caption"] == "The drop: kick and bass at 172 BPM."  # a Markdown link keeps its text
    assert any(f["code"] == "tempo_mismatch" for f in saved[1]["findings"])  # checked, not the writer's findings


def stored_entries(store) -> dict[str, dict]:
    row = store.get_draft(store.find_artist("Ada")["id"])
    return {e["id"]: e for e in (row["draft"]["entries"] if row else [])}


def test_a_stale_clear_saved_keeps_the_entry_a_colleague_added_meanwhile(artist_with_sets, demo_files, store):
    (_, _, night), (_, _, waltz) = demo_files[:2]
    kim = train_page_with([night])
    click(kim, "Generate")
    click(kim, "Save")
    tess = app()  # another browser, the same artist
    goto(tess, "train")
    upload(tess, [waltz])
    click(tess, "Add to queue")
    [added] = [e for e in queue(tess) if e.audio_name == waltz.name]
    click(kim, "Clear saved")  # Kim's tab still shows only her saved entry
    assert list(stored_entries(store)) == [added.id]  # Tess's entry is kept, Kim's saved one is gone
    assert [e.audio_name for e in queue(kim)] == [waltz.name]  # and Kim sees it now
    assert badges(kim) == ["⏳ pending"]


def test_a_stale_edit_or_remove_never_overwrites_a_colleague_s_newer_entry(artist_with_sets, demo_files, store):
    kim = train_page_with([demo_files[0][2]])
    click(kim, "Generate")
    [entry] = queue(kim)
    tess = app()
    tess.sidebar.text_input(key="by_input").input("Tess")
    tess.run()
    goto(tess, "train")
    tess.text_area(key=f"caption_{entry.id}").input("Tess wrote this one.")
    tess.run()
    assert stored_entries(store)[entry.id]["caption"] == "Tess wrote this one."

    kim.text_area(key=f"caption_{entry.id}").input("Kim, from a stale tab.")  # Kim still sees the first text
    kim.run()
    assert stored_entries(store)[entry.id]["caption"] == "Tess wrote this one."  # not overwritten
    assert kim.text_area(key=f"caption_{entry.id}").value == "Tess wrote this one."  # refreshed
    assert any("Tess changed" in w.value and "not kept" in w.value for w in kim.warning)

    tess.text_area(key=f"caption_{entry.id}").input("Tess, second thoughts.")
    tess.run()
    click(kim, "Remove")  # Kim's tab shows the older text: the question names what is stored now
    assert any("Tess changed" in w.value for w in kim.warning)
    assert any("Remove takes" in w.value and "Tess, second thoughts." in w.value for w in kim.warning)
    tess.text_area(key=f"caption_{entry.id}").input("Tess, third thoughts.")
    tess.run()
    click(kim, "Yes, remove")  # and Tess changed it again meanwhile
    assert stored_entries(store)[entry.id]["caption"] == "Tess, third thoughts."  # not removed
    assert any("changed by someone else" in w.value for w in kim.warning)
    assert [e.id for e in queue(kim)] == [entry.id]


def test_discard_asks_first_naming_the_unsaved_tracks(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    click(at, "Discard the queue")
    assert len(queue(at)) == 2 and stored_entries(store)
    assert any("Discard takes all 2 tracks off the queue" in w.value and "2 not saved" in w.value for w in at.warning)
    click(at, "Yes, discard the queue")
    assert not queue(at) and store.get_draft(store.find_artist("Ada")["id"]) is None


def test_exports_are_told_apart_and_an_empty_validation_split_is_said(artist_with_sets, demo_files, store):
    from trainmode.export.rows import split_of

    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    goto(at, "export")
    at.selectbox(key="export_format").select("audiocraft")
    at.radio(key="export_clips").set_value("sections")
    at.checkbox(key="export_split_on").check()
    at.run()
    at.slider(key="export_split").set_value(0.99)
    at.run()
    ids = [i["id"] for i in store.list_items(store.find_artist("Ada")["id"])]
    held_out = sum(split_of(i, 0.99) == "valid" for i in ids)
    said = [w.value for w in at.warning if "would leave the validation split empty" in w.value]
    assert bool(said) == (held_out == 0)  # said before exporting
    click(at, "Export")
    message = next(m.value for m in [*at.success, *at.warning] if m.value.startswith("Exported 2 items"))
    assert "audiocraft, 4 section clips of 2 items" in message
    assert ("The validation split is empty." in message) == (held_out == 0)

    at.checkbox(key="export_split_on").uncheck()
    at.selectbox(key="export_format").select("hf")
    at.radio(key="export_clips").set_value("none")
    at.run()
    click(at, "Re-export all")
    history = at.dataframe[-1].value
    assert sorted(zip(history["format"], history["rows"], strict=True)) == [
        ("audiocraft", "4 section clips of 2 items"),
        ("hf", "2 tracks"),
    ]
    labels = next(s for s in at.selectbox if s.label == "A past export").options
    assert len(set(labels)) == 2 and {label.split("— ")[1].split(",")[0] for label in labels} == {"audiocraft", "hf"}


def test_the_small_ones(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    [entry] = queue(at)
    in_use = [n for n, text in entry.variants.items() if text.strip() == entry.caption.strip()]
    offered = [b for b in at.button if b.label == "Use as the caption"]
    assert len(offered) == len(entry.variants) - len(in_use)  # not on the variant that is the caption
    text = at.text_area(key=f"caption_{entry.id}")
    text.input("A bright synth pad with a flute at 172 BPM, steady drums and a warm bass underneath it all night.")
    at.run()
    assert button(at, "Save").disabled  # asks for a confirmation first: the tempo is not the set's
    at.checkbox(key=f"confirm_{entry.id}").check()
    at.run()
    click(at, "Save")
    assert queue(at)[0].state == "saved"
    goto(at, "export")
    [said] = [w.value for w in at.warning if "fact-check finding" in w.value]
    assert "a tempo the set does not have" in said and "on the Browse page" in said
    assert "_" not in said  # no codes such as tempo_mismatch or unsupported_instrument
    assert next(m for m in at.metric if m.label == "Same opening").value == "none"  # one caption: nothing repeats

    goto(at, "library")
    create_artist(at, "Zed")
    assert button(at, "Save profile").disabled  # an empty profile box


def test_the_demo_s_items_say_who_saved_them(settings):
    from trainmode.service import TrainMode

    tm = TrainMode.open(settings)
    tm.install_demo(echo=lambda *_: None)
    [artist] = tm.list_artists()
    assert {i["created_by"] for i in tm.list_items(artist)} == {"demo"}


def test_browse_pages_through_saved_items_with_filters_a_player_and_their_clips(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    goto(at, "browse")
    cards = [m.value for m in at.markdown if "↔" in m.value]
    assert len(cards) == 2 and all("ready" in c for c in cards)
    assert any("set: 124 BPM" in c.value and "heard:" in c.value for c in at.caption)
    at.selectbox(key="browse_findings").select("with findings")
    at.run()
    with_findings = [m.value for m in at.markdown if "↔" in m.value]
    at.selectbox(key="browse_findings").select("without")
    at.run()
    assert len(with_findings) + len([m for m in at.markdown if "↔" in m.value]) == 2
    at.selectbox(key="browse_findings").select("any")
    at.multiselect(key="browse_status").select("exported")
    at.run()
    assert not [m for m in at.markdown if "↔" in m.value]  # nothing exported yet
    at.multiselect(key="browse_status").unselect("exported")
    at.run()

    [item, _] = store.list_items(store.find_artist("Ada")["id"])
    at.toggle(key=f"browse_play_{item['id']}").set_value(True)
    at.toggle(key=f"browse_clips_{item['id']}").set_value(True)
    at.run()
    assert len(at.get("audio")) == 1
    clip_captions = [t for t in at.text_area if t.key and t.key.startswith(f"clip_browse_{item['id']}")]
    clip_captions[0].input("The intro: a soft pad alone.")
    at.run()
    click(at, "Save clip captions")  # a saved item's clips, reviewed outside the queue (#29)
    assert store.list_clips(item["id"], "sections")[0]["caption"] == "The intro: a soft pad alone."


def test_each_upload_shows_when_it_was_heard(artist_with_sets, demo_files):
    at = app()
    goto(at, "train")
    upload(at, [demo_files[0][2], demo_files[1][2]])
    heard = [c.value for c in at.caption if c.value.startswith("✅ ")]
    assert [h.split(" · ")[0] for h in sorted(heard)] == ["✅ night_drive.mp3", "✅ sunrise_waltz.mp3"]
    assert "2/2 heard" in at.get("progress")[0].proto.text


def test_browse_shows_a_past_export_s_rows_as_the_trainer_reads_them(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2], demo_files[1][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    goto(at, "export")
    at.selectbox(key="export_format").select("audiocraft")
    at.radio(key="export_clips").set_value("sections")
    at.run()
    click(at, "Export")
    goto(at, "browse")
    at.segmented_control(key="browse_what").set_value("A past export")
    at.run()
    rows = [m.value for m in at.markdown if m.value.endswith("· train")]
    assert len(rows) == 4 and all("clip-000" in r for r in rows)  # the clips, as audiocraft's folder has them
    sidecars = [c.value for c in at.code]
    assert len(sidecars) == 4 and all('"description"' in s for s in sidecars)  # each clip's caption file


def test_clip_captions_are_written_again_after_a_question(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    click(at, "Save")
    [item] = store.list_items(store.find_artist("Ada")["id"])
    captions = [t for t in at.text_area if t.key and t.key.startswith("clip_")]
    written = captions[1].value
    captions[1].input("The drop: kick and bass hit hard.")
    at.run()
    click(at, "Save clip captions")
    click(at, "Write them again")
    assert store.list_clips(item["id"], "sections")[1]["caption"] == "The drop: kick and bass hit hard."
    assert any(
        "replaces the captions of all 2 clips" in w.value and "2 of them reviewed" in w.value for w in at.warning
    )
    click(at, "Yes, write them again")
    again = store.list_clips(item["id"], "sections")
    assert again[1]["caption"] == written and not again[1]["edited"]
    assert [t for t in at.text_area if t.key and t.key.startswith("clip_")][1].value == written


def test_the_pairing_hint_speaks_of_the_set_in_the_box(artist_with_sets, demo_files):
    at = app()
    goto(at, "train")
    upload(at, [demo_files[0][2]], names=["untitled.mp3"])
    [hint] = [c.value for c in at.caption if c.value.startswith("No set with this name")]
    assert "closest: " in hint and ".als (length" in hint  # names the set it compares with (#29)
