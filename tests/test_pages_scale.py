"""Issue 20: the pages keep what they read between reruns, yet never show stale rows: a write
in one session shows in another at once, and so does one made by another process."""
from test_pages import app, click, create_artist, goto, train_page_with
from test_pages_daily import artist_with_sets  # noqa: F401  (the fixture: "Ada" with the demo sets)

from trainmode.service import TrainMode


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
    second = app()   # another browser: its own session, the same server
    assert sets_heading(second) == "Sets (1)"
    second.run()
    assert sets_heading(second) == "Sets (1)"   # a plain rerun: served from what was read
    import_through_the_page(first, demo_files[1][1])
    assert sets_heading(first) == "Sets (2)"
    second.run()
    assert sets_heading(second) == "Sets (2)"
    assert demo_files[1][1].name in second.dataframe[0].value["set"].tolist()


def test_an_edited_caption_shows_on_the_export_page(artist_with_sets, demo_files, settings):  # noqa: F811
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate all")
    click(at, "Save all reviewed")
    goto(at, "export")
    before = at.dataframe[0].value["caption"].tolist()
    goto(at, "export")
    assert at.dataframe[0].value["caption"].tolist() == before
    tm = TrainMode.open(settings)   # another process (the CLI) edits the caption
    artist = tm.artist("Ada")
    [item] = tm.list_items(artist)
    tm.update_caption(artist, item["id"], "A slow, warm groove with soft drums and a deep bass line.")
    at.run()
    assert at.dataframe[0].value["caption"].tolist() == ["A slow, warm groove with soft drums and a deep bass line."]
