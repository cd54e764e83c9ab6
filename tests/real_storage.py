"""The real Supabase Storage server behind one SUPABASE_URL, for tests.

../shared/supabase-storage holds Storage's source (supabase/storage v1.11.2) with setup.sh (node
24 and its npm packages, cached) and start.sh PORT DATABASE_URL DATA_DIR. `RealStorage.start()`
builds and starts it against a fresh PostgreSQL database, and puts a small threaded gateway in
front, as Supabase's Kong does: /storage/v1/... goes to Storage (prefix stripped, X-Forwarded-*
added, so TUS Location headers keep the prefix) and /rest/v1/... to a PostgREST fake
(tests/fake_supabase.py) that a test points it at. `tests/conftest.py` has the fixtures.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers"}
HOP_BY_HOP |= {"transfer-encoding", "upgrade", "host", "content-length"}
SETUP_TIMEOUT_S = 900  # a cold setup.sh is ~35 s on an idle machine; CI machines are busy


class Unavailable(Exception):
    """Something the real Storage needs is missing (node/npm, PostgreSQL, the source)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres():
    try:
        import psycopg
    except ImportError as exc:
        raise Unavailable(f"psycopg is not installed ({exc})") from None
    try:
        return psycopg.connect(**PG, dbname="postgres", autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        raise Unavailable(f"no PostgreSQL at {PG['host']}:{PG['port']} as {PG['user']} ({exc})".strip()) from None


@dataclass
class RealStorage:
    source: Path
    workdir: Path
    database: str = field(default_factory=lambda: f"trainmode_storage_{uuid.uuid4().hex[:8]}")
    storage_url: str = ""
    service_key: str = ""
    anon_key: str = ""
    pid: int = 0
    gateway: Gateway | None = None

    @property
    def url(self) -> str:
        """SUPABASE_URL: the gateway."""
        return self.gateway.url

    def start(self) -> RealStorage:
        if shutil.which("npm") is None and shutil.which("node") is None:
            raise Unavailable("neither node nor npm is on PATH (setup.sh fetches node 24 with npm)")
        with _postgres() as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        data = self.workdir / "objects"
        data.mkdir(parents=True, exist_ok=True)
        port = free_port()
        answer = subprocess.run(
            [str(self.source / "start.sh"), str(port), self.database_url, str(data)],
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_S,
            env={**os.environ, "LOG_LEVEL": "warn"},
        )
        if answer.returncode != 0:
            self.stop()
            raise RuntimeError(f"start.sh failed ({answer.returncode}):\n{answer.stderr[-4000:]}")
        values = dict(line.split("=", 1) for line in answer.stdout.splitlines() if "=" in line)
        self.pid = int(values["PID"])
        self.storage_url, self.service_key, self.anon_key = (
            values["STORAGE_URL"],
            values["SERVICE_KEY"],
            values["ANON_KEY"],
        )
        self.gateway = Gateway(self.storage_url).start()
        return self

    @property
    def database_url(self) -> str:
        return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{self.database}"

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
                for _ in range(100):  # it stops within about 2 s
                    os.kill(self.pid, 0)
                    time.sleep(0.05)
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.pid = 0
        try:
            with _postgres() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        except Unavailable:
            pass


class Gateway:
    """A threaded reverse proxy: /storage/v1 -> Storage, /rest/v1 -> `rest_url` (set per test)."""

    def __init__(self, storage_url: str):
        self.storage = urlsplit(storage_url)
        self.rest_url: str | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> Gateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str) -> tuple[str, int, str, dict]:
        """(host, port, upstream path, extra headers) for a request path."""
        if path.startswith("/storage/v1/") or path == "/storage/v1":
            forwarded = {
                "X-Forwarded-Prefix": "/storage/v1",
                "X-Forwarded-Host": f"127.0.0.1:{self.port}",
                "X-Forwarded-Port": str(self.port),
                "X-Forwarded-Proto": "http",
            }
            return self.storage.hostname, self.storage.port, path[len("/storage/v1") :] or "/", forwarded
        if path.startswith("/rest/v1/") and self.rest_url:
            rest = urlsplit(self.rest_url)
            return rest.hostname, rest.port, path, {}
        raise LookupError(path)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(parts)
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _handler(gateway: Gateway):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _forward(self):
            body = _read_body(self)
            try:
                host, port, path, extra = gateway.route(self.path)
            except LookupError:
                return self._answer(404, {"Content-Type": "application/json"}, b'{"message":"no Route matched"}')
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers.update(extra)
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            upstream = http.client.HTTPConnection(host, port, timeout=120)
            try:
                upstream.request(self.command, path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                out = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
                self._answer(answer.status, out, payload, answer.getheader("Content-Length"))
            finally:
                upstream.close()

        def _answer(self, status, headers, payload: bytes, length: str | None = None):
            self.send_response(status)
            for name, value in headers.items() if isinstance(headers, dict) else headers:
                self.send_header(name, value)
            self.send_header("Content-Length", length if self.command == "HEAD" and length else str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

        def log_message(self, *args):
            pass

    return Handler
