"""`python -m trainmode setup-supabase`: check the migration is applied and make sure the
private Storage bucket exists with Train Mode's limits. Safe to run again at any time.

Tables and functions come from the SQL migration (which the Supabase CLI or psql applies);
the bucket is made here, through the Storage API, so the migration also runs on a plain
PostgreSQL that has no `storage` schema.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from storage3.exceptions import StorageApiError

from trainmode.config import Settings
from trainmode.store.supabase.errors import bucket_limit_error
from trainmode.store.supabase.store import SupabaseStore, mb

ALLOWED_MIME_TYPES = ["audio/mpeg", "text/plain", "application/zip", "application/json"]
DEFAULT_FILE_SIZE_LIMIT = 50 * 1024 * 1024  # the Free plan's global cap; a bucket cannot exceed it


def setup_supabase(
    settings: Settings, *, file_size_limit: int | None = None, echo: Callable[[str], object] = print
) -> list[str]:
    """Check the schema, create or fix the bucket; return (and echo) one line per step.

    Without `file_size_limit`, a new bucket gets DEFAULT_FILE_SIZE_LIMIT and an existing
    one keeps the limit it has (which may have been raised in the dashboard)."""
    done: list[str] = []

    def say(line: str) -> None:
        done.append(line)
        echo(line)

    store = SupabaseStore.from_settings(settings)
    try:
        store.check_schema()
        say("Schema: the Train Mode tables are in place.")
        with store.translate(f"reading the bucket {store.bucket}"):
            bucket = store.get_bucket()
        if file_size_limit is None:
            file_size_limit = (bucket and bucket.file_size_limit) or DEFAULT_FILE_SIZE_LIMIT
        wanted = {"public": False, "file_size_limit": int(file_size_limit), "allowed_mime_types": ALLOWED_MIME_TYPES}
        described = f"private, files up to {mb(int(file_size_limit))}, {', '.join(ALLOWED_MIME_TYPES)}"
        if bucket is None:
            with _bucket_change(store, "creating", wanted["file_size_limit"]):
                store.storage.create_bucket(store.bucket, options=wanted)
            say(f"Bucket '{store.bucket}': created ({described}).")
            return done
        changes = _differences(bucket, wanted)
        if changes:
            with _bucket_change(store, "updating", wanted["file_size_limit"]):
                store.storage.update_bucket(store.bucket, wanted)
            say(f"Bucket '{store.bucket}': updated ({'; '.join(changes)}).")
        else:
            say(f"Bucket '{store.bucket}': already set up ({described}).")
        return done
    finally:
        store.close()


@contextmanager
def _bucket_change(store: SupabaseStore, verb: str, limit: int):
    """Storage refuses a bucket limit above the project's global limit with EntityTooLarge
    (statusCode 413); that is the limit's fault, not a file's."""
    with store.translate(f"{verb} the bucket {store.bucket}"):
        try:
            yield
        except StorageApiError as exc:
            if str(exc.status) == "413":
                raise bucket_limit_error(limit) from None
            raise


def _differences(bucket, wanted: dict) -> list[str]:
    changes = []
    if bucket.public:
        changes.append("made private")
    if (bucket.file_size_limit or 0) != wanted["file_size_limit"]:
        old = mb(int(bucket.file_size_limit)) if bucket.file_size_limit else "no limit"
        changes.append(f"file size limit {old} -> {mb(wanted['file_size_limit'])}")
    if sorted(bucket.allowed_mime_types or []) != sorted(wanted["allowed_mime_types"]):
        changes.append(f"allowed types -> {', '.join(wanted['allowed_mime_types'])}")
    return changes
