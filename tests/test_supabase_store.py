"""SupabaseStore and setup-supabase against the fake Supabase: the exact requests made,
uploads (bytes, streams, resumable), limits, keys and setup messages.

Behaviour shared with the embedded backend is in test_store_contract.py."""

from __future__ import annotations

import base64
import io
import json
import socket
import uuid
from pathlib import Path

import httpx
import pytest
from fake_supabase import FakeSupabase, parse_multipart

from trainmode.config import Secret, Settings
from trainmode.errors import ConfigError, NotFoundError, StoreError
from trainmode.store import lease
from trainmode.store.supabase.errors import MIGRATION_FILES, PSQL_COMMAND
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES, setup_supabase
from trainmode.store.supabase.store import SupabaseStore

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
AUDIO = "artists/a1/items/i1/audio.mp3"


def settings_for(fake: FakeSupabase, key: str | None = None, **extra) -> Settings:
    return Settings(backend="supabase", supabase_url=fake.url, supabase_key=Secret(key or fake.key), **extra)


@pytest.fixture
def fake():
    with FakeSupabase() as server:
        server.add_bucket("train-mode", allowed_mime_types=ALLOWED_MIME_TYPES)
        yield server


@pytest.fixture
def store(fake):
    s = SupabaseStore.from_settings(settings_for(fake, signed_url_expiry_s=120))
    yield s
    s.close()


# ---- requests ---------------------------------------------------------------------------
def test_row_reads_send_the_key_and_page_through_results(fake, store):
    fake.tables["artists"] += [
        {"id": str(uuid.uuid4()), "name": f"artist {n:04}", "created_at": "t"} for n in range(2500)
    ]
    artists = store.list_artists()
    assert [a["name"] for a in artists] == [f"artist {n:04}" for n in range(2500)]
    pages = fake.find("GET", "/rest/v1/artists")
    assert [(r.query["offset"], r.query["limit"]) for r in pages] == [
        (["0"], ["1000"]),
        (["1000"], ["1000"]),
        (["2000"], ["1000"]),
    ]
    first = pages[0]
    assert first.headers["apikey"] == fake.key
    assert first.headers["authorization"] == f"Bearer {fake.key}"
    assert first.headers["prefer"] == "count=exact"
    assert first.query["select"] == ["*"] and first.query["order"] == ["name.asc,id.asc"]


def test_export_steps_are_single_rpc_calls(fake, store):
    artist = store.ensure_artist("Ann")
    export = {"id": str(uuid.uuid4()), "artist_id": artist["id"], "zip_path": "exports/x/dataset.zip"}
    store.begin_export(export, stale_after_s=60)
    store.complete_export(export["id"], [], item_count=0, bytes=22, sha256="e" * 64)
    begin, done = fake.find("POST", "/rest/v1/rpc/")
    assert begin.path == "/rest/v1/rpc/train_mode_begin_export"
    sent = begin.json()
    assert sent == {
        "p_export_id": export["id"],
        "p_artist_id": artist["id"],
        "p_zip_path": "exports/x/dataset.zip",
        "p_owner": sent["p_owner"],
        "p_lease_s": 60,
        "p_dead_export": None,
    }
    assert not lease.is_dead(sent["p_owner"]) and lease.owner_tag() in sent["p_owner"]
    assert done.path == "/rest/v1/rpc/train_mode_complete_export"
    assert done.json() == {
        "p_export_id": export["id"],
        "p_item_ids": [],
        "p_item_count": 0,
        "p_bytes": 22,
        "p_sha256": "e" * 64,
    }


def test_upload_request_is_an_upsert_with_the_content_type(fake, store):
    store.put_blob(AUDIO, b"ID3 audio", "audio/mpeg")
    (upload,) = fake.find("POST", "/storage/v1/object/")
    assert upload.path == f"/storage/v1/object/train-mode/{AUDIO}"
    assert upload.headers["x-upsert"] == "true"
    assert upload.headers["authorization"] == f"Bearer {fake.key}"
    form = parse_multipart(upload.body, upload.headers["content-type"])
    assert form["file"] == ("audio/mpeg", b"ID3 audio")
    assert form["cacheControl"][1] == b"0"  # prompt.txt gets overwritten: no stale CDN copies
    store.put_blob(AUDIO, b"ID3 new audio", "audio/mpeg")
    with store.open_blob(AUDIO) as fh:
        assert fh.read() == b"ID3 new audio"


def test_streams_and_paths_upload_too(fake, store, tmp_path):
    store.put_blob("a/from-stream.mp3", io.BytesIO(b"stream bytes"), "audio/mpeg")
    local = tmp_path / "song.mp3"
    local.write_bytes(b"file bytes")
    store.put_blob("a/from-path.mp3", local, "audio/mpeg")
    store.put_blob("a/from-str.mp3", str(local), "audio/mpeg")
    assert fake.objects[("train-mode", "a/from-stream.mp3")]["data"] == b"stream bytes"
    assert fake.objects[("train-mode", "a/from-path.mp3")]["data"] == b"file bytes"
    assert fake.objects[("train-mode", "a/from-str.mp3")]["data"] == b"file bytes"


