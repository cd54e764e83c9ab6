-- Train Mode: section clips, the children of a training item (issue 16). Documented in docs/supabase-schema.md.
--
-- Apply after the earlier migrations (`supabase db push` applies every file in order), or with the
-- psql command in docs/supabase-schema.md.
--
-- Why: a render is cut at its Live set's arrangement sections (or in windows inside them) and every
-- clip gets its own caption, written from what plays in that section (docs/clips.md). The reviewed
-- captions are kept here, one row per clip of an item and clip mode; `dropped` marks a clip the user
-- left out of the dataset. Deleting the item deletes its clips.
-- Idempotent: applying it twice changes nothing.

create table if not exists public.training_clips (
    id          uuid primary key default gen_random_uuid(),
    item_id     uuid not null references public.training_items (id) on delete cascade,
    mode        text not null default 'sections' check (mode in ('sections', 'windows')),
    position    integer not null check (position >= 1),
    section     text not null default '',
    start_s     double precision not null check (start_s >= 0),
    end_s       double precision not null,
    caption     text not null check (btrim(caption, E' \t\r\n') <> ''),
    variants    jsonb not null default '{}'::jsonb,
    findings    jsonb not null default '[]'::jsonb,
    edited      boolean not null default false,
    dropped     boolean not null default false,
    created_at  timestamptz not null default now(),
    constraint training_clips_item_mode_position_key unique (item_id, mode, position),
    constraint training_clips_span_check check (end_s > start_s)
);

create index if not exists training_clips_item_idx on public.training_clips (item_id, mode, position);

alter table public.training_clips enable row level security;
grant select, insert, update, delete on table public.training_clips to service_role;
revoke all on table public.training_clips from public, anon, authenticated;

-- check-supabase reads RLS and privileges through this report: it now covers the clips too.
create or replace function public.train_mode_schema_report()
returns jsonb language sql stable set search_path = '' as $$
    select jsonb_build_object(
        'tables', (select coalesce(jsonb_object_agg(c.relname, jsonb_build_object(
                'rls', c.relrowsecurity,
                'service_role', has_table_privilege('service_role', c.oid, 'select')
                                and has_table_privilege('service_role', c.oid, 'insert')
                                and has_table_privilege('service_role', c.oid, 'update')
                                and has_table_privilege('service_role', c.oid, 'delete'),
                'public_roles', has_table_privilege('anon', c.oid, 'select, insert, update, delete')
                                or has_table_privilege('authenticated', c.oid, 'select, insert, update, delete'))),
                '{}'::jsonb)
            from pg_catalog.pg_class c
            where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
              and c.relname in ('artists', 'artist_profiles', 'als_summaries', 'exports', 'training_items', 'training_clips')),
        'functions', (select jsonb_object_agg(f.name, jsonb_build_object(
                'exists', f.oid is not null,
                'service_role', f.oid is not null and has_function_privilege('service_role', f.oid, 'execute'),
                'public_roles', f.oid is not null and (has_function_privilege('anon', f.oid, 'execute')
                                or has_function_privilege('authenticated', f.oid, 'execute'))))
            from (values
                ('train_mode_begin_export',
                 to_regprocedure('public.train_mode_begin_export(uuid, uuid, text, text, double precision, uuid)')),
                ('train_mode_heartbeat_export', to_regprocedure('public.train_mode_heartbeat_export(uuid)')),
                ('train_mode_complete_export', to_regprocedure('public.train_mode_complete_export(uuid, uuid[], integer, bigint, text)'))
            ) as f (name, oid)));
$$;

notify pgrst, 'reload schema';
