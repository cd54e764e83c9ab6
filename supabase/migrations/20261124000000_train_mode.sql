-- Train Mode schema for Supabase (PostgreSQL 15+). Documented in docs/supabase-schema.md.
--
-- Apply with the Supabase CLI:   supabase db push
-- or with psql:                  psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -1 -f supabase/migrations/20261124000000_train_mode.sql
-- then run:                      python -m trainmode setup-supabase   (creates the private Storage bucket)
--
-- The bucket is created through the Storage API, not here, so this file also applies to a plain
-- PostgreSQL without the `storage` schema. It expects Supabase's roles (anon, authenticated,
-- service_role) and is idempotent: applying it twice changes nothing.
-- The embedded backend (trainmode/store/embedded_schema.sql) mirrors these tables and constraints.

create table if not exists public.artists (
    id          uuid primary key default gen_random_uuid(),
    name        text not null unique check (btrim(name) <> ''),
    created_at  timestamptz not null default now()
);

create table if not exists public.artist_profiles (
    id             uuid primary key default gen_random_uuid(),
    artist_id      uuid not null unique references public.artists (id) on delete cascade,
    master_schema  jsonb not null default '{}'::jsonb,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

create table if not exists public.als_summaries (
    id            uuid primary key default gen_random_uuid(),
    artist_id     uuid not null references public.artists (id) on delete cascade,
    parse_id      text not null,
    als_filename  text not null,
    summary       jsonb not null,
    created_at    timestamptz not null default now(),
    constraint als_summaries_artist_parse_key unique (artist_id, parse_id)
);

create table if not exists public.exports (
    id            uuid primary key default gen_random_uuid(),
    artist_id     uuid not null references public.artists (id) on delete cascade,
    zip_path      text not null,
    item_count    integer not null default 0 check (item_count >= 0),
    bytes         bigint not null default 0 check (bytes >= 0),
    sha256        text,
    status        text not null check (status in ('building', 'complete', 'failed')),
    error         text,
    created_at    timestamptz not null default now(),
    completed_at  timestamptz
);

create table if not exists public.training_items (
    id                uuid primary key default gen_random_uuid(),
    artist_id         uuid not null references public.artists (id) on delete cascade,
    als_summary_id    uuid not null references public.als_summaries (id),
    parse_id          text not null,
    audio_path        text not null,
    prompt_path       text not null,
    prompt_text       text not null check (btrim(prompt_text, E' \t\r\n') <> ''),
    status            text not null default 'ready' check (status in ('ready', 'exported')),
    prompt_model      text,
    prompt_version    text,
    prompt_writer     text,
    prompt_edited     boolean not null default false,
    provenance        jsonb not null default '{}'::jsonb,
    findings          jsonb not null default '[]'::jsonb,
    metadata          jsonb not null default '{}'::jsonb,
    audio_sha256      text not null,
    audio_duration_s  double precision,
    audio_bytes       bigint,
    audio_filename    text,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    exported_at       timestamptz,
    export_id         uuid references public.exports (id),
    constraint training_items_artist_audio_key unique (artist_id, audio_sha256),
    constraint training_items_exported_has_export check (status <> 'exported' or export_id is not null)
);

-- Indexes for the queries the app makes (see trainmode/store/supabase_store.py).
create index if not exists training_items_artist_status_idx
    on public.training_items (artist_id, status, created_at, id);
create index if not exists training_items_als_summary_idx on public.training_items (als_summary_id);
create index if not exists training_items_export_idx
    on public.training_items (export_id) where export_id is not null;
create index if not exists als_summaries_artist_idx
    on public.als_summaries (artist_id, als_filename, parse_id);
create index if not exists exports_artist_created_idx on public.exports (artist_id, created_at desc);
-- At most one running export per artist: a concurrent second one fails here (-> "busy").
create unique index if not exists exports_one_building_idx
    on public.exports (artist_id) where status = 'building';

-- updated_at follows every UPDATE, whoever makes it.
create or replace function public.train_mode_touch_updated_at()
returns trigger language plpgsql set search_path = '' as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create or replace trigger training_items_touch_updated_at
    before update on public.training_items
    for each row execute function public.train_mode_touch_updated_at();
create or replace trigger artist_profiles_touch_updated_at
    before update on public.artist_profiles
    for each row execute function public.train_mode_touch_updated_at();

-- Every artist has exactly one profile, created with it.
create or replace function public.train_mode_create_profile()
returns trigger language plpgsql set search_path = '' as $$
begin
    insert into public.artist_profiles (artist_id) values (new.id)
    on conflict (artist_id) do nothing;
    return new;
end;
$$;

create or replace trigger artists_create_profile
    after insert on public.artists
    for each row execute function public.train_mode_create_profile();

-- Start an export: a 'building' export older than p_stale_after_s is presumed crashed and marked
-- failed; another one still running raises SQLSTATE TMBSY (the app says "busy").
create or replace function public.train_mode_begin_export(
    p_export_id uuid, p_artist_id uuid, p_zip_path text, p_stale_after_s double precision default 3600)
returns public.exports language plpgsql set search_path = '' as $$
declare
    v_row public.exports;
    v_constraint text;
begin
    update public.exports
       set status = 'failed', error = 'abandoned (stale)', completed_at = now()
     where artist_id = p_artist_id and status = 'building'
       and created_at < now() - make_interval(secs => p_stale_after_s);
    begin
        insert into public.exports (id, artist_id, zip_path, status)
        values (coalesce(p_export_id, gen_random_uuid()), p_artist_id, p_zip_path, 'building')
        returning * into v_row;
    exception when unique_violation then
        get stacked diagnostics v_constraint = constraint_name;
        if v_constraint = 'exports_one_building_idx' then
            raise exception 'An export of this artist is already running; wait for it to finish.'
                using errcode = 'TMBSY';
        end if;
        raise;
    end;
    return v_row;
end;
$$;

-- Finish an export in one transaction: the export becomes 'complete' and every listed item
-- 'exported'. If the export is not running (TMNRN) or any item is not a 'ready' item of the
-- export's artist (TMITM), it raises and nothing changes.
create or replace function public.train_mode_complete_export(
    p_export_id uuid, p_item_ids uuid[], p_item_count integer, p_bytes bigint, p_sha256 text)
returns public.exports language plpgsql set search_path = '' as $$
declare
    v_export public.exports;
    v_updated integer;
begin
    select * into v_export from public.exports where id = p_export_id for update;
    if not found or v_export.status <> 'building' then
        raise exception 'This export is no longer running; start it again.' using errcode = 'TMNRN';
    end if;
    update public.training_items
       set status = 'exported', exported_at = now(), export_id = p_export_id
     where id = any (p_item_ids) and artist_id = v_export.artist_id and status = 'ready';
    get diagnostics v_updated = row_count;
    if v_updated <> coalesce(cardinality(p_item_ids), 0) then
        raise exception 'An item changed while the export ran; nothing was marked exported. Export again.'
            using errcode = 'TMITM';
    end if;
    update public.exports
       set status = 'complete', item_count = p_item_count, bytes = p_bytes, sha256 = p_sha256,
           completed_at = now()
     where id = p_export_id
    returning * into v_export;
    return v_export;
end;
$$;

-- Row Level Security on, and no policy: anon/authenticated see and change nothing. The app talks
-- to PostgREST server-side with the service-role key, which bypasses RLS.
alter table public.artists enable row level security;
alter table public.artist_profiles enable row level security;
alter table public.als_summaries enable row level security;
alter table public.exports enable row level security;
alter table public.training_items enable row level security;

-- Functions are executable by PUBLIC by default (and Supabase grants anon/authenticated too):
-- only the service role may call them.
revoke execute on function public.train_mode_begin_export(uuid, uuid, text, double precision)
    from public, anon, authenticated;
revoke execute on function public.train_mode_complete_export(uuid, uuid[], integer, bigint, text)
    from public, anon, authenticated;
revoke execute on function public.train_mode_touch_updated_at() from public, anon, authenticated;
revoke execute on function public.train_mode_create_profile() from public, anon, authenticated;
grant execute on function public.train_mode_begin_export(uuid, uuid, text, double precision) to service_role;
grant execute on function public.train_mode_complete_export(uuid, uuid[], integer, bigint, text) to service_role;

-- Let PostgREST see the new tables and functions now (harmless on a plain PostgreSQL).
notify pgrst, 'reload schema';
