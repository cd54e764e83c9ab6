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

-- What `python -m trainmode check-supabase` reads through PostgREST, which cannot see the catalog:
-- for the tables and functions it names (so a later migration adds a table without restating
-- this function), RLS and privileges per table, existence and callers per function. Read-only.
create or replace function public.train_mode_schema_report(p_tables text[], p_functions text[])
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
            where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and c.relname = any(p_tables)),
        -- keyed by name: 'public.f(uuid, text)' -> 'f'; a signature that does not resolve does not exist
        'functions', (select coalesce(jsonb_object_agg(
                regexp_replace(split_part(f.signature, '(', 1), '^public\.', ''), jsonb_build_object(
                'exists', f.oid is not null,
                'service_role', f.oid is not null and has_function_privilege('service_role', f.oid, 'execute'),
                'public_roles', f.oid is not null and (has_function_privilege('anon', f.oid, 'execute')
                                or has_function_privilege('authenticated', f.oid, 'execute')))), '{}'::jsonb)
            from (select signature, to_regprocedure(signature) as oid from unnest(p_functions) as signature) as f));
$$;
revoke all on function public.train_mode_schema_report(text[], text[]) from public, anon, authenticated;
grant execute on function public.train_mode_schema_report(text[], text[]) to service_role;

notify pgrst, 'reload schema';
