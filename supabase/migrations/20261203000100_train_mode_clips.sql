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

notify pgrst, 'reload schema';
