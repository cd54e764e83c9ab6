"""The Supabase migrations, applied to a real PostgreSQL 15 (127.0.0.1:5432, trust auth) the
way Supabase applies them (tests/pg_supabase.py): Supabase's roles, the migrations run by
`postgres`, no grant added by the test, with and without Supabase's old default privileges.
Every test gets its own database. Skipped when PostgreSQL is down, except in CI.
"""

from __future__ import annotations

import uuid

import pytest

psycopg = pytest.importorskip("psycopg")
from pg_supabase import (  # noqa: E402
    DEFAULTS,
    MIGRATIONS,
    SERVER,
    apply_migrations,
    begin,
    complete,
    connect_as,
    heartbeat,
    new_artist,
    new_item,
    new_summary,
    one,
    supabase_database,
)
from psycopg import errors  # noqa: E402

from trainmode.store.supabase.check import COLUMNS as CHECK_COLUMNS  # noqa: E402
from trainmode.store.supabase.check import FUNCTIONS as CHECK_FUNCTIONS  # noqa: E402

pytestmark = pytest.mark.postgres

TABLES = ("artists", "artist_profiles", "als_summaries", "training_items", "exports")


@pytest.fixture
def dbname():
    with supabase_database("no-default-privileges") as name:
        yield name


@pytest.fixture
def db(dbname):
    """The database as its owner, `postgres` (who applies migrations on Supabase)."""
    with psycopg.connect(f"{SERVER} user=postgres dbname={dbname}", autocommit=True) as conn:
        yield conn


@pytest.fixture
def artist(db):
    artist_id = new_artist(db)
    return artist_id, new_summary(db, artist_id)


BEGIN_EXPORT = "train_mode_begin_export(uuid, uuid, text, text, double precision, uuid)"
HEARTBEAT = "train_mode_heartbeat_export(uuid)"


# ---- structure ---------------------------------------------------------------------
def test_migration_applies_again_without_change(db, artist):
    before = one(db, "select count(*) from artist_profiles")
    apply_migrations(db)
    assert one(db, "select count(*) from artist_profiles") == before


def test_rls_is_enabled_on_every_table_without_policies(db):
    rows = db.execute(
        "select relname, relrowsecurity from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'"
    ).fetchall()
    assert dict(rows) == {table: True for table in (*TABLES, "queue_drafts", "training_clips")}
    assert one(db, "select count(*) from pg_policies where schemaname = 'public'") == 0


def test_indexes_for_the_app_queries_exist(db):
    indexes = {
        name: sql
        for name, sql in db.execute("select indexname, indexdef from pg_indexes where schemaname = 'public'").fetchall()
    }
    assert "(artist_id, status, created_at, id)" in indexes["training_items_artist_status_idx"]
    assert "(artist_id, als_filename, parse_id)" in indexes["als_summaries_artist_idx"]
    assert "(artist_id, created_at DESC)" in indexes["exports_artist_created_idx"]
    assert "UNIQUE" in indexes["exports_one_building_idx"]
    assert "WHERE (status = 'building'::text)" in indexes["exports_one_building_idx"]


@pytest.mark.parametrize(
    "fn", [BEGIN_EXPORT, HEARTBEAT, "train_mode_complete_export(uuid, uuid[], integer, bigint, text)"]
)
def test_only_the_service_role_may_call_the_functions(db, fn):
    may = {
        role: one(db, "select has_function_privilege(%s, %s, 'execute')", role, fn)
        for role in ("anon", "authenticated", "service_role")
    }
    assert may == {"anon": False, "authenticated": False, "service_role": True}


def test_defaults_and_profile_created_with_the_artist(db, artist):
    artist_id, summary_id = artist
    assert one(db, "select master_schema from artist_profiles where artist_id = %s", artist_id) == {}
    item = db.execute(
        "select status, prompt_edited, provenance, findings, metadata, created_at = updated_at "
        "from training_items where id = %s",
        (new_item(db, artist_id, summary_id),),
    ).fetchone()
    assert item == ("ready", False, {}, [], {}, True)


# ---- constraints -----------------------------------------------------------------
@pytest.mark.parametrize(
    "columns", [{"status": "done"}, {"prompt_text": "  \n\t "}, {"status": "exported"}]
)  # exported needs an export_id
def test_check_constraints_reject_bad_items(db, artist, columns):
    with pytest.raises(errors.CheckViolation):
        new_item(db, *artist, **columns)


@pytest.mark.parametrize(
    "sql",
    [
        "insert into exports (artist_id, zip_path, status) values (%s, 'z', 'paused')",
        "insert into exports (artist_id, zip_path, status, bytes) values (%s, 'z', 'failed', -1)",
        "insert into artists (name) values (' ' || %s::text || ' ')",
    ],
)
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


