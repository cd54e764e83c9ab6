"""Text is text in a real browser: an uploaded file named like a Markdown image that points
at a server must be shown as its name, and the browser must never fetch the image."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.real_browser import (  # noqa: F401 (the fixtures page and server)
    chromium_page,
    create_ada_with,
    go_to,
    see,
    streamlit_server,
    upload,
)

pytestmark = pytest.mark.browser


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server name)
        self.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def bait():
    """A server on 127.0.0.1 that counts every request it gets."""
    _Counting.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Counting.hits
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_file_named_like_a_markdown_image_is_shown_not_fetched(server, page, demo_files, bait):  # noqa: F811
    url, hits = bait
    _, als, mp3 = demo_files[0]
    create_ada_with(page, server, [als])
    go_to(page, "Train")
    name = f"![p]({url}/x.png) [click](javascript:alert(1)).mp3"
    upload(page, [(name, mp3)])
    see(page, f"{url}/x.png")  # the name is on the page, as text
    page.wait_for_timeout(1500)  # time for an <img> to load, were there one
    assert hits == [], f"the browser fetched {hits} from the bait server"
    assert page.locator(f'img[src^="{url}"]').count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
