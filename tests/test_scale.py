"""Issue 20: the Library reads a narrow projection, reads are kept until a write changes them,
a session keeps one SQLite connection, and a Supabase export signs its links in batches."""
import copy
import threading

from fake_supabase import FakeSupabase
from test_store_contract import store  # noqa: F401  (the fixture: embedded and the Supabase fake)

from trainmode.als import parse_als
from trainmode.export import export_dataset
from trainmode.service import TrainMode
from trainmode.store import EmbeddedStore
from trainmode.store.base import new_id
from trainmode.store.set_rows import from_summary_row
from trainmode.store.supabase_store import SupabaseStore
from trainmode.supabase_setup import ALLOWED_MIME_TYPES


def corpus_summaries(corpus_dir, count=3) -> list:
    return [parse_als(p, filename=p.name) for p in sorted(corpus_dir.glob("*.als"))[:count]]


def as_v1(summary: dict) -> dict:
    """A summary as imported before v2: no stored families, dominant tempo or key name."""
    old = copy.deepcopy(summary)
    for field in ("schema_version", "instruments", "sections", "time_signatures"):
        old.pop(field, None)
    old["tempo"] = {"bpm": (summary.get("tempo") or {}).get("bpm")}
    return old


def test_the_library_rows_are_the_summary_facts_without_the_summary(store, corpus_dir):  # noqa: F811
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
    store.insert_item({"id": new_id(), "artist_id": artist["id"], "als_summary_id": first["id"],
                       "parse_id": first["parse_id"], "audio_path": "a.mp3", "prompt_path": "a.txt",
                       "prompt_text": "A caption.", "audio_sha256": "0" * 64, "provenance": {"writer": "offline"}})
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
    tm.import_sets(artist["name"], [(first.filename, corpus_dir / first.filename)])   # a write through this store
    assert [r["parse_id"] for r in tm.list_set_rows(artist)] == [first.parse_id]
    other = EmbeddedStore(tmp_path / "db")   # another process (the CLI) writing to the same data folder
    other.add_summary(artist["id"], second.parse_id, second.filename, second.summary)
    assert {r["parse_id"] for r in tm.list_set_rows(artist)} == {first.parse_id, second.parse_id}
    assert len(reads) == 3


def test_threads_one_after_another_share_one_connection(tmp_path):
    db = EmbeddedStore(tmp_path / "db")
    for name in ("a", "b", "c", "d"):   # Streamlit runs every rerun in a new thread
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
            remote.insert_item({"id": new_id(), "artist_id": artist["id"], "als_summary_id": row["id"],
                               "parse_id": row["parse_id"], "audio_path": path, "prompt_path": f"{path}.txt",
                               "prompt_text": f"A steady groove number {index}.", "audio_sha256": f"{index:064x}",
                               "audio_filename": f"take {index}.mp3"})
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
