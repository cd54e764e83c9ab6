"""Duplicate saves and imports are decided by the database, not by a check before it: when the
check misses a concurrent run's row, the unique key answers and the CLI says "already saved",
on both backends (Supabase: PostgREST's 409 / 23505)."""

from __future__ import annotations

import pytest
from fake_supabase import FakeSupabase

from trainmode import cli
from trainmode.config import load_settings
from trainmode.store import EmbeddedStore, open_store
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES
from trainmode.store.supabase.store import SupabaseStore


@pytest.fixture(params=["embedded", "supabase-fake"])
def backend(request, monkeypatch, data_dir):
    if request.param == "embedded":
        yield EmbeddedStore
        return
    with FakeSupabase() as fake:
        fake.add_bucket("train-mode", allowed_mime_types=ALLOWED_MIME_TYPES)
        monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
        monkeypatch.setenv("SUPABASE_URL", fake.url)
        monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", fake.key)
        yield SupabaseStore


def caption_flag() -> str:
    save = next(a for a in cli.build_parser()._actions if a.dest == "command").choices["save"]
    return "--caption" if "--caption" in {s for a in save._actions for s in a.option_strings} else "--prompt"


def test_a_save_whose_check_missed_the_twin_is_answered_already_saved(backend, demo_files, monkeypatch, capsys):
    _, als, mp3 = demo_files[0]
    assert cli.main(["import", "--artist", "Ada", str(als)]) == 0
    save = ["save", "--artist", "Ada", "--als", als.name, "--audio", str(mp3), "--force", caption_flag(), "warm"]
    assert cli.main(save) == 0
    first = capsys.readouterr().out.strip()
    real, calls = backend.find_item_by_audio, []

    def misses_once(self, *args):  # the check before saving runs just before the twin commits
        calls.append(args)
        return None if len(calls) == 1 else real(self, *args)

    monkeypatch.setattr(backend, "find_item_by_audio", misses_once)
    assert cli.main(save) == 0
    out = capsys.readouterr()
    assert out.out.strip() == first and "already saved" in out.err and "error" not in out.err
    assert len(calls) == 2  # the unique key, not the check, found the twin
    store = open_store(load_settings())
    assert len(store.list_blobs("artists")) == 2  # the loser's audio.mp3 and prompt.txt were undone


def test_an_import_whose_check_missed_the_twin_is_a_duplicate(backend, demo_files, monkeypatch, capsys):
    _, als, _ = demo_files[0]
    assert cli.main(["import", "--artist", "Ada", str(als)]) == 0
    monkeypatch.setattr(backend, "get_summary", lambda self, a, p: None)
    assert cli.main(["import", "--artist", "Ada", str(als)]) == 0
    assert ": duplicate (" in capsys.readouterr().err
