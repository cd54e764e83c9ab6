-- Train Mode: what an export holds, on its row (issue 29). Documented in docs/supabase-schema.md
-- ("exports").
--
-- Apply after the earlier migrations (`supabase db push` applies every file in order), or with the
-- psql command in docs/supabase-schema.md.
--
-- Why: the Export page told past exports apart by reading each zip's directory, which only works
-- for a zip on this machine: on Supabase every past export showed "?" for its rows and split. Now
-- the export records its options when it begins (`format`, `clips`, `window_s`, `split`: the train
-- share asked for) and its counts before it completes (`row_count`: tracks or clips in the zip,
-- `valid_count`: those in the validation split). Exports made before this migration keep nulls,
-- and the page reads their zip instead. The export functions are unchanged: the app writes these
-- columns with a plain update of the row.
-- Idempotent: applying it twice changes nothing.

alter table public.exports add column if not exists format text;
alter table public.exports add column if not exists clips text check (clips in ('none', 'sections', 'windows'));
alter table public.exports add column if not exists window_s double precision check (window_s > 0);
alter table public.exports add column if not exists split double precision check (split > 0 and split <= 1);
alter table public.exports add column if not exists row_count integer check (row_count >= 0);
alter table public.exports add column if not exists valid_count integer check (valid_count >= 0);

notify pgrst, 'reload schema';
