"""The Supabase store's Storage half against the real Supabase Storage server (tests/real_storage.py)
and against the fake (tests/fake_supabase.py), with the same expectations: where the store can
observe Storage, the fake must answer as the real server does.

The real server runs only where node 24 and PostgreSQL can (marked slow: skipped with a reason on a
laptop without them, never in CI). Three differences the real server showed are fixed here: a
resumable (TUS) upload over 6 MB could not overwrite (Storage reads x-upsert on every PATCH), an
expired signed link was reported as a rejected key, and TRAINMODE_SIGNED_URL_EXPIRY=0 made a
finished export fail (Storage refuses expiresIn 0).
"""

from __future__ import annotations

import base64
import io
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from fake_supabase import FakeSupabase

from trainmode.config import Secret, Settings
from trainmode.errors import ConfigError
from trainmode.store.supabase.errors import KEY_REJECTED, LinkExpiredError
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES
from trainmode.store.supabase.store import RESUMABLE_THRESHOLD, SupabaseStore

MIB = 1024 * 1024


@dataclass
class Project:
    kind: str
    url: str
    key: str
    anon_key: str
    bucket: str

    def store(self, key: str | None = None, **options) -> SupabaseStore:
        return SupabaseStore(self.url, key or self.key, self.bucket, **options)

    def request(self, method: str, path: str, key: str | None = None, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.key}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}/storage/v1{path}", headers=headers, timeout=60, **kwargs)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.slow)])
def project(request):
    if request.param == "real":
        url, key, bucket, _rest = request.getfixturevalue("real_supabase")
        yield Project("real", url, key, request.getfixturevalue("real_storage").anon_key, bucket)
        return
    with FakeSupabase() as fake:
        bucket = f"tm-{uuid.uuid4().hex[:12]}"
        fake.add_bucket(bucket, file_size_limit=50 * MIB, allowed_mime_types=list(ALLOWED_MIME_TYPES))
        yield Project("fake", fake.url, fake.key, fake.anon_key, bucket)


def answer(response: httpx.Response) -> tuple[int, str]:
    """(the status Storage means, its error code): JSON errors carry the real status in statusCode."""
    try:
        body = response.json()
    except ValueError:  # a file's bytes, or a TUS answer's plain text
        return response.status_code, response.text.strip() if response.is_error else ""
    if isinstance(body, dict) and "statusCode" in body:
        return int(body["statusCode"]), str(body.get("code") or body.get("error"))
    return response.status_code, ""


# ---- the three differences, fixed ------------------------------------------------------
def test_a_resumable_upload_over_6_mb_overwrites(project):
    """A retried draft (the same path, over 6 MB) must be saved again: Storage reads x-upsert on
    every TUS request, so each PATCH sends it (before: 409 "The resource already exists")."""
    store = project.store()
    first, second = b"ID3" + b"\1" * (7 * MIB), b"ID3" + b"\2" * (7 * MIB)
    assert len(first) > RESUMABLE_THRESHOLD
    store.put_blob("drafts/a/audio.mp3", first, "audio/mpeg")
    store.put_blob("drafts/a/audio.mp3", io.BytesIO(second), "audio/mpeg")
    with store.open_blob("drafts/a/audio.mp3") as fh:
        assert fh.read() == second
    store.close()


def test_an_expired_signed_link_is_an_expired_link_not_a_rejected_key(project):
    store = project.store()
    store.put_blob("x/prompt.txt", b"warm pads", "text/plain")
    signed = project.request("POST", f"/object/sign/{project.bucket}/x/prompt.txt", json={"expiresIn": 1}).json()
    time.sleep(2.2)
    expired = httpx.get(f"{project.url}/storage/v1{signed['signedURL']}")
    assert answer(expired) == (400, "InvalidJWT") and '"exp"' in expired.json()["message"]
    with pytest.raises(LinkExpiredError, match="expired before it was used") as raised:
        store._raise_for_status(expired, "downloading x/prompt.txt", "x/prompt.txt", None)
    assert KEY_REJECTED not in str(raised.value)
    out = io.BytesIO()  # the export's fetch: a link that expired meanwhile is signed again
    store.download_url_to(f"{project.url}/storage/v1{signed['signedURL']}", "x/prompt.txt", out)
    assert out.getvalue() == b"warm pads"
    store.close()


