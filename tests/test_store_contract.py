"""The Store contract: the same tests against every backend (tests/store_backends.py).

- embedded:       EmbeddedStore in a temp dir
- supabase-fake:  SupabaseStore against the fake Supabase (tests/fake_supabase.py)
- supabase-live:  SupabaseStore against a real project, only with TRAINMODE_LIVE_SUPABASE=1 and
                  SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY set (migration applied, setup-supabase run);
                  it creates uniquely named artists and blobs and deletes them afterwards.
- supabase-real:  SupabaseStore against the real Supabase Storage server (tests/real_storage.py) for
                  the blob tests, rows still in the PostgREST fake; marked slow (node 24, PostgreSQL)
"""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.store_backends import (  # noqa: F401 (the fixtures store, artist and summary)
    RUN,
    blob,
    blob_backends,
    contract_artist,
    contract_summary,
    every_backend,
    make_item,
    name,
    new_export,
)
from trainmode.errors import DuplicateError, ExportBusyError, NotFoundError, StoreError
from trainmode.store import lease


# ---- artists and profiles -------------------------------------------------
def test_ensure_artist_is_idempotent_and_creates_a_profile(store):
    ann = store.ensure_artist(f"  {name('Ann')} ")
    assert ann["name"] == name("Ann") and set(ann) == {"id", "name", "created_at"}
    assert store.ensure_artist(name("Ann")) == ann
    assert store.find_artist(name("Ann")) == ann
    assert store.get_master_schema(ann["id"]) == {}
    assert store.find_artist(name("nobody")) is None


def test_list_artists_is_ordered_by_name(store):
    for label in ("cleo", "Bea", "adam"):
        store.ensure_artist(name(label))
    listed = [a["name"] for a in store.list_artists() if a["name"].startswith(RUN)]
    assert listed == [name("adam"), name("Bea"), name("cleo")]


