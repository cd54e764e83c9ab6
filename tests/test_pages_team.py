"""AppTest for a team's day, part 2 (#29): the artist never changes behind your back, shared queue
work without clobbering, confirmations before anything is lost."""

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_pages import TIMEOUT, goto


def test_leaving_a_page_you_did_nothing_on_keeps_the_artist(store):
    store.ensure_artist("Demo Artist")
    store.ensure_artist("Night Drive")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["artist"] = "Night Drive"
    at.run()
    for name in ["train", "export", "library", "export"]:
        goto(at, name)
        assert at.selectbox[0].value == "Night Drive", name
        assert at.query_params["artist"] == "Night Drive", name
