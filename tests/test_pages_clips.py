"""The Train page shows a saved item's section clips, plays one, and saves edited or dropped captions."""

import pytest

from tests.apptest_pages import click, train_page_with

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
