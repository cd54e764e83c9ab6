"""The compare-and-set under the shared Train queue (#29), on every backend: a draft is written
only while nobody wrote it since it was read."""

from __future__ import annotations

from tests.store_backends import contract_artist, every_backend  # noqa: F401 (fixtures artist, store: every backend)


def test_a_draft_is_replaced_only_while_nobody_wrote_it_since(store, artist):  # noqa: F811
    first = {"version": 2, "entries": [{"id": "a", "version": 1}]}
    assert store.replace_draft(artist["id"], first, "kim", None)  # no row yet
    assert not store.replace_draft(artist["id"], {"entries": []}, "tess", None)  # a row exists now
    seen = store.get_draft(artist["id"])
    assert seen["draft"] == first and seen["created_by"] == "kim"

    second = {"version": 2, "entries": [{"id": "a", "version": 2}]}
    assert store.replace_draft(artist["id"], second, "tess", seen["updated_at"])
    assert not store.replace_draft(artist["id"], {"entries": []}, "kim", seen["updated_at"])  # stale: refused
    now = store.get_draft(artist["id"])
    assert now["draft"] == second and now["updated_at"] != seen["updated_at"]

    assert not store.replace_draft(artist["id"], None, "kim", seen["updated_at"])  # a stale delete
    assert store.get_draft(artist["id"]) is not None
    assert store.replace_draft(artist["id"], None, "tess", now["updated_at"])
    assert store.get_draft(artist["id"]) is None
