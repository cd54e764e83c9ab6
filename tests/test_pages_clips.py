"""The Train page shows a saved item's section clips, plays one, and saves edited or dropped captions;
the Export page's window length reaches the export."""

import io
import zipfile

import mutagen.mp3
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_pages import TIMEOUT, click, goto, train_page_with
from tests.conftest import ROOT
from tests.corpus import save_vocal_only
from trainmode.ops.demo import DEMO_ARTIST, install_demo

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step


def test_a_saved_items_clips_are_reviewed_and_saved(artist_with_sets, demo_files, store):
    _, _, mp3 = demo_files[0]
    at = train_page_with([mp3])
    click(at, "Generate")
    click(at, "Save")
    assert [e.label for e in at.expander] == ["Lyrics (optional)", "Section clips"]
    shown = [m.value for m in at.markdown if m.value.startswith(("**1.", "**2."))]
    assert shown[0].startswith("**1. Intro** · 0.0–") and shown[1].startswith("**2. Drop**")
    captions = [t for t in at.text_area if t.key and t.key.startswith("clip_")]
    assert captions[1].value.startswith("The drop of a track.")
    next(c for c in at.checkbox if c.key.endswith("_2_play")).check()
    at.run()
    assert len(at.get("audio")) == 1
    captions = [t for t in at.text_area if t.key and t.key.startswith("clip_")]
    captions[1].input("The drop: kick and bass hit hard.")
    next(c for c in at.checkbox if c.key.endswith("_1_drop")).check()
    at.run()
    click(at, "Save clip captions")
    [item] = store.list_items(store.find_artist("Ada")["id"])
    saved = store.list_clips(item["id"], "sections")
    assert [(c["section"], c["dropped"], c["edited"]) for c in saved] == [("Intro", True, False), ("Drop", False, True)]
    assert saved[1]["caption"] == "The drop: kick and bass hit hard."


def test_the_export_page_s_window_length_reaches_the_export(store, settings):
    install_demo(store, settings, echo=lambda *_: None)  # two ready 15 s renders, two sections each
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["artist"] = DEMO_ARTIST
    at.run()
    goto(at, "export")
    at.radio(key="export_clips").set_value("sections")
    at.run()
    assert not [n for n in at.number_input if n.key == "export_window_s"]  # a length only for window clips
    at.radio(key="export_clips").set_value("windows")
    at.run()
    length = at.number_input(key="export_window_s")
    assert (length.label, length.value) == ("Window length (s)", 30.0) and "MusicGen" in length.help
    length.set_value(5.0)
    click(at, "Export")
    assert any("8 window clips (5 s) of 2 items" in s.value for s in at.success)
    [export] = store.list_exports(store.find_artist(DEMO_ARTIST)["id"])
    with zipfile.ZipFile(store.local_path(export["zip_path"])) as zf:
        clips = [n for n in zf.namelist() if n.endswith(".mp3")]
        assert len(clips) == 8
        assert all(mutagen.mp3.MP3(io.BytesIO(zf.read(n))).info.length <= 5.03 for n in clips)
        assert "windows of at most 5 s (the window length chosen at export)" in zf.read("README.md").decode()


def test_a_silent_clip_is_shown_silent_with_no_caption_to_review(store, tmp_path, corpus_dir):
    # test_vocal_project's render sounds only in its middle section (tests/corpus.py): the clips
    # panel shows the other two as silent and not exported, with no caption box and no drop box.
    artist, _, item = save_vocal_only(store, tmp_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["artist"] = artist["name"]
    at.run()
    goto(at, "browse")
    at.toggle(key=f"browse_clips_{item['id']}").set_value(True)
    at.run()
    key = f"clip_browse_{item['id']}_"
    assert [t.key for t in at.text_area if t.key and t.key.startswith(key)] == [f"{key}2_caption"]
    assert [c.key for c in at.checkbox if c.key and c.key.endswith("_drop") and c.key.startswith(key)] == [
        f"{key}2_drop"
    ]
    silent = [c.value for c in at.caption if c.value.startswith("🔇")]
    assert len(silent) == 2 and all("Silent, not exported: the render is silent here" in s for s in silent)
    click(at, "Save clip captions")
    assert [c["position"] for c in store.list_clips(item["id"], "sections")] == [2]
