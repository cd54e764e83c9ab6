"""The README's screenshots (docs/images/*.png), taken with Playwright + Debian's chromium on
the demo data (`python -m trainmode demo`):

    .venv/bin/python -m tests.screenshots

Not a test: it writes into docs/images/. Look at the pictures before committing them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.conftest import ROOT
from tests.real_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, free_port, go_to, see, wait_healthy

IMAGES = ROOT / "docs" / "images"


def shot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to fit it."""
    height = page.locator('[data-testid="stMain"]').evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(900, min(height, 3200))})
    page.wait_for_load_state("networkidle")
    skeleton = page.locator('[data-testid="stSkeleton"]')
    if skeleton.count():
        skeleton.first.wait_for(state="detached")
    page.wait_for_timeout(2500)  # tables and charts draw into canvases after they are visible
    page.screenshot(path=str(IMAGES / name))
    page.set_viewport_size({"width": 1400, "height": 900})


def drive(page, url: str, demo: Path) -> None:
    page.goto(f"{url}/?artist=Demo+Artist&by=Kim")
    page.get_by_role("heading", name="Library", exact=True).wait_for()
    see(page, "Saved items (2)")
    shot(page, "library.png")

    go_to(page, "Train")
    files = [("neon_pulse (master).mp3", demo / "neon_pulse.mp3"), ("untitled take 3.mp3", demo / "night_drive.mp3")]
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        [{"name": n, "mimeType": "audio/mpeg", "buffer": p.read_bytes()} for n, p in files]
    )
    see(page, "1 of 2 files paired")
    shot(page, "train-pairing.png")
    page.get_by_role("button", name="Add to queue").click()
    see(page, "0/1 saved")
    page.get_by_role("button", name="Generate", exact=True).click()
    see(page, "1 review")
    caption = page.get_by_label("Caption").first
    caption.fill("A dark synthwave track at 90 BPM with a driving bassline, pads, drums and a saxophone solo.")
    caption.press("Control+Enter")
    see(page, "edited")
    page.get_by_role("button", name="Save", exact=True).click()
    see(page, "Needs your confirmation")
    page.get_by_text("Caption variants", exact=False).first.click()  # open the variants for the picture
    see(page, "Use as the caption")
    shot(page, "train-review.png")

    go_to(page, "Export")
    page.get_by_role("button", name="Export", exact=True).click()
    see(page, "Exported 2 items")
    shot(page, "export.png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINMODE_", "OPENAI_", "SUPABASE_"))}
        env.update(TRAINMODE_DATA_DIR=f"{tmp}/data", TRAINMODE_SECRETS=f"{tmp}/none.toml", TRAINMODE_WRITER="offline")
        subprocess.run([sys.executable, "-m", "trainmode", "demo"], cwd=ROOT, env=env, check=True)
        port = free_port()
        log = Path(tmp) / "streamlit.log"
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
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc, log)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                page = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Europe/Berlin")
                page.set_default_timeout(WAIT_MS)
                drive(page.new_page(), f"http://127.0.0.1:{port}", Path(tmp) / "data" / "demo")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
