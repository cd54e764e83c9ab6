"""What a Supabase answer must look like before the store uses it.

A SUPABASE_URL that points at something else (a web page, a proxy's login form, another JSON
API) answers 200 with HTML or odd JSON; every shape the store reads is checked here, so such a
server is one clear StoreError, never a TypeError, KeyError or JSONDecodeError.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from trainmode.errors import StoreError
from trainmode.store.base import BlobInfo


def not_supabase(host: str, what: str, got: object = None) -> StoreError:
    shape = "" if got is None else f" (got {_shape(got)})"
    return StoreError(
        f"The server at {host} did not answer like Supabase while {what}{shape}; "
        f"check that SUPABASE_URL is the project URL (https://<project>.supabase.co)."
    )


UUID_COLUMNS = {"id", "artist_id", "als_summary_id", "export_id"}


def is_uuid(value: str) -> bool:
    try:
        UUID(str(value))
        return True
    except ValueError:
        return False


def valid_ids(filters: dict) -> bool:
    """False if a uuid column is compared with a non-uuid: no row can match, and PostgreSQL
    would answer with an error (22P02) instead of nothing."""
    return all(is_uuid(v) for c, v in filters.items() if c in UUID_COLUMNS)


def _shape(value: object) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"an object with {', '.join(sorted(map(str, value))[:3]) or 'no keys'}"
    if isinstance(value, str):
        return "a web page" if value.lstrip()[:1] == "<" else "text"
    return type(value).__name__


def rows(data: object, host: str, what: str, *, required: tuple[str, ...] = ("id",)) -> list[dict]:
    """A list of row objects, each with the `required` columns."""
    if not isinstance(data, list) or not all(isinstance(r, dict) and all(c in r for c in required) for r in data):
        raise not_supabase(host, what, data)
    return data


def first(data: object, host: str, what: str, *, required: tuple[str, ...] = ("id",)) -> dict | None:
    """The first row of a list of rows, or None for an empty list."""
    found = rows(data, host, what, required=required)
    return found[0] if found else None


def row(data: object, host: str, what: str) -> dict:
    """One row: what an RPC returning a table row answers (an object, or a list of one)."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or "id" not in data:
        raise not_supabase(host, what, data)
    return data


def boolean(data: object, host: str, what: str) -> bool:
    if not isinstance(data, bool):
        raise not_supabase(host, what, data)
    return data


def field(data: object, key: str, host: str, what: str) -> str:
    """A string field of an object (e.g. a signed URL)."""
    if not isinstance(data, dict) or not isinstance(data.get(key), str):
        raise not_supabase(host, what, data)
    return data[key]


def list_objects(files, prefix: str, host: str, page: int = 1000) -> list[BlobInfo]:
    """Every object under `prefix` in a storage3 bucket (`files`), walking sub-folders: Storage's
    list answers one folder level, files with an id and sub-folders with id null."""
    found: list[BlobInfo] = []
    folders = [prefix.strip("/")]
    while folders:
        folder = folders.pop()
        offset = 0
        while True:
            entries = files.list(
                folder, {"limit": page, "offset": offset, "sortBy": {"column": "name", "order": "asc"}}
            )
            if not isinstance(entries, list) or not all(isinstance(e, dict) and "name" in e for e in entries):
                raise not_supabase(host, "listing stored files", entries)
            for entry in entries:
                path = f"{folder}/{entry['name']}" if folder else entry["name"]
                if entry.get("id") is None:
                    folders.append(path)
                else:
                    found.append(
                        BlobInfo(
                            path,
                            int((entry.get("metadata") or {}).get("size") or 0),
                            _when(entry.get("updated_at") or entry.get("created_at")),
                        )
                    )
            if len(entries) < page:
                break
            offset += page
    return sorted(found, key=lambda b: b.path)


def _when(value: object) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
