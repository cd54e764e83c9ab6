"""Export: every `ready` item of an artist into one dataset.zip, crash-safe.

Order of work: build the zip in a temp file (streamed, ZIP_STORED, zip64), verify
it, store it, and only then mark the items exported in one transaction. If any step
fails the export row is marked failed, no zip is left visible and the items stay
`ready`, so a retry just works. The dataset layout itself is in `dataset.py`.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import struct
import tempfile
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from . import dataset, doctor, lease
from .errors import StoreError, TrainModeError, ValidationError
from .store import Store, new_id

CHUNK = 1024 * 1024
REPORT_EVERY = 64 * CHUNK               # progress within a file: at most this often
FIXED_TIME = (1980, 1, 1, 0, 0, 0)      # fixed member timestamps: same items, same bytes
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportProgress:
    stage: str          # "writing" | "verifying" | "storing" | "done"
    items_done: int
    items_total: int
    bytes_done: int     # audio bytes written; while verifying, zip bytes checked
    bytes_total: int


@dataclass(frozen=True)
class ExportResult:
    export_id: str
    zip_path: str           # blob path
    url: str                # file path (embedded) or signed URL (remote)
    local_path: Path | None
    item_count: int
    bytes: int
    sha256: str


ProgressFn = Callable[[ExportProgress], None]


class _Progress:
    """Counts items and bytes for the progress callback, reporting at most every REPORT_EVERY bytes."""

    def __init__(self, callback: ProgressFn | None, items: list[dict]):
        self.callback = callback
        self.items_total = len(items)
        self.bytes_total = sum(i.get("audio_bytes") or 0 for i in items)
        self.items_done = self.bytes_done = self._reported = 0

    def report(self, stage: str, bytes_done: int | None = None, bytes_total: int | None = None) -> None:
        if self.callback:
            done = self.bytes_done if bytes_done is None else bytes_done
            self.callback(ExportProgress(stage, self.items_done, self.items_total, done,
                                         self.bytes_total if bytes_total is None else bytes_total))

    def add_bytes(self, n: int) -> None:
        self.bytes_done += n
        if self.bytes_done - self._reported >= REPORT_EVERY:
            self._reported = self.bytes_done
            self.report("writing")


# ---- audio files: local in place, remote fetched ahead by a bounded pool ------------
def _fetch(store: Store, path: str, workdir: Path) -> Path:
    """Stream one remote blob to a temp file (never whole in memory)."""
    fd, name = tempfile.mkstemp(dir=workdir, suffix=".mp3")
    try:
        with os.fdopen(fd, "wb") as out:
            store.download_to(path, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


@contextmanager
def _local_audio(store: Store, items: list[dict], workdir: Path, max_workers: int) -> Iterator[Iterator[Path]]:
    """A local file per item, in item order. Blobs with a file on this machine are read
    in place; the others are fetched by `max_workers` threads, at most 2 x max_workers
    items ahead of the writer, and each temp file is deleted once written. On the way
    out (done or failed) queued fetches are cancelled and every temp file is removed."""
    if all(store.local_path(i["audio_path"]) is not None for i in items):
        yield (store.local_path(i["audio_path"]) for i in items)
        return
    pool = ThreadPoolExecutor(max_workers, thread_name_prefix="export-fetch")
    pending: deque[Future] = deque()
    current: list[Path] = []

    def files() -> Iterator[Path]:
        upcoming = iter(items)
        for item in islice(upcoming, 2 * max_workers):
            pending.append(pool.submit(_fetch, store, item["audio_path"], workdir))
        while pending:
            path = pending[0].result()  # the fetch's own error, if it failed
            pending.popleft()
            current[:] = [path]
            for item in islice(upcoming, 1):
                pending.append(pool.submit(_fetch, store, item["audio_path"], workdir))
            yield path
            path.unlink(missing_ok=True)

    try:
        yield files()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for path in current + [f.result() for f in pending if not f.cancelled() and f.exception() is None]:
            path.unlink(missing_ok=True)


# ---- the zip ------------------------------------------------------------------
def _member(zf: zipfile.ZipFile, name: str):
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.compress_type = zipfile.ZIP_STORED  # MP3 is already compressed
    info.create_system = 3                   # "Unix" everywhere: same bytes on every OS
    info.external_attr = 0o644 << 16
    return zf.open(info, "w", force_zip64=True)  # zip64 headers: members over 4 GB just work


def _copy(src, dst, on_bytes: Callable[[int], None]) -> None:
    buffer = memoryview(bytearray(CHUNK))
    while n := src.readinto(buffer):
        dst.write(buffer[:n])
        on_bytes(n)


def build_zip(store: Store, artist: dict, items: list[dict], target: Path, *,
              on_progress: ProgressFn | None = None, max_workers: int = 4,
              on_member: Callable[[zipfile.ZipInfo], None] | None = None) -> int:
    """Write dataset.zip for `items` to `target`. Returns the member count.
    `on_member(info)` runs as each member is complete on disk (for ZipCheck)."""
    master_schema = store.get_master_schema(artist["id"])
    summaries = {s["id"]: s["summary"] for s in store.list_summaries(artist["id"])}
    progress = _Progress(on_progress, items)
    progress.report("writing")
    manifest: list[str] = []
    records: list[dict] = []
    with _local_audio(store, items, target.parent, max_workers) as audio_files, \
            open(target, "w+b") as fh, zipfile.ZipFile(fh, "w", allowZip64=True) as zf:

        def member_done() -> None:
            if on_member:
                fh.flush()  # the member's bytes are in the file before anyone reads them
                on_member(zf.infolist()[-1])

        def add_text(name: str, text: str) -> None:
            data = text.encode("utf-8")
            with _member(zf, name) as out:
                out.write(data)
            member_done()
            manifest.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")

        for index, (item, audio) in enumerate(zip(items, audio_files, strict=False), 1):
            stem = dataset.member_stem(index)
            record = dataset.track_record(stem, item, summaries.get(item["als_summary_id"], {}), master_schema)
            records.append(record)
            with open(audio, "rb", buffering=0) as src, _member(zf, f"{stem}.mp3") as out:
                _copy(src, out, progress.add_bytes)
            member_done()
            manifest.append(f"{item['audio_sha256']}  {stem}.mp3\n")
            add_text(f"{stem}.txt", record["caption"] + "\n")
            add_text(f"{stem}.json", dataset.dumps(record) + "\n")
            progress.items_done = index
            progress.report("writing")
        add_text("metadata.jsonl", "".join(dataset.metadata_line(r) for r in records))
        add_text("README.md", dataset.dataset_card(artist["name"], records))
        with _member(zf, "MANIFEST.sha256") as out:
            out.write("".join(manifest).encode("utf-8"))
        member_done()
        return len(zf.infolist())


class ZipCheck:
    """Re-reads a zip from disk on a thread of its own, behind the writer: the SHA-256
    of every byte and the CRC-32 of every member's data, so that checking costs little
    more than writing (hashlib and zlib release the GIL).

    `add` each member once it is complete on disk, in file order; `result` waits for
    the reader, compares the central directory with what it checked and returns the
    SHA-256. Leaving the `with` block stops the reader."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.bytes_checked = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._checked: list[zipfile.ZipInfo] = []
        self._error: StoreError | None = None
        self._stop = False
        self._digest = hashlib.sha256()
        self._thread = threading.Thread(target=self._run, name="export-check", daemon=True)
        self._thread.start()

    def __enter__(self) -> ZipCheck:
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._queue.put(None)
        self._thread.join()

    def add(self, info: zipfile.ZipInfo) -> None:
        self._queue.put(info)

    def result(self, expected_members: int, on_bytes: Callable[[int], None] | None = None) -> str:
        self._queue.put(None)
        while self._thread.is_alive():
            self._thread.join(0.25)
            if on_bytes:
                on_bytes(self.bytes_checked)
        if self._error:
            raise self._error
        try:
            with zipfile.ZipFile(self.path) as zf:
                on_disk = [_fingerprint(i) for i in zf.infolist()]
        except zipfile.BadZipFile as exc:
            raise StoreError(f"The export zip is damaged: {exc}.") from None
        if len(on_disk) != expected_members:
            raise StoreError(f"The export zip has {len(on_disk)} members, expected {expected_members}.")
        if on_disk != [_fingerprint(i) for i in self._checked]:
            raise StoreError("The export zip is damaged: its directory does not match its members.")
        return self._digest.hexdigest()

    def _run(self) -> None:
        try:
            info = self._queue.get()  # the first member exists, so the file does too
            if info is None or self._stop:
                return
            with open(self.path, "rb", buffering=0) as fh:
                buffer = memoryview(bytearray(CHUNK))
                while info is not None and not self._stop:
                    start = _data_start(fh, info)
                    self._read(fh, buffer, start)  # the local header: hashed only
                    if self._read(fh, buffer, start + info.compress_size, crc=0) != info.CRC:
                        raise StoreError(f"The export zip is damaged: {info.filename} failed its CRC check.")
                    self._checked.append(info)
                    info = self._queue.get()
                self._read(fh, buffer, None)  # the central directory
        except StoreError as exc:
            self._error = exc
        except (OSError, struct.error) as exc:
            self._error = StoreError(f"The export zip could not be checked: {exc}.")

    def _read(self, fh, buffer: memoryview, stop: int | None, crc: int | None = None) -> int | None:
        """Hash from where the last read ended up to `stop` (None: the end of the file)."""
        if stop is not None and stop < self.bytes_checked:
            raise StoreError("The export zip is damaged: its members overlap.")
        while not self._stop and (stop is None or self.bytes_checked < stop):
            n = fh.readinto(buffer if stop is None else buffer[:min(CHUNK, stop - self.bytes_checked)])
            if not n:
                if stop is None:
                    break
                raise StoreError("The export zip is damaged: it is shorter than its members.")
            self._digest.update(buffer[:n])
            if crc is not None:
                crc = zlib.crc32(buffer[:n], crc)
            self.bytes_checked += n
        return crc