# ---- RLS ---------------------------------------------------------------------------
def test_rls_keeps_out_even_a_role_that_is_granted_the_tables(db, artist):
    new_item(db, *artist)
    db.execute("grant select, insert on all tables in schema public to authenticated")  # a mistake
    db.execute("set role authenticated")
    try:
        for table in TABLES:
            assert one(db, f"select count(*) from {table}") == 0, table
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            db.execute("insert into artists (name) values ('intruder')")
    finally:
        db.execute("reset role")


# ---- triggers and functions ------------------------------------------------------------
def test_updated_at_follows_updates(db, artist):
    item_id = new_item(db, *artist)
    created = one(db, "select updated_at from training_items where id = %s", item_id)
    db.execute("update training_items set prompt_text = 'edited', prompt_edited = true where id = %s", (item_id,))
    assert one(db, "select updated_at from training_items where id = %s", item_id) > created
    before = one(db, "select updated_at from artist_profiles where artist_id = %s", artist[0])
    db.execute(
        'update artist_profiles set master_schema = \'{"genres": ["techno"]}\' where artist_id = %s', (artist[0],)
    )
    assert one(db, "select updated_at from artist_profiles where artist_id = %s", artist[0]) > before


@pytest.fixture
def as_service_role(dbname):
    with connect_as(dbname, "service_role") as conn:  # the role the app's PostgREST requests run as
        yield conn


def test_complete_export_marks_export_and_items_together(as_service_role, artist):
    db = as_service_role
    items = [new_item(db, *artist) for _ in range(3)]
    export_id = begin(db, artist[0])
    complete(db, export_id, items)
    assert db.execute(
        "select status, item_count, bytes, sha256, completed_at is not null from exports where id = %s", (export_id,)
    ).fetchone() == ("complete", 3, 1234, "ab" * 32, True)
    rows = db.execute(
        "select status, export_id::text, exported_at is not null from training_items where artist_id = %s", (artist[0],)
    ).fetchall()
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
    second = begin(db, artist[0], lease_s=0)  # the first one's heartbeat is now "too old"
    rows = dict(db.execute("select id::text, status from exports where artist_id = %s", (artist[0],)).fetchall())
    assert rows == {first: "failed", second: "building"}
    assert one(db, "select error from exports where id = %s", first) == "taken over: heartbeat stopped"


def test_the_embedded_schema_has_the_same_tables_and_columns(db):
    """The SQLite twin (trainmode/store/embedded_schema.sql) must not drift from the migration."""
    import sqlite3

    from trainmode.store.embedded import SCHEMA_SQL
    from trainmode.store.supabase.check import COLUMNS  # what check-supabase and the fake expect

    lite = sqlite3.connect(":memory:")
    lite.executescript(SCHEMA_SQL)
    for table in TABLES:
        pg_columns = {
            r[0]
            for r in db.execute(
                "select column_name from information_schema.columns where table_schema = 'public' and table_name = %s",
                (table,),
            ).fetchall()
        }
        lite_columns = {r[1] for r in lite.execute(f"pragma table_info({table})")}
        assert pg_columns and lite_columns == pg_columns == set(COLUMNS[table]), table


# ---- privileges: what the store does, as the roles PostgREST switches to -------------------
@pytest.fixture(params=DEFAULTS)
def project(request):
    with supabase_database(request.param) as name:
        yield name


