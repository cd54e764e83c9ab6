"""A PostgreSQL database set up the way Supabase sets up a project, and rows in it, for the
migration tests (tests/test_migration*_pg.py).

Copied from supabase/postgres migrations/db/init-scripts/00000000000000-initial-schema.sql: the
API roles and `authenticator` (lines 27-35), usage on schema public (line 37) and, on projects
created before mid-2026, default privileges granting every new table, function and sequence to
anon, authenticated and service_role (lines 38-40). Newer projects have "Default privileges for
new entities" off, so tests run under both settings.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import psycopg.sql
import pytest

MIGRATIONS = sorted((Path(__file__).resolve().parents[1] / "supabase/migrations").glob("*.sql"))
SERVER = "host=127.0.0.1 port=5432 connect_timeout=3"
# Roles are shared by the whole server: create each one only if missing, tolerating a
# concurrent test run that creates it at the same moment.
ROLES = [
    "create role anon nologin noinherit",
    "create role authenticated nologin noinherit",
    "create role service_role nologin noinherit bypassrls",
    "create role authenticator login noinherit",
    "grant anon, authenticated, service_role to authenticator",
]
SCHEMA_USAGE = "grant usage on schema public to postgres, anon, authenticated, service_role"
OLD_DEFAULT_PRIVILEGES = [
    f"alter default privileges for role postgres in schema public grant all on {kind} "
    f"to postgres, anon, authenticated, service_role"
    for kind in ("tables", "functions", "sequences")
]
DEFAULTS = ["no-default-privileges", "old-default-privileges"]


def apply_migrations(conn, migrations=MIGRATIONS) -> None:
    for path in migrations:
        conn.execute(path.read_text(encoding="utf-8"))


def admin_connection():
    try:
        return psycopg.connect(f"{SERVER} user=postgres dbname=postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required in CI: {exc}")
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")


def create_roles(admin) -> None:
    for sql in ROLES:
        admin.execute(
            f"do $$ begin execute {psycopg.sql.quote(sql)}; exception when duplicate_object "
            f"or unique_violation or object_in_use then null; end $$"
        )


@contextmanager
def supabase_database(defaults: str, migrations=MIGRATIONS):
    """A new database set up as a Supabase project, with the migrations applied; yields its name."""
    name = f"tm_test_{uuid.uuid4().hex[:12]}"
    with admin_connection() as admin:
        create_roles(admin)
        admin.execute(f"create database {name}")
        try:
            with psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as conn:
                conn.execute(SCHEMA_USAGE)
                if defaults == "old-default-privileges":
                    for sql in OLD_DEFAULT_PRIVILEGES:
                        conn.execute(sql)
                apply_migrations(conn, migrations)
            yield name
        finally:
            admin.execute(f"drop database if exists {name} with (force)")


@contextmanager
def connect_as(dbname: str, role: str):
    """Connected the way PostgREST connects: as `authenticator`, switching to the key's role."""
    with psycopg.connect(f"{SERVER} user=authenticator dbname={dbname}", autocommit=True) as conn:
        conn.execute(f"set role {role}")
        yield conn


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def new_artist(db) -> str:
    return str(one(db, "insert into artists (name) values (%s) returning id", f"artist {uuid.uuid4()}"))


def new_summary(db, artist_id, parse_id=None) -> str:
    return str(
        one(
            db,
            "insert into als_summaries (artist_id, parse_id, als_filename, summary) "
            "values (%s, %s, 'set.als', '{\"tempo\": 120}') returning id",
            artist_id,
            parse_id or uuid.uuid4().hex,
        )
    )


def new_item(db, artist_id, summary_id, **columns) -> str:
    row = {
        "artist_id": artist_id,
        "als_summary_id": summary_id,
        "parse_id": "p",
        "audio_path": "a.mp3",
        "prompt_path": "prompt.txt",
        "prompt_text": "dark techno, 128 bpm",
        "audio_sha256": uuid.uuid4().hex,
        **columns,
    }
    sql = f"insert into training_items ({', '.join(row)}) values ({', '.join(['%s'] * len(row))}) returning id"
    return str(db.execute(sql, list(row.values())).fetchone()[0])


def begin(db, artist_id, lease_s=30.0, dead_export=None) -> str:
    export_id = str(uuid.uuid4())
    db.execute(
        "select train_mode_begin_export(%s, %s, 'exports/x/dataset.zip', %s, %s, %s)",
        (export_id, artist_id, f"owner-{export_id}", lease_s, dead_export),
    )
    return export_id


def heartbeat(db, export_id) -> bool:
    return one(db, "select train_mode_heartbeat_export(%s)", export_id)


def complete(db, export_id, item_ids):
    db.execute(
        "select train_mode_complete_export(%s, %s::uuid[], %s, 1234, %s)",
        (export_id, item_ids, len(item_ids), "ab" * 32),
    )
