"""20261203000100_train_mode_clips.sql on a real PostgreSQL 15, as Supabase applies it: the
statements SupabaseStore makes on training_clips, run as service_role."""

from __future__ import annotations

import uuid

import pytest

psycopg = pytest.importorskip("psycopg")
from pg_supabase import DEFAULTS, connect_as, new_artist, new_item, new_summary, supabase_database  # noqa: E402

pytestmark = pytest.mark.postgres


@pytest.fixture(params=DEFAULTS)
def project(request):
    with supabase_database(request.param) as name:
        yield name


def test_the_service_role_replaces_clips_as_the_store_does(project):
    """SupabaseStore.save_clips: one upsert on (item_id, mode, position), then the other positions go."""
    upsert = (
        "insert into public.training_clips (id, item_id, mode, position, section, start_s, end_s, caption) "
        "values (%s, %s, 'sections', %s, %s, %s, %s, 'A clip.') on conflict (item_id, mode, position) "
        "do update set id = excluded.id, section = excluded.section, start_s = excluded.start_s, "
        "end_s = excluded.end_s, caption = excluded.caption"
    )
    with connect_as(project, "service_role") as api:
        artist_id = new_artist(api)
        item = new_item(api, artist_id, new_summary(api, artist_id))
        for position, section, start in [(1, "Intro", 0.0), (2, "Drop", 15.5), (3, "Outro", 31.0)]:
            api.execute(upsert, (str(uuid.uuid4()), item, position, section, start, start + 15.5))
        for position, section, start in [(1, "Intro", 0.0), (2, "Break", 20.0)]:  # saved again, fewer
            api.execute(upsert, (str(uuid.uuid4()), item, position, section, start, start + 15.5))
        api.execute(
            "delete from public.training_clips where item_id = %s and mode = 'sections' and not (position = any(%s))",
            (item, [1, 2]),
        )
        rows = api.execute(
            "select position, section, start_s from public.training_clips where item_id = %s order by position", (item,)
        ).fetchall()
        assert rows == [(1, "Intro", 0.0), (2, "Break", 20.0)]
