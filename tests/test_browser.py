"""A real browser against `streamlit run`: import two sets, upload two MP3s, check the
pairing, generate, edit a caption, save both, export and download the zip.

Screenshots of each page go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 20_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit did not become healthy in {seconds} s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def server(tmp_path):
    """`streamlit run app.py` on a free port with its own data dir and no secrets."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINMODE_", "OPENAI_", "SUPABASE_"))}
    env.update(
        TRAINMODE_DATA_DIR=str(tmp_path / "data"),
        TRAINMODE_SECRETS=str(tmp_path / "no-secrets.toml"),
        TRAINMODE_WRITER="offline",
    )
    log = tmp_path / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def page():
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing; CI installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.set_default_timeout(WAIT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to fit it."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.locator('[data-testid="stMain"]').evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 4000))})
    page.wait_for_timeout(400)  # let charts relayout: a picture, not an assertion
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size(size)


def upload(page, files: list[tuple[str, Path]]) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        [{"name": name, "mimeType": "application/octet-stream", "buffer": path.read_bytes()} for name, path in files]
    )


def go_to(page, title: str) -> None:
    """Through the app's own navigation: a fresh page load would start a new session."""
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()


def see(page, text: str) -> None:
    page.get_by_text(text).first.wait_for()


def create_ada_with(page, server: str, sets: list[Path]) -> None:
    """Create the artist Ada (the new artist is selected, and says so) and import `sets`."""
    page.goto(server)
    page.get_by_role("heading", name="Library", exact=True).wait_for()
    page.get_by_placeholder("Artist name").fill("Ada")
    page.get_by_role("button", name="Create artist").click()
    see(page, "Created and selected Ada.")
    upload(page, [(als.name, als) for als in sets])
    see(page, sets[-1].name)
    page.get_by_role("button", name="Import", exact=True).click()
    see(page, f"Imported {len(sets)} of {len(sets)} sets.")


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


def artist_shown(page) -> str:
    return page.get_by_label("Artist", exact=True).input_value()


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
