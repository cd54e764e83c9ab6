"""Every network call has an overall deadline (trainmode/ops/deadline.py), not only a per-read
timeout: a server that trickles one byte every few seconds never trips the read timeout, and
used to hold a caption (or a Supabase call) forever. And the OpenAI writer says truthfully what
happened: a malformed body, a Retry-After it will not wait for, how many requests it made."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
from fake_openai import GOOD_KEY, FakeOpenAI, Reply

from trainmode.captions.writers.openai_writer import OpenAIWriter
from trainmode.errors import StoreError, WriterError
from trainmode.ops import deadline
from trainmode.store.supabase.store import SupabaseStore

pytestmark = pytest.mark.slow  # trickling servers, hostile inputs, databases made per test: seconds each


SUMMARY = {"tempo": {"bpm": 124.0}, "time_signature": "4/4", "tracks": []}


class Trickler:
    """A server that answers every request with headers (or not even those), then one byte every
    `every_s` seconds, forever: each read succeeds, so no read timeout ever fires."""

    def __init__(self, every_s: float = 0.25, headers: bool = True):
        self.every_s, self.headers = every_s, headers
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.stop = threading.Event()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn):
        with conn:
            try:
                conn.recv(65536)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                for byte in head if not self.headers else [head]:
                    conn.sendall(bytes([byte]) if isinstance(byte, int) else byte)
                    if not self.headers:
                        time.sleep(self.every_s)
                while not self.stop.wait(self.every_s):
                    conn.sendall(b" ")
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("headers", [True, False], ids=["trickled-body", "trickled-headers"])
def test_a_caption_from_a_trickling_server_fails_within_the_deadline(headers):
    with Trickler(headers=headers) as server:
        writer = OpenAIWriter(GOOD_KEY, base_url=f"{server.url}/v1", timeout=60, max_retries=3, deadline_s=2)
        started = time.monotonic()
        with pytest.raises(WriterError, match=r"did not finish the caption within 2 s") as raised:
            writer.write(SUMMARY, {})
        assert time.monotonic() - started < 4  # the 60 s read timeout would never have fired
    assert "1 request" in str(raised.value) and "TRAINMODE_WRITER=offline" in str(raised.value)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.list_artists(),
        lambda s: s.put_blob("a/b.txt", b"x", "text/plain"),
        lambda s: s.check_signed_url("a"),
    ],
    ids=["rows", "upload", "signed-link"],
)
def test_a_supabase_call_to_a_trickling_server_fails_within_the_deadline(call):
    with Trickler() as server:
        store = SupabaseStore(server.url, "sb_secret_k", timeout_s=60, deadline_s=2)
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"was too slow while .*did not finish in the time allowed"):
            call(store)
        assert time.monotonic() - started < 4
        store.close()


def test_the_deadline_bounds_reads_a_library_makes_on_its_own():
    """Headers trickled one byte at a time: the read the HTTP library makes itself is bounded too."""
    with Trickler(headers=False) as server:
        client = httpx.Client(transport=deadline.transport(httpx, default_s=60), timeout=60)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout) as raised, deadline.within(1):
            client.get(server.url)
        assert time.monotonic() - started < 2.5 and deadline.passed(raised.value)
        client.close()


def test_a_malformed_json_body_is_a_clear_writer_error_not_a_bug():
    malformed = Reply(body=b'{"id": "chatcmpl-1", "choices": [{"message": ', content_type="application/json")
    with FakeOpenAI(default=malformed) as fake:
        writer = OpenAIWriter(GOOD_KEY, base_url=fake.base_url, max_retries=0)
        with pytest.raises(WriterError, match="not a valid chat completion") as raised:
            writer.write(SUMMARY, {})
    assert "bug" not in str(raised.value)


def test_a_retry_after_of_an_hour_is_not_waited_for_and_said_truthfully():
    """429 with Retry-After 3600: one request, then it says why it gave up (the wait is longer than
    a caption may take); never "after 3 retries" when none was made."""
    with FakeOpenAI(default=Reply(429, headers={"retry-after": "3600", "retry-after-ms": "3600000"})) as fake:
        writer = OpenAIWriter(GOOD_KEY, base_url=fake.base_url, max_retries=3)
        started = time.monotonic()
        with pytest.raises(WriterError) as raised:
            writer.write(SUMMARY, {})
        assert len(fake.requests) == 1 and time.monotonic() - started < 5
    message = str(raised.value)
    assert "rate limiting" in message and "not retried" in message and "1 h" in message
    assert "retries)" not in message.split("not retried")[0] and "after 3 retries" not in message


def test_a_short_retry_after_is_honoured_and_the_retries_counted():
    with FakeOpenAI(default=Reply(429, headers={"retry-after-ms": "20"})) as fake:
        writer = OpenAIWriter(GOOD_KEY, base_url=fake.base_url, max_retries=2)
        with pytest.raises(WriterError, match=r"HTTP 429 after 2 retries"):
            writer.write(SUMMARY, {})
        assert len(fake.requests) == 3


def test_retries_stop_at_the_deadline():
    """A server failing fast but asking to wait 1 s each time: no more requests than fit in the deadline."""
    with FakeOpenAI(default=Reply(503, headers={"retry-after": "1", "retry-after-ms": "1000"})) as fake:
        writer = OpenAIWriter(GOOD_KEY, base_url=fake.base_url, max_retries=10, deadline_s=2.5)
        started = time.monotonic()
        with pytest.raises(WriterError, match="HTTP 503"):
            writer.write(SUMMARY, {})
        assert time.monotonic() - started < 4 and 2 <= len(fake.requests) <= 3
    assert json.loads(json.dumps(fake.requests[0].body))["model"]
