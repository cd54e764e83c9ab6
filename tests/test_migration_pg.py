"""The Supabase migration, applied to a real PostgreSQL 15 (127.0.0.1:5432, trust auth).

A throwaway database per session, with Supabase's roles and grants, so that it is RLS (not
missing grants) that keeps anon out. Skipped when PostgreSQL is down, except in CI.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")
from psycopg import errors  # noqa: E402

pytestmark = pytest.mark.postgres

MIGRATION = Path(__file__).resolve().parents[1] / "supabase/migrations/20261124000000_train_mode.sql"
TABLES = ("artists", "artist_profiles", "als_summaries", "training_items", "exports")
SERVER = "host=127.0.0.1 port=5432 user=postgres connect_timeout=3"
ROLES = """
do $$ begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin noinherit; end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit; end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls; end if;
end $$;
"""
# What Supabase grants on the public schema: everything, so RLS must do the protecting.
GRANTS = """
grant usage on schema public to anon, authenticated, service_role;
grant all on all tables in schema public to anon, authenticated, service_role;
"""


@pytest.fixture(scope="session")
def dsn():
    try:
        admin = psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required in CI: {exc}")
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    name = f"tm_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(ROLES)
        admin.execute(f"create database {name}")
        try:
            with psycopg.connect(f"{SERVER} dbname={name}", autocommit=True) as conn:
                conn.execute(MIGRATION.read_text(encoding="utf-8"))
                conn.execute(GRANTS)
            yield f"{SERVER} dbname={name}"
        finally:
            admin.execute(f"drop database if exists {name} with (force)")


@pytest.fixture
def db(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def new_artist(db) -> str:
    return str(one(db, "insert into artists (name) values (%s) returning id", f"artist {uuid.uuid4()}"))


def new_summary(db, artist_id, parse_id=None) -> str:
    return str(one(db, "insert into als_summaries (artist_id, parse_id, als_filename, summary) "
                       "values (%s, %s, 'set.als', '{\"tempo\": 120}') returning id",
                   artist_id, parse_id or uuid.uuid4().hex))


def new_item(db, artist_id, summary_id, **columns) -> str:
    row = {"artist_id": artist_id, "als_summary_id": summary_id, "parse_id": "p", "audio_path": "a.mp3",
           "prompt_path": "prompt.txt", "prompt_text": "dark techno, 128 bpm", "audio_sha256": uuid.uuid4().hex,
           **columns}
    sql = (f"insert into training_items ({', '.join(row)}) values ({', '.join(['%s'] * len(row))}) "
           f"returning id")
    return str(db.execute(sql, list(row.values())).fetchone()[0])


@pytest.fixture
def artist(db):
    artist_id = new_artist(db)
    return artist_id, new_summary(db, artist_id)


def begin(db, artist_id, stale_after_s=3600.0) -> str:
    export_id = str(uuid.uuid4())
    db.execute("select train_mode_begin_export(%s, %s, 'exports/x/dataset.zip', %s)",
               (export_id, artist_id, stale_after_s))
    return export_id


def complete(db, export_id, item_ids):
    db.execute("select train_mode_complete_export(%s, %s::uuid[], %s, 1234, %s)",
               (export_id, item_ids, len(item_ids), "ab" * 32))


# ---- structure ---------------------------------------------------------------------
def test_migration_applies_again_without_change(db, artist):
    before = one(db, "select count(*) from artist_profiles")
    db.execute(MIGRATION.read_text(encoding="utf-8"))
    assert one(db, "select count(*) from artist_profiles") == before


def test_rls_is_enabled_on_every_table_without_policies(db):
    rows = db.execute("select relname, relrowsecurity from pg_class where relnamespace = 'public'::regnamespace "
                      "and relkind = 'r'").fetchall()
    assert dict(rows) == {table: True for table in TABLES}
    assert one(db, "select count(*) from pg_policies where schemaname = 'public'") == 0


def test_indexes_for_the_app_queries_exist(db):
    indexes = {name: sql for name, sql in db.execute(
        "select indexname, indexdef from pg_indexes where schemaname = 'public'").fetchall()}
    assert "(artist_id, status, created_at, id)" in indexes["training_items_artist_status_idx"]
    assert "(artist_id, als_filename, parse_id)" in indexes["als_summaries_artist_idx"]
    assert "(artist_id, created_at DESC)" in indexes["exports_artist_created_idx"]
    assert "UNIQUE" in indexes["exports_one_building_idx"]
    assert "WHERE (status = 'building'::text)" in indexes["exports_one_building_idx"]


@pytest.mark.parametrize("fn", ["train_mode_begin_export(uuid, uuid, text, double precision)",
                                "train_mode_complete_export(uuid, uuid[], integer, bigint, text)"])
def test_only_the_service_role_may_call_the_functions(db, fn):
    may = {role: one(db, "select has_function_privilege(%s, %s, 'execute')", role, fn)
           for role in ("anon", "authenticated", "service_role")}
    assert may == {"anon": False, "authenticated": False, "service_role": True}


def test_defaults_and_profile_created_with_the_artist(db, artist):
    artist_id, summary_id = artist
    assert one(db, "select master_schema from artist_profiles where artist_id = %s", artist_id) == {}
    item = db.execute("select status, prompt_edited, provenance, findings, metadata, created_at = updated_at "
                      "from training_items where id = %s", (new_item(db, artist_id, summary_id),)).fetchone()
    assert item == ("ready", False, {}, [], {}, True)


# ---- constraints -----------------------------------------------------------------
@pytest.mark.parametrize("columns", [{"status": "done"}, {"prompt_text": "  \n\t "},
                                     {"status": "exported"}])  # exported needs an export_id
def test_check_constraints_reject_bad_items(db, artist, columns):
    with pytest.raises(errors.CheckViolation):
        new_item(db, *artist, **columns)


@pytest.mark.parametrize("sql", [
    "insert into exports (artist_id, zip_path, status) values (%s, 'z', 'paused')",
    "insert into exports (artist_id, zip_path, status, bytes) values (%s, 'z', 'failed', -1)",
    "insert into artists (name) values (' ' || %s::text || ' ')"])
def test_check_constraints_reject_bad_exports_and_names(db, artist, sql):
    value = artist[0] if "exports" in sql else ""
    with pytest.raises(errors.CheckViolation):
        db.execute(sql, (value,))


def test_duplicate_summary_and_duplicate_audio_are_rejected(db, artist):
    artist_id, summary_id = artist
    new_summary(db, artist_id, "same-parse")
    with pytest.raises(errors.UniqueViolation, match="als_summaries_artist_parse_key"):
        new_summary(db, artist_id, "same-parse")
    new_item(db, artist_id, summary_id, audio_sha256="f" * 64)
    with pytest.raises(errors.UniqueViolation, match="training_items_artist_audio_key"):
        new_item(db, artist_id, summary_id, audio_sha256="f" * 64)
    other = new_artist(db)  # the same MP3 may belong to another artist
    new_item(db, other, new_summary(db, other), audio_sha256="f" * 64)


def test_item_needs_an_existing_summary(db, artist):
    with pytest.raises(errors.ForeignKeyViolation):
        new_item(db, artist[0], str(uuid.uuid4()))


def test_deleting_an_artist_deletes_everything_of_theirs(db, artist):
    artist_id, summary_id = artist
    new_item(db, artist_id, summary_id)
    begin(db, artist_id)
    db.execute("delete from artists where id = %s", (artist_id,))
    for table in TABLES[1:]:
        assert one(db, f"select count(*) from {table} where artist_id = %s", artist_id) == 0


def test_one_building_export_per_artist(db, artist):
    db.execute("insert into exports (artist_id, zip_path, status) values (%s, 'a', 'building')", (artist[0],))
    with pytest.raises(errors.UniqueViolation, match="exports_one_building_idx"):
        db.execute("insert into exports (artist_id, zip_path, status) values (%s, 'b', 'building')", (artist[0],))
    db.execute("insert into exports (artist_id, zip_path, status) values (%s, 'c', 'failed')", (artist[0],))


# ---- RLS -----------------------------------------------------------------------------
def test_anon_sees_and_writes_nothing_while_service_role_sees_all(db, artist):
    new_item(db, *artist)
    db.execute("set role anon")
    try:
        for table in TABLES:
            assert one(db, f"select count(*) from {table}") == 0, table
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            db.execute("insert into artists (name) values ('intruder')")
        with pytest.raises(errors.InsufficientPrivilege):
            db.execute("select train_mode_begin_export(null, %s, 'x', 0)", (artist[0],))
    finally:
        db.execute("reset role")
    db.execute("set role service_role")
    try:
        for table in TABLES:
            assert one(db, f"select count(*) from {table}") > 0, table
    finally:
        db.execute("reset role")


# ---- triggers and functions ------------------------------------------------------------
def test_updated_at_follows_updates(db, artist):
    item_id = new_item(db, *artist)
    created = one(db, "select updated_at from training_items where id = %s", item_id)
    db.execute("update training_items set prompt_text = 'edited', prompt_edited = true where id = %s", (item_id,))
    assert one(db, "select updated_at from training_items where id = %s", item_id) > created
    before = one(db, "select updated_at from artist_profiles where artist_id = %s", artist[0])
    db.execute("update artist_profiles set master_schema = '{\"genres\": [\"techno\"]}' where artist_id = %s",
               (artist[0],))
    assert one(db, "select updated_at from artist_profiles where artist_id = %s", artist[0]) > before


@pytest.fixture
def as_service_role(db):
    db.execute("set role service_role")  # the role the app's PostgREST requests run as
    yield db
    db.execute("reset role")


def test_complete_export_marks_export_and_items_together(as_service_role, artist):
    db = as_service_role
    items = [new_item(db, *artist) for _ in range(3)]
    export_id = begin(db, artist[0])
    complete(db, export_id, items)
    assert db.execute("select status, item_count, bytes, sha256, completed_at is not null from exports "
                      "where id = %s", (export_id,)).fetchone() == ("complete", 3, 1234, "ab" * 32, True)
    rows = db.execute("select status, export_id::text, exported_at is not null from training_items "
                      "where artist_id = %s", (artist[0],)).fetchall()
    assert rows == [("exported", export_id, True)] * 3


@pytest.mark.parametrize("bad", ["exported", "unknown", "other-artist", "twice"])
def test_complete_export_changes_nothing_when_an_item_is_not_ready(as_service_role, artist, bad):
    db = as_service_role
    ready = new_item(db, *artist)
    if bad == "exported":  # already exported by an earlier export
        earlier = begin(db, artist[0])
        odd = new_item(db, *artist)
        complete(db, earlier, [odd])
    elif bad == "unknown":
        odd = str(uuid.uuid4())
    elif bad == "other-artist":
        other = new_artist(db)
        odd = new_item(db, other, new_summary(db, other))
    else:
        odd = ready
    export_id = begin(db, artist[0])
    with pytest.raises(psycopg.Error) as raised:
        complete(db, export_id, [ready, odd])
    assert raised.value.sqlstate == "TMITM"
    assert one(db, "select status from exports where id = %s", export_id) == "building"
    assert one(db, "select status from training_items where id = %s", ready) == "ready"


def test_complete_export_refuses_an_export_that_is_not_running(as_service_role, artist):
    db = as_service_role
    export_id = begin(db, artist[0])
    db.execute("update exports set status = 'failed' where id = %s", (export_id,))
    with pytest.raises(psycopg.Error) as raised:
        complete(db, export_id, [new_item(db, *artist)])
    assert raised.value.sqlstate == "TMNRN"


def test_begin_export_is_busy_then_takes_over_a_stale_one(as_service_role, artist):
    db = as_service_role
    first = begin(db, artist[0])
    with pytest.raises(psycopg.Error) as raised:
        begin(db, artist[0])
    assert raised.value.sqlstate == "TMBSY"
    assert "already running" in str(raised.value)
    second = begin(db, artist[0], stale_after_s=0)  # the first one is now "crashed"
    rows = dict(db.execute("select id::text, status from exports where artist_id = %s", (artist[0],)).fetchall())
    assert rows == {first: "failed", second: "building"}
    assert one(db, "select error from exports where id = %s", first) == "abandoned (stale)"


def test_the_embedded_schema_has_the_same_tables_and_columns(db):
    """The SQLite twin (trainmode/store/embedded_schema.sql) must not drift from the migration."""
    import sqlite3

    from trainmode.store.embedded import SCHEMA_SQL

    lite = sqlite3.connect(":memory:")
    lite.executescript(SCHEMA_SQL)
    tables = ("artists", "artist_profiles", "als_summaries", "training_items", "exports")
    for table in tables:
        pg_columns = {r[0] for r in db.execute(
            "select column_name from information_schema.columns where table_schema = 'public' and table_name = %s",
            (table,)).fetchall()}
        lite_columns = {r[1] for r in lite.execute(f"pragma table_info({table})")}
        assert pg_columns and lite_columns == pg_columns, table