def _data_start(fh, info: zipfile.ZipInfo) -> int:
    """Where the member's data begins: after its local header, name and extra field."""
    header = os.pread(fh.fileno(), 30, info.header_offset)
    if header[:4] != b"PK\x03\x04" or info.compress_type != zipfile.ZIP_STORED:
        raise StoreError(f"The export zip is damaged: no stored member {info.filename} where the directory says.")
    return info.header_offset + 30 + sum(struct.unpack("<HH", header[26:30]))


def _fingerprint(info: zipfile.ZipInfo) -> tuple:
    return info.filename, info.header_offset, info.compress_size, info.CRC


def verify_zip(path: Path, expected_members: int) -> str:
    """Check a finished zip (member count, every CRC) and return its SHA-256."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = sorted(zf.infolist(), key=lambda i: i.header_offset)
    except (zipfile.BadZipFile, OSError) as exc:
        raise StoreError(f"The export zip is damaged: {exc}.") from None
    with ZipCheck(path) as check:
        for info in members:
            check.add(info)
        return check.result(expected_members)


# ---- the export -------------------------------------------------------------------
def export_dataset(store: Store, artist: dict, *, on_progress: ProgressFn | None = None,
                   max_workers: int = 4, expires_s: int = 3600,
                   stale_after_s: float = lease.LEASE_S) -> ExportResult:
    """Pack every `ready` item of `artist` into dataset.zip and mark them exported.
    Raises ExportBusyError while another export of the artist runs."""
    items = store.list_items(artist["id"], status="ready")
    if not items:
        raise ValidationError(f"{artist['name']} has no ready training items to export. Save some on the Train page first.")
    export_id = new_id()
    zip_path = f"exports/{artist['id']}/{export_id}/dataset.zip"
    store.begin_export({"id": export_id, "artist_id": artist["id"], "zip_path": zip_path}, stale_after_s=stale_after_s)
    stored = False
    try:
        _sweep_leftovers(store, artist["id"])
        with lease.Heartbeat(store, export_id), tempfile.TemporaryDirectory(
                dir=store.temp_dir(), prefix=f"export-{artist['id']}-{lease.owner_tag()}-") as workdir:
            target = Path(workdir) / "dataset.zip"
            with ZipCheck(target) as check:  # verifies the zip while it is written
                members = build_zip(store, artist, items, target, on_progress=on_progress,
                                    max_workers=max_workers, on_member=check.add)
                progress = _Progress(on_progress, items)
                progress.items_done = len(items)
                size = target.stat().st_size
                sha256 = check.result(members, lambda n: progress.report("verifying", n, size))
            progress.report("storing", size, size)
            store.adopt_blob(zip_path, target, "application/zip")
            stored = True
        _complete(store, artist["id"], export_id, [i["id"] for i in items], item_count=len(items),
                  bytes=size, sha256=sha256)
    except BaseException as exc:
        _abandon(store, export_id, zip_path if stored else None, exc)
        if isinstance(exc, TrainModeError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, OSError):
            raise StoreError(f"The export failed while writing files: {exc.strerror or exc}. "
                             "Nothing was marked exported.") from None
        raise StoreError(f"The export failed ({exc.__class__.__name__}: {exc}). Nothing was marked exported.") from exc
    progress.report("done", size, size)
    return ExportResult(export_id, zip_path, store.blob_url(zip_path, expires_s), store.local_path(zip_path),
                        len(items), size, sha256)


def _complete(store: Store, artist_id: str, export_id: str, item_ids: list[str], **totals) -> None:
    """Mark the export complete. If the call fails after the transaction committed (a
    reply lost on the network), the export is done: say so rather than delete its zip."""
    try:
        store.complete_export(export_id, item_ids, **totals)
    except TrainModeError:
        try:
            done = any(e["id"] == export_id and e["status"] == "complete" for e in store.list_exports(artist_id))
        except TrainModeError:
            done = False
        if not done:
            raise


def _sweep_leftovers(store: Store, artist_id: str) -> None:
    """Remove the temp folders of this artist's exports that died hard (killed, power
    cut). None of them is running: begin_export just made this export the only one."""
    for leftover in Path(store.temp_dir() or tempfile.gettempdir()).glob(f"export-{artist_id}-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    doctor.remove_failed_export_zips(store, artist_id)  # e.g. the zip of an export taken over


def _abandon(store: Store, export_id: str, stored_zip: str | None, exc: BaseException) -> None:
    """Undo a failed export: delete the stored zip, mark the row failed. Best effort, so
    that a second failure here does not hide the first one."""
    error = str(exc) if isinstance(exc, TrainModeError) else f"{exc.__class__.__name__}: {exc}"
    undo = [lambda: store.delete_blob(stored_zip)] if stored_zip else []
    undo.append(lambda: store.fail_export(export_id, error.strip() or exc.__class__.__name__))
    for step in undo:
        try:
            step()
        except Exception as undo_exc:  # noqa: BLE001 - the original error is the one to raise
            log.warning("while undoing export %s: %s", export_id, undo_exc)
