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
    assert button(at, "Save").disabled  # nothing saved without a yes
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


def test_a_mismatch_asks_up_front_so_save_all_counts_only_what_it_will_save(store, club_renders):
    # QA: "Save all reviewed (3)" saved 1: the other two asked for a confirmation only after the click.
    _club(store, club_renders)
    at = app()
    goto(at, "train")
    upload(at, [club_renders["fast"]], names=["club.mp3"])
    click(at, "Add to queue")
    click(at, "Generate")
    assert any("Needs your confirmation before saving" in w.value for w in at.warning)  # before any Save
    assert button(at, "Save all reviewed (0)").disabled and button(at, "Save").disabled
    assert not any("Saving will ask you to confirm" in w.value for w in at.warning)  # asked once, in the box
    again = goto(app(), "train")  # a reload: the queue comes back from the draft
    assert any("the set at 128" in w.value for w in again.warning if "confirmation" in w.value)
    again.checkbox(key=next(c.key for c in again.checkbox if c.label == "Save anyway")).check()
    again.run()
    click(again, "Save all reviewed (1)")
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert item["metadata"]["audio"]["confirmed"]
    assert not any("confirm" in w.value for w in again.warning)  # saved: nothing left to ask
