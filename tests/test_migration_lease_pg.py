"""The export lease migration (20261202000000_train_mode_export_lease.sql) on a real PostgreSQL,
applied as Supabase applies it (see tests/test_migration_pg.py, whose fixtures these tests share)."""

from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")
from pg_supabase import SERVER, begin, connect_as, heartbeat, new_artist, one, supabase_database  # noqa: E402

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def roles():
    """One database for these tests: `db` as its owner `postgres` (to age heartbeats and read what
    the functions did), `api` as `service_role` (as PostgREST runs the app's RPC calls)."""
    with (
        supabase_database("no-default-privileges") as name,
        connect_as(name, "service_role") as api,
        psycopg.connect(f"{SERVER} user=postgres dbname={name}", autocommit=True) as db,
    ):
        yield db, api


def test_the_lease_follows_the_heartbeat_not_the_age(roles):
    """An export older than the lease but with a fresh heartbeat is running; a silent one is not."""
    db, api = roles
    artist_id = new_artist(db)
    first = begin(api, artist_id)
    assert one(db, "select lease_owner from exports where id = %s", first) == f"owner-{first}"
    db.execute(
        "update exports set created_at = now() - interval '2 hours', "
        "heartbeat_at = now() - interval '1 minute' where id = %s",
        (first,),
    )
    assert heartbeat(api, first) is True  # renewed just in time
    with pytest.raises(psycopg.Error) as raised:
        begin(api, artist_id)
    assert raised.value.sqlstate == "TMBSY"
    db.execute("update exports set heartbeat_at = now() - interval '31 seconds' where id = %s", (first,))
    second = begin(api, artist_id)  # 30 s lease: taken over at once
    assert (
        one(db, "select status || ': ' || error from exports where id = %s", first)
        == "failed: taken over: heartbeat stopped"
    )
    assert heartbeat(api, first) is False  # the old holder learns it lost the lease
    assert heartbeat(api, second) is True


def test_a_holder_the_app_found_dead_is_taken_over_at_once(roles):
    db, api = roles
    artist_id = new_artist(db)
    alive = begin(api, artist_id)
    other = begin(api, new_artist(db))
    with pytest.raises(psycopg.Error) as raised:  # naming another artist's export frees nothing here
        begin(api, artist_id, dead_export=other)
    assert raised.value.sqlstate == "TMBSY"
    taken = begin(api, artist_id, dead_export=alive)
    assert (
        one(db, "select status || ': ' || error from exports where id = %s", alive) == "failed: taken over: holder died"
    )
    assert one(db, "select status from exports where id = %s", taken) == "building"
    assert one(db, "select status from exports where id = %s", other) == "building"


def test_the_flag_version_of_begin_export_is_gone(roles):
    old = "public.train_mode_begin_export(uuid, uuid, text, double precision)"
    assert one(roles[0], "select to_regprocedure(%s)", old) is None
