"""20261207000000_train_mode_export_details.sql on a real PostgreSQL 15, as Supabase applies it: what
an export holds on its row, written with plain updates as the service role (as PostgREST runs the
store's PATCH), an export made before the migration keeping nulls, and the embedded twin alike."""

from __future__ import annotations

import sqlite3

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
    new_artist,
    new_item,
    new_summary,
    one,
    supabase_database,
)

from trainmode.store.embedded import SCHEMA_SQL  # noqa: E402

pytestmark = pytest.mark.postgres
DETAILS = [m for m in MIGRATIONS if m.name == "20261207000000_train_mode_export_details.sql"]
BEFORE = [m for m in MIGRATIONS if m.name < "20261207000000"]
TYPES = {  # PostgreSQL's type -> the embedded twin's
    "format": ("text", "TEXT"),
    "clips": ("text", "TEXT"),
    "window_s": ("double precision", "REAL"),
    "split": ("double precision", "REAL"),
    "row_count": ("integer", "INTEGER"),
    "valid_count": ("integer", "INTEGER"),
}
PATCH = "update public.exports set {} where id = %s returning *"


@pytest.fixture(params=DEFAULTS)
def before(request):
    """A project on the migrations before this one, with a complete export; (db name, export id)."""
    with (
        supabase_database(request.param, BEFORE) as name,
        psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as db,
    ):
        artist = new_artist(db)
        export_id = begin(db, artist)
        complete(db, export_id, [new_item(db, artist, new_summary(db, artist))])
        yield name, export_id


def details(db, export_id) -> tuple:
    return db.execute(f"select {', '.join(TYPES)} from public.exports where id = %s", (export_id,)).fetchone()


def test_applied_twice_it_adds_the_columns_and_an_old_export_keeps_nulls(before):
    assert DETAILS, "supabase/migrations/20261207000000_train_mode_export_details.sql is missing"
    name, old = before
    with psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as db:
        row = db.execute("select * from public.exports where id = %s", (old,)).fetchone()
        apply_migrations(db, DETAILS)
        apply_migrations(db, DETAILS)  # idempotent
        typed = dict(
            db.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'public' and table_name = 'exports' and column_name = any(%s)",
                (list(TYPES),),
            ).fetchall()
        )
        assert typed == {column: pg for column, (pg, _) in TYPES.items()}
        assert details(db, old) == (None,) * len(TYPES)
        assert db.execute("select * from public.exports where id = %s", (old,)).fetchone() == row + (None,) * 6


def test_the_service_role_records_an_export_s_details_as_the_store_does(before):
    name, _ = before
    with psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as db:
        apply_migrations(db, DETAILS)
        artist = new_artist(db)
        item = new_item(db, artist, new_summary(db, artist))
    with connect_as(name, "service_role") as api:
        export_id = begin(api, artist)  # train_mode_begin_export, unchanged
        options = "format = 'audiocraft', clips = 'windows', window_s = 30, split = 0.9"
        assert api.execute(PATCH.format(options), (export_id,)).fetchall()
        api.execute(PATCH.format("row_count = 6, valid_count = 1"), (export_id,))
        complete(api, export_id, [item])  # train_mode_complete_export, unchanged
        assert details(api, export_id) == ("audiocraft", "windows", 30.0, 0.9, 6, 1)
        assert one(api, "select status from public.exports where id = %s", export_id) == "complete"


@pytest.mark.parametrize(
    "bad", ["clips = 'bars'", "window_s = 0", "split = 0", "split = 1.5", "row_count = -1", "valid_count = -1"]
)
def test_the_checks_refuse_what_no_export_holds(before, bad):
    name, old = before
    with psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as db:
        apply_migrations(db, DETAILS)
        with pytest.raises(psycopg.errors.CheckViolation):
            db.execute(PATCH.format(bad), (old,))


def test_the_embedded_twin_declares_the_same_columns():
    lite = sqlite3.connect(":memory:")
    lite.executescript(SCHEMA_SQL)
    declared = {r[1]: r[2] for r in lite.execute("pragma table_info(exports)")}
    assert {column: declared.get(column) for column in TYPES} == {c: lite_type for c, (_, lite_type) in TYPES.items()}
