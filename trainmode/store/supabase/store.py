"""The Supabase backend: rows through PostgREST, blobs in a private Storage bucket.

It runs server-side with the service-role key, through supabase-py's own sub-clients
(postgrest, storage3) sharing one httpx client. Uploads over 6 MB go through the resumable
(TUS) endpoint, downloads stream through a short-lived signed URL, and the multi-row steps
of an export are SQL functions (see supabase/migrations) so they happen in one transaction.
Every failure becomes one trainmode.errors exception; no message ever contains the key.
"""

from __future__ import annotations

import base64
import io
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import httpx
from postgrest import APIError, SyncPostgrestClient
from postgrest.constants import DEFAULT_POSTGREST_CLIENT_HEADERS
from postgrest.types import CountMethod
from storage3 import SyncStorageClient
from storage3.exceptions import StorageApiError

from trainmode.config import Secret, Settings
from trainmode.errors import ConfigError, NotFoundError, StoreError
from trainmode.ops import deadline, redact
from trainmode.store import lease, ranges, set_rows
from trainmode.store.base import BlobInfo, Store, clip_row, new_id
from trainmode.store.streams import SPOOL_IN_MEMORY, file_size, spool
from trainmode.store.supabase import answers
from trainmode.store.supabase.answers import is_uuid, valid_ids
from trainmode.store.supabase.errors import LinkExpiredError, Translator, key_role, mb, parse_body

TABLES = ("artists", "artist_profiles", "als_summaries", "training_items", "exports")

RESUMABLE_THRESHOLD = 6 * 1024 * 1024  # Supabase: standard uploads above ~6 MB should use TUS
TUS_CHUNK = 6 * 1024 * 1024  # the chunk size Supabase's docs ask TUS clients to use
PAGE = 1000  # PostgREST's default max-rows on Supabase
CACHE_CONTROL = "0"  # prompt.txt is overwritten on edit: no stale CDN copies
CONNECT_TIMEOUT_S = 5.0  # an unreachable project is reported within this
# Overall deadlines (trainmode/ops/deadline.py): a request and its answer end within
# REQUEST_DEADLINE_S, a transfer within that plus its size at MIN_TRANSFER_RATE, however the
# bytes trickle in (the read timeout alone never fires on a byte every few seconds).
REQUEST_DEADLINE_S = 120.0
MIN_TRANSFER_RATE = 128 * 1024  # bytes per second


RANGE_ANSWER = re.compile(r"bytes (\d+)-\d+/(\d+)")  # Content-Range of a 206: first-last/size
ID_BATCH = 100  # ids per `in.(...)` filter: 3.7 KB of URL, well under any proxy's limit and max-rows


def _now() -> str:
    return datetime.now(UTC).isoformat()


# Storage refuses 0, and its links' expiry is a whole second (the JWT's `exp`): a link signed for
# N seconds lasts between N - 1 and N. Two is the least that still lasts a second.
MIN_LINK_S = 2


def link_seconds(expires_s: int | float) -> int:
    """How long to sign a link for: `expires_s`, and never so short that it may be dead on arrival."""
    return max(MIN_LINK_S, int(expires_s))


