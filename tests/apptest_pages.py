"""Driving the pages with Streamlit's AppTest, for the page tests (tests/test_pages*.py)."""

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 60


def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    """The button whose label starts with `label` ("Generate all" matches "Generate all (2)")."""
    return next(b for b in at.button if b.label == label or b.label.startswith(label + " ("))


def click(at: AppTest, label: str) -> AppTest:
    button(at, label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def create_artist(at: AppTest, name: str) -> None:
    at.text_input[0].input(name)
    button(at, "Create artist").click()
    at.run()


def upload(at: AppTest, paths, names=None) -> None:
    names = names or [p.name for p in paths]
    at.file_uploader[0].set_value([(n, p.read_bytes(), "audio/mpeg") for n, p in zip(names, paths, strict=False)])
    at.run()  # an upload reruns the page, as in a browser
    assert not at.exception, at.exception


def badges(at: AppTest) -> list[str]:
    return [m.value.rsplit("— ", 1)[1] for m in at.markdown if "↔" in m.value]


def queue(at: AppTest) -> list:
    return at.session_state["tm_queue"]


def train_page_with(paths) -> AppTest:
    at = app()
    goto(at, "train")
    upload(at, paths)
    click(at, "Add to queue")
    return at
