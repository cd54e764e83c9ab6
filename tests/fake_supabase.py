"""A fake Supabase on 127.0.0.1: the PostgREST, Storage and resumable (TUS) endpoints that
supabase-py and tuspy call for Train Mode, in memory, recording every request.

A test seam, not a clone: it implements the subset SupabaseStore uses, with the schema's
unique/foreign-key/check constraints and the migration's triggers and RPC functions mirrored
in Python, and answers errors in the shapes the real services use.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

COLUMNS = {
    "artists": ["id", "name", "created_at"],
    "artist_profiles": ["id", "artist_id", "master_schema", "created_at", "updated_at"],
    "als_summaries": ["id", "artist_id", "parse_id", "als_filename", "summary", "created_at"],
    "exports": ["id", "artist_id", "zip_path", "item_count", "bytes", "sha256", "status", "error",
                "created_at", "completed_at"],
    "training_items": ["id", "artist_id", "als_summary_id", "parse_id", "audio_path", "prompt_path",
                       "prompt_text", "status", "prompt_model", "prompt_version", "prompt_writer",
                       "prompt_edited", "provenance", "findings", "metadata", "audio_sha256",
                       "audio_duration_s", "audio_bytes", "audio_filename", "created_at", "updated_at",
                       "exported_at", "export_id"],
}
DEFAULTS = {
    "artist_profiles": {"master_schema": dict},
    "exports": {"item_count": lambda: 0, "bytes": lambda: 0},
    "training_items": {"status": lambda: "ready", "prompt_edited": lambda: False, "provenance": dict,
                       "findings": list, "metadata": dict},
}
# name -> (table, columns, applies-to-row predicate)
UNIQUE = {
    "artists_name_key": ("artists", ("name",), None),
    "artist_profiles_artist_id_key": ("artist_profiles", ("artist_id",), None),
    "als_summaries_artist_parse_key": ("als_summaries", ("artist_id", "parse_id"), None),
    "training_items_artist_audio_key": ("training_items", ("artist_id", "audio_sha256"), None),
    "exports_one_building_idx": ("exports", ("artist_id",), lambda r: r["status"] == "building"),
}
FOREIGN = {  # (table, column) -> referenced table
    ("artist_profiles", "artist_id"): "artists", ("als_summaries", "artist_id"): "artists",
    ("exports", "artist_id"): "artists", ("training_items", "artist_id"): "artists",
    ("training_items", "als_summary_id"): "als_summaries", ("training_items", "export_id"): "exports",
}
CHECKS = {
    "artists": {"artists_name_check": lambda r: bool((r["name"] or "").strip())},
    "exports": {"exports_status_check": lambda r: r["status"] in ("building", "complete", "failed")},
    "training_items": {
        "training_items_prompt_text_check": lambda r: bool((r["prompt_text"] or "").strip()),
        "training_items_status_check": lambda r: r["status"] in ("ready", "exported"),
        "training_items_exported_has_export": lambda r: r["status"] != "exported" or r["export_id"] is not None,
    },
}
TOUCHED = {"training_items", "artist_profiles"}  # the updated_at trigger
TUS_CHUNK = 6 * 1024 * 1024


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Reply(Exception):
    """Raised by a route to answer with this status and JSON body."""

    def __init__(self, status: int, body, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def pg_error(status: int, code: str, message: str, details=None) -> Reply:
    return Reply(status, {"code": code, "details": details, "hint": None, "message": message})


def storage_error(status: int, error: str, message: str) -> Reply:
    return Reply(status, {"statusCode": str(status), "error": error, "message": message})


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict  # lower-cased names
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Upload:
    bucket: str
    name: str
    content_type: str
    length: int
    upsert: bool
    data: bytearray = field(default_factory=bytearray)


class FakeSupabase:
    def __init__(self, key: str = "fake-service-role-key", *, global_limit: int = 50 * 1024 * 1024):
        self.key = key
        self.global_limit = global_limit
        self.tables: dict[str, list[dict]] = {name: [] for name in COLUMNS}
        self.buckets: dict[str, dict] = {}
        self.objects: dict[tuple[str, str], dict] = {}
        self.uploads: dict[str, Upload] = {}
        self.tokens: dict[str, tuple[str, str, datetime]] = {}
        self.requests: list[Recorded] = []
        self.migrated = True  # False: every table/function answers "not in the schema cache"
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeSupabase:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_bucket(self, name: str = "train-mode", **options) -> None:
        self.buckets[name] = {"id": name, "name": name, "owner": "", "public": False,
                              "file_size_limit": None, "allowed_mime_types": None,
                              "created_at": now(), "updated_at": now(), **options}

    def find(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # ---- dispatch -------------------------------------------------------------------
    def handle(self, req: Recorded) -> tuple[int, dict, bytes]:
        with self.lock:
            self.requests.append(req)
            try:
                if not (req.method == "GET" and req.path.startswith("/storage/v1/object/sign/")):
                    if req.headers.get("authorization") != f"Bearer {self.key}":
                        raise Reply(401, {"message": "Invalid API key",
                                          "hint": "Double check your Supabase `anon` or `service_role` API key."})
                if req.path.startswith("/rest/v1/rpc/"):
                    return self._json(200, self.rpc(req.path.rsplit("/", 1)[1], req.json()))
                if req.path.startswith("/rest/v1/"):
                    return self.rest(req, req.path[len("/rest/v1/"):])
                if req.path.startswith("/storage/v1/upload/resumable"):
                    return self.tus(req)
                if req.path.startswith("/storage/v1/"):
                    return self.storage(req, req.path[len("/storage/v1/"):])
                raise Reply(404, {"message": "no route"})
            except Reply as reply:
                return self._json(reply.status, reply.body, reply.headers)

    @staticmethod
    def _json(status: int, body, headers: dict | None = None) -> tuple[int, dict, bytes]:
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()

    # ---- PostgREST ------------------------------------------------------------------
    def _table(self, name: str) -> list[dict]:
        if not self.migrated or name not in COLUMNS:
            raise pg_error(404, "PGRST205", f"Could not find the table 'public.{name}' in the schema cache")
        return self.tables[name]

    @staticmethod
    def _matches(row: dict, query: dict) -> bool:
        for column, values in query.items():
            if column in ("select", "order", "limit", "offset", "on_conflict", "columns"):
                continue
            op, _, arg = values[0].partition(".")
            value = row[column]
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            if op == "eq" and text != arg:
                return False
            if op == "in" and text not in arg.strip("()").split(","):
                return False
            if op == "is" and arg == "null" and value is not None:
                return False
        return True

    def rest(self, req: Recorded, table: str) -> tuple[int, dict, bytes]:
        rows = self._table(table)
        prefer = req.headers.get("prefer", "")
        if req.method == "GET":
            found = [r for r in rows if self._matches(r, req.query)]
            for term in reversed(req.query.get("order", [""])[0].split(",")):
                if term:
                    column, _, direction = term.partition(".")
                    found.sort(key=lambda r: (r[column] is None, r[column]), reverse=direction.startswith("desc"))
            offset = int(req.query.get("offset", ["0"])[0])
            limit = int(req.query.get("limit", [str(len(found))])[0])
            page = found[offset:offset + limit]
            total = str(len(found)) if "count=exact" in prefer else "*"
            span = f"{offset}-{offset + len(page) - 1}" if page else "*"
            return self._json(200, page, {"Content-Range": f"{span}/{total}"})
        if req.method == "POST":
            body = req.json()
            conflict = tuple(req.query.get("on_conflict", [""])[0].split(",")) if "on_conflict" in req.query else None
            changed = self.insert(table, body if isinstance(body, list) else [body],
                                  ignore_on=conflict if "resolution=ignore-duplicates" in prefer else None)
            status = 201
        elif req.method == "PATCH":
            patch = req.json()
            changed = self.update(table, [r for r in rows if self._matches(r, req.query)], patch)
            status = 200
        elif req.method == "DELETE":
            changed = [r for r in rows if self._matches(r, req.query)]
            self.tables[table] = [r for r in rows if r not in changed]
            status = 200
        else:
            raise Reply(405, {"message": "method not allowed"})
        if "return=representation" in prefer:
            return self._json(status, changed)
        return 204, {}, b""

    def _validate(self, table: str, candidates: list[dict], replacing: list[dict]) -> None:
        """Raise the PostgREST error PostgreSQL would give if `candidates` replaced `replacing`."""
        for row in candidates:
            for name, ok in CHECKS.get(table, {}).items():
                if not ok(row):
                    raise pg_error(400, "23514", f'new row for relation "{table}" violates check constraint "{name}"')
            for (t, column), target in FOREIGN.items():
                if t == table and row[column] is not None and not any(
                        r["id"] == row[column] for r in self.tables[target]):
                    raise pg_error(409, "23503", f'insert or update on table "{table}" violates foreign key '
                                   f'constraint "{table}_{column}_fkey"',
                                   f'Key ({column})=({row[column]}) is not present in table "{target}".')
        others = [r for r in self.tables[table] if not any(r is x for x in replacing)]
        indexes = [(f"{table}_pkey", ("id",), None)] + [(n, c, w) for n, (t, c, w) in UNIQUE.items() if t == table]
        for index, row in enumerate(candidates):
            for name, columns, where in indexes:
                if where and not where(row):
                    continue
                key = tuple(row[c] for c in columns)
                for other in others + candidates[:index]:
                    if (not where or where(other)) and tuple(other[c] for c in columns) == key:
                        raise pg_error(409, "23505", f'duplicate key value violates unique constraint "{name}"',
                                       f"Key ({', '.join(columns)})=({', '.join(map(str, key))}) already exists.")

    def insert(self, table: str, body: list[dict], ignore_on: tuple | None = None) -> list[dict]:
        rows = []
        for given in body:
            unknown = set(given) - set(COLUMNS[table])
            if unknown:
                raise pg_error(400, "PGRST204", f"Could not find the '{sorted(unknown)[0]}' column of "
                               f"'{table}' in the schema cache")
            row = {c: None for c in COLUMNS[table]}
            row.update({c: make() for c, make in DEFAULTS.get(table, {}).items()})
            row.update({"id": str(uuid.uuid4()), "created_at": now()})
            if "updated_at" in row:
                row["updated_at"] = row["created_at"]
            row.update(given)
            if ignore_on and any(all(r[c] == row[c] for c in ignore_on) for r in self.tables[table]):
                continue
            rows.append(row)
        self._validate(table, rows, [])
        self.tables[table].extend(rows)
        if table == "artists":  # trigger artists_create_profile
            self.insert("artist_profiles", [{"artist_id": r["id"]} for r in rows])
        return rows

    def update(self, table: str, targets: list[dict], patch: dict) -> list[dict]:
        stamp = now()
        new = [{**r, **patch, **({"updated_at": stamp} if table in TOUCHED else {})} for r in targets]
        self._validate(table, new, targets)
        for old, row in zip(targets, new, strict=False):
            old.update(row)
        return targets

    # ---- RPC (mirrors the SQL functions of the migration) ---------------------------
    def rpc(self, name: str, args: dict):
        if not self.migrated or name not in ("train_mode_begin_export", "train_mode_complete_export"):
            raise pg_error(404, "PGRST202", f"Could not find the function public.{name} in the schema cache")
        exports = self.tables["exports"]
        if name == "train_mode_begin_export":
            cutoff = (datetime.now(UTC) - timedelta(seconds=args["p_stale_after_s"])).isoformat(
                timespec="microseconds")
            stale = [e for e in exports if e["artist_id"] == args["p_artist_id"]
                     and e["status"] == "building" and e["created_at"] < cutoff]
            self.update("exports", stale, {"status": "failed", "error": "abandoned (stale)", "completed_at": now()})
            try:
                return self.insert("exports", [{"id": args["p_export_id"] or str(uuid.uuid4()),
                                                "artist_id": args["p_artist_id"], "zip_path": args["p_zip_path"],
                                                "status": "building"}])[0]
            except Reply as reply:
                if "exports_one_building_idx" in str(reply.body.get("message")):
                    raise pg_error(400, "TMBSY", "An export of this artist is already running; wait for it "
                                   "to finish.") from None
                raise
        export = next((e for e in exports if e["id"] == args["p_export_id"]), None)
        if export is None or export["status"] != "building":
            raise pg_error(400, "TMNRN", "This export is no longer running; start it again.")
        ids = args["p_item_ids"] or []
        items = [i for i in self.tables["training_items"] if i["id"] in ids
                 and i["artist_id"] == export["artist_id"] and i["status"] == "ready"]
        if len(items) != len(ids):
            raise pg_error(400, "TMITM", "An item changed while the export ran; nothing was marked "
                           "exported. Export again.")
        stamp = now()
        self.update("training_items", items, {"status": "exported", "exported_at": stamp,
                                              "export_id": export["id"]})
        return self.update("exports", [export], {
            "status": "complete", "item_count": args["p_item_count"], "bytes": args["p_bytes"],
            "sha256": args["p_sha256"], "completed_at": stamp})[0]

    # ---- Storage --------------------------------------------------------------------
    def _bucket(self, name: str) -> dict:
        if name not in self.buckets:
            raise storage_error(404, "Bucket not found", "Bucket not found")
        return self.buckets[name]

    def _accept(self, bucket: dict, size: int, content_type: str) -> None:
        limit = min(filter(None, [bucket["file_size_limit"], self.global_limit]))
        if size > limit:
            raise storage_error(413, "Payload too large", "The object exceeded the maximum allowed size")
        # Compared raw, as Storage did before supabase/storage#1382: parameters break the match.
        if bucket["allowed_mime_types"] and content_type not in bucket["allowed_mime_types"]:
            raise storage_error(415, "invalid_mime_type", f"mime type {content_type} is not supported")

    def _object(self, bucket: str, name: str) -> dict:
        self._bucket(bucket)
        if (bucket, name) not in self.objects:
            raise storage_error(404, "not_found", "Object not found")
        return self.objects[(bucket, name)]

    def _save(self, bucket: str, name: str, data: bytes, content_type: str, upsert: bool,
              cache_control: str) -> dict:
        if (bucket, name) in self.objects and not upsert:
            raise storage_error(409, "Duplicate", "The resource already exists")
        self._accept(self._bucket(bucket), len(data), content_type)
        self.objects[(bucket, name)] = {"id": str(uuid.uuid4()), "data": bytes(data), "content_type": content_type,
                                        "cache_control": cache_control, "updated_at": now()}
        return {"Id": self.objects[(bucket, name)]["id"], "Key": f"{bucket}/{name}"}

    def storage(self, req: Recorded, route: str) -> tuple[int, dict, bytes]:
        parts = [unquote(p) for p in route.split("/")]
        method = req.method
        if parts[0] == "bucket":
            if method == "GET" and len(parts) == 1:
                return self._json(200, list(self.buckets.values()))
            if method == "GET":
                return self._json(200, self._bucket(parts[1]))
            body = req.json()
            options = {k: body[k] for k in ("public", "file_size_limit", "allowed_mime_types") if k in body}
            if method == "POST":
                if body["id"] in self.buckets:
                    raise storage_error(409, "Duplicate", "The resource already exists")
                self.add_bucket(body["id"], **options)
                return self._json(200, {"name": body["id"]})
            if method == "PUT":
                self._bucket(parts[1]).update(options, updated_at=now())
                return self._json(200, {"message": "Successfully updated"})
        if parts[0] != "object":
            raise Reply(404, {"message": "no route"})
        if parts[1] == "sign" and method == "POST":
            self._object(parts[2], "/".join(parts[3:]))
            token = secrets.token_urlsafe(16)
            expires = datetime.now(UTC) + timedelta(seconds=int(req.json()["expiresIn"]))
            self.tokens[token] = (parts[2], "/".join(parts[3:]), expires)
            return self._json(200, {"signedURL": f"/object/sign/{'/'.join(parts[2:])}?token={token}"})
        if parts[1] == "sign" and method == "GET":
            bucket, name, expires = self.tokens.get(req.query.get("token", [""])[0], (None, None, None))
            if (bucket, name) != (parts[2], "/".join(parts[3:])) or expires < datetime.now(UTC):
                raise storage_error(400, "InvalidSignature", "The signature is invalid or expired")
            obj = self._object(bucket, name)
            return 200, {"Content-Type": obj["content_type"]}, obj["data"]
        if parts[1] == "info" and method == "GET":
            obj = self._object(parts[2], "/".join(parts[3:]))
            return self._json(200, {"id": obj["id"], "name": "/".join(parts[3:]), "size": len(obj["data"]),
                                    "content_type": obj["content_type"]})
        if method == "DELETE" and len(parts) == 2:
            self._bucket(parts[1])
            gone = [{"name": p, "bucket_id": parts[1]} for p in req.json()["prefixes"]
                    if self.objects.pop((parts[1], p), None) is not None]
            return self._json(200, gone)
        if parts[1] == "authenticated":
            parts = parts[1:]
        bucket, name = parts[1], "/".join(parts[2:])
        if method == "GET":
            obj = self._object(bucket, name)
            return 200, {"Content-Type": obj["content_type"]}, obj["data"]
        if method in ("POST", "PUT"):
            form = parse_multipart(req.body, req.headers.get("content-type", ""))
            content_type, data = form["file"]
            if method == "PUT":
                self._object(bucket, name)
            upsert = method == "PUT" or req.headers.get("x-upsert") == "true"
            return self._json(200, self._save(bucket, name, data, content_type, upsert,
                                              form.get("cacheControl", (None, b""))[1].decode()))
        raise Reply(405, {"message": "method not allowed"})

    # ---- resumable uploads (TUS 1.0.0, as Supabase runs it) -------------------------
    def tus(self, req: Recorded) -> tuple[int, dict, bytes]:
        tus = {"Tus-Resumable": "1.0.0"}
        if req.method == "POST":
            meta = {}
            for pair in req.headers.get("upload-metadata", "").split(","):
                k, _, v = pair.strip().partition(" ")
                meta[k] = base64.b64decode(v).decode()
            upload = Upload(meta["bucketName"], meta["objectName"], meta.get("contentType", ""),
                            int(req.headers["upload-length"]), req.headers.get("x-upsert") == "true")
            if (upload.bucket, upload.name) in self.objects and not upload.upsert:
                raise storage_error(409, "Duplicate", "The resource already exists")
            self._accept(self._bucket(upload.bucket), upload.length, upload.content_type)
            upload_id = uuid.uuid4().hex
            self.uploads[upload_id] = upload
            return 201, {**tus, "Location": f"{self.url}/storage/v1/upload/resumable/{upload_id}",
                         "Content-Length": "0"}, b""
        upload = self.uploads.get(req.path.rsplit("/", 1)[1])
        if upload is None:
            raise storage_error(404, "not_found", "Upload not found")
        if req.method == "HEAD":
            return 200, {**tus, "Upload-Offset": str(len(upload.data)), "Upload-Length": str(upload.length),
                         "Cache-Control": "no-store"}, b""
        if req.method == "PATCH":
            if int(req.headers["upload-offset"]) != len(upload.data):
                raise Reply(409, {"message": "offset mismatch"})
            final = len(upload.data) + len(req.body) == upload.length
            if not final and len(req.body) != TUS_CHUNK:  # Supabase requires 6 MiB chunks
                raise Reply(400, {"message": "chunk size must be 6MB"})
            upload.data += req.body
            if final:
                self._save(upload.bucket, upload.name, bytes(upload.data), upload.content_type, upload.upsert,
                           "")
            return 204, {**tus, "Upload-Offset": str(len(upload.data))}, b""
        raise Reply(405, {"message": "method not allowed"})


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """{field name: (part content type, data)} of a multipart/form-data body."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type).group(1).encode()
    fields = {}
    for chunk in body.split(b"--" + boundary)[1:-1]:
        head, _, data = chunk[2:].partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        field_name = re.search(r'name="([^"]*)"', headers["content-disposition"]).group(1)
        fields[field_name] = (headers.get("content-type"), data[:-2])  # drop the CRLF before the boundary
    return fields


def _handler(fake: FakeSupabase):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls

        def _serve(self):
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Recorded(self.command, url.path, parse_qs(url.query, keep_blank_values=True),
                           {k.lower(): v for k, v in self.headers.items()}, body)
            status, headers, payload = fake.handle(req)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def log_message(self, *args):  # keep test output clean
            pass

    return Handler
