"""`python -m trainmode check-supabase` against the fake Supabase: one line per check, read-only,
stopping at the first failure with the command that fixes it."""

from __future__ import annotations

import pytest
from fake_supabase import FakeSupabase

from trainmode.cli import main
from trainmode.config import Secret, Settings
from trainmode.store.supabase.check import check_supabase
from trainmode.store.supabase.errors import PSQL_COMMAND
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES
from trainmode.store.supabase.store import SupabaseStore

NAMES = ["settings", "connection", "tables", "grants", "row level security", "functions", "bucket", "signed URL"]


@pytest.fixture
def fake():
    with FakeSupabase() as server:
        server.add_bucket("train-mode", allowed_mime_types=ALLOWED_MIME_TYPES)
        yield server


def settings_for(fake, key=None) -> Settings:
    return Settings(backend="supabase", supabase_url=fake.url, supabase_key=Secret(key or fake.key))


def writes(fake) -> list:
    return [
        r
        for r in fake.requests
        if r.method in ("PATCH", "PUT", "DELETE")
        or (r.method == "POST" and "/rpc/" not in r.path and "/sign/" not in r.path and "/list/" not in r.path)
    ]


def test_a_ready_project_passes_every_check_without_writing(fake):
    store = SupabaseStore(fake.url, fake.key)
    store.put_blob("artists/a/items/i/audio.mp3", b"ID3 audio", "audio/mpeg")
    store.close()
    before = len(writes(fake))
    checks = check_supabase(settings_for(fake))
    assert [c.name for c in checks] == NAMES and all(c.ok for c in checks), [c.line() for c in checks]
    assert checks[-1].detail == "a signed link to artists/a/items/i/audio.mp3 returns the file"
    assert len(writes(fake)) == before


def test_an_empty_bucket_skips_the_signed_url(fake):
    checks = check_supabase(settings_for(fake))
    assert checks[-1].ok and checks[-1].detail.startswith("skipped")


@pytest.mark.parametrize(
    "break_it, failed, words",
    [
        (lambda f: setattr(f, "migrated", False), "tables", "supabase db push"),
        (lambda f: f.granted.discard("exports"), "tables", "has not granted this role access"),
        (lambda f: f.public_granted.add("artists"), "grants", "artists: anon or authenticated has privileges"),
        (lambda f: f.rls_off.add("exports"), "row level security", "Row Level Security is off on exports"),
        (lambda f: f.public_granted.add("train_mode_begin_export"), "functions", "not executable by service_role only"),
        (lambda f: f.buckets.clear(), "bucket", "run `python -m trainmode setup-supabase`"),
        (lambda f: f.buckets["train-mode"].update(public=True), "bucket", "is public"),
    ],
)
def test_the_first_failure_is_the_last_line_and_says_how_to_fix_it(fake, break_it, failed, words):
    break_it(fake)
    checks = check_supabase(settings_for(fake))
    assert [c.name for c in checks] == NAMES[: NAMES.index(failed) + 1]
    assert not checks[-1].ok and all(c.ok for c in checks[:-1])
    assert words in checks[-1].detail
    if failed in ("grants", "row level security", "functions"):
        assert PSQL_COMMAND in checks[-1].detail


def test_a_wrong_key_fails_the_connection_without_showing_it(fake):
    checks = check_supabase(settings_for(fake, "sb_secret_wrong-1234567890"))
    assert (checks[-1].name, checks[-1].ok) == ("connection", False)
    assert "rejected the service-role key" in checks[-1].detail and "wrong-1234567890" not in checks[-1].detail


def test_the_cli_prints_one_line_per_check_and_exits_1_on_failure(fake, monkeypatch, capsys):
    monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
    monkeypatch.setenv("SUPABASE_URL", fake.url)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", fake.key)
    assert main(["check-supabase"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"ok   {name}" for name in NAMES]
    fake.rls_off.add("artists")
    assert main(["check-supabase"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("FAIL row level security: ")
