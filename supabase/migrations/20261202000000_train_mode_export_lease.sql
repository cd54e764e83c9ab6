-- Train Mode: export leases. Documented in docs/supabase-schema.md ("Export leases").
--
-- Apply after the earlier migrations (`supabase db push` applies every file in order), or:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -1 -f supabase/migrations/20261124000000_train_mode.sql -f supabase/migrations/20261201000000_train_mode_grants.sql -f supabase/migrations/20261202000000_train_mode_export_lease.sql
--
-- Why: a 'building' export was a flag. An export killed hard (SIGKILL, a closed laptop) left the
-- artist "busy" for an hour. Now a running export is a lease: `lease_owner` names the process
-- (host, pid, start time, random token) and `heartbeat_at` is renewed every few seconds. A new
-- export takes the lease over at once when its heartbeat is older than p_lease_s (30 s), or when
-- the app found its holder dead (same host, process gone: p_dead_export), and records why in
-- the old row's `error`. Idempotent: applying it twice changes nothing.

alter table public.exports add column if not exists lease_owner text;
alter table public.exports add column if not exists heartbeat_at timestamptz;

-- The flag version (created by 20261124000000_train_mode.sql) is replaced by the lease version.
drop function if exists public.train_mode_begin_export(uuid, uuid, text, double precision);

create or replace function public.train_mode_begin_export(
    p_export_id uuid, p_artist_id uuid, p_zip_path text, p_owner text,
    p_lease_s double precision default 30, p_dead_export uuid default null)
returns public.exports language plpgsql set search_path = '' as $$
declare
    v_row public.exports;
    v_constraint text;
begin
    update public.exports
       set status = 'failed', completed_at = now(),
           error = case when id = p_dead_export then 'taken over: holder died'
                        else 'taken over: heartbeat stopped' end
     where artist_id = p_artist_id and status = 'building'
       and (id = p_dead_export
            or coalesce(heartbeat_at, created_at) < now() - make_interval(secs => p_lease_s));
    begin
        insert into public.exports (id, artist_id, zip_path, status, lease_owner, heartbeat_at)
        values (coalesce(p_export_id, gen_random_uuid()), p_artist_id, p_zip_path, 'building', p_owner, now())
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

-- Renew a running export's lease; false once it is no longer running (taken over or finished).
create or replace function public.train_mode_heartbeat_export(p_export_id uuid)
returns boolean language plpgsql set search_path = '' as $$
begin
    update public.exports set heartbeat_at = now() where id = p_export_id and status = 'building';
    return found;
end;
$$;

revoke all on function public.train_mode_begin_export(uuid, uuid, text, text, double precision, uuid)
    from public, anon, authenticated;
revoke all on function public.train_mode_heartbeat_export(uuid) from public, anon, authenticated;
grant execute on function public.train_mode_begin_export(uuid, uuid, text, text, double precision, uuid)
    to service_role;
grant execute on function public.train_mode_heartbeat_export(uuid) to service_role;

notify pgrst, 'reload schema';
