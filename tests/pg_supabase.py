"""A PostgreSQL database set up the way Supabase sets up a project, for tests/test_migration_pg.py.

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