def store_paths(api) -> None:
    """The statements PostgREST runs for SupabaseStore's calls (see supabase_store.py)."""
    name = f"artist {uuid.uuid4()}"
    upsert = "insert into public.artists (name) values (%s) on conflict (name) do nothing returning *"
    artist_id = str(api.execute(upsert, (name,)).fetchone()[0])  # ensure_artist
    assert api.execute(upsert, (name,)).fetchall() == []  # ... a second time
    assert (
        one(
            api,
            "select count(*) over () from public.artists where name = %s order by name, id limit 1000 offset 0",
            name,
        )
        == 1
    )  # list_artists, find_artist
    assert (
        one(api, "select master_schema from public.artist_profiles where artist_id = %s limit 1", artist_id) == {}
    )  # get_master_schema
    assert api.execute(
        "update public.artist_profiles set master_schema = '{\"genres\": []}' where artist_id = %s returning *",
        (artist_id,),
    ).fetchall()  # set_master_schema
    summary = api.execute(
        "insert into public.als_summaries (artist_id, parse_id, als_filename, summary) "
        "values (%s, 'p1', 'a.als', '{}') on conflict (artist_id, parse_id) do nothing "
        "returning id",
        (artist_id,),
    ).fetchone()[0]  # add_summary
    assert one(api, "select count(*) from public.als_summaries where artist_id = %s", artist_id) == 1
    items = [new_item(api, artist_id, str(summary)) for _ in range(2)]  # insert_item
    assert (
        one(
            api,
            "select count(*) over () from public.training_items where artist_id = %s and "
            "status = 'ready' order by created_at, id limit 1000",
            artist_id,
        )
        == 2
    )  # list_items
    api.execute("update public.training_items set prompt_text = 'edited' where id = %s", (items[0],))
    api.execute("delete from public.training_items where id = %s", (items[1],))  # delete_item
    export_id = begin(api, artist_id)  # begin_export (RPC)
    assert heartbeat(api, export_id)  # heartbeat_export (RPC)
    complete(api, export_id, [items[0]])  # complete_export (RPC)
    failed = begin(api, artist_id)
    api.execute(
        "update public.exports set status = 'failed', error = 'x', completed_at = now() "
        "where id = %s and status = 'building'",
        (failed,),
    )  # fail_export
    assert one(api, "select count(*) from public.exports where artist_id = %s", artist_id) == 2
    for table in ("training_items", "exports", "als_summaries", "artist_profiles", "artists"):
        api.execute(
            f"delete from public.{table} where artist_id = %s"
            if table != "artists"
            else "delete from public.artists where id = %s",
            (artist_id,),
        )


def test_the_service_role_can_do_everything_the_store_does(project):
    with connect_as(project, "service_role") as api:
        store_paths(api)


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_public_roles_are_refused_everything(project, role):
    with psycopg.connect(f"{SERVER} user=postgres dbname={project}", autocommit=True) as owner:
        artist_id = new_artist(owner)
    with connect_as(project, role) as api:
        for table in TABLES:
            for sql in (
                f"select * from public.{table}",
                f"delete from public.{table}",
                f"update public.{table} set id = id",
                f"insert into public.{table} default values",
            ):
                with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
                    api.execute(sql)
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied for function"):
            begin(api, artist_id)
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied for function"):
            complete(api, str(uuid.uuid4()), [])
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied for function"):
            heartbeat(api, str(uuid.uuid4()))


def test_without_the_grants_migration_a_new_project_refuses_the_service_role():
    """The privilege tests can fail: the first migration alone grants the tables to nobody."""
    with supabase_database("no-default-privileges", MIGRATIONS[:1]) as name:
        with connect_as(name, "service_role") as api:
            with pytest.raises(errors.InsufficientPrivilege, match="permission denied for table artists"):
                api.execute("select * from public.artists")


def test_the_old_default_privileges_are_really_in_force():
    """Under Supabase's old defaults a new table is granted to anon: the revokes above matter."""
    with supabase_database("old-default-privileges") as name:
        with psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as owner:
            owner.execute("create table public.other (id int)")
            assert one(owner, "select has_table_privilege('anon', 'public.other', 'select')")
            assert not one(owner, "select has_table_privilege('anon', 'public.artists', 'select')")


def test_the_schema_report_check_supabase_reads(project):
    # What check-supabase sends: every table it knows and the export functions' signatures.
    asked = (list(CHECK_COLUMNS), list(CHECK_FUNCTIONS.values()))
    report_sql = "select train_mode_schema_report(%s, %s)"
    with connect_as(project, "service_role") as api:
        report = one(api, report_sql, *asked)
    assert report["tables"] == {t: {"rls": True, "service_role": True, "public_roles": False} for t in CHECK_COLUMNS}
    assert report["functions"] == {
        f: {"exists": True, "service_role": True, "public_roles": False} for f in CHECK_FUNCTIONS
    }
    with connect_as(project, "service_role") as api:  # what does not exist is reported as such
        missing = one(api, report_sql, ["no_such_table"], ["public.train_mode_nothing(uuid)"])
    assert missing == {
        "tables": {},
        "functions": {"train_mode_nothing": {"exists": False, "service_role": False, "public_roles": False}},
    }
    with supabase_database("old-default-privileges", MIGRATIONS[:1]) as old:  # before the grants migration
        with psycopg.connect(f"{SERVER} user=postgres dbname={old}", autocommit=True) as owner:
            apply_migrations(owner, MIGRATIONS[1:])
            owner.execute("grant select on artists to anon")
            owner.execute("alter table exports disable row level security")
            report = one(owner, report_sql, *asked)
    assert report["tables"]["artists"]["public_roles"] and not report["tables"]["exports"]["rls"]
