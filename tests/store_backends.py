"""The Store on every backend, for the contract tests (tests/test_store_contract.py and the tests
that reuse its backends): embedded, the Supabase fake, and a real project only when asked."""

from __future__ import annotations

import os
import uuid

import pytest
from fake_supabase import FakeSupabase

from trainmode.store import EmbeddedStore
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES
from trainmode.store.supabase.store import SupabaseStore

# Read at import: the autouse isolated_settings fixture clears these variables for each test.
LIVE = (
    os.environ.get("TRAINMODE_LIVE_SUPABASE") == "1"
    and os.environ.get("SUPABASE_URL")
    and os.environ.get("SUPABASE_SERVICE_ROLE_KEY")
)
LIVE_SETTINGS = (
    os.environ.get("SUPABASE_URL", ""),
    os.environ.get("SUPABASE_SERVICE_ROLE_KEY", ""),
    os.environ.get("TRAINMODE_BUCKET", "train-mode"),
)
BACKENDS = ["embedded", "supabase-fake"] + ([pytest.param("supabase-live", marks=pytest.mark.live)] if LIVE else [])
# The blob tests also run against the real Storage server: what the fake must agree with.
BLOB_BACKENDS = [*BACKENDS, pytest.param("supabase-real", marks=pytest.mark.slow)]
blob_backends = pytest.mark.parametrize("store", BLOB_BACKENDS, indirect=True)
RUN = uuid.uuid4().hex[:8]  # names and blob paths of this run: unique on a shared live project


@pytest.fixture(name="store", params=BACKENDS)
def every_backend(request, tmp_path):
    """The fixture `store`, once per backend."""
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "data")
        yield s
        s.close()
    elif request.param == "supabase-fake":
        with FakeSupabase() as fake:
            fake.add_bucket("train-mode", file_size_limit=50 * 1024 * 1024, allowed_mime_types=ALLOWED_MIME_TYPES)
            s = SupabaseStore(fake.url, fake.key)
            yield s
            s.close()
    elif request.param == "supabase-real":
        url, key, bucket, _rest = request.getfixturevalue("real_supabase")
        s = SupabaseStore(url, key, bucket)
        yield s
        s.close()
    else:
        url, key, bucket = LIVE_SETTINGS
        s = SupabaseStore(url, key, bucket)
        yield s
        s.rest.table("artists").delete().like("name", f"{RUN} %").execute()  # cascades to all their rows
        s.delete_blobs(f"contract/{RUN}/{o['name']}" for o in s.files.list(f"contract/{RUN}"))
        s.close()


def name(label: str) -> str:
    return f"{RUN} {label}"


def blob(label: str) -> str:
    return f"contract/{RUN}/{label}"


@pytest.fixture(name="artist")
def contract_artist(store):
    return store.ensure_artist(name("Ann"))


@pytest.fixture(name="summary")
def contract_summary(store, artist):
    row, _ = store.add_summary(artist["id"], f"parse-{uuid.uuid4().hex}", "track.als", {"tempo": {"bpm": 124.0}})
    return row


def make_item(store, artist, summary, **columns) -> dict:
    item_id = str(uuid.uuid4())
    base = f"artists/{artist['id']}/items/{item_id}"
    return store.insert_item(
        {
            "id": item_id,
            "artist_id": artist["id"],
            "als_summary_id": summary["id"],
            "parse_id": summary["parse_id"],
            "audio_path": f"{base}/audio.mp3",
            "prompt_path": f"{base}/prompt.txt",
            "prompt_text": "driving techno, 124 bpm, A minor",
            "prompt_model": "gpt-4o-mini",
            "prompt_version": "v1",
            "prompt_writer": "openai",
            "provenance": {"tempo": "als"},
            "findings": [{"kind": "ok"}],
            "metadata": {"bpm": 124},
            "audio_sha256": uuid.uuid4().hex * 2,
            "audio_duration_s": 31.5,
            "audio_bytes": 504000,
            "audio_filename": "track.mp3",
            **columns,
        }
    )


def new_export(store, artist) -> dict:
    export_id = str(uuid.uuid4())
    return {"id": export_id, "artist_id": artist["id"], "zip_path": f"exports/{artist['id']}/{export_id}/dataset.zip"}
