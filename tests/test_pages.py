"""AppTest drives every page: import an .als, upload an MP3, generate, save, export."""
import zipfile

import pytest
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
    return next(b for b in at.button if b.label == label)


def create_artist(at: AppTest, name: str) -> None:
    at.text_input[0].input(name)
    button(at, "Create artist").click()
    at.run()


def test_the_whole_flow_in_the_pages(data_dir, demo_files):
    _, als, mp3 = demo_files[0]
    at = app()
    assert [t.value for t in at.title] == ["Library"]
    create_artist(at, "Ada")
    assert at.selectbox[0].value == "Ada"

    at.file_uploader[0].set_value([(als.name, als.read_bytes(), "application/octet-stream")])

    at.run()  # an upload reruns the page, as in a browser
    button(at, "Import").click()
    at.run()
    assert not at.exception
    assert any(f"Imported {als.name}" in s.value for s in at.success)
    assert at.dataframe[0].value["set"].tolist() == [als.name]

    goto(at, "train")
    at.file_uploader[0].set_value((mp3.name, mp3.read_bytes(), "audio/mpeg"))
    at.run()  # an upload reruns the page, as in a browser
    next(b for b in at.button if b.label == "Add to queue").click()
    at.run()
    assert any("pending" in m.value for m in at.markdown)
    button(at, "Generate").click()
    at.run()
    caption = at.text_area[0]
    assert "124 BPM" in caption.value
    caption.input(caption.value + " Edited by hand.")
    at.run()
    assert "edited" in at.caption[-1].value
    button(at, "Save").click()
    at.run()
    assert any("saved" in m.value for m in at.markdown), [m.value for m in at.markdown]

    goto(at, "export")
    assert at.metric[0].value == "1"
    button(at, "Export").click()
    at.run()
    assert not at.exception
    assert any("Exported 1 items" in s.value for s in at.success)
    assert at.get("download_button")


def test_a_broken_als_and_a_non_mp3_get_clear_messages(data_dir, demo_files, audio_fixtures):
    _, als, _ = demo_files[0]
    at = app()
    create_artist(at, "Bo")
    at.file_uploader[0].set_value([("notes.als", b"not a live set", "application/octet-stream"),
                                   (als.name, als.read_bytes(), "application/octet-stream")])
    at.run()  # an upload reruns the page, as in a browser
    button(at, "Import").click()
    at.run()
    assert not at.exception
    assert any("notes.als" in e.value for e in at.error)
    assert at.dataframe[0].value["set"].tolist() == [als.name]  # the good one still imported

    goto(at, "train")
    bad = audio_fixtures / "text_renamed.mp3"
    at.file_uploader[0].set_value((bad.name, bad.read_bytes(), "audio/mpeg"))
    at.run()  # an upload reruns the page, as in a browser
    button(at, "Add to queue").click()
    at.run()
    button(at, "Generate").click()
    at.run()
    button(at, "Save").click()
    at.run()
    assert not at.exception
    assert any("text file, not an MP3" in e.value for e in at.error)
    assert any("failed" in m.value for m in at.markdown)


def test_an_invalid_master_schema_is_refused_with_its_position(data_dir):
    at = app()
    create_artist(at, "Cy")
    at.text_area[0].input('{"genres": ["house",]}')
    button(at, "Save profile").click()
    at.run()
    assert any("not valid JSON" in e.value and "line 1" in e.value for e in at.error)
