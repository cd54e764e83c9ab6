"""A fake Supabase on 127.0.0.1: the gateway, PostgREST (tests/fake_postgrest.py), Storage and
its resumable (TUS) endpoint as SupabaseStore calls them, in memory, recording every request.

A test seam, not a clone, but no kinder than the real services: each rule below names the file
and line of the real source it copies. Sources read: supabase/storage at 4fa61fb (Aug 2026),
tus/tus-node-server packages/server (the @tus/server 2.4.2 that Storage pins, package.json:87),
supabase/supabase docker/volumes/api/kong.yml (the API gateway).

Checked against the real Storage server (tests/real_storage.py; tests/test_storage_real.py runs
the same requests against both): what the store can observe answers alike, including TUS reading
`x-upsert` on every PATCH, an expired signed link's InvalidJWT "exp", expiresIn >= 1, HEAD, ranges
(206, 416 past the end), the duplicate codes, a missing bucket under an object, and the anon key
(accepted, then row-level security hides everything and refuses writes).
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

from fake_postgrest import FakePostgrest, Reply, json_reply, now

# Storage's renderable errors: (status in the body, code, error, message), from
# supabase/storage src/internal/errors/codes.ts.
NO_SUCH_BUCKET = (404, "NoSuchBucket", "Bucket not found", "Bucket not found")  # codes.ts:113-121
NO_SUCH_KEY = (404, "NoSuchKey", "not_found", "Object not found")  # codes.ts:130-138
TOO_LARGE = (413, "EntityTooLarge", "Payload too large", "The object exceeded the maximum allowed size")  # :305-312
DUPLICATE = (409, "ResourceAlreadyExists", "Duplicate", "The resource already exists")  # codes.ts:195-202 (a move)
DUPLICATE_BUCKET = (409, "BucketAlreadyExists", "Duplicate", "The resource already exists")
DUPLICATE_KEY = (409, "KeyAlreadyExists", "Duplicate", "The resource already exists")
ACCESS_DENIED = (403, "AccessDenied", "Unauthorized", "Invalid Compact JWS")  # codes.ts:186-193, a key not a JWT
RLS_DENIED = (403, "AccessDenied", "Unauthorized", "new row violates row-level security policy")  # the anon key
EXPIRED_LINK = (400, "InvalidJWT", "InvalidJWT", '"exp" claim timestamp check failed')  # a signed link's token
BAD_TOKEN = (400, "InvalidJWT", "InvalidJWT", "Invalid Compact JWS")
BAD_RANGE = (416, "InvalidRange", "invalid_range", "invalid range provided")
EXPIRES_TOO_SMALL = (400, "InvalidRequest", "Error", "body/expiresIn must be >= 1")


def storage_error(status: int, code: str, error: str, message: str) -> Reply:
    """Storage answers HTTP 400 (500 for a 500) with the real status in the JSON body
    (src/http/error-handler.ts:44-75, userStatusCode in src/internal/errors/storage-error.ts:23)."""
    return Reply(
        500 if status == 500 else 400, {"statusCode": str(status), "code": code, "error": error, "message": message}
    )


def mime_error(content_type: str) -> tuple:
    return (415, "InvalidMimeType", "invalid_mime_type", f"mime type {content_type} is not supported")  # :273-279


class TusReply(Exception):
    """A TUS answer: the status and a plain-text body (Storage's getTusError,
    src/http/routes/tus/lifecycle.ts:48-56; tus-node-server packages/server/src/constants.ts)."""

    def __init__(self, status: int, body: str):
        super().__init__(status)
        self.status, self.body = status, body


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


class FakeSupabase(FakePostgrest):
    def __init__(
        self,
        key: str = "fake-service-role-key",
        *,
        global_limit: int = 50 * 1024 * 1024,
        anon_key: str = "fake-anon-key",
    ):
        super().__init__()
        self.key, self.anon_key = key, anon_key
        self.global_limit = global_limit
        self.buckets: dict[str, dict] = {}
        self.objects: dict[tuple[str, str], dict] = {}
        self.uploads: dict[str, Upload] = {}
        self.tokens: dict[str, tuple[str, str, datetime]] = {}
        self.requests: list[Recorded] = []
        self.stall: set[str] = set()  # methods ("PATCH", ...) that are accepted and never answered
        self.released = threading.Event()
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeSupabase:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def add_bucket(self, name: str = "train-mode", **options) -> None:
        self.buckets[name] = {
            "id": name,
            "name": name,
            "owner": "",
            "public": False,
            "file_size_limit": None,
            "allowed_mime_types": None,
            "created_at": now(),
            "updated_at": now(),
            **options,
        }

    def find(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # ---- dispatch -------------------------------------------------------------------
    def handle(self, req: Recorded) -> tuple[int, dict, bytes]:
        with self.lock:
            self.requests.append(req)
            try:
                if req.path.startswith("/rest/v1/"):
                    self._check_apikey(req)
                    if req.path.startswith("/rest/v1/rpc/"):
                        return json_reply(200, self.rpc(req.path.rsplit("/", 1)[1], req.json()))
                    return self.rest(req, req.path[len("/rest/v1/") :])
                if not (req.method == "GET" and req.path.startswith("/storage/v1/object/sign/")):
                    if self._check_jwt(req) == "anon":  # a signed URL carries its own token instead
                        return self.as_anon(req)
                if req.path.startswith("/storage/v1/upload/resumable"):
                    return self.tus(req)
                if req.path.startswith("/storage/v1/"):
                    return self.storage(req, req.path[len("/storage/v1/") :])
                raise Reply(404, {"message": "no Route matched with those values"})
            except Reply as reply:
                return json_reply(reply.status, reply.body, reply.headers)
            except TusReply as reply:
                return reply.status, {"Content-Type": "text/plain", "Tus-Resumable": "1.0.0"}, reply.body.encode()

    def _check_apikey(self, req: Recorded) -> None:
        """The gateway's key-auth plugin on /rest/v1/ reads the `apikey` header (kong.yml, route rest-v1)."""
        if "apikey" not in req.headers:
            raise Reply(
                401,
                {
                    "message": "No API key found in request",
                    "hint": "No `apikey` request header or url param was found.",
                },
            )
        if req.headers["apikey"] != self.key:
            raise Reply(
                401,
                {"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."},
            )

    def _check_jwt(self, req: Recorded) -> str:
        """Storage has no key-auth (kong.yml, route storage-v1): it verifies the Authorization
        bearer itself and answers AccessDenied (src/http/plugins/jwt.ts:41-67). The role it names."""
        bearer = req.headers.get("authorization")
        if bearer == f"Bearer {self.key}":
            return "service_role"
        if bearer == f"Bearer {self.anon_key}":
            return "anon"
        raise storage_error(*ACCESS_DENIED)

    def as_anon(self, req: Recorded) -> tuple[int, dict, bytes]:
        """The anon key is accepted, then row-level security applies (no policy on storage.objects
        or buckets): nothing is seen and every write is refused, as the real server answers."""
        path, method = req.path, req.method
        if path == "/storage/v1/bucket" and method == "GET":
            return json_reply(200, [])
        if path.startswith("/storage/v1/bucket/") and method == "GET":
            raise storage_error(*NO_SUCH_BUCKET)
        if path.startswith("/storage/v1/object/list/") or (method == "DELETE" and path.count("/") == 4):
            return json_reply(200, [])
        if method == "GET" or path.startswith(("/storage/v1/object/sign/", "/storage/v1/object/move")):
            raise storage_error(*NO_SUCH_KEY)
        if path.startswith("/storage/v1/upload/resumable"):
            raise TusReply(403, "new row violates row-level security policy")
        raise storage_error(*RLS_DENIED)

    # ---- Storage --------------------------------------------------------------------
    def _bucket(self, name: str) -> dict:
        if name not in self.buckets:  # src/storage/database/pg.ts:455-492 findBucketById
            raise storage_error(*NO_SUCH_BUCKET)
        return self.buckets[name]

    def max_size(self, bucket: dict) -> int:
        """The bucket's limit, never above the global one (src/storage/uploader.ts:580-595)."""
        return min(filter(None, [bucket["file_size_limit"], self.global_limit]))

    def _object(self, bucket: str, name: str) -> dict:
        """Objects are looked up by bucket id and name only: a missing bucket is "Object not
        found" too (src/storage/database/pg.ts:1169-1197 findObject)."""
        if (bucket, name) not in self.objects:
            raise storage_error(*NO_SUCH_KEY)
        return self.objects[(bucket, name)]

    def _save(
        self, bucket_id: str, name: str, data: bytes, content_type: str, upsert: bool, cache_control: str
    ) -> dict:
        bucket = self._bucket(bucket_id)  # src/storage/object.ts:97-99
        if bucket["allowed_mime_types"] and content_type not in bucket["allowed_mime_types"]:
            raise storage_error(*mime_error(content_type))  # uploader.ts:305-332, compared raw
        if len(data) > self.max_size(bucket):
            raise storage_error(*TOO_LARGE)  # uploader.ts:453, 531
        if (bucket_id, name) in self.objects and not upsert:
            raise storage_error(*DUPLICATE_KEY)
        self.objects[(bucket_id, name)] = {
            "id": str(uuid.uuid4()),
            "data": bytes(data),
            "content_type": content_type,
            "cache_control": cache_control,
            "updated_at": now(),
        }
        return {"Id": self.objects[(bucket_id, name)]["id"], "Key": f"{bucket_id}/{name}"}

    def _bucket_options(self, body: dict) -> dict:
        options = {k: body[k] for k in ("public", "file_size_limit", "allowed_mime_types") if k in body}
        if (options.get("file_size_limit") or 0) > self.global_limit:
            raise storage_error(*TOO_LARGE)  # src/storage/storage.ts:372-384 parseMaxSizeLimit
        return options

    def buckets_route(self, req: Recorded, parts: list[str]) -> tuple[int, dict, bytes]:
        if req.method == "GET":
            return json_reply(200, self._bucket(parts[1]) if len(parts) > 1 else list(self.buckets.values()))
        body = req.json()
        options = self._bucket_options(body)
        if req.method == "POST":
            if body["id"] in self.buckets:
                raise storage_error(*DUPLICATE_BUCKET)
            self.add_bucket(body["id"], **options)
            return json_reply(200, {"name": body["id"]})
        self._bucket(parts[1]).update(options, updated_at=now())
        return json_reply(200, {"message": "Successfully updated"})

    def storage(self, req: Recorded, route: str) -> tuple[int, dict, bytes]:
        parts = [unquote(p) for p in route.split("/")]
        method = req.method
        if parts[0] == "bucket":
            return self.buckets_route(req, parts)
        if parts[0] != "object":
            raise Reply(404, {"message": "no Route matched with those values"})
        if parts[1] == "sign":
            return self._sign_route(req, parts)
        if parts[1] == "info" and method == "GET":
            obj = self._object(parts[2], "/".join(parts[3:]))
            return json_reply(
                200,
                {
                    "id": obj["id"],
                    "name": "/".join(parts[3:]),
                    "size": len(obj["data"]),
                    "content_type": obj["content_type"],
                },
            )
        if parts[1] == "move" and method == "POST":
            return self._move(req.json())
        if parts[1] == "list" and method == "POST":
            return json_reply(200, self._list(parts[2], req.json()))
        if method == "DELETE" and len(parts) == 2:  # deleteObjects matches rows: no bucket check (object.ts:183)
            gone = [
                {"name": p, "bucket_id": parts[1]}
                for p in req.json()["prefixes"]
                if self.objects.pop((parts[1], p), None) is not None
            ]
            return json_reply(200, gone)
        if parts[1] == "authenticated":
            parts = parts[1:]
        bucket, name = parts[1], "/".join(parts[2:])
        if method in ("GET", "HEAD"):
            self._bucket(bucket)  # an object of a missing bucket: "Bucket not found"
            return self._content(self._object(bucket, name), req)
        if method in ("POST", "PUT"):
            form = parse_multipart(req.body, req.headers.get("content-type", ""))
            content_type, data = form["file"]
            upsert = method == "PUT" or req.headers.get("x-upsert") == "true"
            return json_reply(
                200,
                self._save(bucket, name, data, content_type, upsert, form.get("cacheControl", (None, b""))[1].decode()),
            )
        raise Reply(405, {"message": "method not allowed"})

    def _sign_route(self, req: Recorded, parts: list[str]) -> tuple[int, dict, bytes]:
        """Signing links (one, or many at once: object.ts signUrls) and downloading through one."""
        if req.method == "GET":
            bucket, name, expires = self.tokens.get(req.query.get("token", [""])[0], (None, None, None))
            if (bucket, name) != (parts[2], "/".join(parts[3:])):
                raise storage_error(*BAD_TOKEN)
            if expires < datetime.now(UTC):
                raise storage_error(*EXPIRED_LINK)
            return self._content(self._object(bucket, name), req)
        body = req.json()
        if int(body["expiresIn"]) < 1:  # the route's schema
            raise storage_error(*EXPIRES_TOO_SMALL)
        if len(parts) == 3:
            return json_reply(200, [self._sign_one(parts[2], path, body["expiresIn"]) for path in body["paths"]])
        self._object(parts[2], "/".join(parts[3:]))
        token = secrets.token_urlsafe(16)
        expires = datetime.now(UTC) + timedelta(seconds=int(body["expiresIn"]))
        self.tokens[token] = (parts[2], "/".join(parts[3:]), expires)
        return json_reply(200, {"signedURL": f"/object/sign/{'/'.join(parts[2:])}?token={token}"})

    def _move(self, body: dict) -> tuple[int, dict, bytes]:
        """Storage renames the row; a taken name is a duplicate (object.ts moveObject)."""
        source = self._object(body["bucketId"], body["sourceKey"])
        if (body["bucketId"], body["destinationKey"]) in self.objects:
            raise storage_error(*DUPLICATE)
        self.objects[(body["bucketId"], body["destinationKey"])] = self.objects.pop(
            (body["bucketId"], body["sourceKey"])
        )
        return json_reply(200, {"message": "Successfully moved", "Id": source["id"], "Key": body["destinationKey"]})

    def _sign_one(self, bucket: str, name: str, expires_in) -> dict:
        if (bucket, name) not in self.objects:
            return {
                "error": "Either the object does not exist or you do not have access to it",
                "path": name,
                "signedURL": None,
            }
        token = secrets.token_urlsafe(16)
        self.tokens[token] = (bucket, name, datetime.now(UTC) + timedelta(seconds=int(expires_in)))
        return {"error": None, "path": name, "signedURL": f"/object/sign/{bucket}/{name}?token={token}"}

    @staticmethod
    def _content(obj: dict, req: Recorded) -> tuple[int, dict, bytes]:
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", req.headers.get("range", ""))
        size = len(obj["data"])
        if match:
            first, last = int(match.group(1)), int(match.group(2))
            if first >= size:  # a range past the end
                status, code, error, message = BAD_RANGE
                body = {"statusCode": str(status), "code": code, "error": error, "message": message}
                return json_reply(416, body, {"Content-Range": f"bytes */{size}"})
            headers = {
                "Content-Type": obj["content_type"],
                "Content-Range": f"bytes {first}-{min(last, size - 1)}/{size}",
            }
            return 206, headers, obj["data"][first : last + 1]
        return 200, {"Content-Type": obj["content_type"], "Content-Length": str(size)}, obj["data"]

    def _list(self, bucket: str, body: dict) -> list[dict]:
        """One level of a folder: files with an id, sub-folders with id null."""
        prefix = body.get("prefix", "").strip("/")
        entries: dict[str, dict] = {}
        for (b, name), obj in sorted(self.objects.items()):
            if b != bucket or (prefix and not name.startswith(prefix + "/")):
                continue
            rest = name[len(prefix) + 1 :] if prefix else name
            head, _, tail = rest.partition("/")
            entries.setdefault(
                head,
                {"name": head, "id": None}
                if tail
                else {
                    "name": head,
                    "id": obj["id"],
                    "updated_at": obj["updated_at"],
                    "created_at": obj["updated_at"],
                    "metadata": {"size": len(obj["data"]), "mimetype": obj["content_type"]},
                },
            )
        offset = int(body.get("offset", 0))
        return list(entries.values())[offset : offset + int(body.get("limit", 100))]

    # ---- resumable uploads (TUS 1.0.0, as Supabase runs it) -------------------------
    def tus(self, req: Recorded) -> tuple[int, dict, bytes]:
        try:
            if req.method == "POST":
                return self._tus_create(req)
            return self._tus_patch(req)
        except Reply as reply:  # a Storage error inside TUS is rendered as plain text (lifecycle.ts:364-376)
            raise TusReply(int(reply.body["statusCode"]), reply.body["message"]) from None

    def _tus_create(self, req: Recorded) -> tuple[int, dict, bytes]:
        meta = {}
        for pair in req.headers.get("upload-metadata", "").split(","):
            k, _, v = pair.strip().partition(" ")
            meta[k] = base64.b64decode(v).decode()
        upload = Upload(
            meta["bucketName"],
            meta["objectName"],
            meta.get("contentType", ""),
            int(req.headers["upload-length"]),
            req.headers.get("x-upsert") == "true",
        )
        # PostHandler asks maxSize(req, id): the bucket's limit capped by the global one
        # (src/http/routes/tus/index.ts:152-175), and refuses a longer Upload-Length.
        if upload.length > self.max_size(self._bucket(upload.bucket)):
            raise TusReply(413, "Maximum size exceeded\n")
        if (upload.bucket, upload.name) in self.objects and not upload.upsert:  # lifecycle.ts:164 canUpload
            raise storage_error(*DUPLICATE)
        allowed = self.buckets[upload.bucket]["allowed_mime_types"]
        if allowed and upload.content_type not in allowed:  # lifecycle.ts:296-298
            raise storage_error(*mime_error(upload.content_type))
        upload_id = uuid.uuid4().hex
        self.uploads[upload_id] = upload
        return (
            201,
            {
                "Tus-Resumable": "1.0.0",
                "Location": f"{self.url}/storage/v1/upload/resumable/{upload_id}",
                "Content-Length": "0",
            },
            b"",
        )

    def _tus_patch(self, req: Recorded) -> tuple[int, dict, bytes]:
        upload = self.uploads.get(req.path.rsplit("/", 1)[1])
        if upload is None:
            raise TusReply(404, "The file for this url was not found\n")
        if req.method == "HEAD":
            return (
                200,
                {
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": str(len(upload.data)),
                    "Upload-Length": str(upload.length),
                    "Cache-Control": "no-store",
                },
                b"",
            )
        # Storage reads x-upsert on every request (lifecycle.ts canUpload runs for each PATCH too):
        # a chunk without it, for a path that already holds a file, is refused.
        if (upload.bucket, upload.name) in self.objects and req.headers.get("x-upsert") != "true":
            raise storage_error(*DUPLICATE)
        if int(req.headers["upload-offset"]) != len(upload.data):
            raise TusReply(409, "Upload-Offset conflict\n")
        # Any chunk size is accepted; the body is cut off at the limit, checked again here
        # after the chunk was sent (PatchHandler calculateMaxBodySize / StreamLimiter).
        end = len(upload.data) + len(req.body)
        if end > self.max_size(self._bucket(upload.bucket)):
            raise TusReply(413, "Maximum size exceeded\n")
        if end > upload.length:
            raise TusReply(413, "upload's size exceeded\n")
        upload.data += req.body
        if end == upload.length:  # onUploadFinish (lifecycle.ts:306)
            self._save(upload.bucket, upload.name, bytes(upload.data), upload.content_type, True, "")
        return 204, {"Tus-Resumable": "1.0.0", "Upload-Offset": str(end)}, b""


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
            if self.command in fake.stall:  # accept, read, never answer (until the fake stops)
                fake.released.wait(60)
                self.close_connection = True
                return
            req = Recorded(
                self.command,
                url.path,
                parse_qs(url.query, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
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
