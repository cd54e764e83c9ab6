"""Switching TRAINMODE_BACKEND changes nothing else: the same CLI flow (demo, save,
export, download) works on the embedded store and on Supabase (here its HTTP fake)."""

import io
import zipfile

import httpx
import pytest
from fake_supabase import FakeSupabase

from trainmode.config import load_settings
from trainmode.errors import AudioError
from trainmode.ops.demo import DEMO_ARTIST, install_demo
from trainmode.service import SaveRequest, TrainMode
from trainmode.store import open_store
from trainmode.store.supabase.setup import setup_supabase


@pytest.fixture(params=["embedded", "supabase"])
def backend(request, monkeypatch):
    if request.param == "embedded":
        yield load_settings()
        return
    with FakeSupabase() as fake:
        monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
        monkeypatch.setenv("SUPABASE_URL", fake.url)
        monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", fake.key)
        settings = load_settings()
        setup_supabase(settings, echo=lambda *_: None)
        yield settings


def download(store, url: str, zip_path: str) -> bytes:
    local = store.local_path(zip_path)
    return local.read_bytes() if local else httpx.get(url).raise_for_status().content


@pytest.mark.slow
def test_the_whole_flow_is_the_same_on_both_backends(backend, audio_fixtures):
    store = open_store(backend)
    assert store.kind == backend.backend
    install_demo(store, backend, echo=lambda *_: None)
    install_demo(store, backend, echo=lambda *_: None)  # idempotent on both
    artist = store.find_artist(DEMO_ARTIST)
    assert len(store.list_summaries(artist["id"])) == 3
    assert len(store.list_items(artist["id"], "ready")) == 2

    tm = TrainMode(store, backend)
    row = tm.find_set(artist, "neon_pulse.als")
    with pytest.raises(AudioError):
        tm.save(
            artist,
            row,
            SaveRequest(
                audio=(audio_fixtures / "ogg_renamed.mp3").read_bytes(),
                audio_name="ogg_renamed.mp3",
                caption="A caption that will never be saved anywhere.",
            ),
        )
    assert len(store.list_items(artist["id"])) == 2

    result = tm.export(artist)
    with zipfile.ZipFile(io.BytesIO(download(store, result.url, result.zip_path))) as zf:
        assert zf.testzip() is None
        assert [n for n in zf.namelist() if n.endswith(".mp3")] == ["track-0001.mp3", "track-0002.mp3"]
    assert {i["status"] for i in store.list_items(artist["id"])} == {"exported"}
    assert store.list_exports(artist["id"])[0]["status"] == "complete"
