"""A real browser against `streamlit run`: import two sets, upload two MP3s, check the
pairing, generate, edit a caption, save both, export and download the zip.

Screenshots of each page go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import zipfile

import pytest

from tests.real_browser import (  # noqa: F401 (chromium_page and streamlit_server: the fixtures page and server)
    artist_shown,
    chromium_page,
    create_ada_with,
    go_to,
    screenshot,
    see,
    streamlit_server,
    upload,
)

pytestmark = pytest.mark.browser


def test_import_pair_generate_edit_save_and_download(server, page, demo_files, tmp_path):
    (_, night_als, night_mp3), (_, waltz_als, waltz_mp3) = demo_files[:2]
    create_ada_with(page, server, [night_als, waltz_als])
    see(page, "Sets (2)")
    page.get_by_role("button", name="Derive from the artist's sets").click()
    see(page, "Filled tempo_range")
    screenshot(page, "library.png")

    go_to(page, "Train")
    upload(page, [("Night Drive (master).mp3", night_mp3), ("sunrise_waltz_final.mp3", waltz_mp3)])
    see(page, "2 of 2 files paired")
    assert page.get_by_label("Set for Night Drive (master).mp3").input_value().startswith(night_als.name)
    assert page.get_by_label("Set for sunrise_waltz_final.mp3").input_value().startswith(waltz_als.name)
    screenshot(page, "train-pairing.png")
    page.get_by_role("button", name="Add to queue").click()
    see(page, "0/2 saved")

    page.get_by_role("button", name="Generate all (2)").click()
    see(page, "2 review")
    caption = page.get_by_label("Caption").first
    edited = caption.input_value() + " Recorded live."
    caption.fill(edited)
    caption.press("Control+Enter")  # commits the text area, as a click elsewhere would
    see(page, "✏️ edited")
    screenshot(page, "train-review.png")
    page.get_by_role("button", name="Save all reviewed (2)").click()
    see(page, "2/2 saved")

    go_to(page, "Export")
    page.get_by_role("button", name="Export", exact=True).click()
    see(page, "Exported 2 items")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download dataset.zip").click()
    zip_path = tmp_path / "dataset.zip"
    info.value.save_as(zip_path)
    screenshot(page, "export.png")

    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert {"track-0001.mp3", "track-0001.txt", "track-0002.mp3", "track-0002.txt"} <= names
        captions = [zf.read(f"track-000{i}.txt").decode() for i in (1, 2)]
        assert zf.testzip() is None
    assert sum(edited.strip() == c.strip() for c in captions) == 1  # the edit is what was exported
    assert {zf.getinfo(n).file_size for n in ("track-0001.mp3", "track-0002.mp3")} == {
        night_mp3.stat().st_size,
        waltz_mp3.stat().st_size,
    }


def press(page, label: str, then: str) -> None:
    """Click the button called `label`, then wait until `then` shows."""
    page.get_by_role("button", name=label, exact=True).click()
    see(page, then)


def test_artist_in_the_url_queue_over_a_reload_delete_and_re_export(server, page, demo_files, tmp_path):
    from trainmode.store import EmbeddedStore

    (_, night_als, night_mp3), (_, waltz_als, waltz_mp3) = demo_files[:2]
    create_ada_with(page, server, [night_als, waltz_als])
    page.get_by_placeholder("Artist name").fill("Bo")
    page.get_by_role("button", name="Create artist").click()
    see(page, "Created and selected Bo.")
    assert artist_shown(page) == "Bo" and "artist=Bo" in page.url  # create selects the new artist
    page.goto(f"{server}/train?artist=Ada")  # a pasted link
    page.get_by_role("heading", name="Train", exact=True).wait_for()
    assert artist_shown(page) == "Ada"

    upload(page, [("night_drive.mp3", night_mp3), ("sunrise_waltz.mp3", waltz_mp3)])
    see(page, "2 of 2 files paired")
    page.get_by_role("button", name="Add to queue").click()
    see(page, "0/2 saved")
    page.reload()  # a reload: a new session
    page.get_by_role("heading", name="Train", exact=True).wait_for()
    see(page, "Restored the queue as you left it")
    see(page, "0/2 saved")
    assert artist_shown(page) == "Ada"
    for label, then in [("Generate all (2)", "2 review"), ("Save all reviewed (2)", "2/2 saved")]:
        press(page, label, then)
    go_to(page, "Export")
    for label, then in [("Export", "Exported 2 items"), ("Re-export all (2)", "Exported 2 items as a new dataset")]:
        press(page, label, then)
    store = EmbeddedStore(tmp_path / "data")
    ada = store.find_artist("Ada")["id"]
    first, second = store.list_exports(ada)
    assert first["item_count"] == second["item_count"] == 2 and first["status"] == second["status"] == "complete"
    with zipfile.ZipFile(store.local_path(first["zip_path"])) as zf:
        assert {"track-0001.mp3", "track-0002.mp3"} <= set(zf.namelist())

    go_to(page, "Library")
    item = store.list_items(ada)[0]
    files = [store.local_path(item["audio_path"]), store.local_path(item["prompt_path"])]
    assert all(f.exists() for f in files)
    page.get_by_role("button", name="Delete item").click()
    page.get_by_role("button", name="Yes, delete item").click()  # it asks first (#29)
    see(page, "and its files.")
    assert not any(f.exists() for f in files) and store.get_item(item["id"]) is None
    store.close()
