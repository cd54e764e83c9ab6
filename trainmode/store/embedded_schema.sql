-- The embedded (SQLite) twin of supabase/migrations/*_train_mode.sql:
-- same tables, columns and constraints; jsonb is TEXT holding JSON, uuid is TEXT.
CREATE TABLE IF NOT EXISTS artists (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS artist_profiles (
    id             TEXT PRIMARY KEY,
    artist_id      TEXT NOT NULL UNIQUE REFERENCES artists(id) ON DELETE CASCADE,
    master_schema  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(master_schema)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS als_summaries (
    id            TEXT PRIMARY KEY,
    artist_id     TEXT NOT NULL REFERENCES artists(id) ON DELETE CASCADE,
    parse_id      TEXT NOT NULL,
    als_filename  TEXT NOT NULL,
    summary       TEXT NOT NULL CHECK (json_valid(summary)),
    created_at    TEXT NOT NULL,
    UNIQUE (artist_id, parse_id)
);
CREATE TABLE IF NOT EXISTS exports (
    id            TEXT PRIMARY KEY,
    artist_id     TEXT NOT NULL REFERENCES artists(id) ON DELETE CASCADE,
    zip_path      TEXT NOT NULL,
    item_count    INTEGER NOT NULL DEFAULT 0 CHECK (item_count >= 0),
    bytes         INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    sha256        TEXT,
    status        TEXT NOT NULL CHECK (status IN ('building', 'complete', 'failed')),
    error         TEXT,
    created_at    TEXT NOT NULL,
    completed_at  TEXT,
    lease_owner   TEXT,
    heartbeat_at  TEXT,
    created_by    TEXT,
    format        TEXT,
    clips         TEXT CHECK (clips IN ('none', 'sections', 'windows')),
    window_s      REAL CHECK (window_s > 0),
    split         REAL CHECK (split > 0 AND split <= 1),
    row_count     INTEGER CHECK (row_count >= 0),
    valid_count   INTEGER CHECK (valid_count >= 0)
);
CREATE TABLE IF NOT EXISTS training_items (
    id               TEXT PRIMARY KEY,
    artist_id        TEXT NOT NULL REFERENCES artists(id) ON DELETE CASCADE,
    als_summary_id   TEXT NOT NULL REFERENCES als_summaries(id),
    parse_id         TEXT NOT NULL,
    audio_path       TEXT NOT NULL,
    prompt_path      TEXT NOT NULL,
    prompt_text      TEXT NOT NULL CHECK (length(trim(prompt_text)) > 0),
    status           TEXT NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'exported')),
    prompt_model     TEXT,
    prompt_version   TEXT,
    prompt_writer    TEXT,
    prompt_edited    INTEGER NOT NULL DEFAULT 0,
    provenance       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(provenance)),
    findings         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(findings)),
    metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    audio_sha256     TEXT NOT NULL,
    audio_duration_s REAL,
    audio_bytes      INTEGER,
    audio_filename   TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    exported_at      TEXT,
    export_id        TEXT REFERENCES exports(id),
    created_by       TEXT,
    UNIQUE (artist_id, audio_sha256),
    CHECK (status <> 'exported' OR export_id IS NOT NULL)
);
-- 20261201000300_train_mode_daily.sql: the Train queue's draft per artist.
CREATE TABLE IF NOT EXISTS queue_drafts (
    artist_id   TEXT PRIMARY KEY REFERENCES artists(id) ON DELETE CASCADE,
    draft       TEXT NOT NULL CHECK (json_valid(draft)),
    created_by  TEXT,
    updated_at  TEXT NOT NULL
);
-- 20261203000100_train_mode_clips.sql: an item's section clips and their captions.
CREATE TABLE IF NOT EXISTS training_clips (
    id          TEXT PRIMARY KEY,
    item_id     TEXT NOT NULL REFERENCES training_items(id) ON DELETE CASCADE,
    mode        TEXT NOT NULL DEFAULT 'sections' CHECK (mode IN ('sections', 'windows')),
    position    INTEGER NOT NULL CHECK (position >= 1),
    section     TEXT NOT NULL DEFAULT '',
    start_s     REAL NOT NULL CHECK (start_s >= 0),
    end_s       REAL NOT NULL,
    caption     TEXT NOT NULL CHECK (length(trim(caption)) > 0),
    variants    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(variants)),
    findings    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(findings)),
    edited      INTEGER NOT NULL DEFAULT 0,
    dropped     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    UNIQUE (item_id, mode, position),
    CHECK (end_s > start_s)
);
CREATE INDEX IF NOT EXISTS training_clips_item_idx ON training_clips (item_id, mode, position);
CREATE INDEX IF NOT EXISTS training_items_artist_status_idx ON training_items (artist_id, status, created_at);
CREATE INDEX IF NOT EXISTS als_summaries_artist_idx ON als_summaries (artist_id, als_filename);
CREATE INDEX IF NOT EXISTS exports_artist_idx ON exports (artist_id, created_at DESC);
-- At most one running export per artist: the second one is told it is busy.
CREATE UNIQUE INDEX IF NOT EXISTS exports_one_building_idx ON exports (artist_id) WHERE status = 'building';
-- supabase/migrations/20261204000000_train_mode_set_rows.sql adds a function, no table: the embedded
-- backend reads the same set facts with json_extract (trainmode/store/set_rows.py).
