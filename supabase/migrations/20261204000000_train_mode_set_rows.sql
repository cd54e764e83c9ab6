-- Train Mode: the Library's view of an artist's sets in one compact answer (issue 20). Documented
-- in docs/supabase-schema.md.
--
-- Apply after the earlier migrations (`supabase db push` applies every file in order), or with the
-- psql command in docs/supabase-schema.md.
--
-- Why: the Library filters and charts every set of an artist on each rerun, from a few facts per
-- set (trainmode/store/set_rows.py). Read as PostgREST JSON paths they are ~900 bytes a set (1.9 MB
-- for 2,000 sets, read again after every import): each row repeats its column names, the
-- instruments carry their seconds and every set spells out its plugin and device names. This
-- function answers with one array per set, instrument families only, and the plugin and device
-- names once per artist (each set lists their positions in `names`): ~300 bytes a set. The Train
-- page pairs uploads from the same rows, and pairing offers the newest of two imports of one set
-- first, so each set's array ends with its created_at.
--
--   {"names": ["Auto Filter", "Compressor", ...],
--    "sets": [[id, parse_id, als_filename, schema_version, dominant_bpm, time_signature, key name,
--              key confidence, length seconds, midi tracks, audio tracks, live_version,
--              [instrument families], [plugin positions], [device positions], created_at], ...]}
--
-- Sets are in als_filename, parse_id order. Idempotent: applying it twice changes nothing.

create or replace function public.train_mode_set_rows(p_artist_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
    with sets as (
        select s.id, s.parse_id, s.als_filename, s.summary, s.created_at,
               case when jsonb_typeof(s.summary -> 'plugins') = 'array' then s.summary -> 'plugins'
                    else '[]'::jsonb end as plugins,
               case when jsonb_typeof(s.summary -> 'devices') = 'array' then s.summary -> 'devices'
                    else '[]'::jsonb end as devices
        from public.als_summaries as s
        where s.artist_id = p_artist_id
    ),
    names as (
        select name, (row_number() over (order by name) - 1)::integer as position
        from (select distinct t.name
              from sets, jsonb_array_elements_text(sets.plugins || sets.devices) as t(name)) as distinct_names
    )
    select jsonb_build_object(
        'names', coalesce((select jsonb_agg(n.name order by n.position) from names as n), '[]'::jsonb),
        'sets', coalesce(jsonb_agg(jsonb_build_array(
            s.id, s.parse_id, s.als_filename, s.summary -> 'schema_version',
            s.summary -> 'tempo' -> 'dominant_bpm', s.summary -> 'time_signature',
            s.summary -> 'key' -> 'name', s.summary -> 'key' -> 'confidence', s.summary -> 'length' -> 'seconds',
            s.summary -> 'track_counts' -> 'midi', s.summary -> 'track_counts' -> 'audio', s.summary -> 'live_version',
            jsonb_path_query_array(s.summary, '$.instruments[*].family'),
            (select coalesce(jsonb_agg(n.position order by t.ord), '[]'::jsonb)
             from jsonb_array_elements_text(s.plugins) with ordinality as t(name, ord) join names as n using (name)),
            (select coalesce(jsonb_agg(n.position order by t.ord), '[]'::jsonb)
             from jsonb_array_elements_text(s.devices) with ordinality as t(name, ord) join names as n using (name)),
            s.created_at
        ) order by s.als_filename, s.parse_id), '[]'::jsonb))
    from sets as s;
$$;

revoke all on function public.train_mode_set_rows(uuid) from public, anon, authenticated;
grant execute on function public.train_mode_set_rows(uuid) to service_role;

notify pgrst, 'reload schema';
