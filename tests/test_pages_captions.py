"""AppTest for the page parts of issues 17 and 18: the export format picker, the split and the
artist option, the captions report before exporting, and the caption variants on the Train page."""

import json
import zipfile

import pytest

import trainmode.export.rows
from tests.apptest_pages import app, badges, button, click, goto, queue, train_page_with
from trainmode.sets.importing import import_sets

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step


@pytest.fixture
def artist_with_sets(store, demo_files):
    """'Ada' with the three demo sets, as in test_pages.py."""
    return {r.filename: r.parse_id for r in import_sets(store, "Ada", [(a.name, a) for _, a, _ in demo_files])}


def saved_items(demo_files, count: int):
    at = train_page_with([mp3 for _, _, mp3 in demo_files[:count]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    assert badges(at) == ["✅ saved"] * count
    return at


def exported_zip(store, name: str = "Ada") -> zipfile.ZipFile:
    [export] = [e for e in store.list_exports(store.find_artist(name)["id"]) if e["status"] == "complete"][:1]
    return zipfile.ZipFile(store.local_path(export["zip_path"]))


def test_the_format_picker_exports_an_audiocraft_zip_with_a_split_and_offers_it(
    artist_with_sets, demo_files, store, monkeypatch
):
    at = saved_items(demo_files, 3)
    items = store.list_items(store.find_artist("Ada")["id"])
    held_out = items[0]["id"]  # where each item falls: one held out, the rest train (the hash is tested
    monkeypatch.setattr(trainmode.export.rows, "split_point", lambda i: 0.95 if i == held_out else 0.1)  # elsewhere)
    goto(at, "export")
    formats = at.selectbox(key="export_format")
    assert formats.options == [
        "Hugging Face datasets (audiofolder) (hf)",
        "MusicGen (audiocraft) (audiocraft)",
        "Stable Audio Open (stable-audio-tools) (stable-audio)",
        "ACE-Step 1.5 (ace-step)",
        "ACE-Step v1 (ace-step-v1)",
        "ACE-Step 1.5 (ostris/ai-toolkit) (ai-toolkit)",
    ]
    formats.set_value("audiocraft")
    at.checkbox(key="export_split_on").check()
    at.run()
    at.slider(key="export_split").set_value(0.9)
    click(at, "Export")
    assert any("Exported 3 items (" in s.value for s in at.success)
    [download] = at.get("download_button")
    assert download.proto.label == "Download dataset-audiocraft.zip"
    assert at.dataframe[-1].value["format"].tolist() == ["audiocraft"]  # the history names it too
    with exported_zip(store) as zf:
        names = zf.namelist()
        manifests = {n.split("/")[-2]: zf.read(n).decode().splitlines() for n in names if n.endswith("data.jsonl")}
        sidecars = [
            json.loads(zf.read(n))
            for n in names
            if n.endswith(".json") and "/" in n and n.rsplit(".", 1)[0] + ".mp3" in names
        ]
    assert {split: len(lines) for split, lines in manifests.items()} == {"train": 2, "valid": 1}
    assert sidecars and all(s["artist"] != "Ada" for s in sidecars)  # an opaque id unless opted in


def test_the_artist_name_option_puts_the_real_name_in_the_dataset(artist_with_sets, demo_files, store):
    at = saved_items(demo_files, 1)
    goto(at, "export")
    at.selectbox(key="export_format").set_value("audiocraft")
    at.checkbox(key="export_artist_name").check()
    at.run()
    click(at, "Export")
    with exported_zip(store) as zf:
        [sidecar] = [
            json.loads(zf.read(n))
            for n in zf.namelist()
            if n.endswith(".json") and n.rsplit(".", 1)[0] + ".mp3" in zf.namelist()
        ]
    assert sidecar["artist"] == "Ada"


def test_the_captions_report_shows_on_the_export_page_before_exporting(artist_with_sets, demo_files):
    at = train_page_with([mp3 for _, _, mp3 in demo_files[:2]])
    click(at, "Generate all")
    same = "Warm pads and a slow bassline under soft drums, with a long fade at the end of the track."
    for key in [a.key for a in at.text_area if a.key.startswith("caption_")]:
        at.text_area(key=key).input(same)
        at.run()
    click(at, "Save all reviewed")
    assert badges(at) == ["✅ saved"] * 2
    goto(at, "export")
    assert [t.label for t in at.tabs] == ["Saved captions", "Detailed variant", "Short variant", "Tags variant"]
    saved = at.tabs[0]
    assert saved.metric[0].label == "Captions" and saved.metric[0].value == "2"
    assert saved.metric[2].value == "100%"  # both open with the same words
    warnings = [w.value for w in saved.warning]
    assert any("open with “warm pads and”" in w for w in warnings)
    assert any("2 captions are duplicates" in w for w in warnings)
    assert at.tabs[2].metric[0].value == "2"  # the stored short variants


def entry_and_area(at, name: str):
    [entry] = queue(at)
    return entry, at.text_area(key=f"variant_{name}_{entry.id}")


def test_picking_the_short_variant_makes_it_the_caption_that_is_saved(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    entry, short = entry_and_area(at, "short")
    assert set(entry.variants) == {"detailed", "short", "tags"} and short.value
    at.button(key=f"use_short_{entry.id}").click()
    at.run()
    assert at.text_area(key=f"caption_{entry.id}").value == short.value
    assert not [b for b in at.button if b.key == f"use_short_{entry.id}"]  # not offered on the one in use (#29)
    assert "this is the caption" in " ".join(c.value for c in at.caption)
    click(at, "Save")
    assert badges(at) == ["✅ saved"]
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert item["prompt_text"] == short.value
    assert item["metadata"]["captions"]["short"] == short.value


def test_an_edited_tags_variant_is_what_the_export_carries(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    entry, tags = entry_and_area(at, "tags")
    edited = tags.value + ", late night"
    tags.input(edited)
    at.run()
    assert entry.variants["tags"] == edited
    assert not entry.variant_findings["tags"]
    click(at, "Save")
    assert badges(at) == ["✅ saved"]
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert item["metadata"]["captions"]["tags"] == edited
    goto(at, "export")
    at.selectbox(key="export_format").set_value("audiocraft")
    at.run()
    click(at, "Export")
    with exported_zip(store) as zf:
        [sidecar] = [
            json.loads(zf.read(n))
            for n in zf.namelist()
            if n.endswith(".json") and n.rsplit(".", 1)[0] + ".mp3" in zf.namelist()
        ]
    assert sidecar["keywords"][-1] == "late night"
    assert sidecar["keywords"] == [t.strip() for t in edited.split(",")]


def test_a_variant_naming_the_artist_blocks_save_until_edited(artist_with_sets, demo_files):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    entry, short = entry_and_area(at, "short")
    short.input("A track by Ada with drums.")
    at.run()
    assert any("Cannot be saved until edited" in e.value for e in at.error)
    assert button(at, "Save").disabled
    at.text_area(key=short.key).input("Steady drums and a deep bass.")
    at.run()
    assert not any("Cannot be saved until edited" in e.value for e in at.error), [e.value for e in at.error]
    assert not button(at, "Save").disabled


def test_an_edited_variant_is_kept_over_a_reload(artist_with_sets, demo_files):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    entry, short = entry_and_area(at, "short")
    at.text_area(key=short.key).input("Steady drums and a deep bass.")
    at.run()
    again = goto(app(), "train")  # a new session: the queue comes back from the draft
    [restored] = queue(again)
    assert restored.variants["short"] == "Steady drums and a deep bass."
    assert again.text_area(key=f"variant_short_{restored.id}").value == "Steady drums and a deep bass."
