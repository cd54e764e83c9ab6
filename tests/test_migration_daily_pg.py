"""20261201000300_train_mode_daily.sql on a real PostgreSQL 15, as Supabase applies it: who did
what (created_by) and the queue_drafts table, the same in the embedded twin."""

from __future__ import annotations

import sqlite3

import pytest

psycopg = pytest.importorskip("psycopg")
from pg_supabase import (  # noqa: E402
    DEFAULTS,
    MIGRATIONS,
    SERVER,
    apply_migrations,
    connect_as,
    new_artist,
    one,
    supabase_database,
)

from trainmode.store.embedded import SCHEMA_SQL  # noqa: E402
from trainmode.store.supabase.check import COLUMNS  # noqa: E402

pytestmark = pytest.mark.postgres
DAILY = [m for m in MIGRATIONS if m.name == "20261201000300_train_mode_daily.sql"]


@pytest.fixture
def db():
    """A new database set up as a Supabase project, as its owner `postgres`."""
    with (
        supabase_database("no-default-privileges") as name,
        psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as conn,
    ):
        yield conn


def columns(db, table) -> set[str]:
    return {
        r[0]
        for r in db.execute(
            "select column_name from information_schema.columns where table_schema = 'public' and table_name = %s",
            (table,),
        ).fetchall()
    }


def test_the_daily_migration_is_there_and_applies_twice(db):
    assert DAILY, "supabase/migrations/20261201000300_train_mode_daily.sql is missing"
    apply_migrations(db, DAILY)  # idempotent
    assert "created_by" in columns(db, "training_items") and "created_by" in columns(db, "exports")


def test_the_embedded_twin_has_the_same_new_columns_and_table(db):
    lite = sqlite3.connect(":memory:")
    lite.executescript(SCHEMA_SQL)
    for table in ("training_items", "exports", "queue_drafts"):
        assert {r[1] for r in lite.execute(f"pragma table_info({table})")} == columns(db, table) == set(COLUMNS[table])


def test_one_draft_per_artist_deleted_with_the_artist(db):
    artist = new_artist(db)
    db.execute("insert into queue_drafts (artist_id, draft) values (%s, '{\"entries\": []}')", (artist,))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("insert into queue_drafts (artist_id, draft) values (%s, '{}')", (artist,))
    db.execute("delete from artists where id = %s", (artist,))
    assert one(db, "select count(*) from queue_drafts") == 0


@pytest.mark.parametrize("defaults", DEFAULTS)
def test_only_the_service_role_may_use_the_drafts(defaults):
    with supabase_database(defaults) as name:
        with connect_as(name, "service_role") as api:
            assert api.execute("select count(*) from public.queue_drafts").fetchone()[0] == 0
        for role in ("anon", "authenticated"):
            with connect_as(name, role) as api, pytest.raises(psycopg.errors.InsufficientPrivilege):
                api.execute("select count(*) from public.queue_drafts")
