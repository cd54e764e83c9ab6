"""A real browser (#29): the artist chosen in the address is never changed behind the user's back
by the sidebar, and a deep link as the first request after a start shows the app's four pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.real_browser import (  # noqa: F401 (fixtures page, server)
    artist_shown,
    chromium_page,
    go_to,
    streamlit_server,
)
from trainmode.store import EmbeddedStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def address(page) -> dict[str, str]:  # noqa: F811 (the fixture name)
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_the_sidebar_keeps_the_artist_of_a_deep_link_on_every_hop(server, page, tmp_path):  # noqa: F811
    store = EmbeddedStore(tmp_path / "data")  # the server's data dir: two artists, the first sorts first
    store.ensure_artist("Demo Artist")
    store.ensure_artist("Night Drive")
    store.close()
    page.goto(f"{server}/train?artist=Night+Drive&by=Tess")  # the first request this server sees
    page.get_by_role("heading", name="Train", exact=True).wait_for()
    page.wait_for_function("() => new URLSearchParams(location.search).has('artist')")
    nav = [t.split()[-1] for t in page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]
    assert nav == ["Library", "Train", "Browse", "Export"]  # not every module of pages/ as a page
    assert artist_shown(page) == "Night Drive"
    for title in ["Export", "Library", "Train", "Export", "Library"]:
        go_to(page, title)
        page.wait_for_function("() => new URLSearchParams(location.search).has('artist')")
        page.wait_for_timeout(300)  # a rerun that would change it has had its chance
        assert address(page) == {"artist": "Night Drive", "by": "Tess"}, (title, page.url)
        assert artist_shown(page) == "Night Drive", title
