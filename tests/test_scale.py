"""Issue 20: the Library reads a narrow projection, reads are kept until a write changes them,
a session keeps one SQLite connection, and a Supabase export signs its links in batches."""

import threading

import pytest
from fake_supabase import FakeSupabase

from tests.corpus import as_v1, corpus_summaries
from tests.store_backends import every_backend  # noqa: F401 (the fixture store: embedded and the Supabase fake)
from trainmode.errors import StoreError
from trainmode.export.build import export_dataset
from trainmode.service import TrainMode
from trainmode.store import EmbeddedStore
from trainmode.store.base import new_id
from trainmode.store.set_rows import from_summary_row
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES
from trainmode.store.supabase.store import SupabaseStore


def test_the_library_rows_are_the_summary_facts_without_the_summary(store, corpus_dir):
    artist = store.ensure_artist("Projection")
    parsed = corpus_summaries(corpus_dir)
    for p in parsed:
        store.add_summary(artist["id"], p.parse_id, p.filename, p.summary)
    richest = max(parsed, key=lambda p: len(p.summary.get("instruments") or []))
    store.add_summary(artist["id"], "f" * 32, "old_import.als", as_v1(richest.summary))
    rows = store.list_set_rows(artist["id"])
    assert rows == [from_summary_row(r) for r in store.list_summaries(artist["id"])]
    assert [r["als_filename"] for r in rows][-1] == "old_import.als"
    assert all("summary" not in r for r in rows)
    assert any(r["instruments"] and r["bpm"] for r in rows)
    assert rows[-1]["instruments"], "a v1 summary's families are derived from its tracks"
    first = store.list_summaries(artist["id"])[0]
    store.insert_item(
        {
            "id": new_id(),
            "artist_id": artist["id"],
            "als_summary_id": first["id"],
            "parse_id": first["parse_id"],
            "audio_path": "a.mp3",
            "prompt_path": "a.txt",
            "prompt_text": "A caption.",
            "audio_sha256": "0" * 64,
            "provenance": {"writer": "offline"},
        }
    )
    [item] = store.list_items(artist["id"])
    assert store.list_item_rows(artist["id"]) == [{c: item[c] for c in store.ITEM_ROW_COLUMNS}]


def test_a_rerun_reads_nothing_until_a_write_changes_something(tmp_path, corpus_dir, settings):
    tm = TrainMode(EmbeddedStore(tmp_path / "db"), settings)
    artist = tm.create_artist("Cached")
    reads = []
    real = tm.store.list_set_rows
    tm.store.list_set_rows = lambda artist_id: reads.append(artist_id) or real(artist_id)
    assert tm.list_set_rows(artist) == [] and tm.list_set_rows(artist) == []
    assert len(reads) == 1, "the second rerun is served from the cache"
    [first, second] = corpus_summaries(corpus_dir, 2)
    tm.import_sets(artist["name"], [(first.filename, corpus_dir / first.filename)])  # a write through this store
    assert [r["parse_id"] for r in tm.list_set_rows(artist)] == [first.parse_id]
    other = EmbeddedStore(tmp_path / "db")  # another process (the CLI) writing to the same data folder
    other.add_summary(artist["id"], second.parse_id, second.filename, second.summary)
    assert {r["parse_id"] for r in tm.list_set_rows(artist)} == {first.parse_id, second.parse_id}
    assert len(reads) == 3


def test_threads_one_after_another_share_one_connection(tmp_path):
    db = EmbeddedStore(tmp_path / "db")
    for name in ("a", "b", "c", "d"):  # Streamlit runs every rerun in a new thread
        thread = threading.Thread(target=db.ensure_artist, args=(name,))
        thread.start()
        thread.join()
    assert [a["name"] for a in db.list_artists()] == ["a", "b", "c", "d"]
    assert db._pool.opened == 2, "the main thread's connection and one reused by every rerun thread"
    db.close()


def test_a_supabase_export_signs_links_in_batches(tmp_path, audio_fixtures):
    mp3 = (audio_fixtures / "cbr128_stereo_5s.mp3").read_bytes()
    with FakeSupabase() as fake:
        fake.add_bucket("train-mode", file_size_limit=50 * 1024 * 1024, allowed_mime_types=ALLOWED_MIME_TYPES)
        remote = SupabaseStore(fake.url, fake.key)
        artist = remote.ensure_artist("Batch")
        row, _ = remote.add_summary(artist["id"], "a" * 32, "set.als", {"schema_version": 2, "tempo": {"bpm": 120}})
        for index in range(30):
            path = f"{artist['id']}/items/{index}/audio.mp3"
            remote.put_blob(path, mp3, "audio/mpeg")
            remote.insert_item(
                {
                    "id": new_id(),
                    "artist_id": artist["id"],
                    "als_summary_id": row["id"],
                    "parse_id": row["parse_id"],
                    "audio_path": path,
                    "prompt_path": f"{path}.txt",
                    "prompt_text": f"A steady groove number {index}.",
                    "audio_sha256": f"{index:064x}",
                    "audio_filename": f"take {index}.mp3",
                }
            )
        before = len(fake.requests)
        result = export_dataset(remote, artist)
        made = fake.requests[before:]
        remote.close()
    assert result.item_count == 30
    assert len([r for r in made if r.method == "POST" and r.path == "/storage/v1/object/sign/train-mode"]) == 1
    one_by_one = [r for r in made if r.method == "POST" and r.path.startswith("/storage/v1/object/sign/train-mode/")]
    assert [r.path.rsplit("/", 1)[1] for r in one_by_one] == ["dataset.zip"], "only the zip's own link"
    assert len([r for r in made if r.method == "GET" and r.path.startswith("/storage/v1/object/sign/")]) == 30
    assert len(made) <= 30 * 1.05 + 12, "one fetch per item, plus the export's own rows and its zip"


