"""The Store contract for an item's section clips (table training_clips), on every backend."""

from __future__ import annotations

import pytest

from tests.store_backends import contract_artist, contract_summary, every_backend, make_item  # noqa: F401 (fixtures)
from trainmode.errors import StoreError

# ---- section clips (training_clips) ---------------------------------------------
CLIPS = [
    {
        "position": 1,
        "section": "Intro",
        "start_s": 0.0,
        "end_s": 15.5,
        "caption": "The intro of a track. Drums.",
        "variants": {"short": "Drums."},
        "findings": [],
        "edited": False,
        "dropped": False,
    },
    {
        "position": 2,
        "section": "Drop",
        "start_s": 15.5,
        "end_s": 31.5,
        "caption": "The drop. Drums and bass.",
        "edited": True,
        "dropped": True,
    },
]


def test_clips_are_saved_replaced_listed_and_go_with_their_item(store, artist, summary):
    item = make_item(store, artist, summary)
    saved = store.save_clips(item["id"], "sections", CLIPS)
    assert [(c["position"], c["section"], c["start_s"], c["end_s"]) for c in saved] == [
        (1, "Intro", 0.0, 15.5),
        (2, "Drop", 15.5, 31.5),
    ]
    assert saved[0]["variants"] == {"short": "Drums."} and saved[1]["variants"] == {}
    assert saved[1]["edited"] is True and saved[1]["dropped"] is True and saved[0]["dropped"] is False
    store.save_clips(item["id"], "windows", CLIPS[:1])
    again = store.save_clips(item["id"], "sections", CLIPS[1:])  # replaces this mode's clips only
    assert [c["section"] for c in again] == ["Drop"]
    assert [(c["mode"], c["position"]) for c in store.list_clips(item["id"])] == [("sections", 2), ("windows", 1)]
    with pytest.raises(StoreError):
        store.save_clips(item["id"], "sections", [{**CLIPS[0], "caption": "  "}])
    assert [c["section"] for c in store.list_clips(item["id"], "sections")] == ["Drop"]  # a failed save loses nothing
    store.save_clips(item["id"], "sections", CLIPS)  # more clips, then fewer: none left over
    assert [c["position"] for c in store.save_clips(item["id"], "sections", CLIPS[:1])] == [1]
    store.delete_rows("training_items", [item["id"]])
    assert store.list_clips(item["id"]) == []
