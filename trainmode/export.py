"""Export: every `ready` item of an artist into one dataset.zip, crash-safe.

Order of work: build the zip in a temp file (streamed, ZIP_STORED, zip64), verify
it, store it, and only then mark the items exported in one transaction. If any step
fails the export row is marked failed, no zip is left visible and the items stay
`ready`, so a retry just works.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from . import dataset
from .errors import StoreError, TrainModeError, ValidationError
from .store import Store
from .store.embedded import new_id

CHUNK = 1024 * 1024
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: same items, same bytes


@dataclass(frozen=True)
class ExportProgress:
    stage: str          # "fetching" | "writing" | "verifying" | "storing" | "done"
    items_done: int
    items_total: int
    bytes_done: int
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


def _copy(src, dst, on_bytes: Callable[[int], None]) -> None:
    while chunk := src.read(CHUNK):
        dst.write(chunk)
        on_bytes(len(chunk))


def _fetch(store: Store, path: str, workdir: Path) -> Path:
    """Stream one remote blob to a temp file (never whole in memory)."""
    fd, name = tempfile.mkstemp(dir=workdir, suffix=".mp3")
    with os.fdopen(fd, "wb") as out, store.open_blob(path) as src:
        shutil.copyfileobj(src, out, CHUNK)
    return Path(name)


def _local_audio(store: Store, items: list[dict], workdir: Path, max_workers: int) -> Iterator[Path]:
    """Yield a local file per item, in item order. Remote blobs are fetched by a
    bounded pool a few items ahead of the writer; local ones are used in place."""
    if all(store.local_path(i["audio_path"]) for i in items):
        for item in items:
            yield store.local_path(item["audio_path"])
        return
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        window = max_workers * 2
        futures = [pool.submit(_fetch, store, i["audio_path"], workdir) for i in items[:window]]
        for index in range(len(items)):
            path = futures[index].result()
            ahead = index + window
            if ahead < len(items):
                futures.append(pool.submit(_fetch, store, items[ahead]["audio_path"], workdir))
            yield path
            if store.local_path(items[index]["audio_path"]) is None:
                path.unlink(missing_ok=True)


def _member(zf: zipfile.ZipFile, name: str):
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.compress_type = zipfile.ZIP_STORED  # MP3 is already compressed
    info.external_attr = 0o644 << 16
    return zf.open(info, "w", force_zip64=True)


def _write_text(zf: zipfile.ZipFile, name: str, text: str, manifest: list[str]) -> None:
    data = text.encode("utf-8")
    with _member(zf, name) as out:
        out.write(data)
    manifest.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")


def build_zip(store: Store, artist: dict, items: list[dict], target: Path, *,
              on_progress: ProgressFn | None = None, max_workers: int = 4) -> int:
    """Write dataset.zip for `items` to `target`. Returns the member count."""
    master_schema = store.get_master_schema(artist["id"])
    summaries = {s["id"]: s["summary"] for s in store.list_summaries(artist["id"])}
    total_bytes = sum(i.get("audio_bytes") or 0 for i in items)
    done = {"items": 0, "bytes": 0}

    def report(stage: str) -> None:
        if on_progress:
            on_progress(ExportProgress(stage, done["items"], len(items), done["bytes"], total_bytes))

    def add_bytes(n: int) -> None:
        done["bytes"] += n

    manifest: list[str] = []
    records: list[dict] = []
    with zipfile.ZipFile(target, "w", allowZip64=True) as zf:
        for index, (item, audio) in enumerate(zip(items, _local_audio(store, items, target.parent, max_workers)), 1):
            stem = dataset.member_stem(index)
            record = dataset.track_record(stem, item, summaries.get(item["als_summary_id"], {}), master_schema)
            records.append(record)
            with open(audio, "rb") as src, _member(zf, f"{stem}.mp3") as out:
                _copy(src, out, add_bytes)
            manifest.append(f"{item['audio_sha256']}  {stem}.mp3\n")
            _write_text(zf, f"{stem}.txt", record["caption"] + "\n", manifest)
            _write_text(zf, f"{stem}.json", dataset.dumps(record) + "\n", manifest)
            done["items"] = index
            report("writing")
        _write_text(zf, "metadata.jsonl", "".join(dataset.metadata_line(r) for r in records), manifest)
        _write_text(zf, "README.md", dataset.dataset_card(artist["name"], records), manifest)
        with _member(zf, "MANIFEST.sha256") as out:
            out.write("".join(manifest).encode("utf-8"))
        return len(zf.infolist())


def verify_zip(path: Path, expected_members: int) -> str:
    """Check member count and every CRC; return the zip's SHA-256."""
    try:
        with zipfile.ZipFile(path) as zf:
            if len(zf.infolist()) != expected_members:
                raise StoreError(f"The export zip has {len(zf.infolist())} members, expected {expected_members}.")
            bad = zf.testzip()
            if bad:
                raise StoreError(f"The export zip is damaged: {bad} failed its CRC check.")
    except zipfile.BadZipFile as exc:
        raise StoreError(f"The export zip is damaged: {exc}.") from None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def export_dataset(store: Store, artist: dict, *, on_progress: ProgressFn | None = None,
                   max_workers: int = 4, expires_s: int = 3600,
                   stale_after_s: float = 3600.0) -> ExportResult:
    """Pack every `ready` item of `artist` into dataset.zip and mark them exported."""
    items = store.list_items(artist["id"], status="ready")
    if not items:
        raise ValidationError(f"{artist['name']} has no ready training items to export. Save some on the Train page first.")
    export_id = new_id()
    zip_path = f"exports/{artist['id']}/{export_id}/dataset.zip"
    store.begin_export({"id": export_id, "artist_id": artist["id"], "zip_path": zip_path})
    stored = False
    try:
        with ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=store.temp_dir(), prefix="export-")))
            target = workdir / "dataset.zip"
            members = build_zip(store, artist, items, target, on_progress=on_progress, max_workers=max_workers)
            _stage(on_progress, "verifying", items)
            sha256 = verify_zip(target, members)
            size = target.stat().st_size
            _stage(on_progress, "storing", items)
            store.adopt_blob(zip_path, target, "application/zip")
            stored = True
        store.complete_export(export_id, [i["id"] for i in items], item_count=len(items), bytes=size, sha256=sha256)
    except BaseException as exc:
        if stored:
            store.delete_blob(zip_path)
        message = str(exc) if isinstance(exc, TrainModeError) else f"{exc.__class__.__name__}: {exc}"
        store.fail_export(export_id, message or exc.__class__.__name__)
        if isinstance(exc, OSError):
            raise StoreError(f"The export failed while writing files: {exc.strerror or exc}. Nothing was marked exported.") from None
        raise
    _stage(on_progress, "done", items, size)
    return ExportResult(export_id, zip_path, store.blob_url(zip_path, expires_s), store.local_path(zip_path),
                        len(items), size, sha256)


def _stage(on_progress: ProgressFn | None, stage: str, items: list[dict], size: int | None = None) -> None:
    if on_progress:
        total = sum(i.get("audio_bytes") or 0 for i in items)
        on_progress(ExportProgress(stage, len(items), len(items), total, total))
