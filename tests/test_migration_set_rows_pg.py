"""20261204000000_train_mode_set_rows.sql on a real PostgreSQL 15, as Supabase applies it: the pages'
compact answer holds the same facts as the embedded backend's projection, and only the service role
may call the function."""

from __future__ import annotations

import json

import pytest

psycopg = pytest.importorskip("psycopg")
from fake_postgrest import FakePostgrest  # noqa: E402
from pg_supabase import DEFAULTS, MIGRATIONS, connect_as, supabase_database  # noqa: E402

from tests.corpus import as_v1, corpus_summaries  # noqa: E402
from trainmode.store import set_rows  # noqa: E402

pytestmark = pytest.mark.postgres
SET_ROWS = [m for m in MIGRATIONS if m.name == "20261204000000_train_mode_set_rows.sql"]


def insert_sets(api, summaries: list[tuple[str, str, dict]]) -> str:
    artist = api.execute("insert into public.artists (name) values ('Compact') returning id").fetchone()[0]
    for parse_id, filename, summary in summaries:
        api.execute(
            "insert into public.als_summaries (artist_id, parse_id, als_filename, summary) values (%s, %s, %s, %s)",
            (artist, parse_id, filename, json.dumps(summary)),
        )
    return str(artist)


def stored_rows(api, artist: str) -> list[dict]:
    """The rows as PostgREST hands them over (created_at as JSON text)."""
    return [
        {**r, "id": str(r["id"]), "summary": r["summary"]}
        for r in (
            dict(zip(("id", "parse_id", "als_filename", "summary", "created_at"), values, strict=True))
            for values in api.execute(
                "select id, parse_id, als_filename, summary, to_jsonb(created_at) from public.als_summaries "
                "where artist_id = %s order by als_filename, parse_id",
                (artist,),
            ).fetchall()
        )
    ]


def test_the_set_rows_migration_is_there_and_applies_twice():
    assert SET_ROWS, "supabase/migrations/20261204000000_train_mode_set_rows.sql is missing"
    with (
        supabase_database("no-default-privileges", [*MIGRATIONS, *SET_ROWS]) as name,
        connect_as(name, "service_role") as api,
    ):
        assert api.execute("select public.train_mode_set_rows(gen_random_uuid())").fetchone()[0] == {
            "names": [],
            "sets": [],
        }


def test_the_compact_answer_holds_the_facts_of_every_set(corpus_dir):
    parsed = corpus_summaries(corpus_dir, 4)
    odd = {
        "schema_version": 2,
        "plugins": "not a list",
        "devices": [3, "Serum", "Serum"],
        "instruments": [{"family": "drums"}, {"seconds": 2.0}, "bass"],
    }
    summaries = [(p.parse_id, p.filename, p.summary) for p in parsed] + [
        ("f" * 32, "old_import.als", as_v1(parsed[1].summary)),
        ("e" * 32, "odd.als", odd),
    ]
    with supabase_database("no-default-privileges") as name, connect_as(name, "service_role") as api:
        artist = insert_sets(api, summaries)
        answer = api.execute("select public.train_mode_set_rows(%s)", (artist,)).fetchone()[0]
        stored = stored_rows(api, artist)
    raw = set_rows.from_compact(json.loads(json.dumps(answer)))  # as PostgREST hands it over: JSON
    assert [r["parse_id"] for r in raw] == [r["parse_id"] for r in stored]
    for compact, whole in zip(raw, stored, strict=True):
        if set_rows.needs_whole(compact):  # the v1 set: the store reads it whole
            assert whole["als_filename"] == "old_import.als"
            continue
        if whole["als_filename"] == "odd.als":  # what is not a list is none; only families are named
            assert set_rows.finish(compact) == {
                "id": whole["id"],
                "parse_id": "e" * 32,
                "als_filename": "odd.als",
                "created_at": whole["created_at"],
                "version": 2,
                "bpm": None,
                "meter": None,
                "seconds": None,
                "midi": None,
                "audio": None,
                "live": None,
                "key": None,
                "instruments": ["drums"],
                "plugins": [],
                "devices": ["3", "Serum", "Serum"],
            }
            continue
        assert set_rows.finish(compact) == set_rows.from_summary_row(whole)
    assert len(json.dumps(answer)) < sum(len(json.dumps(s)) for _, _, s in summaries) / 10
    fake = FakePostgrest()  # the Supabase fake of the tests answers the same
    fake.tables["als_summaries"] = [{**r, "artist_id": artist} for r in stored]
    assert fake.set_rows(artist) == json.loads(json.dumps(answer))


@pytest.mark.parametrize("defaults", DEFAULTS)
def test_only_the_service_role_may_read_the_set_rows(defaults):
    with supabase_database(defaults) as name:
        for role in ("anon", "authenticated"):
            with connect_as(name, role) as api, pytest.raises(psycopg.errors.InsufficientPrivilege):
                api.execute("select public.train_mode_set_rows(gen_random_uuid())")
