"""Every CLI command against bad paths and bad servers: exit 1, one clear `error:` line, no
traceback, no secret anywhere in the output.

Bad servers: a refused port, a web page answering 200 with HTML, a JSON API answering 200 with
odd JSON, a server answering 401 or 500 with the key echoed back, and a SUPABASE_URL carrying
user:password. Runs the CLI's main() in-process (its boundary), so 60-odd cases stay quick.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from trainmode import cli

KEY = "sb_secret_HOSTILEkey0123456789abcdef"
PASSWORD = "pa55-w0rd-in-url"
SECRETS = (KEY, PASSWORD, f"user:{PASSWORD}")


class Hostile(BaseHTTPRequestHandler):
    """Answers every request the same way, chosen by the server's `mode`."""

    def _answer(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        status, kind, body = ANSWERS[self.server.mode]
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _answer

    def log_message(self, *args):
        pass


ANSWERS = {
    "html": (200, "text/html", "<!doctype html><html><body>Welcome to nginx!</body></html>"),
    "odd-json": (200, "application/json", json.dumps({"status": "ok", "items": [1, 2, 3]})),
    "401-echo": (
        401,
        "application/json",
        json.dumps({"message": f"Invalid API key {KEY}", "code": "401", "statusCode": "401", "error": "Unauthorized"}),
    ),
    "500-echo": (
        500,
        "application/json",
        json.dumps(
            {
                "message": f"crashed handling apikey={KEY}",
                "code": "XX000",
                "details": KEY,
                "hint": None,
                "statusCode": "500",
                "error": KEY,
            }
        ),
    ),
}


@pytest.fixture(scope="module")
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    server.mode = "html"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connecting is refused


SERVERS = ["refused", "html", "odd-json", "401-echo", "500-echo", "userinfo-refused", "userinfo-html"]


def server_url(kind: str, hostile) -> str:
    if kind.endswith("refused"):
        host = f"127.0.0.1:{refused_port()}"
    else:
        hostile.mode = kind.removeprefix("userinfo-")
        host = f"127.0.0.1:{hostile.server_address[1]}"
    return f"http://user:{PASSWORD}@{host}" if kind.startswith("userinfo") else f"http://{host}"


def commands(files: dict[str, Path]) -> dict[str, list[str]]:
    save = next(a for a in cli.build_parser()._actions if a.dest == "command").choices["save"]
    caption = "--caption" if "--caption" in {s for a in save._actions for s in a.option_strings} else "--prompt"
    return {
        "demo": ["demo"],
        "import": ["import", "--artist", "Ada", str(files["als"])],
        "generate": ["generate", "--artist", "Ada", "--als", "set.als", "--writer", "offline"],
        "save": ["save", "--artist", "Ada", "--als", "set.als", "--audio", str(files["mp3"]), caption, "warm"],
        "items": ["items", "--artist", "Ada"],
        "export": ["export", "--artist", "Ada"],
        "doctor": ["doctor"],
        "doctor --fix": ["doctor", "--fix"],
        "setup-supabase": ["setup-supabase"],
        "check-supabase": ["check-supabase"],
    }


def check_output(code: int, out: str, err: str, name: str) -> None:
    everything = out + err
    assert code == 1, f"{name}: exit {code}\n{everything}"
    assert "Traceback" not in everything and "unexpected" not in everything, everything
    for secret in SECRETS:
        assert secret not in everything, f"{name} leaked a secret:\n{everything}"
    if name == "check-supabase":  # a report: one line per check, the last one failed
        assert everything.strip().splitlines()[-1].startswith("FAIL"), everything
        return
    errors = [line for line in everything.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, everything
    if name != "import":  # import also reports each file on its own line
        assert everything.strip() == errors[0], everything


@pytest.fixture
def files(tmp_path, demo_files):
    _, als, mp3 = demo_files[0]
    return {"als": als, "mp3": mp3}


@pytest.mark.parametrize("server", SERVERS)
def test_every_command_against_a_bad_server_is_one_line_without_secrets(server, hostile, files, monkeypatch, capsys):
    monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", KEY)
    for name, argv in commands(files).items():
        monkeypatch.setenv("SUPABASE_URL", server_url(server, hostile))
        code = cli.main(argv)
        captured = capsys.readouterr()
        check_output(code, captured.out, captured.err, f"{name}" if name != "doctor --fix" else "doctor")


def bad_paths(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "a folder.mp3"
    folder.mkdir()
    latin1 = tmp_path / "caption-latin1.txt"
    latin1.write_bytes("café crème, 120 bpm".encode("latin-1"))
    return {"missing": tmp_path / "missing.mp3", "folder": folder, "latin1": latin1}


def test_every_command_with_bad_paths_is_one_line(tmp_path, files, data_dir, capsys):
    assert cli.main(["import", "--artist", "Ada", str(files["als"])]) == 0
    capsys.readouterr()
    paths = bad_paths(tmp_path)
    caption = commands(files)["save"][-2]
    save = ["save", "--artist", "Ada", "--als", files["als"].name]
    cases = {
        "summarize missing": ["summarize", str(paths["missing"])],
        "summarize folder": ["summarize", str(paths["folder"])],
        "import missing": ["import", "--artist", "Ada", str(paths["missing"])],
        "save audio missing": [*save, "--audio", str(paths["missing"]), caption, "warm"],
        "save audio folder": [*save, "--audio", str(paths["folder"]), caption, "warm"],
        "save caption file missing": [*save, "--audio", str(files["mp3"]), f"{caption}-file", str(paths["missing"])],
        "save caption file folder": [*save, "--audio", str(files["mp3"]), f"{caption}-file", str(paths["folder"])],
        "save caption file latin-1": [*save, "--audio", str(files["mp3"]), f"{caption}-file", str(paths["latin1"])],
        "items unknown artist": ["items", "--artist", "Nobody"],
        "export unknown artist": ["export", "--artist", "Nobody"],
    }
    for name, argv in cases.items():
        code = cli.main(argv)
        captured = capsys.readouterr()
        check_output(code, captured.out, captured.err, "import" if name.startswith("import") else name)
