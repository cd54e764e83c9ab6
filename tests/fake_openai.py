"""A tiny OpenAI-compatible server on 127.0.0.1 for tests and benchmarks.

It implements POST /v1/chat/completions, records every request and answers from
a script of `Reply`s (then from `default`), so a test can say "429, then 500,
then a caption" and look at exactly what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD_KEY = "sk-test-good-key-0123456789"
REPORTED_MODEL = "gpt-4o-mini-2024-07-18"  # the API reports a dated snapshot


def captions_json(
    detailed: str,
    short: str = "Warm downtempo with synth pads and drums.",
    tags: list[str] | str = ("downtempo", "synth pads", "drums", "warm", "steady groove"),
) -> str:
    """What a model answers to the writer's JSON schema: the three variants."""
    return json.dumps({"detailed": detailed, "short": short, "tags": list(tags) if isinstance(tags, tuple) else tags})


DEFAULT_CAPTIONS = captions_json(
    "Warm downtempo electronic track with soft synth pads and a steady drum groove, "
    "unfolding slowly with a relaxed, hazy feel throughout."
)


@dataclass
class Reply:
    status: int = 200
    # the assistant's text, or a function of the request's user message (the context)
    caption: str | None | Callable[[str], str] = DEFAULT_CAPTIONS
    latency: float = 0.0  # seconds before answering
    body: bytes | None = None  # raw body instead of a chat completion (garbage, HTML...)
    headers: dict = field(default_factory=dict)
    content_type: str = "text/html"  # of a raw body


@dataclass
class Recorded:
    path: str
    headers: dict
    body: dict | None

    @property
    def messages(self) -> list[dict]:
        return (self.body or {}).get("messages", [])

    def message(self, role: str) -> str:
        return next(m["content"] for m in self.messages if m["role"] == role)


class FakeOpenAI:
    """Use as a context manager; `base_url` is what the writer is pointed at."""

    def __init__(self, *, api_key: str = GOOD_KEY, default: Reply | None = None):
        self.api_key = api_key
        self.default = default or Reply()
        self.script: list[Reply] = []
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()  # wakes handlers sleeping on latency
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self) -> Reply:
        with self._lock:
            return self.script.pop(0) if self.script else self.default

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with fake._lock:
                    fake.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    number = len(fake.requests)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer(body, number)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self, body: dict | None, number: int) -> None:
                if self.path != "/v1/chat/completions":
                    return self._send(404, _error("Unknown path.", "invalid_request_error"))
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    # Like the real API, echo the key back: the writer must not repeat it.
                    sent = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    return self._send(401, _error(f"Incorrect API key provided: {sent}.", "invalid_api_key"))
                reply = fake._next_reply()
                if reply.latency and fake._stopping.wait(reply.latency):
                    return
                headers = {"x-request-id": f"req_{number}", **reply.headers}
                if reply.body is not None:
                    return self._send(reply.status, reply.body, headers, reply.content_type)
                if reply.status != 200:
                    # Server-directed backoff keeps retry tests fast (the client honours it).
                    headers.setdefault("retry-after-ms", "5")
                    return self._send(reply.status, _error(f"Fake error {reply.status}.", "server_error"), headers)
                return self._send(200, _completion(body or {}, reply.caption, number), headers)

            def _send(self, status: int, payload, headers: dict | None = None, ctype: str = "application/json"):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _error(message: str, code: str) -> dict:
    return {"error": {"message": message, "type": code, "code": code, "param": None}}


def _completion(request: dict, caption, number: int) -> dict:
    if callable(caption):
        caption = caption(next((m["content"] for m in request.get("messages", []) if m["role"] == "user"), ""))
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": REPORTED_MODEL if request.get("model") == "gpt-4o-mini" else request.get("model", "unknown"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": caption},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
    }


def free_port() -> int:
    """A port nothing listens on (for 'connection refused')."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