def counting(tm, name: str) -> list:
    """Calls of tm.store.<name> from now on (the reads a rerun makes)."""
    calls, real = [], getattr(tm.store, name)
    setattr(tm.store, name, lambda *args: calls.append(args) or real(*args))
    return calls


def test_a_write_drops_only_what_it_could_have_changed(tmp_path, corpus_dir, settings):
    tm = TrainMode(EmbeddedStore(tmp_path / "db"), settings)
    artist = tm.create_artist("Finer")
    [first, second] = corpus_summaries(corpus_dir, 2)
    tm.import_sets(artist["name"], [(first.filename, corpus_dir / first.filename)])
    set_reads, item_reads = counting(tm, "list_set_rows"), counting(tm, "list_item_rows")
    row = tm.list_set_rows(artist)[0]
    assert tm.list_item_rows(artist) == []
    tm.store.insert_item(
        {
            "id": new_id(),
            "artist_id": artist["id"],
            "als_summary_id": row["id"],
            "parse_id": row["parse_id"],
            "audio_path": "a.mp3",
            "prompt_path": "a.txt",
            "prompt_text": "A caption.",
            "audio_sha256": "0" * 64,
        }
    )
    assert [i["prompt_text"] for i in tm.list_item_rows(artist)] == ["A caption."], "the new item shows at once"
    assert tm.list_set_rows(artist) == [row] and len(set_reads) == 1, "saving an item keeps the set rows"
    [item] = tm.list_item_rows(artist)
    tm.update_caption(artist, item["id"], "A warm, slow groove.")
    assert [i["prompt_text"] for i in tm.list_item_rows(artist)] == ["A warm, slow groove."]
    assert len(set_reads) == 1 and len(item_reads) == 3
    tm.import_sets(artist["name"], [(second.filename, corpus_dir / second.filename)])
    assert len(tm.list_set_rows(artist)) == 2, "the imported set shows at once"
    assert len(tm.list_item_rows(artist)) == 1 and len(item_reads) == 3, "importing a set keeps the items"
    tm.delete_artist(artist, artist["name"])
    assert tm.list_artists() == []
    assert tm.list_set_rows(artist) == [] and tm.list_item_rows(artist) == [], "deleting an artist drops everything"


def test_a_failed_write_still_drops_what_it_may_have_changed(tmp_path, settings):
    tm = TrainMode(EmbeddedStore(tmp_path / "db"), settings)
    artist = tm.create_artist("Failing")
    before = tm.store.generation_of(("training_items",))
    with pytest.raises(StoreError):
        tm.store.insert_item(
            {
                "id": new_id(),
                "artist_id": artist["id"],
                "als_summary_id": new_id(),  # no such set
                "parse_id": "0" * 64,
                "audio_path": "a.mp3",
                "prompt_path": "a.txt",
                "prompt_text": "A caption.",
                "audio_sha256": "0" * 64,
            }
        )
    assert tm.store.generation_of(("training_items",)) != before
    assert tm.store.generation_of(("als_summaries",)) == (0,)


def test_a_page_of_items_and_the_items_of_a_set_are_read_without_the_rest(store):
    artist = store.ensure_artist("Paged")
    sets = [store.add_summary(artist["id"], f"{n}" * 32, f"{n}.als", {"schema_version": 2})[0] for n in (1, 2)]
    for index in range(7):
        row = sets[index % 2]
        store.insert_item(
            {
                "id": new_id(),
                "artist_id": artist["id"],
                "als_summary_id": row["id"],
                "parse_id": row["parse_id"],
                "audio_path": f"{index}.mp3",
                "prompt_path": f"{index}.txt",
                "prompt_text": f"Take {index}.",
                "audio_sha256": f"{index:064x}",
            }
        )
    every = store.list_item_rows(artist["id"])
    assert store.item_row_page(artist["id"], 0, 3) == (every[:3], 7)
    assert store.item_row_page(artist["id"], 6, 3) == (every[6:], 7)
    assert store.item_row_page(artist["id"], 9, 3) == ([], 7), "past the end (PostgREST: 416): no rows, the count"
    assert [store.count_items(artist["id"], s["id"]) for s in sets] == [4, 3]
    assert store.item_row_page(new_id(), 0, 3) == ([], 0)