def test_a_signed_url_expiry_of_0_is_refused_clearly_and_links_last_a_second_at_least(project):
    settings = Settings(
        backend="supabase", supabase_url=project.url, supabase_key=Secret(project.key), signed_url_expiry_s=0
    )
    with pytest.raises(ConfigError, match="TRAINMODE_SIGNED_URL_EXPIRY must be at least 1"):
        SupabaseStore.from_settings(settings)
    assert answer(project.request("POST", f"/object/sign/{project.bucket}/x", json={"expiresIn": 0})) == (
        400,
        "InvalidRequest",
    )
    store = project.store(signed_url_expiry_s=0)  # made directly: clamped, so a finished export gets its link
    store.put_blob("exports/a/dataset.zip", b"PK\5\6" + b"\0" * 18, "application/zip")
    assert httpx.get(store.blob_url("exports/a/dataset.zip")).content.startswith(b"PK")
    assert httpx.get(store.blob_url("exports/a/dataset.zip", 0)).status_code == 200
    assert set(store.sign_many(["exports/a/dataset.zip"], 0)) == {"exports/a/dataset.zip"}
    store.close()


# ---- what else the store can observe: the same answers from the fake and the real server --
def test_storage_answers_the_store_can_observe(project):
    store = project.store()
    store.put_blob("o/a.txt", b"hello world", "text/plain")
    store.put_blob("o/b.txt", b"x", "text/plain")
    bucket = project.bucket
    files = {"file": ("a.txt", b"again", "text/plain")}
    checks = {
        "duplicate bucket": (
            project.request("POST", "/bucket", json={"id": bucket, "name": bucket}),
            (409, "BucketAlreadyExists"),
        ),
        "duplicate object": (
            project.request("POST", f"/object/{bucket}/o/a.txt", files=files),
            (409, "KeyAlreadyExists"),
        ),
        "HEAD object": (project.request("HEAD", f"/object/{bucket}/o/a.txt"), (200, "")),
        "range": (project.request("GET", f"/object/{bucket}/o/a.txt", headers={"Range": "bytes=0-0"}), (206, "")),
        "range past the end": (
            project.request("GET", f"/object/{bucket}/o/a.txt", headers={"Range": "bytes=100-200"}),
            (416, "InvalidRange"),
        ),
        "object of a missing bucket": (project.request("GET", "/object/no-such-bucket/a.txt"), (404, "NoSuchBucket")),
        "missing object": (project.request("GET", f"/object/{bucket}/o/none.txt"), (404, "NoSuchKey")),
        "a key that is not a JWT": (project.request("GET", "/bucket", key="not-a-jwt"), (403, "AccessDenied")),
        "a broken link": (
            httpx.get(f"{project.url}/storage/v1/object/sign/{bucket}/o/a.txt?token=garbage"),
            (400, "InvalidJWT"),
        ),
        "move onto an existing object": (
            project.request(
                "POST", "/object/move", json={"bucketId": bucket, "sourceKey": "o/a.txt", "destinationKey": "o/b.txt"}
            ),
            (409, "ResourceAlreadyExists"),
        ),
    }
    seen = {name: answer(response) for name, (response, _) in checks.items()}
    assert seen == {name: expected for name, (_, expected) in checks.items()}
    store.close()


def test_the_anon_key_is_accepted_then_row_level_security_hides_everything(project):
    """The anon key (refused up front by from_settings) sees no bucket and cannot write."""
    assert project.request("GET", "/bucket", key=project.anon_key).json() == []
    anon = project.store(key=project.anon_key)
    assert anon.list_blobs("o") == []
    with pytest.raises(ConfigError, match="rejected the service-role key"):
        anon.put_blob("o/b.txt", b"x", "text/plain")
    uploaded = project.request(
        "POST", f"/object/{project.bucket}/o/b.txt", key=project.anon_key, files={"file": ("b", b"x", "text/plain")}
    )
    assert answer(uploaded) == (403, "AccessDenied") and "row-level security" in uploaded.text
    anon.close()


def test_tus_reads_x_upsert_on_every_chunk(project):
    """A PATCH without x-upsert, for a path that already holds a file, is refused (409)."""
    store = project.store()
    store.put_blob("t/audio.mp3", b"ID3 old", "audio/mpeg")
    metadata = {"bucketName": project.bucket, "objectName": "t/audio.mp3", "contentType": "audio/mpeg"}
    auth = {"tus-resumable": "1.0.0"}
    created = project.request(
        "POST",
        "/upload/resumable",
        headers={
            **auth,
            "x-upsert": "true",
            "upload-length": "7",
            "upload-metadata": ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items()),
        },
    )
    assert created.status_code == 201 and "/storage/v1/upload/resumable/" in created.headers["location"]
    patch = {**auth, "upload-offset": "0", "content-type": "application/offset+octet-stream"}
    refused = httpx.patch(
        created.headers["location"], content=b"ID3 new", headers={**patch, "authorization": f"Bearer {project.key}"}
    )
    assert (refused.status_code, refused.text.strip()) == (409, "The resource already exists")
    taken = httpx.patch(
        created.headers["location"],
        content=b"ID3 new",
        headers={**patch, "x-upsert": "true", "authorization": f"Bearer {project.key}"},
    )
    assert taken.status_code == 204
    with store.open_blob("t/audio.mp3") as fh:
        assert fh.read() == b"ID3 new"
    store.close()
