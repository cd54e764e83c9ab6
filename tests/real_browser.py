"""A real browser against `streamlit run app.py`, for the browser tests and tests/screenshots.py:
Debian's chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 30) -> None:
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


def app_env(tmp: Path) -> dict[str, str]:
    """The environment of an app on its own data dir (tmp/data) with no secrets: the offline writer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINMODE_", "OPENAI_", "SUPABASE_"))}
    env.update(TRAINMODE_DATA_DIR=str(tmp / "data"), TRAINMODE_SECRETS=str(tmp / "no-secrets.toml"))
    env.update(TRAINMODE_WRITER="offline")
    return env


@contextmanager
def running_app(tmp: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port of 127.0.0.1 with app_env(tmp); yields its URL."""
    port = free_port()
    log = tmp / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=app_env(tmp), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(name="server")
def streamlit_server(tmp_path):
    """The app on its own data dir, for one test."""
    with running_app(tmp_path) as url:
        yield url


@pytest.fixture(name="page")
def chromium_page():
    """A Chromium tab (the fixture `page`); skipped without Debian's chromium, except in CI."""
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


def screenshot(page, name: str, folder: Path = ARTIFACTS, settle_ms: int = 400) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to fit it."""
    folder.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.locator('[data-testid="stMain"]').evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 4000))})
    skeleton = page.locator('[data-testid="stSkeleton"]')
    if skeleton.count():
        skeleton.first.wait_for(state="detached")
    page.wait_for_timeout(settle_ms)  # let tables and charts draw into their canvases: a picture, not an assertion
    page.screenshot(path=str(folder / name))
    page.set_viewport_size(size)


def upload(page, files: list[tuple[str, Path]]) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        [{"name": name, "mimeType": "application/octet-stream", "buffer": path.read_bytes()} for name, path in files]
    )


def artist_shown(page) -> str:
    return page.get_by_label("Artist", exact=True).input_value()


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
