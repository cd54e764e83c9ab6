-- Train Mode: explicit privileges for the API roles. Documented in docs/supabase-schema.md.
--
-- Apply after 20261124000000_train_mode.sql (`supabase db push` applies every file in order), or:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -1 -f supabase/migrations/20261124000000_train_mode.sql -f supabase/migrations/20261201000000_train_mode_grants.sql
--
-- Why: Supabase projects created since mid-2026 no longer grant new `public` tables to the API
-- roles by default ("Default privileges for new entities" is off), so without these grants the
-- service role gets "permission denied for table artists". Older projects granted ALL on every new
-- table to anon and authenticated too (RLS kept them out); this revokes that, so the public keys
-- are refused by two locks instead of one. The tables use uuid keys: there is no sequence to grant.
-- Idempotent: applying it twice changes nothing.

grant usage on schema public to service_role;

grant select, insert, update, delete on table
    public.artists, public.artist_profiles, public.als_summaries, public.exports, public.training_items
    to service_role;
revoke all on table
    public.artists, public.artist_profiles, public.als_summaries, public.exports, public.training_items
    from public, anon, authenticated;

-- The export functions: the service role only (PUBLIC may execute any new function by default).
revoke all on function public.train_mode_begin_export(uuid, uuid, text, double precision)
    from public, anon, authenticated;
revoke all on function public.train_mode_complete_export(uuid, uuid[], integer, bigint, text)
    from public, anon, authenticated;
grant execute on function public.train_mode_begin_export(uuid, uuid, text, double precision) to service_role;
grant execute on function public.train_mode_complete_export(uuid, uuid[], integer, bigint, text) to service_role;

-- Trigger functions fire whoever writes the row; nobody needs to call them directly.
revoke all on function public.train_mode_touch_updated_at() from public, anon, authenticated, service_role;
revoke all on function public.train_mode_create_profile() from public, anon, authenticated, service_role;

notify pgrst, 'reload schema';
