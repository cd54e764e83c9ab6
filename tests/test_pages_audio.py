"""The Train page listens: a render at another tempo than its set is flagged when it is
paired, before anything is queued, and Save asks for a confirmation; a matching render saves
without a question."""

import re

import pytest

from tests.apptest_pages import app, button, click, goto, upload
from trainmode.sets.importing import import_sets

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step


def _club(store, club_renders) -> None:
    [result] = import_sets(store, "Ada", [("club.als", club_renders["als"])])
    assert result.status == "imported"


def test_a_render_at_another_tempo_is_flagged_at_pairing_and_needs_a_confirmation(store, club_renders):
    _club(store, club_renders)
    at = app()
    goto(at, "train")
    upload(at, [club_renders["fast"]], names=["club.mp3"])  # the set's name, the wrong render
    [flag] = [w.value for w in at.warning if "audio mismatch" in w.value]
    assert flag.startswith("audio mismatch")  # the box has the ⚠ icon: not a second one in its text (#29)
    assert re.search(r"runs at 1(39|40)(\.\d)? BPM, the set at 128", flag)  # shown before anything is queued
    click(at, "Add to queue")
    click(at, "Generate")
    click(at, "Save")
    assert not store.list_items(store.find_artist("Ada")["id"])  # nothing saved without a yes
    assert any("the set at 128" in w.value for w in at.warning if "confirmation" in w.value)
    at.checkbox(key=next(c.key for c in at.checkbox if c.label == "Save anyway")).check()
    at.run()
    click(at, "Save")
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert item["metadata"]["audio"]["verdict"] == "mismatch" and item["metadata"]["audio"]["confirmed"]


def test_a_matching_render_saves_without_a_question(store, club_renders):
    _club(store, club_renders)
    at = app()
    goto(at, "train")
    upload(at, [club_renders["match"]])
    assert not [w for w in at.warning if "audio mismatch" in w.value]
    assert any("audio matches" in c.value for c in at.caption)
    click(at, "Add to queue")
    click(at, "Generate")
    if any(c.label == "Save anyway" for c in at.checkbox):  # a fact-check finding, not the audio
        assert not any("BPM, the set at" in w.value for w in at.warning)
        at.checkbox(key=next(c.key for c in at.checkbox if c.label == "Save anyway")).check()
        at.run()
    button(at, "Save").click()
    at.run()
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert item["metadata"]["audio"]["verdict"] == "matches" and not item["metadata"]["audio"]["confirmed"]
