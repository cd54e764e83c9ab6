"""The README's screenshots (docs/images/*.png), taken with Playwright + Debian's chromium on
the demo data (`python -m trainmode demo`):

    .venv/bin/python -m tests.screenshots

Not a test: it writes into docs/images/. Look at the pictures before committing them."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.conftest import ROOT
from tests.real_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, app_env, go_to, running_app, screenshot, see

IMAGES = ROOT / "docs" / "images"


def shot(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(page, name, folder=IMAGES, settle_ms=2500)


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
    see(page, "Needs your confirmation")  # asked as soon as the edit is checked, before Save
    page.get_by_text("Caption variants", exact=False).first.click()  # open the variants for the picture
    see(page, "Use as the caption")
    shot(page, "train-review.png")

    go_to(page, "Export")
    page.get_by_role("button", name="Export", exact=True).click()
    see(page, "Exported 2 items")
    shot(page, "export.png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "trainmode", "demo"], cwd=ROOT, env=app_env(Path(tmp)), check=True)
        with running_app(Path(tmp)) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Europe/Berlin")
            page.set_default_timeout(WAIT_MS)
            drive(page.new_page(), url, Path(tmp) / "data" / "demo")
            browser.close()


if __name__ == "__main__":
    main()
