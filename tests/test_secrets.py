"""Credentials inside SUPABASE_URL (https://user:password@host) are redacted like keys: never sent,
never in a message, a repr, the "Storage:" caption (Store.describe) or the logs."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fake_supabase import FakeSupabase

from trainmode.config import load_settings
from trainmode.errors import TrainModeError
from trainmode.ops import redact
from trainmode.store.supabase.store import SupabaseStore

PASSWORD = "hunter2-s3cret"
USERINFO = f"admin:{PASSWORD}"


class Recorder(BaseHTTPRequestHandler):
    """Answers 500 with every header it received echoed back in the error message."""

    def _answer(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.seen.append(str(self.headers))
        echoed = str(self.headers).replace("\n", " ")
        body = json.dumps({"message": echoed, "code": "XX000", "statusCode": "500", "error": "boom"}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def every_store_call(store: SupabaseStore):
    artist = "6f1c2b1e-7a0c-4b8e-9a57-1d2a3b4c5d6e"
    yield lambda: store.list_artists()
    yield lambda: store.ensure_artist("Ada")
    yield lambda: store.add_summary(artist, "p", "a.als", {})
    yield lambda: store.list_items(artist)
    yield lambda: store.begin_export({"artist_id": artist, "zip_path": "z"})
    yield lambda: store.heartbeat_export(artist)
    yield lambda: store.put_blob("a/b.txt", b"x", "text/plain")
    yield lambda: store.put_blob("a/big.mp3", b"x" * (7 * 1024 * 1024), "audio/mpeg")  # TUS
    yield lambda: store.blob_url("a/b.txt")
    yield lambda: store.list_blobs("a")
    yield lambda: store.delete_blob("a/b.txt")
    yield lambda: store.check_schema()


def test_every_error_path_with_a_userinfo_url_keeps_the_password_out(recorder, caplog):
    caplog.set_level(logging.DEBUG)
    store = SupabaseStore(f"http://{USERINFO}@127.0.0.1:{recorder.server_address[1]}", "sb_secret_k")
    shown = [store.describe(), repr(store)]
    for call in every_store_call(store):
        with pytest.raises(TrainModeError) as raised:
            call()
        shown.append(str(raised.value))
    store.close()
    assert len(shown) == 14 and all("127.0.0.1" in line for line in shown[:2])
    for text in [*shown, caplog.text]:
        assert PASSWORD not in text and "admin:" not in text, text
    assert recorder.seen and not any(PASSWORD in h or "Basic " in h for h in recorder.seen)  # never sent


def test_a_refused_userinfo_url_and_a_bad_one_name_only_the_host(monkeypatch):
    monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "sb_secret_k")
    monkeypatch.setenv("SUPABASE_URL", f"ftp://{USERINFO}@example.invalid")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://{USERINFO}@localhost:11434/v1")
    settings = load_settings()
    assert PASSWORD not in repr(settings)
    with pytest.raises(TrainModeError) as raised:
        SupabaseStore.from_settings(settings)
    assert PASSWORD not in str(raised.value) and "***@example.invalid" in str(raised.value)


def test_a_userinfo_url_still_reaches_the_project(tmp_path):
    with FakeSupabase() as fake:
        fake.add_bucket("train-mode")
        url = fake.url.replace("http://", f"http://{USERINFO}@")
        store = SupabaseStore(url, fake.key)
        assert store.ensure_artist("Ada")["name"] == "Ada"
        assert store.describe() == f"supabase ({fake.url.removeprefix('http://')}, bucket train-mode)"
        store.close()


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://u:p%40ss@host.supabase.co/x", "https://***@host.supabase.co/x"),
        ("https://host.supabase.co", "https://host.supabase.co"),
        ("https://token@host:8443", "https://***@host:8443"),
    ],
)
def test_redact_url(url, shown):
    assert redact.redact_url(url) == shown
    assert "@" not in redact.host(url) and "@" not in redact.without_userinfo(url)
