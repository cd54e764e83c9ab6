"""`python -m trainmode check-supabase`: is this Supabase project ready for Train Mode?

Read-only, in order, stopping at the first failure: the settings, the URL and key, every table
and column of the migrations, grants and Row Level Security (read through the migration's
`train_mode_schema_report()` function, since PostgREST cannot see the catalog), the export
functions, the private bucket, and a signed URL that round-trips. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trainmode.config import Settings
from trainmode.errors import ConfigError, StoreError, TrainModeError
from trainmode.store.supabase.errors import APPLY_COMMANDS, SETUP_COMMAND
from trainmode.store.supabase.store import SupabaseStore

# Every column of every table, as the migrations create them (tests/test_migration_pg.py checks).
COLUMNS = {
    "artists": ["id", "name", "created_at"],
    "artist_profiles": ["id", "artist_id", "master_schema", "created_at", "updated_at"],
    "als_summaries": ["id", "artist_id", "parse_id", "als_filename", "summary", "created_at"],
    "exports": [
        "id",
        "artist_id",
        "zip_path",
        "item_count",
        "bytes",
        "sha256",
        "status",
        "error",
        "created_at",
        "completed_at",
        "lease_owner",
        "heartbeat_at",
        "created_by",
        "format",
        "clips",
        "window_s",
        "split",
        "row_count",
        "valid_count",
    ],
    "training_items": [
        "id",
        "artist_id",
        "als_summary_id",
        "parse_id",
        "audio_path",
        "prompt_path",
        "prompt_text",
        "status",
        "prompt_model",
        "prompt_version",
        "prompt_writer",
        "prompt_edited",
        "provenance",
        "findings",
        "metadata",
        "audio_sha256",
        "audio_duration_s",
        "audio_bytes",
        "audio_filename",
        "created_at",
        "updated_at",
        "exported_at",
        "export_id",
        "created_by",
    ],
    "queue_drafts": ["artist_id", "draft", "created_by", "updated_at"],
    "training_clips": [
        "id",
        "item_id",
        "mode",
        "position",
        "section",
        "start_s",
        "end_s",
        "caption",
        "variants",
        "findings",
        "edited",
        "dropped",
        "created_at",
    ],
}
# The functions the store calls, as the migrations define them (name -> signature), for the schema report.
FUNCTIONS = {
    "train_mode_begin_export": "public.train_mode_begin_export(uuid, uuid, text, text, double precision, uuid)",
    "train_mode_heartbeat_export": "public.train_mode_heartbeat_export(uuid)",
    "train_mode_complete_export": "public.train_mode_complete_export(uuid, uuid[], integer, bigint, text)",
    "train_mode_set_rows": "public.train_mode_set_rows(uuid)",
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def check_supabase(settings: Settings) -> list[Check]:
    """The checks run, in order; if one failed it is the last one."""
    try:
        store = SupabaseStore.from_settings(settings)
    except ConfigError as exc:
        return [Check("settings", False, str(exc))]
    checks = [Check("settings", True, store.describe())]
    try:
        for name, probe in STEPS:
            try:
                checks.append(Check(name, True, probe(store)))
            except TrainModeError as exc:
                checks.append(Check(name, False, str(exc)))
                break
    finally:
        store.close()
    return checks


def _connection(store: SupabaseStore) -> str:
    with store.translate("connecting"):
        store.storage.list_buckets()  # Storage verifies the key's signature
    return "the project answers and accepts the service-role key"


def _tables(store: SupabaseStore) -> str:
    for table, columns in COLUMNS.items():
        with store.translate(f"reading the table {table}"):
            store.rest.table(table).select(",".join(columns)).limit(1).execute()
    return f"{len(COLUMNS)} tables with all their columns"


def _report(store: SupabaseStore) -> dict:
    with store.translate("reading the schema report"):
        report = (
            store.rest.rpc(
                "train_mode_schema_report", {"p_tables": list(COLUMNS), "p_functions": list(FUNCTIONS.values())}
            )
            .execute()
            .data
        )
    if not isinstance(report, dict):
        raise StoreError("Supabase answered the schema report with something unexpected.")
    return report


def _grants(store: SupabaseStore) -> str:
    tables = _report(store).get("tables") or {}
    problems = [
        f"{table}: service_role lacks select/insert/update/delete"
        for table in COLUMNS
        if not (tables.get(table) or {}).get("service_role")
    ]
    problems += [
        f"{table}: anon or authenticated has privileges"
        for table in COLUMNS
        if (tables.get(table) or {}).get("public_roles")
    ]
    if problems:
        raise ConfigError(f"{'; '.join(problems)}: apply the migrations ({APPLY_COMMANDS}).")
    return "service_role may select, insert, update and delete; anon and authenticated may not"


def _rls(store: SupabaseStore) -> str:
    tables = _report(store).get("tables") or {}
    off = [table for table in COLUMNS if not (tables.get(table) or {}).get("rls")]
    if off:
        raise ConfigError(f"Row Level Security is off on {', '.join(off)}: apply the migrations ({APPLY_COMMANDS}).")
    return "on for every table"


def _functions(store: SupabaseStore) -> str:
    functions = _report(store).get("functions") or {}
    problems = []
    for name in FUNCTIONS:
        state = functions.get(name) or {}
        if not state.get("exists"):
            problems.append(f"{name} is missing")
        elif not state.get("service_role") or state.get("public_roles"):
            problems.append(f"{name} is not executable by service_role only")
    if problems:
        raise ConfigError(f"{'; '.join(problems)}: apply the migrations ({APPLY_COMMANDS}).")
    return "the three export functions and train_mode_set_rows, executable by service_role only"


def _bucket(store: SupabaseStore) -> str:
    with store.translate(f"reading the bucket {store.bucket}"):
        bucket = store.get_bucket()
    if bucket is None:
        raise ConfigError(f"The Storage bucket '{store.bucket}' does not exist; run `{SETUP_COMMAND}`.")
    if bucket.public:
        raise ConfigError(f"The Storage bucket '{store.bucket}' is public; run `{SETUP_COMMAND}` to make it private.")
    return f"'{store.bucket}' exists and is private"


def _signed_url(store: SupabaseStore) -> str:
    with store.translate(f"listing the bucket {store.bucket}"):
        path = _first_object(store, "")
    if path is None:
        return "skipped: the bucket has no file to sign yet"
    store.check_signed_url(path)
    return f"a signed link to {path} returns the file"


def _first_object(store: SupabaseStore, prefix: str, depth: int = 0) -> str | None:
    """The first file in the bucket, looking a few folders deep (list() returns folders too)."""
    for entry in store.files.list(prefix or None, {"limit": 20}):
        path = f"{prefix}/{entry['name']}" if prefix else entry["name"]
        if entry.get("id"):
            return path
        if depth < 5:
            found = _first_object(store, path, depth + 1)
            if found:
                return found
    return None


STEPS: list[tuple[str, Callable[[SupabaseStore], str]]] = [
    ("connection", _connection),
    ("tables", _tables),
    ("grants", _grants),
    ("row level security", _rls),
    ("functions", _functions),
    ("bucket", _bucket),
    ("signed URL", _signed_url),
]