def test_master_schema_round_trips(store, artist):
    schema = {"genres": ["techno", "ambient"], "tempo_range": [118, 128], "notes": "Ünïcode ✓", "keys": []}
    store.set_master_schema(artist["id"], schema)
    assert store.get_master_schema(artist["id"]) == schema
    with pytest.raises(NotFoundError):
        store.get_master_schema(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        store.set_master_schema(str(uuid.uuid4()), {})


# ---- ALS summaries ----------------------------------------------------------
def test_add_summary_dedupes_on_parse_id(store, artist):
    summary = {"schema_version": 1, "tempo": {"bpm": 120.0}, "tracks": [{"name": "Bass", "type": "midi"}]}
    row, created = store.add_summary(artist["id"], "p-1", "set.als", summary)
    assert created and row["summary"] == summary and row["parse_id"] == "p-1"
    again, created_again = store.add_summary(artist["id"], "p-1", "renamed.als", {"other": True})
    assert not created_again and again == row  # the first import wins
    assert store.get_summary(artist["id"], "p-1") == row
    assert store.get_summary(artist["id"], "p-2") is None
    other = store.ensure_artist(name("Other"))
    assert store.add_summary(other["id"], "p-1", "set.als", summary)[1]  # per artist


def test_list_summaries_by_filename_then_parse_id(store, artist):
    for parse_id, filename in [("p3", "b.als"), ("p2", "a.als"), ("p1", "b.als")]:
        store.add_summary(artist["id"], parse_id, filename, {})
    assert [(s["als_filename"], s["parse_id"]) for s in store.list_summaries(artist["id"])] == [
        ("a.als", "p2"),
        ("b.als", "p1"),
        ("b.als", "p3"),
    ]


def test_summaries_by_id_reads_just_those_sets_of_the_artist(store, artist):
    rows = [store.add_summary(artist["id"], f"p{n}", f"set-{n}.als", {"n": n})[0] for n in range(120)]
    other = store.add_summary(store.ensure_artist(name("Other"))["id"], "q", "q.als", {})[0]
    wanted = [r["id"] for r in rows[:105]]  # more than one request's worth of ids
    got = store.summaries_by_id(artist["id"], [*wanted, other["id"], "not-an-id"])
    assert sorted(r["summary"]["n"] for r in got) == list(range(105))
    assert store.summaries_by_id(artist["id"], []) == []


# ---- training items ---------------------------------------------------------
def test_insert_item_returns_the_stored_row(store, artist, summary):
    item = make_item(store, artist, summary)
    assert item["status"] == "ready" and item["prompt_edited"] is False
    assert item["provenance"] == {"tempo": "als"} and item["findings"] == [{"kind": "ok"}]
    assert item["metadata"] == {"bpm": 124} and item["audio_duration_s"] == 31.5 and item["audio_bytes"] == 504000
    assert item["export_id"] is None and item["exported_at"] is None
    assert isinstance(item["created_at"], str) and item["created_at"] == item["updated_at"]
    assert store.get_item(item["id"]) == item
    assert store.find_item_by_audio(artist["id"], item["audio_sha256"]) == item
    assert store.find_item_by_audio(artist["id"], "0" * 64) is None
    assert store.get_item(str(uuid.uuid4())) is None


def test_ids_that_are_not_uuids_match_nothing(store):
    assert store.get_item("nope") is None
    assert store.list_items("nope") == [] and store.list_summaries("nope") == [] and store.list_exports("nope") == []
    assert store.find_item_by_audio("nope", "0" * 64) is None and store.get_summary("nope", "p") is None
    with pytest.raises(NotFoundError):
        store.get_master_schema("nope")


def test_list_items_oldest_first_and_by_status(store, artist, summary):
    items = [make_item(store, artist, summary) for _ in range(3)]
    assert [i["id"] for i in store.list_items(artist["id"])] == [i["id"] for i in items]
    export = store.begin_export(new_export(store, artist))
    store.complete_export(export["id"], [items[1]["id"]], item_count=1, bytes=10, sha256="a" * 64)
    assert [i["id"] for i in store.list_items(artist["id"], "ready")] == [items[0]["id"], items[2]["id"]]
    assert [i["id"] for i in store.list_items(artist["id"], "exported")] == [items[1]["id"]]
    assert store.list_items(store.ensure_artist(name("Empty"))["id"]) == []


def test_the_same_mp3_twice_is_refused(store, artist, summary):
    item = make_item(store, artist, summary)
    with pytest.raises(StoreError):
        make_item(store, artist, summary, audio_sha256=item["audio_sha256"])
    assert len(store.list_items(artist["id"])) == 1


def test_an_item_needs_an_existing_summary(store, artist, summary):
    with pytest.raises(StoreError):
        make_item(store, artist, {**summary, "id": str(uuid.uuid4())})
    assert store.list_items(artist["id"]) == []


# ---- exports ----------------------------------------------------------------
def test_begin_export_is_busy_while_another_runs(store, artist):
    first = store.begin_export(new_export(store, artist))
    assert first["status"] == "building" and first["item_count"] == 0 and first["bytes"] == 0
    with pytest.raises(ExportBusyError, match="already running"):
        store.begin_export(new_export(store, artist))
    other = store.ensure_artist(name("Other"))
    assert store.begin_export(new_export(store, other))["status"] == "building"  # per artist


def test_begin_export_takes_over_a_stale_one(store, artist):
    first = store.begin_export(new_export(store, artist))
    second = store.begin_export(new_export(store, artist), stale_after_s=0)
    by_id = {e["id"]: e for e in store.list_exports(artist["id"])}
    assert by_id[first["id"]]["status"] == "failed" and by_id[first["id"]]["error"] == lease.HEARTBEAT_STOPPED
    assert by_id[second["id"]]["status"] == "building"


def test_begin_export_takes_over_at_once_when_the_holder_died(store, artist):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = f"{lease.owner_tag(holder.pid)}-{uuid.uuid4().hex[:16]}"
    dead = store.begin_export({**new_export(store, artist), "lease_owner": owner})
    assert dead["lease_owner"] == owner and dead["heartbeat_at"]
    with pytest.raises(ExportBusyError):  # its holder runs, its heartbeat is fresh: busy
        store.begin_export(new_export(store, artist))
    holder.kill()
    holder.wait()
    second = store.begin_export(new_export(store, artist))  # no waiting for the 30 s lease
    by_id = {e["id"]: e for e in store.list_exports(artist["id"])}
    assert (by_id[dead["id"]]["status"], by_id[dead["id"]]["error"]) == ("failed", lease.HOLDER_DIED)
    assert by_id[second["id"]]["status"] == "building" and by_id[second["id"]]["lease_owner"] != owner


def test_heartbeat_renews_a_running_export_and_reports_a_lost_one(store, artist):
    first = store.begin_export(new_export(store, artist))
    assert store.heartbeat_export(first["id"]) is True
    renewed = {e["id"]: e for e in store.list_exports(artist["id"])}[first["id"]]["heartbeat_at"]
    assert str(renewed) >= str(first["heartbeat_at"])
    store.begin_export(new_export(store, artist), stale_after_s=0)  # taken over
    assert store.heartbeat_export(first["id"]) is False
    assert store.heartbeat_export(str(uuid.uuid4())) is False


def test_a_second_identical_item_or_summary_is_answered_as_a_duplicate(store, artist, summary):
    item = make_item(store, artist, summary)
    twin = {**store.get_item(item["id"]), "id": str(uuid.uuid4())}
    for column in ("created_at", "updated_at", "exported_at", "export_id"):
        twin.pop(column, None)
    with pytest.raises(DuplicateError, match="already a training item"):
        store.insert_item(twin)
    again, created = store.add_summary(artist["id"], summary["parse_id"], "renamed.als", {"other": 1})
    assert created is False and again["id"] == summary["id"]
    assert len(store.list_items(artist["id"])) == 1 and len(store.list_summaries(artist["id"])) == 1


@blob_backends
def test_list_blobs_lists_every_blob_under_a_folder(store):
    for label, data in (
        ("lb/a/x.txt", b"12345"),
        ("lb/a/deeper/y.txt", b"1"),
        ("lb/b.txt", b"12"),
        ("lbc/z.txt", b"123"),
    ):
        store.put_blob(blob(label), data, "text/plain")
    found = store.list_blobs(blob("lb"))
    assert [(b.path, b.bytes) for b in found] == [
        (blob("lb/a/deeper/y.txt"), 1),
        (blob("lb/a/x.txt"), 5),
        (blob("lb/b.txt"), 2),
    ]
    assert all(b.updated_at is not None and b.updated_at.tzinfo is not None for b in found)
    assert [b.path for b in store.list_blobs(blob("lb/a/deeper"))] == [blob("lb/a/deeper/y.txt")]
    assert store.list_blobs(blob("nothing-here")) == []


def test_complete_export_marks_export_and_items(store, artist, summary):
    items = [make_item(store, artist, summary) for _ in range(2)]
    export = store.begin_export(new_export(store, artist))
    done = store.complete_export(export["id"], [i["id"] for i in items], item_count=2, bytes=2048, sha256="b" * 64)
    assert (done["status"], done["item_count"], done["bytes"], done["sha256"]) == ("complete", 2, 2048, "b" * 64)
    assert done["completed_at"] is not None
    for item in items:
        stored = store.get_item(item["id"])
        assert (stored["status"], stored["export_id"]) == ("exported", export["id"])
        assert stored["exported_at"] is not None
    assert store.begin_export(new_export(store, artist))["status"] == "building"  # no longer busy


@pytest.mark.parametrize("bad", ["unknown", "other-artist", "already-exported"])
def test_complete_export_changes_nothing_if_any_item_is_wrong(store, artist, summary, bad):
    good = make_item(store, artist, summary)
    if bad == "unknown":
        odd = str(uuid.uuid4())
    elif bad == "other-artist":
        other = store.ensure_artist(name("Other"))
        other_summary, _ = store.add_summary(other["id"], "p", "x.als", {})
        odd = make_item(store, other, other_summary)["id"]
    else:
        earlier = store.begin_export(new_export(store, artist))
        odd = make_item(store, artist, summary)["id"]
        store.complete_export(earlier["id"], [odd], item_count=1, bytes=1, sha256="c" * 64)
    export = store.begin_export(new_export(store, artist))
    with pytest.raises(StoreError):
        store.complete_export(export["id"], [good["id"], odd], item_count=2, bytes=1, sha256="d" * 64)
    assert store.get_item(good["id"])["status"] == "ready"
    assert {e["id"]: e["status"] for e in store.list_exports(artist["id"])}[export["id"]] == "building"


def test_complete_export_refuses_an_export_that_is_not_running(store, artist, summary):
    export = store.begin_export(new_export(store, artist))
    store.fail_export(export["id"], "disk full")
    with pytest.raises(StoreError, match="no longer running"):
        store.complete_export(
            export["id"], [make_item(store, artist, summary)["id"]], item_count=1, bytes=1, sha256="e" * 64
        )


def test_fail_export_records_the_error_once(store, artist):
    export = store.begin_export(new_export(store, artist))
    store.fail_export(export["id"], "disk full " + "x" * 600)
    (failed,) = store.list_exports(artist["id"])
    assert failed["status"] == "failed" and failed["error"].startswith("disk full") and len(failed["error"]) == 500
    assert failed["completed_at"] is not None
    done = store.begin_export(new_export(store, artist))
    store.complete_export(done["id"], [], item_count=0, bytes=22, sha256="f" * 64)
    store.fail_export(done["id"], "too late")  # a finished export stays finished
    assert {e["id"]: e["status"] for e in store.list_exports(artist["id"])}[done["id"]] == "complete"


def test_list_exports_newest_first(store, artist):
    ids = []
    for _ in range(3):
        export = store.begin_export(new_export(store, artist))
        store.fail_export(export["id"], "stopped")
        ids.append(export["id"])
    assert [e["id"] for e in store.list_exports(artist["id"])] == ids[::-1]
    assert store.list_exports(store.ensure_artist(name("Nobody"))["id"]) == []


DETAILS = {"format": "audiocraft", "clips": "windows", "window_s": 30.0, "split": 0.9}


def test_an_export_s_row_records_what_its_zip_holds(store, artist, summary):
    """The options as the export begins, the counts before it completes; an older row keeps nulls."""
    old = store.begin_export(new_export(store, artist))
    store.complete_export(old["id"], [], item_count=0, bytes=22, sha256="a" * 64)
    export = store.begin_export(new_export(store, artist))
    assert store.update_row("exports", export["id"], DETAILS)["clips"] == "windows"
    store.update_row("exports", export["id"], {"row_count": 6, "valid_count": 1})
    item = make_item(store, artist, summary)
    done = store.complete_export(export["id"], [item["id"]], item_count=1, bytes=2048, sha256="b" * 64)
    assert {k: done[k] for k in [*DETAILS, "row_count", "valid_count"]} == {**DETAILS, "row_count": 6, "valid_count": 1}
    rows = {e["id"]: e for e in store.list_exports(artist["id"])}
    assert rows[export["id"]]["window_s"] == 30.0 and isinstance(rows[export["id"]]["row_count"], int)
    assert all(rows[old["id"]][k] is None for k in [*DETAILS, "row_count", "valid_count"])


@pytest.mark.parametrize(
    "bad", [{"clips": "bars"}, {"window_s": 0.0}, {"split": 1.5}, {"row_count": -1}, {"valid_count": -2}]
)
def test_an_export_s_details_are_checked_like_the_schema(store, artist, bad):
    export = store.begin_export(new_export(store, artist))
    with pytest.raises(StoreError):
        store.update_row("exports", export["id"], bad)
    [row] = store.list_exports(artist["id"])
    assert all(row[k] is None for k in bad)


# ---- blobs ------------------------------------------------------------------
def read(store, path: str) -> bytes:
    with store.open_blob(path) as fh:
        return fh.read()


def exists(store, path: str) -> bool:
    try:
        with store.open_blob(path):
            return True
    except NotFoundError:
        return False


@blob_backends
def test_put_and_read_blobs_from_bytes_files_and_streams(store, tmp_path):
    store.put_blob(blob("prompt.txt"), "dark, driving ✓".encode(), "text/plain; charset=utf-8")
    assert read(store, blob("prompt.txt")).decode() == "dark, driving ✓"
    stream = io.BytesIO(b"ID3 from an upload")
    store.put_blob(blob("upload.mp3"), stream, "audio/mpeg")
    assert read(store, blob("upload.mp3")) == b"ID3 from an upload"
    local = tmp_path / "song.mp3"
    local.write_bytes(b"ID3" + bytes(range(256)) * 64)
    store.put_blob(blob("audio.mp3"), local, "audio/mpeg")
    with store.open_blob(blob("audio.mp3")) as fh:
        assert fh.read(3) == b"ID3"
        assert fh.read() == bytes(range(256)) * 64
    store.put_blob(blob("prompt.txt"), b"edited", "text/plain")  # overwrite
    assert read(store, blob("prompt.txt")) == b"edited"


@blob_backends
def test_download_to_streams_the_blob_into_an_open_file(store, tmp_path):
    payload = b"ID3" + bytes(range(256)) * 4096  # 1 MiB: more than one chunk
    store.put_blob(blob("big.mp3"), payload, "audio/mpeg")
    target = tmp_path / "copy.mp3"
    with open(target, "wb") as out:
        store.download_to(blob("big.mp3"), out)
    assert target.read_bytes() == payload
    with pytest.raises(NotFoundError), open(tmp_path / "missing.mp3", "wb") as out:
        store.download_to(blob("never.mp3"), out)


@blob_backends
def test_delete_and_missing_blobs(store):
    store.put_blob(blob("a.mp3"), b"ID3", "audio/mpeg")
    assert exists(store, blob("a.mp3"))
    store.delete_blob(blob("a.mp3"))
    assert not exists(store, blob("a.mp3"))
    store.delete_blob(blob("a.mp3"))  # missing: not an error
    with pytest.raises(NotFoundError):
        with store.open_blob(blob("a.mp3")):
            pass
    store.put_blob(blob("b.mp3"), b"1", "audio/mpeg")
    store.put_blob(blob("c.mp3"), b"2", "audio/mpeg")
    store.delete_blobs([blob("b.mp3"), blob("c.mp3"), blob("never.mp3")])
    assert not exists(store, blob("b.mp3")) and not exists(store, blob("c.mp3"))


@blob_backends
def test_blob_url_points_at_the_blob(store):
    data = b"PK\x05\x06" + b"\0" * 18
    store.put_blob(blob("dataset.zip"), data, "application/zip")
    for url in (store.blob_url(blob("dataset.zip"), 600), store.blob_url(blob("dataset.zip"))):  # default expiry
        if url.startswith(("http://", "https://")):  # a signed URL anyone can fetch until it expires
            assert httpx.get(url).content == data
        else:  # a file on this machine
            assert Path(url).read_bytes() == data


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return out.getvalue()


@blob_backends
def test_open_blob_range_reads_a_zip_s_directory_and_single_members(store):
    audio = bytes(range(256)) * 6 * 1024  # 1.5 MiB: more than one buffer and one request of the tail
    members = {"train/track-0001.mp3": audio, "train/track-0001.json": b'{"bpm": 124}', "README.md": b"# Data"}
    data = zip_of(members)
    store.put_blob(blob("dataset.zip"), data, "application/zip")
    for size in (None, len(data)):  # told the size, or asking for it
        with store.open_blob_range(blob("dataset.zip"), size) as fh, zipfile.ZipFile(fh) as zf:
            assert zf.namelist() == list(members)
            assert zf.read("train/track-0001.json") == b'{"bpm": 124}'
            assert zf.read("train/track-0001.mp3") == audio
            assert zf.read("README.md") == b"# Data"
            assert fh.seek(-4, io.SEEK_END) == len(data) - 4 and fh.read() == data[-4:]
            assert fh.seek(10) == 10 and fh.read(5) == data[10:15] and fh.tell() == 15
    with pytest.raises(NotFoundError, match="is missing"):
        store.open_blob_range(blob("gone.zip")).close()