def test_charset_parameter_does_not_trip_the_bucket_mime_check(fake, store):
    # Storage compared the raw Content-Type with allowed_mime_types (supabase/storage#1381).
    store.put_blob("a/prompt.txt", b"dark, driving", "text/plain; charset=utf-8")
    assert fake.objects[("train-mode", "a/prompt.txt")]["content_type"] == "text/plain"


def test_a_type_the_bucket_refuses_says_so(store):
    with pytest.raises(StoreError, match="refused the file type .*audio/wav"):
        store.put_blob("a/x.wav", b"RIFF", "audio/wav")


def test_large_uploads_go_through_the_resumable_endpoint(fake, store, tmp_path):
    data = bytes(range(256)) * (13 * MIB // 256)  # 13 MiB: 6 + 6 + 1
    store.put_blob(AUDIO, data, "audio/mpeg")
    assert not fake.find("POST", "/storage/v1/object/train-mode")
    (create,) = fake.find("POST", "/storage/v1/upload/resumable")
    assert create.headers["authorization"] == f"Bearer {fake.key}"
    assert create.headers["x-upsert"] == "true"
    assert create.headers["upload-length"] == str(len(data))
    metadata = dict(pair.split(" ") for pair in create.headers["upload-metadata"].split(","))
    assert {k: base64.b64decode(v).decode() for k, v in metadata.items()} == {
        "bucketName": "train-mode",
        "objectName": AUDIO,
        "contentType": "audio/mpeg",
        "cacheControl": "0",
    }
    chunks = fake.find("PATCH", "/storage/v1/upload/resumable/")
    assert [len(c.body) for c in chunks] == [6 * MIB, 6 * MIB, MIB]
    with store.open_blob(AUDIO) as fh:
        assert fh.read() == data
    big = tmp_path / "big.mp3"  # and from a file on disk
    big.write_bytes(data[: 7 * MIB])
    store.put_blob("a/big.mp3", big, "audio/mpeg")
    with store.open_blob("a/big.mp3") as fh:
        assert fh.read() == data[: 7 * MIB]


def test_downloads_stream_through_a_signed_url(fake, store):
    store.put_blob(AUDIO, b"x" * (2 * MIB), "audio/mpeg")
    with store.open_blob(AUDIO) as fh:
        assert fh.read(10) == b"x" * 10
    sign = fake.find("POST", "/storage/v1/object/sign/")[-1]
    assert sign.path == f"/storage/v1/object/sign/train-mode/{AUDIO}"
    (download,) = fake.find("GET", "/storage/v1/object/sign/")
    assert "authorization" not in download.headers and "apikey" not in download.headers
    assert not fake.find("GET", "/storage/v1/object/train-mode/")  # never download() into memory


def test_blob_url_is_signed_for_the_configured_time(fake, store):
    store.put_blob(AUDIO, b"ID3", "audio/mpeg")
    url = store.blob_url(AUDIO)
    assert url.startswith(f"{fake.url}/storage/v1/object/sign/train-mode/{AUDIO}?token=")
    assert fake.find("POST", "/storage/v1/object/sign/")[-1].json() == {"expiresIn": "120"}
    assert httpx.get(url).content == b"ID3"
    store.blob_url(AUDIO, 30)
    assert fake.find("POST", "/storage/v1/object/sign/")[-1].json() == {"expiresIn": "30"}
    with pytest.raises(NotFoundError, match="missing"):
        store.blob_url("artists/nobody/audio.mp3")


# ---- limits and failures ----------------------------------------------------------------
def test_over_the_bucket_limit_names_the_limit(fake, store):
    fake.buckets["train-mode"]["file_size_limit"] = 1_000_000
    with pytest.raises(StoreError) as raised:
        store.put_blob(AUDIO, b"x" * 2_000_000, "audio/mpeg")
    assert str(raised.value) == (
        f"Supabase Storage refused {AUDIO} (2.0 MB): the bucket 'train-mode' accepts "
        f"files up to 1.0 MB. Raise the limit or use a smaller file."
    )


def test_over_the_project_limit_on_a_resumable_upload_names_it(fake, store):
    fake.global_limit = 10 * MIB
    with pytest.raises(StoreError, match=r"\(14.7 MB\): it exceeds the project's global upload size limit"):
        store.put_blob(AUDIO, b"x" * (14 * MIB), "audio/mpeg")
    assert ("train-mode", AUDIO) not in fake.objects


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.list_artists(),
        lambda s: s.put_blob("a.mp3", b"x", "audio/mpeg"),
        lambda s: s.put_blob("a.mp3", b"x" * 7 * MIB, "audio/mpeg"),
        lambda s: s.blob_url("a.mp3"),
        lambda s: s.complete_export(str(uuid.uuid4()), [], item_count=0, bytes=0, sha256=""),
    ],
    ids=["rows", "upload", "resumable", "sign", "rpc"],
)
def test_a_wrong_key_is_a_config_error_without_the_key(fake, call):
    wrong = "sb_secret_wrong-key-do-not-print-1234567890"
    store = SupabaseStore.from_settings(settings_for(fake, wrong))
    with pytest.raises(ConfigError) as raised:
        call(store)
    store.close()
    assert str(raised.value).startswith("Supabase rejected the service-role key")
    assert "SUPABASE_SERVICE_ROLE_KEY" in str(raised.value)
    assert wrong not in str(raised.value) and wrong not in repr(store) and wrong not in store.describe()
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    "url, key, missing",
    [
        ("", "", "SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"),
        ("https://x.supabase.co", "", "SUPABASE_SERVICE_ROLE_KEY;"),
        ("", "k", "SUPABASE_URL;"),
    ],
)
def test_missing_settings_name_the_variables(url, key, missing):
    with pytest.raises(ConfigError, match=missing) as raised:
        SupabaseStore.from_settings(Settings(backend="supabase", supabase_url=url, supabase_key=Secret(key)))
    assert "environment or in .streamlit/secrets.toml" in str(raised.value)


