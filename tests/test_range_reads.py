"""Reading a past export's zip in place (trainmode/store/ranges.py): zipfile over ranged reads
reads the directory and single members with a few bounded requests, never the whole zip; on
Supabase (the fake) through signed links with a `Range` header, renewed when one expires.

The same reads on every backend, the real Storage server included, are in test_store_contract.py."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from fake_supabase import FakeSupabase

from trainmode.errors import NotFoundError, StoreError
from trainmode.store import ranges
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES
from trainmode.store.supabase.store import SupabaseStore

ZIP = "exports/a1/e1/dataset-audiocraft.zip"


def zip_of(rows: int, audio_bytes: int = 2000) -> bytes:
    """An export-like zip: per row an audio file and two sidecars."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for n in range(1, rows + 1):
            zf.writestr(f"train/track-{n:04d}.mp3", bytes([n % 256]) * audio_bytes)
            zf.writestr(f"train/track-{n:04d}.json", f'{{"row": {n}}}')
            zf.writestr(f"train/track-{n:04d}.txt", f"caption {n}")
    return out.getvalue()


class Recorded:
    """A fetch over bytes in memory that records every (first, last) asked for."""

    def __init__(self, data: bytes, short: bool = False):
        self.data, self.short, self.asked = data, short, []

    def __call__(self, first: int, last: int) -> bytes:
        self.asked.append((first, last))
        return self.data[first : last + (0 if self.short else 1)]


def test_a_small_zip_opens_with_one_request_and_a_member_costs_one_more():
    data = zip_of(200, audio_bytes=20_000)  # 4 MB with a directory of ~16 KB: inside the tail
    fetch = Recorded(data)
    with ranges.open_ranges(len(data), fetch) as fh, zipfile.ZipFile(fh) as zf:
        assert len(zf.namelist()) == 600
        assert fetch.asked == [(len(data) - ranges.TAIL, len(data) - 1)]
        assert zf.read("train/track-0007.json") == b'{"row": 7}'
        assert zf.read("train/track-0007.txt") == b"caption 7"  # from the same buffer
        assert len(fetch.asked) == 2 and fetch.asked[1][1] - fetch.asked[1][0] < ranges.BLOCK
    assert sum(last - first + 1 for first, last in fetch.asked) < len(data) // 10


def test_a_large_directory_takes_a_request_or_two_more_and_a_large_member_is_read_in_bounded_requests():
    data = zip_of(2000, audio_bytes=100)  # a directory of ~160 KB: past the tail
    fetch = Recorded(data)
    with ranges.open_ranges(len(data), fetch) as fh, zipfile.ZipFile(fh) as zf:
        assert len(zf.namelist()) == 6000 and len(fetch.asked) <= 3
    asked = sorted(b for first, last in fetch.asked for b in range(first, last + 1))
    assert len(asked) == len(set(asked)) < len(data)  # no byte twice
    audio = bytes(range(256)) * 1000
    fetch = Recorded(audio)
    reader = ranges.RangeReader(len(audio), fetch, max_request=40_000)
    assert reader.read(len(audio)) == audio[:40_000]  # one request asks for at most max_request
    assert reader.readall() == audio[40_000:]
    tail_start = len(audio) - ranges.TAIL
    assert fetch.asked == [(0, 39_999), (40_000, 79_999), (80_000, 119_999), (120_000, 159_999)] + [
        (160_000, tail_start - 1),  # up to the tail, then the tail whole
        (tail_start, len(audio) - 1),
    ]
    assert reader.read(10) == b"" and len(fetch.asked) == 6  # at the end: no request


def test_a_short_answer_a_seek_before_the_start_and_a_closed_file_are_errors():
    reader = ranges.RangeReader(ranges.TAIL + 100, Recorded(b"x" * (ranges.TAIL + 100), short=True), what="z.zip")
    with pytest.raises(StoreError, match=r"Reading z.zip failed: bytes 0-9 came back as 9 bytes"):
        reader.read(10)
    with pytest.raises(OSError):  # zipfile expects OSError from seek(-22, 2) on a tiny file
        reader.seek(-1)
    reader.close()
    with pytest.raises(ValueError):
        reader.readinto(bytearray(1))


@pytest.fixture
def fake():
    with FakeSupabase() as server:
        server.add_bucket("train-mode", allowed_mime_types=ALLOWED_MIME_TYPES)
        yield server


@pytest.fixture
def store(fake):
    s = SupabaseStore(fake.url, fake.key)
    yield s
    s.close()


def object_reads(fake: FakeSupabase) -> list:
    return fake.find("GET", f"/storage/v1/object/sign/train-mode/{ZIP}")


def test_supabase_reads_a_member_of_a_large_zip_without_downloading_it(fake, store):
    data = zip_of(60, audio_bytes=100_000)  # 6 MB
    store.put_blob(ZIP, data, "application/zip")
    with store.open_blob_range(ZIP, len(data)) as fh, zipfile.ZipFile(fh) as zf:
        assert zf.read("train/track-0042.json") == b'{"row": 42}'
    reads = object_reads(fake)
    assert len(reads) == 2 and all(r.headers["range"].startswith("bytes=") for r in reads)
    asked = [tuple(map(int, r.headers["range"][6:].split("-"))) for r in reads]
    assert sum(last - first + 1 for first, last in asked) < 400_000  # of 6 MB
    assert all("authorization" not in r.headers and "apikey" not in r.headers for r in reads)


def test_supabase_renews_an_expired_link_and_says_when_the_zip_is_gone_or_changed(fake, store):
    data = zip_of(3, audio_bytes=100_000)  # more than the tail: a read at the start is a request
    store.put_blob(ZIP, data, "application/zip")
    fh = store.open_blob_range(ZIP)  # asks for the size: one byte
    assert object_reads(fake)[0].headers["range"] == "bytes=0-0"
    for token, (bucket, name, _) in list(fake.tokens.items()):
        fake.tokens[token] = (bucket, name, datetime.now(UTC) - timedelta(seconds=1))
    with zipfile.ZipFile(fh) as zf:
        assert zf.read("train/track-0002.txt") == b"caption 2"
    assert len(fake.find("POST", "/storage/v1/object/sign/")) == 2  # signed again once
    store.put_blob(ZIP, data + b"more", "application/zip")
    with pytest.raises(StoreError, match="changed while it was read"):
        fh.seek(0)
        fh.read(1)
    store.delete_blob(ZIP)
    with pytest.raises(NotFoundError, match=f"The stored file {ZIP} is missing"):
        fh.seek(100)
        fh.read(1)
    fh.close()
