"""Issue 20: the pages keep what they read between reruns, yet never show stale rows: a write
in one session shows in another at once, and so does one made by another process."""

import pytest

from pages._manage import ITEMS_PER_PAGE
from tests.apptest_pages import app, click, create_artist, goto, train_page_with
from trainmode.service import TrainMode
from trainmode.store.base import new_id

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step


def sets_heading(at) -> str:
    return next(h.value for h in at.subheader if h.value.startswith("Sets ("))


def import_through_the_page(at, als) -> None:
    at.file_uploader[0].set_value([(als.name, als.read_bytes(), "application/octet-stream")])
    at.run()
    click(at, "Import")


def test_a_set_imported_in_one_session_shows_in_another_at_once(data_dir, demo_files):
    first = app()
    create_artist(first, "Cross")
    import_through_the_page(first, demo_files[0][1])
    second = app()  # another browser: its own session, the same server
    assert sets_heading(second) == "Sets (1)"
    second.run()
    assert sets_heading(second) == "Sets (1)"  # a plain rerun: served from what was read
    import_through_the_page(first, demo_files[1][1])
    assert sets_heading(first) == "Sets (2)"
    second.run()
    assert sets_heading(second) == "Sets (2)"
    assert demo_files[1][1].name in second.dataframe[0].value["set"].tolist()


def test_an_edited_caption_shows_on_the_export_page(artist_with_sets, demo_files, settings):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    goto(at, "export")
    before = at.dataframe[0].value["caption"].tolist()
    goto(at, "export")
    assert at.dataframe[0].value["caption"].tolist() == before
    tm = TrainMode.open(settings)  # another process (the CLI) edits the caption
    artist = tm.artist("Ada")
    [item] = tm.list_items(artist)
    tm.update_caption(artist, item["id"], "A slow, warm groove with soft drums and a deep bass line.")
    at.run()
    assert at.dataframe[0].value["caption"].tolist() == ["A slow, warm groove with soft drums and a deep bass line."]


def test_the_library_shows_saved_items_a_page_at_a_time(artist_with_sets, store):
    ada = store.find_artist("Ada")
    sets = store.list_summaries(ada["id"])
    for index in range(ITEMS_PER_PAGE + 5):
        row = sets[index % len(sets)]
        store.insert_item(
            {
                "id": new_id(),
                "artist_id": ada["id"],
                "als_summary_id": row["id"],
                "parse_id": row["parse_id"],
                "audio_path": f"{index}.mp3",
                "prompt_path": f"{index}.txt",
                "prompt_text": f"Take {index}: drums and bass.",
                "audio_sha256": f"{index:064x}",
                "audio_filename": f"take {index:03d}.mp3",
            }
        )
    at = goto(app(), "library")
    assert any(h.value == f"Saved items ({ITEMS_PER_PAGE + 5})" for h in at.subheader)
    table = next(d.value for d in at.dataframe if "caption" in d.value)
    assert table["audio"].tolist() == [f"take {i:03d}.mp3" for i in range(ITEMS_PER_PAGE)]
    at.number_input(key="items_page").set_value(2)
    at.run()
    table = next(d.value for d in at.dataframe if "caption" in d.value)
    assert table["audio"].tolist() == [f"take {i:03d}.mp3" for i in range(ITEMS_PER_PAGE, ITEMS_PER_PAGE + 5)]
    picks = next(s for s in at.selectbox if s.label == "Saved item")
    assert len(picks.options) == 5, "the delete picker offers the page's items"
    set_pick = next(s for s in at.selectbox if s.label == "Set")
    assert set_pick.value == sets[0]["parse_id"]
    used = sum(i["als_summary_id"] == sets[0]["id"] for i in store.list_items(ada["id"]))
    assert at.checkbox(key="set_with_items").label == f"Also delete the {used} saved item(s) made from it"
    for item in store.list_items(ada["id"])[ITEMS_PER_PAGE:]:  # another session deletes the second page
        store.delete_rows("training_items", [item["id"]])
    at.run()
    assert any(h.value == f"Saved items ({ITEMS_PER_PAGE})" for h in at.subheader)
    table = next(d.value for d in at.dataframe if "caption" in d.value)
    assert len(table) == ITEMS_PER_PAGE, "past the end: the last page"