def test_the_anon_key_is_refused_up_front():
    payload = base64.urlsafe_b64encode(json.dumps({"role": "anon"}).encode()).decode().rstrip("=")
    anon = f"eyJhbGciOiJIUzI1NiJ9.{payload}.signature"
    with pytest.raises(ConfigError, match="anon/publishable key") as raised:
        SupabaseStore.from_settings(
            Settings(backend="supabase", supabase_url="https://x.supabase.co", supabase_key=Secret(anon))
        )
    assert anon not in str(raised.value)


def test_a_bad_url_is_a_config_error():
    with pytest.raises(ConfigError, match="SUPABASE_URL must look like https://"):
        SupabaseStore.from_settings(
            Settings(backend="supabase", supabase_url="x.supabase.co", supabase_key=Secret("k"))
        )


def free_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(10)  # postgrest-py's own retries (1+2+4 s) are off: well within the bound
@pytest.mark.parametrize(
    "call, what",
    [
        (lambda s: s.put_blob("a.mp3", b"x", "audio/mpeg"), "uploading a.mp3"),
        (lambda s: s.list_artists(), "listing artists"),
        (lambda s: s.put_blob("a.mp3", b"x" * 7 * MIB, "audio/mpeg"), "uploading a.mp3"),
    ],
    ids=["upload", "rows", "resumable"],
)
def test_an_unreachable_server_is_a_store_error(call, what):
    port = free_port()
    store = SupabaseStore(f"http://127.0.0.1:{port}", "k")
    with pytest.raises(StoreError, match=f"Cannot reach Supabase at 127.0.0.1:{port} while {what}"):
        call(store)
    store.close()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_stalled_resumable_upload_ends_with_a_clear_error(fake, method):
    fake.stall.add(method)  # the server takes the request and never answers
    store = SupabaseStore(fake.url, fake.key, timeout_s=1)
    with pytest.raises(StoreError) as raised:
        store.put_blob(AUDIO, b"x" * 7 * MIB, "audio/mpeg")
    store.close()
    assert str(raised.value) == (
        f"Supabase at {fake.url[7:]} did not answer within 1 s while uploading {AUDIO} "
        f"(ReadTimeout); check the network and try again."
    )


def test_a_missing_migration_says_how_to_apply_it(fake, store):
    fake.migrated = False
    with pytest.raises(ConfigError) as raised:
        store.list_items(str(uuid.uuid4()))
    assert "supabase db push" in str(raised.value)
    assert PSQL_COMMAND in str(raised.value)


