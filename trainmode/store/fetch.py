"""Blobs as local files, for readers that stream many of them in order (the export).

Blobs the store keeps on this machine are read in place; the others are downloaded
ahead by a bounded thread pool into temp files that are deleted once read, so a remote
backend's latency overlaps with the reader's work and disk use stays bounded.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from trainmode.store.base import Store

SIGN_BATCH = 100  # links signed per request, just ahead of the fetches that use them
SIGNED_FOR_S = 600  # a batch is used within seconds; this leaves room for slow downloads


class Links:
    """Signed links for the paths, made a batch at a time as the fetches reach them
    (one request per SIGN_BATCH blobs); backends without batch signing get None."""

    def __init__(self, store: Store, paths: list[str]):
        self.store, self.paths, self.urls, self.signed_to = store, paths, {}, 0

    def url(self, index: int) -> str | None:
        if index >= self.signed_to:
            batch = self.paths[index : index + SIGN_BATCH]
            urls = self.store.sign_many(batch, SIGNED_FOR_S)
            if urls is None:
                return None
            self.urls, self.signed_to = urls, index + len(batch)
        return self.urls.get(self.paths[index])


def _fetch(store: Store, path: str, workdir: Path, url: str | None = None) -> Path:
    """Stream one remote blob to a temp file (never whole in memory)."""
    fd, name = tempfile.mkstemp(dir=workdir, suffix=".blob")
    try:
        with os.fdopen(fd, "wb") as out:
            if url:
                store.download_url_to(url, path, out)
            else:
                store.download_to(path, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


@contextmanager
def local_files(store: Store, paths: list[str], workdir: Path, max_workers: int = 4) -> Iterator[Iterator[Path]]:
    """A local file per blob path, in order. Remote blobs are fetched by `max_workers`
    threads, at most 2 x max_workers ahead of the reader, and each temp file is deleted
    once the reader asks for the next one. On the way out (done or failed) queued
    fetches are cancelled and every temp file is removed."""
    if all(store.local_path(p) is not None for p in paths):
        yield (store.local_path(p) for p in paths)
        return
    pool = ThreadPoolExecutor(max_workers, thread_name_prefix="export-fetch")
    pending: deque[Future] = deque()
    current: list[Path] = []

    links = Links(store, paths)

    def submit(index: int, path: str) -> None:
        pending.append(pool.submit(_fetch, store, path, workdir, links.url(index)))

    def files() -> Iterator[Path]:
        upcoming = enumerate(paths)
        for index, path in islice(upcoming, 2 * max_workers):
            submit(index, path)
        while pending:
            local = pending[0].result()  # the fetch's own error, if it failed
            pending.popleft()
            current[:] = [local]
            for index, path in islice(upcoming, 1):
                submit(index, path)
            yield local
            local.unlink(missing_ok=True)

    try:
        yield files()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for local in current + [f.result() for f in pending if not f.cancelled() and f.exception() is None]:
            local.unlink(missing_ok=True)