class SupabaseStore(Store):
    kind = "supabase"

    def __init__(
        self,
        url: str,
        key: str,
        bucket: str = "train-mode",
        *,
        signed_url_expiry_s: int = 3600,
        timeout_s: float = 60.0,
        deadline_s: float | None = None,
    ):
        self.url = redact.without_userinfo(url.rstrip("/"))  # credentials in the URL: never sent
        self.bucket = bucket
        self.signed_url_expiry_s = link_seconds(signed_url_expiry_s)
        self._key = Secret(key)
        auth = {"apikey": key, "Authorization": f"Bearer {key}"}
        # One connection pool for rows, blobs and signed-URL downloads; auth headers are
        # added per request by the sub-clients, so downloads never carry the key.
        # Every request is bounded: connect within CONNECT_TIMEOUT_S, each read/write within
        # timeout_s, and no client retries (postgrest-py would otherwise sleep 1+2+4 s).
        self.deadline_s = deadline_s or max(REQUEST_DEADLINE_S, 2 * timeout_s)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)),
            follow_redirects=True,
            transport=deadline.transport(httpx, default_s=self.deadline_s),
        )
        self.rest = SyncPostgrestClient(
            f"{self.url}/rest/v1",
            headers={**DEFAULT_POSTGREST_CLIENT_HEADERS, **auth},
            http_client=self._http,
            retry_enabled=False,
        )
        self.storage = SyncStorageClient(f"{self.url}/storage/v1/", headers=auth, http_client=self._http)
        self.files = self.storage.from_(bucket)
        self._errors = Translator(
            redact.host(self.url),
            bucket,
            self._key,
            timeout_s=timeout_s,
            url_secrets=redact.url_secrets(url),
            bucket_limit=self._bucket_limit,
            bucket_exists=lambda: self.get_bucket() is not None,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SupabaseStore:
        key = (
            settings.supabase_key.reveal()
            if isinstance(settings.supabase_key, Secret)
            else str(settings.supabase_key or "")
        )
        missing = [
            name
            for name, value in (("SUPABASE_URL", settings.supabase_url), ("SUPABASE_SERVICE_ROLE_KEY", key))
            if not value
        ]
        if missing:
            raise ConfigError(
                f"The Supabase backend needs {' and '.join(missing)}; set "
                f"{'it' if len(missing) == 1 else 'them'} in the environment or in "
                f".streamlit/secrets.toml."
            )
        parts = urlsplit(settings.supabase_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"SUPABASE_URL must look like https://<project>.supabase.co, "
                f"not {redact.redact_url(settings.supabase_url)!r}."
            )
        if key_role(key) in ("anon", "authenticated"):
            # With RLS on and no policy, the anon key would silently see empty tables.
            raise ConfigError(
                "SUPABASE_SERVICE_ROLE_KEY holds the public anon/publishable key; Train Mode "
                "needs the service_role / secret key (Dashboard > Project Settings > API keys)."
            )
        if settings.signed_url_expiry_s < 1:
            # Storage refuses expiresIn 0 ("must be >= 1"): the export would be stored, then reported failed.
            raise ConfigError(
                f"TRAINMODE_SIGNED_URL_EXPIRY must be at least 1 (seconds a download link stays valid), "
                f"not {settings.signed_url_expiry_s}; the default is 3600."
            )
        return cls(
            settings.supabase_url,
            key,
            settings.bucket or "train-mode",
            signed_url_expiry_s=settings.signed_url_expiry_s,
        )

    def __repr__(self) -> str:
        return f"SupabaseStore(url={self.url!r}, bucket={self.bucket!r})"

    def describe(self) -> str:
        return f"supabase ({redact.host(self.url)}, bucket {self.bucket})"

    def close(self) -> None:
        self._http.close()

    def _transfer_s(self, size: int | None) -> float:
        """The deadline for moving `size` bytes (unknown: the bucket's largest, 5 GB)."""
        return self.deadline_s + (size if size is not None else 5 * 1024**3) / MIN_TRANSFER_RATE

    # ---- error translation (errors.py) --------------------------------------
    def translate(self, what: str, *, path: str | None = None, size: int | None = None):
        """A context manager turning any client failure into one trainmode error."""
        return self._errors.translate(what, path=path, size=size)

    def get_bucket(self):
        """The bucket's settings, or None if it does not exist."""
        try:
            return self.storage.get_bucket(self.bucket)
        except (ValueError, TypeError):  # JSON that is not a bucket: not Supabase Storage
            raise answers.not_supabase(self._errors.host, "reading the bucket") from None
        except StorageApiError as exc:  # Storage: 404 NoSuchBucket "Bucket not found"
            if str(exc.status) == "404" or "not found" in str(exc.message).lower():
                return None
            raise

    def _bucket_limit(self) -> int | None:
        bucket = self.get_bucket()
        return bucket.file_size_limit if bucket else None

    # ---- row helpers --------------------------------------------------------------
    def _select(
        self, table: str, what: str, filters: dict, order: Iterable[tuple[str, bool]] = (), columns: str = "*"
    ) -> list[dict]:
        """All matching rows (`columns` of them), page by page: Supabase caps one response at max-rows (1000)."""
        rows: list[dict] = []
        if not valid_ids(filters):
            return rows
        with self.translate(what):
            while True:
                page = self._query(table, columns, filters, order).range(len(rows), len(rows) + PAGE - 1).execute()
                rows.extend(answers.rows(page.data, self._errors.host, what))
                if not page.data or page.count is None or len(rows) >= page.count:
                    return rows

    def _query(self, table: str, columns: str, filters: dict, order: Iterable[tuple[str, bool]] = ()):
        """A GET of `columns` of the rows matching `filters` (eq), in `order`, counting them all."""
        query = self.rest.table(table).select(columns, count=CountMethod.exact)
        for column, value in filters.items():
            query = query.eq(column, value)
        for column, desc in order:
            query = query.order(column, desc=desc)
        return query

    def _one(self, table: str, what: str, filters: dict) -> dict | None:
        if not valid_ids(filters):
            return None
        with self.translate(what):
            query = self.rest.table(table).select("*")
            for column, value in filters.items():
                query = query.eq(column, value)
            data = query.limit(1).execute().data
        return answers.first(data, self._errors.host, what, required=tuple(filters))  # a match has its filter columns

    # ---- artists and profiles -------------------------------------------------
    def ensure_artist(self, name: str) -> dict:
        name = name.strip()
        found = self.find_artist(name)
        if found:
            return found
        with self.translate("creating the artist"):
            # A database trigger creates the profile; ignore-duplicates makes a race harmless.
            created = (
                self.rest.table("artists")
                .upsert({"name": name}, on_conflict="name", ignore_duplicates=True)
                .execute()
                .data
            )
        return answers.first(created, self._errors.host, "creating the artist") or self.find_artist(name)

    def find_artist(self, name: str) -> dict | None:
        return self._one("artists", "looking up the artist", {"name": name.strip()})

    def list_artists(self) -> list[dict]:
        rows = self._select("artists", "listing artists", {}, [("name", False), ("id", False)])
        # Sorted here, not by the database collation, so both backends agree on the order.
        return sorted(rows, key=lambda r: (r["name"].casefold(), r["name"]))

    def get_master_schema(self, artist_id: str) -> dict:
        row = self._one("artist_profiles", "reading the master schema", {"artist_id": artist_id})
        if row is None:
            raise NotFoundError("This artist has no profile; create the artist first.")
        return row["master_schema"]

    def set_master_schema(self, artist_id: str, master_schema: dict) -> None:
        updated = []
        if is_uuid(artist_id):
            with self.translate("saving the master schema"):
                updated = (
                    self.rest.table("artist_profiles")
                    .update({"master_schema": master_schema})
                    .eq("artist_id", artist_id)
                    .execute()
                    .data
                )
        if not answers.rows(updated, self._errors.host, "saving the master schema"):
            raise NotFoundError("This artist has no profile; create the artist first.")

    # ---- ALS summaries ----------------------------------------------------------
    def add_summary(self, artist_id, parse_id, als_filename, summary):
        row = {"artist_id": artist_id, "parse_id": parse_id, "als_filename": als_filename, "summary": summary}
        with self.translate("saving the set summary"):
            created = (
                self.rest.table("als_summaries")
                .upsert(row, on_conflict="artist_id,parse_id", ignore_duplicates=True)
                .execute()
                .data
            )
        created = answers.first(created, self._errors.host, "saving the set summary")
        if created:
            return created, True
        return self.get_summary(artist_id, parse_id), False

    def get_summary(self, artist_id, parse_id):
        return self._one("als_summaries", "reading the set summary", {"artist_id": artist_id, "parse_id": parse_id})

    def list_summaries(self, artist_id):
        rows = self._select(
            "als_summaries", "listing sets", {"artist_id": artist_id}, [("als_filename", False), ("parse_id", False)]
        )
        return sorted(rows, key=lambda r: (r["als_filename"], r["parse_id"]))

    # ---- training items ---------------------------------------------------------
    def insert_item(self, item: dict) -> dict:
        with self.translate("saving the training item"):
            data = self.rest.table("training_items").insert(item).execute().data
        return answers.row(data, self._errors.host, "saving the training item")

    def get_item(self, item_id):
        return self._one("training_items", "reading the item", {"id": item_id})

    def find_item_by_audio(self, artist_id, audio_sha256):
        return self._one("training_items", "looking up the MP3", {"artist_id": artist_id, "audio_sha256": audio_sha256})

    def list_items(self, artist_id, status=None):
        filters = {"artist_id": artist_id} if status is None else {"artist_id": artist_id, "status": status}
        return self._select("training_items", "listing items", filters, [("created_at", False), ("id", False)])

    # ---- changes and deletes ------------------------------------------------------
    def update_row(self, table, row_id, changes):
        if set(changes) - self.CHANGEABLE.get(table, frozenset()):
            raise ValueError(f"not changeable in {table}: {sorted(changes)}")
        if not is_uuid(row_id):
            return None
        with self.translate("saving the change"):
            rows = self.rest.table(table).update(changes).eq("id", row_id).execute().data
        return rows[0] if rows else None

    def delete_rows(self, table, ids):
        if table not in ("training_items", "als_summaries", "exports", "artists"):
            raise ValueError(f"cannot delete from {table}")
        ids = [i for i in ids if is_uuid(i)]
        for start in range(0, len(ids), 100):  # a short URL per request
            with self.translate("deleting"):
                self.rest.table(table).delete().in_("id", ids[start : start + 100]).execute()

    # ---- exports ----------------------------------------------------------------
    def begin_export(self, export: dict, stale_after_s: float = lease.LEASE_S) -> dict:
        building = self._select(
            "exports", "starting the export", {"artist_id": export["artist_id"], "status": "building"}
        )
        dead = next((e["id"] for e in building if lease.ended(e.get("lease_owner"), e["id"])), None)
        with self.translate("starting the export"):
            data = (
                self.rest.rpc(
                    "train_mode_begin_export",
                    {
                        "p_export_id": export.get("id"),
                        "p_artist_id": export["artist_id"],
                        "p_zip_path": export["zip_path"],
                        "p_owner": export.get("lease_owner") or lease.new_owner(),
                        "p_lease_s": stale_after_s,
                        "p_dead_export": dead,
                    },
                )
                .execute()
                .data
            )
        started = answers.row(data, self._errors.host, "starting the export")
        lease.claim(started["id"])
        return started

    def heartbeat_export(self, export_id: str) -> bool:
        with self.translate("renewing the export's lease"):
            data = self.rest.rpc("train_mode_heartbeat_export", {"p_export_id": export_id}).execute().data
        return answers.boolean(data, self._errors.host, "renewing the export's lease")

    def _complete_export(self, export_id, item_ids, *, item_count, bytes, sha256):
        with self.translate("finishing the export"):
            data = (
                self.rest.rpc(
                    "train_mode_complete_export",
                    {
                        "p_export_id": export_id,
                        "p_item_ids": list(item_ids),
                        "p_item_count": item_count,
                        "p_bytes": bytes,
                        "p_sha256": sha256,
                    },
                )
                .execute()
                .data
            )
        return answers.row(data, self._errors.host, "finishing the export")

    def fail_export(self, export_id, error):
        lease.release(export_id)  # first: a failure to record it must not keep the artist busy
        with self.translate("recording the failed export"):
            self.rest.table("exports").update({"status": "failed", "error": error[:500], "completed_at": _now()}).eq(
                "id", export_id
            ).eq("status", "building").execute()

    def list_exports(self, artist_id):
        return self._select(
            "exports", "listing exports", {"artist_id": artist_id}, [("created_at", True), ("id", False)]
        )

    # ---- blobs ------------------------------------------------------------------
    def put_blob(self, path: str, source: bytes | str | Path | BinaryIO, content_type: str) -> None:
        # Buckets compare the raw type with allowed_mime_types, so "text/plain; charset=utf-8"
        # would be refused by a bucket allowing text/plain (supabase/storage#1381).
        content_type = content_type.split(";")[0].strip() or "application/octet-stream"
        options = {"content-type": content_type, "upsert": "true", "cache-control": CACHE_CONTROL}
        with ExitStack() as stack:
            if isinstance(source, (bytes, bytearray, memoryview)):
                data, size = bytes(source), len(source)
            elif isinstance(source, (str, Path)):
                data, size = Path(source), file_size(Path(source))
            else:  # a binary stream (BytesIO, UploadedFile...): upload() takes only bytes or a path
                data, size = spool(source, stack)
            with self.translate(f"uploading {path}", path=path, size=size):
                if size > RESUMABLE_THRESHOLD:
                    stream = (
                        io.BytesIO(data)
                        if isinstance(data, bytes)
                        else stack.enter_context(open(data, "rb"))
                        if isinstance(data, Path)
                        else data
                    )
                    self._upload_resumable(path, stream, size, content_type)
                else:
                    with deadline.within(self._transfer_s(size)):
                        self.files.upload(path, data if isinstance(data, (bytes, Path)) else data.read(), options)

    def _upload_resumable(self, path: str, stream: BinaryIO, size: int, content_type: str) -> None:
        """TUS 1.0.0 through the store's own httpx client, so its timeouts bound every step."""
        key = self._key.reveal()
        endpoint = f"{self.url}/storage/v1/upload/resumable"
        auth = {"authorization": f"Bearer {key}", "apikey": key, "tus-resumable": "1.0.0"}
        metadata = {
            "bucketName": self.bucket,
            "objectName": path,
            "contentType": content_type,
            "cacheControl": CACHE_CONTROL,
        }
        created = self._http.post(
            endpoint,
            headers={
                **auth,
                "x-upsert": "true",
                "upload-length": str(size),
                "upload-metadata": ",".join(
                    f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items()
                ),
            },
        )
        self._raise_for_status(created, f"uploading {path}", path, size)
        location = urljoin(endpoint + "/", created.headers.get("location", ""))
        offset = 0
        while offset < size:
            chunk = stream.read(min(TUS_CHUNK, size - offset))
            if not chunk:
                raise StoreError(f"Cannot upload {path}: the file ended after {mb(offset)} of {mb(size)}.")
            with deadline.within(self._transfer_s(len(chunk))):
                answer = self._http.patch(
                    location,
                    content=chunk,
                    headers={
                        **auth,
                        "x-upsert": "true",  # Storage reads it on every request: without it a PATCH cannot overwrite
                        "upload-offset": str(offset),
                        "content-type": "application/offset+octet-stream",
                    },
                )
            self._raise_for_status(answer, f"uploading {path}", path, size)
            offset = int(answer.headers.get("upload-offset", offset + len(chunk)))

    def _raise_for_status(self, response: httpx.Response, what: str, path: str, size: int | None) -> None:
        """A Storage (JSON) or TUS (plain text) error answer as one trainmode error."""
        if response.is_error:
            response.read()
            status, code, message = parse_body(response.content, response.status_code)
            if response.request.method == "GET" and "/object/sign/" in response.request.url.path:
                raise self._errors.link_error(status, code, message, what, path) from None
            raise self._errors.storage_error(status, code, message, what, path, size) from None

    def _signed_url(self, path: str, expires_s: int) -> str:
        with self.translate(f"signing a link to {path}", path=path):
            signed = self.files.create_signed_url(path, link_seconds(expires_s))
        return answers.field(signed, "signedURL", self._errors.host, f"signing a link to {path}")

    @contextmanager
    def open_blob(self, path: str) -> Iterator[BinaryIO]:
        # download() would hold the whole MP3 in memory: stream it to a spooled temp file.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        try:
            self.download_to(path, spool)
            spool.seek(0)
            yield spool
        finally:
            spool.close()

    def download_to(self, path: str, out: BinaryIO) -> None:
        """Stream the object through a short-lived signed URL straight into `out`."""
        self.download_url_to(self._signed_url(path, 60), path, out)

    def open_blob_range(self, path: str, size: int | None = None) -> BinaryIO:
        """Ranged reads through a signed link (Storage honours `Range`), renewed if it expires."""
        link = [self._signed_url(path, self.signed_url_expiry_s)]
        if size is None:
            size = self._get_range(path, link, 0, 0)[1]

        def fetch(first: int, last: int) -> bytes:
            data, total = self._get_range(path, link, first, last)
            if total != size:
                raise StoreError(f"The stored file {path} changed while it was read; try again.")
            return data

        return ranges.open_ranges(size, fetch, what=path)

    def _get_range(self, path: str, link: list[str], first: int, last: int) -> tuple[bytes, int]:
        """(bytes first..last of the object, its size) through the signed link `link[0]`, which is
        replaced by a fresh one when it expired."""
        try:
            return self._ranged(link[0], path, first, last)
        except LinkExpiredError:
            link[0] = self._signed_url(path, self.signed_url_expiry_s)
            return self._ranged(link[0], path, first, last)

    def _ranged(self, url: str, path: str, first: int, last: int) -> tuple[bytes, int]:
        what = f"reading {path}"
        with (
            self.translate(what, path=path),
            deadline.within(self._transfer_s(last - first + 1)),
            self._http.stream("GET", url, headers={"Range": f"bytes={first}-{last}"}) as response,
        ):
            self._raise_for_status(response, what, path, None)
            found = RANGE_ANSWER.fullmatch(response.headers.get("content-range", ""))
            if response.status_code != 206 or found is None or int(found.group(1)) != first:
                raise StoreError(
                    f"Supabase Storage did not answer a ranged read of {path} (HTTP {response.status_code})."
                )
            return response.read(), int(found.group(2))

    def check_signed_url(self, path: str) -> None:
        """Fetch the first byte of `path` through a short-lived signed URL; raise if that fails."""
        url = self._signed_url(path, 60)
        with self.translate(f"fetching a signed link to {path}", path=path):
            self._raise_for_status(
                self._http.get(url, headers={"Range": "bytes=0-0"}), f"fetching a signed link to {path}", path, None
            )

    def delete_blob(self, path: str) -> None:
        self.delete_blobs([path])

    def delete_blobs(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        with self.translate("deleting stored files"):
            for start in range(0, len(paths), 1000):  # the API's limit per request
                self.files.remove(paths[start : start + 1000])  # missing objects are skipped

    def move_blob(self, path: str, to: str) -> None:
        with self.translate(f"moving {path}"):
            self.files.remove([to])  # Storage's move refuses an existing destination
            self.files.move(path, to)

    def temp_dir(self) -> str:
        """One folder for this backend's temp files (uploads, export work), so doctor can sweep it."""
        tmp = Path(tempfile.gettempdir()) / "trainmode"
        tmp.mkdir(exist_ok=True)
        return str(tmp)

    def list_blobs(self, prefix: str) -> list[BlobInfo]:
        with self.translate(f"listing {prefix}"):
            return answers.list_objects(self.files, prefix, self._errors.host)

    def blob_url(self, path: str, expires_s: int | None = None) -> str:
        return self._signed_url(path, expires_s or self.signed_url_expiry_s)

    # ---- setup ------------------------------------------------------------------
    def check_schema(self) -> None:
        """Raise ConfigError (with the command to fix it) unless the migration is applied."""
        for table in TABLES:
            with self.translate(f"checking the table {table}"):
                data = self.rest.table(table).select("id").limit(1).execute().data
            answers.rows(data, self._errors.host, f"checking the table {table}")

    # ---- reads in bulk: set rows, item pages, summaries by id, links signed many at a time ----
    def list_set_rows(self, artist_id: str) -> list[dict]:
        if not valid_ids({"artist_id": artist_id}):
            return []
        with self.translate("listing sets"):
            answer = self.rest.rpc("train_mode_set_rows", {"p_artist_id": artist_id}).execute().data
            raw = set_rows.from_compact(answer)  # a shape not Supabase's raises KeyError, TypeError...: translated
        rows = [self.get_summary_row_for(artist_id, r) if set_rows.needs_whole(r) else set_rows.finish(r) for r in raw]
        return sorted(rows, key=lambda r: (r["als_filename"], r["parse_id"]))

    def list_item_rows(self, artist_id: str) -> list[dict]:
        return self._select(
            "training_items",
            "listing items",
            {"artist_id": artist_id},
            [("created_at", False), ("id", False)],
            columns=",".join(self.ITEM_ROW_COLUMNS),
        )

    def item_row_page(self, artist_id: str, offset: int, limit: int) -> tuple[list[dict], int]:
        return self._page(
            "training_items",
            "listing items",
            {"artist_id": artist_id},
            [("created_at", False), ("id", False)],
            ",".join(self.ITEM_ROW_COLUMNS),
            offset,
            limit,
        )

    def count_items(self, artist_id: str, als_summary_id: str) -> int:
        filters = {"artist_id": artist_id, "als_summary_id": als_summary_id}
        return self._page("training_items", "counting items", filters, [], "id", 0, 1)[1]

    def _page(
        self, table: str, what: str, filters: dict, order, columns: str, offset: int, limit: int
    ) -> tuple[list[dict], int]:
        """One page of rows (at most `limit`, from `offset`) and how many match in all: one request."""
        if not valid_ids(filters):
            return [], 0
        with self.translate(what):
            try:
                page = self._query(table, columns, filters, order).range(offset, offset + max(limit, 1) - 1).execute()
            except APIError as exc:
                if exc.code != "PGRST103" or not offset:  # 416: an offset past the last row (rows went meanwhile)
                    raise
                return [], self._page(table, what, filters, [], "id", 0, 1)[1]
        return answers.rows(page.data, self._errors.host, what)[:limit], page.count or 0

    def summaries_by_id(self, artist_id: str, ids) -> list[dict]:
        wanted = sorted({i for i in ids if valid_ids({"id": i})})
        rows: list[dict] = []
        for start in range(0, len(wanted), ID_BATCH):
            with self.translate("reading set summaries"):
                data = (
                    self.rest.table("als_summaries")
                    .select("*")
                    .eq("artist_id", artist_id)
                    .in_("id", wanted[start : start + ID_BATCH])
                    .execute()
                    .data
                )
            rows += answers.rows(data, self._errors.host, "reading set summaries")
        return rows

    def get_summary_row_for(self, artist_id: str, raw: dict) -> dict:
        """A set imported before summary v2: read whole once, upgraded by set_rows."""
        return set_rows.from_summary_row(self.get_summary(artist_id, raw["parse_id"]) or raw)

    def sign_many(self, paths: list[str], expires_s: int) -> dict[str, str]:
        """Signed download links for `paths` in one Storage request (storage3 create_signed_urls)."""
        unique = list(dict.fromkeys(paths))
        with self.translate(f"signing links to {len(unique)} files"):
            signed = self.files.create_signed_urls(unique, link_seconds(expires_s))
        urls = {answer.get("path"): answer.get("signedURL") for answer in signed if not answer.get("error")}
        if missing := [p for p in unique if not urls.get(p)]:
            raise NotFoundError(f"The stored file {missing[0]} is missing.")
        return urls

    def download_url_to(self, url: str, path: str, out: BinaryIO) -> None:
        """Stream a signed link's object straight into `out`; a link that expired before it was used
        (nothing written yet) is replaced by a fresh one."""
        try:
            self._download(url, path, out)
        except LinkExpiredError:
            self._download(self._signed_url(path, 60), path, out)

    def _download(self, url: str, path: str, out: BinaryIO) -> None:
        with self.translate(f"downloading {path}", path=path), deadline.within(self.deadline_s):
            with self._http.stream("GET", url) as response:
                self._raise_for_status(response, f"downloading {path}", path, None)
                length = response.headers.get("content-length")
                body_s = self._transfer_s(int(length) if length and length.isdigit() else None)
                with deadline.until(
                    time.monotonic() + body_s, extend=True
                ):  # the body may take longer than the headers
                    for chunk in response.iter_bytes(1024 * 1024):
                        out.write(chunk)

    # ---- section clips (training_clips; docs/clips.md) ------------------------------
    def save_clips(self, item_id, mode, clips):
        stamp = datetime.now(UTC).isoformat()
        rows = [clip_row(item_id, mode, clip, new_id(), stamp) for clip in clips]
        with self.translate("saving the clips"):
            # PostgREST has no transaction across two requests, so the order never loses saved clips:
            # one upsert (a statement: all the new clips or none, the old ones kept if it fails), then
            # the old clips at other positions go. Should that second request fail, the next save
            # removes those stale clips.
            stale = self.rest.table("training_clips").delete().eq("item_id", item_id).eq("mode", mode)
            if rows:
                self.rest.table("training_clips").upsert(rows, on_conflict="item_id,mode,position").execute()
                stale = stale.not_.in_("position", [row["position"] for row in rows])
            stale.execute()
        return self.list_clips(item_id, mode)

    def list_clips(self, item_id, mode=None):
        with self.translate("reading the clips"):
            query = self.rest.table("training_clips").select("*").eq("item_id", item_id)
            if mode is not None:
                query = query.eq("mode", mode)
            return query.order("mode").order("position").execute().data

    # ---- queue drafts (the Train queue kept for a reload; trainmode/train/drafts.py) -------
    def save_draft(self, artist_id, draft, created_by=None):
        with self.translate("saving the queue draft"):
            self.rest.table("queue_drafts").upsert(
                {"artist_id": artist_id, "draft": draft, "created_by": created_by, "updated_at": _now()},
                on_conflict="artist_id",
            ).execute()

    def get_draft(self, artist_id):
        return self._one("queue_drafts", "reading the queue draft", {"artist_id": artist_id})

    def delete_draft(self, artist_id):
        with self.translate("discarding the queue draft"):
            self.rest.table("queue_drafts").delete().eq("artist_id", artist_id).execute()

    def replace_draft(self, artist_id, draft, created_by, expected_updated_at):
        table = self.rest.table("queue_drafts")
        with self.translate("saving the queue draft"):
            if draft is None:
                gone = table.delete().eq("artist_id", artist_id).eq("updated_at", expected_updated_at).execute()
                return bool(gone.data)
            row = {"artist_id": artist_id, "draft": draft, "created_by": created_by, "updated_at": _now()}
            if expected_updated_at is None:  # only while there is no row: a row written meanwhile is kept
                return bool(table.upsert(row, on_conflict="artist_id", ignore_duplicates=True).execute().data)
            if row["updated_at"] == expected_updated_at:  # the same microsecond
                later = datetime.fromisoformat(expected_updated_at) + timedelta(microseconds=1)
                row["updated_at"] = later.isoformat()
            query = table.update({k: v for k, v in row.items() if k != "artist_id"}).eq("artist_id", artist_id)
            return bool(query.eq("updated_at", expected_updated_at).execute().data)

    def drafts_before(self, updated_before):
        with self.translate("listing old queue drafts"):
            return self.rest.table("queue_drafts").select("*").lt("updated_at", updated_before).execute().data
