"""What Supabase's answers mean to a Train Mode user: PostgREST, Storage and TUS errors, and
transport failures, turned into one trainmode.errors exception with one clear sentence.

The shapes come from the real services: Storage answers HTTP 400 with the real status in the
JSON body's `statusCode` (supabase/storage src/http/error-handler.ts), its TUS endpoint answers
with the status and a plain-text body (src/http/routes/tus/lifecycle.ts, getTusError), and
PostgREST answers {code, message, details, hint} with 42501 as 401/403
(PostgREST src/library/PostgREST/Error.hs). No message ever contains the key.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from postgrest import APIError
from storage3.exceptions import StorageApiError

from trainmode.config import Secret
from trainmode.errors import ConfigError, DuplicateError, ExportBusyError, NotFoundError, StoreError, TrainModeError
from trainmode.ops import deadline, redact
from trainmode.store.supabase.answers import not_supabase

log = logging.getLogger(__name__)

MIGRATION_FILES = (
    "supabase/migrations/20261124000000_train_mode.sql",
    "supabase/migrations/20261201000000_train_mode_grants.sql",
    "supabase/migrations/20261201000300_train_mode_daily.sql",
    "supabase/migrations/20261202000000_train_mode_export_lease.sql",
    "supabase/migrations/20261203000100_train_mode_clips.sql",
    "supabase/migrations/20261204000000_train_mode_set_rows.sql",
    "supabase/migrations/20261207000000_train_mode_export_details.sql",
)
PSQL_COMMAND = 'psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -1 ' + " ".join(f"-f {f}" for f in MIGRATION_FILES)
APPLY_COMMANDS = f"`supabase db push` or `{PSQL_COMMAND}`"
SETUP_COMMAND = "python -m trainmode setup-supabase"
APPLY_HINT = f"apply the migrations with {APPLY_COMMANDS}, then run `{SETUP_COMMAND}`"
KEY_REJECTED = (
    "Supabase rejected the service-role key; check SUPABASE_SERVICE_ROLE_KEY "
    "(Dashboard > Project Settings > API keys: the service_role / secret key)."
)
GLOBAL_LIMIT = "the project's global upload size limit (50 MB on the Free plan; Dashboard > Storage > Settings)"

# Constraint name -> what a user did wrong (PostgREST reports 23505 with the name).
DUPLICATES = {
    "training_items_artist_audio_key": "This MP3 is already a training item of this artist.",
    "artists_name_key": "An artist with this name already exists.",
    "als_summaries_artist_parse_key": "This set is already imported for this artist.",
}


class LinkExpiredError(StoreError):
    """A signed link was used after it expired (Storage: 400 InvalidJWT, '"exp" claim timestamp check failed')."""


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def key_role(key: str) -> str | None:
    """The role a Supabase API key grants, when the key says so (legacy JWT or new prefix)."""
    if key.startswith("sb_publishable_"):
        return "anon"
    if key.startswith("sb_secret_"):
        return "service_role"
    parts = key.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload.get("role") if isinstance(payload, dict) else None


def not_granted(what: str) -> ConfigError:
    return ConfigError(
        f"Supabase refused {what}: the database has not granted this role access: "
        f"apply the migrations ({APPLY_COMMANDS})."
    )


def parse_body(content: bytes | str | None, http_status: int) -> tuple[str, str, str]:
    """(status, code, message) of a Storage error response: the JSON body's statusCode wins,
    since Storage answers HTTP 400 with the real status inside; a TUS answer is plain text."""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    try:
        body = json.loads(content or "")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return str(http_status), "", (content or "").strip()[:200]
    return (
        str(body.get("statusCode") or http_status),
        str(body.get("error") or body.get("code") or ""),
        str(body.get("message") or body.get("msg") or ""),
    )


class Translator:
    """Error translation for one SupabaseStore. `bucket_limit()` returns the bucket's
    file_size_limit, `bucket_exists()` whether the bucket exists: both only asked on failures."""

    def __init__(
        self,
        host: str,
        bucket: str,
        key: Secret,
        *,
        timeout_s: float,
        bucket_limit: Callable[[], int | None],
        bucket_exists: Callable[[], bool],
        url_secrets: list[str] | None = None,
    ):
        self.host, self.bucket, self._key, self.timeout_s = host, bucket, key, timeout_s
        self._url_secrets = url_secrets or []
        self._bucket_limit, self._bucket_exists = bucket_limit, bucket_exists

    def scrub(self, text: object) -> str:
        return redact.scrub(text, [self._key.reveal(), *self._url_secrets])

    @contextmanager
    def translate(self, what: str, *, path: str | None = None, size: int | None = None) -> Iterator[None]:
        """Turn whatever postgrest, storage3 or httpx raise into one trainmode error."""
        try:
            yield
        except TrainModeError:
            raise
        except APIError as exc:
            raise self.rest_error(exc, what) from None
        except StorageApiError as exc:
            raise self.storage_error(exc.status, exc.code, exc.message, what, path, size) from None
        except (ValueError, TypeError, AttributeError, KeyError):
            # storage3/pydantic choking on an answer that is not Supabase's (HTML, odd JSON);
            # logged with its traceback in case it is a bug of ours instead.
            log.info("unexpected answer from %s while %s", self.host, what, exc_info=True)
            raise not_supabase(self.host, what) from None
        except httpx.TimeoutException as exc:
            if deadline.passed(exc):
                raise StoreError(
                    f"Supabase at {self.host} was too slow while {what}: the request did not finish in the "
                    "time allowed for it (data kept coming, but too little); check the network and try again."
                ) from None
            raise StoreError(
                f"Supabase at {self.host} did not answer within {self.timeout_s:g} s while {what} "
                f"({exc.__class__.__name__}); check the network and try again."
            ) from None
        except httpx.TransportError as exc:
            raise StoreError(
                f"Cannot reach Supabase at {self.host} while {what} "
                f"({exc.__class__.__name__}); check SUPABASE_URL and the network."
            ) from None

    def rest_error(self, exc: APIError, what: str) -> TrainModeError:
        code = str(exc.code or "")
        message = self.scrub(exc.message)
        lowered = message.lower()
        if code == "42501":  # PostgREST: permission denied, HTTP 401/403 (Error.hs)
            return not_granted(what)
        if code in ("401", "403", "PGRST301", "PGRST302", "PGRST303") or "api key" in lowered or "jwt" in lowered:
            return ConfigError(KEY_REJECTED)
        if code in ("PGRST205", "42P01", "PGRST202", "42883", "PGRST204", "42703"):
            return ConfigError(
                f"The Train Mode tables or functions are missing in this Supabase project: {APPLY_HINT}."
            )
        if code == "TMBSY":
            return ExportBusyError(message)
        if code in ("TMNRN", "TMITM"):
            return StoreError(message)
        if code == "23505":
            for constraint, text in DUPLICATES.items():
                if constraint in message:
                    return DuplicateError(text)
            return StoreError(f"Supabase refused {what}: that row already exists.")
        if code == "23503":
            return StoreError(
                f"Supabase refused {what}: it refers to a row that does not exist ({self.scrub(exc.details)})."
            )
        return StoreError(f"Supabase failed while {what}: {message or 'no details'} ({code or 'no code'}).")

    def storage_error(self, status, code, message, what: str, path: str | None, size: int | None) -> TrainModeError:
        status, code, message = str(status or ""), str(code or ""), self.scrub(message)
        lowered = f"{code} {message}".lower()
        if status in ("401", "403") or "jwt" in lowered or "api key" in lowered:
            return ConfigError(KEY_REJECTED)
        if "bucket not found" in lowered or "nosuchbucket" in lowered:
            return self.missing_bucket()
        if status == "413" or "too large" in lowered or "size exceeded" in lowered:
            return StoreError(self.too_large(path, size))
        if status == "404" or code in ("not_found", "NoSuchKey"):
            # Storage answers "Object not found" for an object of a missing bucket too.
            if not self._bucket_exists():
                return self.missing_bucket()
            return NotFoundError(
                f"The stored file {path} is missing." if path else f"Supabase Storage found nothing while {what}."
            )
        if status == "415" or "mime" in lowered:
            return StoreError(
                f"The Storage bucket '{self.bucket}' refused the file type ({message}); run "
                f"`{SETUP_COMMAND}` to update its allowed types."
            )
        return StoreError(f"Supabase Storage failed while {what}: {message or 'no details'} (HTTP {status or '?'}).")

    def link_error(self, status, code, message, what: str, path: str | None) -> TrainModeError:
        """An answer to a signed link (GET /object/sign/...): the token checked is the link's,
        not the key, so an expired token is an expired link (Storage: 400 InvalidJWT with
        '"exp" claim timestamp check failed'), and a bad one a broken link."""
        text = f"{code} {message}".lower()
        if "exp" in text and ("jwt" in text or "expired" in text):
            return LinkExpiredError(
                f"The download link for {path or 'the file'} expired before it was used; ask for a new one "
                "(TRAINMODE_SIGNED_URL_EXPIRY sets how long links stay valid)."
            )
        if "jwt" in text or "signature" in text:
            return StoreError(
                f"Supabase Storage refused the download link for {path or 'the file'} ({self.scrub(message)})."
            )
        return self.storage_error(status, code, message, what, path, None)

    def missing_bucket(self) -> ConfigError:
        return ConfigError(f"The Storage bucket '{self.bucket}' does not exist; run `{SETUP_COMMAND}`.")

    def too_large(self, path: str | None, size: int | None) -> str:
        what = f"{path} ({mb(size)})" if size is not None else (path or "the file")
        try:  # the bucket's own limit, if it has one, is the likely culprit
            limit = self._bucket_limit()
        except (TrainModeError, StorageApiError, httpx.HTTPError) as exc:
            log.warning("could not read the bucket's size limit: %s", self.scrub(exc))
            limit = None
        if limit and (size is None or size > int(limit)):
            where = f"the bucket '{self.bucket}' accepts files up to {mb(int(limit))}"
        else:
            where = f"it exceeds {GLOBAL_LIMIT}"
        return f"Supabase Storage refused {what}: {where}. Raise the limit or use a smaller file."


def bucket_limit_error(limit: int) -> ConfigError:
    """Storage refuses a bucket limit above the global one (storage.ts parseMaxSizeLimit)."""
    return ConfigError(
        f"Supabase Storage refused the bucket size limit {mb(limit)}: it is above {GLOBAL_LIMIT}. "
        f"Raise the global limit first, or pass a smaller --file-size-limit-mb."
    )