def test_the_printed_command_applies_every_migration_as_the_docs_say():
    on_disk = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "supabase/migrations").glob("*.sql"))
    assert list(MIGRATION_FILES) == on_disk
    assert "-v ON_ERROR_STOP=1 -1" in PSQL_COMMAND
    assert PSQL_COMMAND in (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    assert PSQL_COMMAND in (ROOT / "docs/supabase-schema.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.put_blob(AUDIO, b"x", "audio/mpeg"),
        lambda s: s.put_blob(AUDIO, b"x" * 7 * MIB, "audio/mpeg"),
        lambda s: s.blob_url(AUDIO),
        lambda s: s.download_to(AUDIO, io.BytesIO()),
    ],
    ids=["upload", "resumable", "sign", "download"],
)
def test_a_missing_bucket_says_to_run_setup(fake, store, call):
    # Storage answers "Object not found" for an object of a missing bucket: the store asks.
    del fake.buckets["train-mode"]
    with pytest.raises(ConfigError, match="bucket 'train-mode' does not exist; run `python -m trainmode setup-"):
        call(store)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.list_artists(),
        lambda s: s.begin_export({"id": str(uuid.uuid4()), "artist_id": str(uuid.uuid4()), "zip_path": "z"}),
    ],
    ids=["table", "function"],
)
def test_a_role_without_grants_is_told_to_apply_the_migrations(fake, store, call):
    fake.granted = set()  # a new project where only the first migration was applied
    with pytest.raises(ConfigError) as raised:
        call(store)
    assert "the database has not granted this role access: apply the migrations (" in str(raised.value)
    assert PSQL_COMMAND in str(raised.value) and "anon" not in str(raised.value)


def test_over_the_bucket_limit_on_a_resumable_upload_names_the_bucket(fake, store):
    fake.buckets["train-mode"]["file_size_limit"] = 10 * MIB
    with pytest.raises(StoreError, match=r"\(14.7 MB\): the bucket 'train-mode' accepts files up to 10.5 MB"):
        store.put_blob(AUDIO, b"x" * (14 * MIB), "audio/mpeg")


def test_setup_refuses_a_bucket_limit_above_the_global_one(fake):
    with pytest.raises(
        ConfigError,
        match=r"refused the bucket size limit 209.7 MB: it is above the project's "
        r"global upload size limit",
    ):
        setup_supabase(settings_for(fake), file_size_limit=200 * MIB, echo=lambda line: None)


# ---- setup-supabase -----------------------------------------------------------------------
def test_setup_creates_a_private_bucket_and_is_idempotent(fake):
    del fake.buckets["train-mode"]
    fake.global_limit = 500 * MIB  # a paid plan: Storage refuses a bucket limit above the global one
    lines = []
    done = setup_supabase(settings_for(fake), file_size_limit=200 * MIB, echo=lines.append)
    assert (
        done
        == lines
        == [
            "Schema: the Train Mode tables are in place.",
            "Bucket 'train-mode': created (private, files up to 209.7 MB, "
            "audio/mpeg, text/plain, application/zip, application/json).",
        ]
    )
    (create,) = fake.find("POST", "/storage/v1/bucket")
    assert create.json() == {
        "id": "train-mode",
        "name": "train-mode",
        "public": False,
        "file_size_limit": 200 * MIB,
        "allowed_mime_types": ALLOWED_MIME_TYPES,
    }
    again = setup_supabase(settings_for(fake), file_size_limit=200 * MIB, echo=lines.append)
    assert again[-1].startswith("Bucket 'train-mode': already set up (private")
    assert len(fake.find("POST", "/storage/v1/bucket")) == 1 and not fake.find("PUT", "/storage/v1/bucket")


def test_setup_makes_an_existing_public_bucket_private(fake):
    fake.buckets["train-mode"].update(public=True, file_size_limit=None, allowed_mime_types=None)
    done = setup_supabase(settings_for(fake), echo=lambda line: None)
    assert done[-1] == (
        "Bucket 'train-mode': updated (made private; file size limit no limit -> 52.4 MB; "
        "allowed types -> audio/mpeg, text/plain, application/zip, application/json)."
    )
    bucket = fake.buckets["train-mode"]
    assert (bucket["public"], bucket["file_size_limit"]) == (False, 50 * MIB)
    assert bucket["allowed_mime_types"] == ALLOWED_MIME_TYPES


def test_a_rerun_keeps_a_limit_raised_in_the_dashboard(fake):
    fake.buckets["train-mode"].update(public=False, file_size_limit=500 * MIB, allowed_mime_types=ALLOWED_MIME_TYPES)
    done = setup_supabase(settings_for(fake), echo=lambda line: None)
    assert done[-1].startswith("Bucket 'train-mode': already set up (private, files up to 524.3 MB")
    assert fake.buckets["train-mode"]["file_size_limit"] == 500 * MIB and not fake.find("PUT", "/storage/v1/bucket")


def test_setup_without_the_migration_says_how_to_apply_it(fake):
    fake.migrated = False
    with pytest.raises(ConfigError, match="supabase db push") as raised:
        setup_supabase(settings_for(fake), echo=lambda line: None)
    assert PSQL_COMMAND in str(raised.value)
    assert not fake.find("POST", "/storage/v1/bucket")


def test_setup_with_a_wrong_key_is_a_config_error(fake):
    with pytest.raises(ConfigError, match="rejected the service-role key"):
        setup_supabase(settings_for(fake, "not-the-key"), echo=lambda line: None)
