"""The fake Supabase answers the way the real services do (each rule cites its source in
tests/fake_supabase.py and tests/fake_postgrest.py): shapes the store has to cope with."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest
from fake_supabase import FakeSupabase

MIB = 1024 * 1024


@pytest.fixture
def fake():
    with FakeSupabase() as server:
        server.add_bucket("train-mode", file_size_limit=10 * MIB)
        yield server


def auth(fake, **extra) -> dict:
    return {"apikey": fake.key, "authorization": f"Bearer {fake.key}", **extra}


def test_the_gateway_checks_the_apikey_header_for_rows(fake):
    bearer_only = httpx.get(f"{fake.url}/rest/v1/artists", headers={"authorization": f"Bearer {fake.key}"})
    assert (bearer_only.status_code, bearer_only.json()["message"]) == (401, "No API key found in request")
    wrong = httpx.get(f"{fake.url}/rest/v1/artists", headers=auth(fake, apikey="wrong"))
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Invalid API key")
    assert httpx.get(f"{fake.url}/rest/v1/artists", headers=auth(fake)).status_code == 200


def test_storage_errors_are_http_400_with_the_status_in_the_body(fake):
    missing = httpx.get(f"{fake.url}/storage/v1/bucket/nope", headers=auth(fake))
    assert missing.status_code == 400
    assert missing.json() == {
        "statusCode": "404",
        "code": "NoSuchBucket",
        "error": "Bucket not found",
        "message": "Bucket not found",
    }
    denied = httpx.get(f"{fake.url}/storage/v1/bucket/train-mode", headers=auth(fake, authorization="Bearer x"))
    assert (denied.status_code, denied.json()["statusCode"], denied.json()["code"]) == (400, "403", "AccessDenied")


def test_an_object_of_a_missing_bucket_is_object_not_found(fake):
    answer = httpx.post(f"{fake.url}/storage/v1/object/sign/gone/a.mp3", json={"expiresIn": 60}, headers=auth(fake))
    assert answer.json() == {
        "statusCode": "404",
        "code": "NoSuchKey",
        "error": "not_found",
        "message": "Object not found",
    }


def test_a_bucket_limit_above_the_global_one_is_refused(fake):
    answer = httpx.put(
        f"{fake.url}/storage/v1/bucket/train-mode",
        headers=auth(fake),
        json={"id": "train-mode", "file_size_limit": 60 * MIB},
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "EntityTooLarge")
    assert fake.buckets["train-mode"]["file_size_limit"] == 10 * MIB


def tus_create(fake, length: int, bucket: str = "train-mode") -> httpx.Response:
    metadata = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"bucketName": bucket, "objectName": "a.mp3", "contentType": "audio/mpeg"}.items()
    )
    return httpx.post(
        f"{fake.url}/storage/v1/upload/resumable",
        headers=auth(fake, **{"tus-resumable": "1.0.0", "upload-length": str(length), "upload-metadata": metadata}),
    )


def test_tus_errors_are_plain_text_with_the_status(fake):
    too_long = tus_create(fake, 11 * MIB)
    assert (too_long.status_code, too_long.headers["content-type"], too_long.text) == (
        413,
        "text/plain",
        "Maximum size exceeded\n",
    )
    no_bucket = tus_create(fake, MIB, bucket="gone")
    assert (no_bucket.status_code, no_bucket.text) == (404, "Bucket not found")


def test_tus_takes_any_chunk_size_and_checks_the_limit_again_after_a_chunk(fake):
    location = tus_create(fake, 9 * MIB).headers["location"]
    first = httpx.patch(location, content=b"x" * 4 * MIB, headers=auth(fake, **{"upload-offset": "0"}))
    assert first.status_code == 204  # not 6 MiB: accepted
    fake.buckets["train-mode"]["file_size_limit"] = 5 * MIB  # lowered in the dashboard meanwhile
    second = httpx.patch(location, content=b"x" * 5 * MIB, headers=auth(fake, **{"upload-offset": str(4 * MIB)}))
    assert (second.status_code, second.text) == (413, "Maximum size exceeded\n")


def test_postgrest_answers_at_most_max_rows_and_42501_as_403(fake):
    fake.tables["artists"] += [{"id": str(uuid.uuid4()), "name": f"a{n}", "created_at": "t"} for n in range(1500)]
    page = httpx.get(f"{fake.url}/rest/v1/artists", params={"limit": "5000"}, headers=auth(fake, prefer="count=exact"))
    assert len(page.json()) == 1000 and page.headers["content-range"] == "0-999/1500"
    fake.granted.discard("artists")
    denied = httpx.get(f"{fake.url}/rest/v1/artists", headers=auth(fake))
    assert (denied.status_code, denied.json()["code"]) == (403, "42501")
