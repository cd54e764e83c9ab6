-- Train Mode: who did what, and the Train queue's drafts. Documented in docs/supabase-schema.md.
--
-- Apply after the earlier migrations (`supabase db push` applies every file in order), or:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -1 -f supabase/migrations/20261124000000_train_mode.sql -f supabase/migrations/20261201000000_train_mode_grants.sql -f supabase/migrations/20261201000300_train_mode_daily.sql
--
-- Why: a team shares one library, so items and exports record the person who saved or exported
-- them (`created_by`: the Streamlit login's e-mail or name, a name set in the sidebar, or $USER
-- for the CLI; null for rows made before this migration). The Train queue is kept as a draft per
-- artist (`queue_drafts`), so a reload or a closed tab loses nothing; its MP3s are blobs under
-- drafts/<artist_id>/, drafts untouched for a week are swept by the app.
-- Idempotent: applying it twice changes nothing.

alter table public.training_items add column if not exists created_by text;
alter table public.exports add column if not exists created_by text;

create table if not exists public.queue_drafts (
    artist_id   uuid primary key references public.artists (id) on delete cascade,
    draft       jsonb not null,
    created_by  text,
    updated_at  timestamptz not null default now()
);

create index if not exists queue_drafts_updated_idx on public.queue_drafts (updated_at);

alter table public.queue_drafts enable row level security;
grant select, insert, update, delete on table public.queue_drafts to service_role;
revoke all on table public.queue_drafts from public, anon, authenticated;

notify pgrst, 'reload schema';
