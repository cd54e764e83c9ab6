"""Export: every `ready` item of an artist into one dataset zip, in a trainer's format, crash-safe.

Order of work: make the rows (trainmode/export/rows.py), write the format's members into a
temp zip (trainmode/export/zipwrite.py: a thread hashes the bytes as they are written, another
makes the audio ready ahead, trainmode/export/audio_members.py; remote audio is fetched ahead by
trainmode/store/fetch.py), check its central directory and the format's rules
(trainmode/export/formats/), store it (a rename on the embedded store), and only then mark the
items exported in one transaction. If any step fails the export row is marked failed, no
zip is left visible and the items stay `ready`, so a retry just works.
"""

from __future__ import annotations

import gc
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from mutagen import MutagenError
from mutagen.mp3 import MP3

from trainmode.audio.check import silent_item, sound_of
from trainmode.clips import plan as clip_plan
from trainmode.errors import StoreError, TrainModeError, ValidationError
from trainmode.export import audio_members as export_audio
from trainmode.export import clip_rows as clips_export
from trainmode.export import formats, history, parts
from trainmode.export.formats.base import LICENSE, AudioHeader, AudioMember, Build
from trainmode.export.rows import SPLITS, Row, artist_label, check_ratio, rows_for
from trainmode.export.zipwrite import CHUNK, Entry, ZipWriter, check_directory
from trainmode.ops import doctor
from trainmode.store import Store, lease, new_id
from trainmode.store.fetch import local_files

REPORT_EVERY = 64 * CHUNK  # progress within a file: at most this often
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportProgress:
    stage: str  # "writing" | "verifying" | "checking" | "storing" | "done"
    items_done: int
    items_total: int
    bytes_done: int  # audio bytes written; from "verifying" on, the zip's bytes
    bytes_total: int


@dataclass(frozen=True)
class ExportResult:
    export_id: str
    zip_path: str  # blob path
    url: str  # file path (embedded) or signed URL (remote)
    local_path: Path | None
    item_count: int
    bytes: int
    sha256: str
    format: str = formats.DEFAULT
    warnings: tuple[str, ...] = ()  # the checker's judgment calls, with their numbers (padding, seconds cut)
    sees: tuple[str, ...] = ()  # what the trainer will do with the data (batches, resampling, cuts)
    left_out: tuple[str, ...] = ()  # what is not in the dataset and why, as the card says it


ProgressFn = Callable[[ExportProgress], None]


class Progress:
    """The one progress tracker of an export: items and audio bytes while writing, then the
    zip's bytes; reports within a file at most every REPORT_EVERY bytes."""

    def __init__(self, callback: ProgressFn | None, rows: list[Row]):
        self.callback = callback
        self.stage, self.items_total, self.items_done = "writing", len(rows), 0
        self.bytes_total = sum(r.audio.cut.approx_bytes if r.audio.cut else r.audio.bytes or 0 for r in rows)
        self.bytes_done = self._reported = 0

    def report(self, stage: str | None = None, bytes_done: int | None = None, bytes_total: int | None = None) -> None:
        self.stage = stage or self.stage
        self.bytes_done = self.bytes_done if bytes_done is None else bytes_done
        self.bytes_total = self.bytes_total if bytes_total is None else bytes_total
        if self.callback:
            self.callback(
                ExportProgress(self.stage, self.items_done, self.items_total, self.bytes_done, self.bytes_total)
            )

    def add_bytes(self, n: int) -> None:
        self.bytes_done += n
        if self.bytes_done - self._reported >= REPORT_EVERY:
            self._reported = self.bytes_done
            self.report()

    def item_done(self) -> None:
        self.items_done += 1
        self.report()


# ---- the rows and the zip --------------------------------------------------------------
def export_rows(
    store: Store,
    artist: dict,
    items: list[dict],
    *,
    split: float | None = None,
    artist_name: bool = False,
    clips: str = "none",
    window_s: float = clip_plan.WINDOW_S,
    fmt=None,
    build: Build | None = None,
) -> list[Row]:
    """The rows of `items`, training split first (the order every format writes audio in);
    with `clips` ('sections' or 'windows', of at most `window_s`) a row per clip of each item
    instead. For `fmt`, rows
    its trainer cannot take are left out and rows longer than it keeps are cut into parts;
    `build` (the card's) gets what was left out and why, and what was cut."""
    build = build if build is not None else Build("")
    items = _with_music(items, build, artist, clips != "none")
    wanted = {item.get("als_summary_id") for item in items} - {None}
    summaries = {s["id"]: s["summary"] for s in store.summaries_by_id(artist["id"], wanted)}
    schema = store.get_master_schema(artist["id"])
    rows = rows_for(items, summaries, schema, artist=artist_label(artist, real_name=artist_name), ratio=split)
    by_id = {i["id"]: i for i in items}
    if clips != "none":
        saved = {i["id"]: store.list_clips(i["id"], clips) for i in items}  # reviewed captions, dropped clips
        planned = clips_export.plan_clip_rows(
            rows, by_id, summaries, schema, mode=clips, window_s=window_s, saved=saved
        )
        rows = planned.rows
        _count_clips_left_out(items, planned, build)
        if planned.silent:
            build.left_out[SILENT_CLIPS] = len(planned.silent)
        if not rows:
            raise ValidationError(
                f"None of {artist['name']}'s ready items has a clip to export: "
                + (
                    "every clip is silent."
                    if planned.silent
                    else "no arrangement sections to cut clips at (export without clips)."
                )
            )
    rows = _fit(fmt, rows, by_id, summaries, schema, build, artist)
    return sorted(rows, key=lambda r: SPLITS.index(r.split))


def _count_clips_left_out(items: list[dict], planned: clips_export.ClipRows, build: Build) -> None:
    """The card's count of items a clip export has no clip of, and of clips dropped in review (only
    those of the clips planned: a clip dropped at another window length is not this export's)."""
    cut = {r.parent_id for r in planned.rows}
    reviewed_out = {d.item_id for d in planned.dropped}
    without = [i for i in items if i["id"] not in cut and i["id"] not in reviewed_out]
    if without:
        build.left_out[NO_SECTIONS] = len(without)
    if planned.dropped:
        build.left_out["clips dropped when their item's clips were reviewed"] = len(planned.dropped)


SILENT_ITEMS = "silent renders (no music to train on) saved despite their mismatch; they stay ready"
MOSTLY_SILENT_ITEMS = (
    "mostly silent renders (sound in under half their length: too little to train on as whole tracks; an "
    "export of section or window clips takes their clips that have sound) saved despite their mismatch; "
    "they stay ready"
)
UNJUDGED_ITEMS = (
    "mostly silent renders measured before Train Mode kept where they sound, so their clips cannot be told "
    "silent or not (save the MP3 again to export its clips that have sound); they stay ready"
)
SILENT_CLIPS = "silent clips: the render is silent there, or nothing plays in that part of the set"


def _with_music(items: list[dict], build: Build, artist: dict, clips: bool) -> list[dict]:
    """The items with music to train on; a silent one (saved over its `mismatch`) is left out and
    counted, so nothing silent reaches an export (issue 26). A mostly silent render is left out of
    a whole-track export, but a clip export keeps it: its clips are judged one by one, the silent
    ones left out and counted (SILENT_CLIPS), and the card says it."""
    kept, out = [], {}
    for item in items:
        if silent_item(item, clips=clips) is None:
            kept.append(item)
            continue
        sound = sound_of(item)
        reason = SILENT_ITEMS if sound == "none" else UNJUDGED_ITEMS if clips else MOSTLY_SILENT_ITEMS
        out[reason] = out.get(reason, 0) + 1
    build.left_out.update(out)
    partly = sum(sound_of(i) == "partly" for i in kept)
    if partly:
        build.notes.append(
            f"{partly} mostly silent render{'s are' if partly > 1 else ' is'} (sound in under half the length) "
            "in this dataset only as clips that have sound; the silent clips are counted under Left out."
        )
    if items and not kept:
        what = "silent renders" if set(out) == {SILENT_ITEMS} else "silent or mostly silent renders"
        hint = " (export section or window clips to keep their parts with sound)" if MOSTLY_SILENT_ITEMS in out else ""
        raise ValidationError(f"All of {artist['name']}'s ready items are {what}: there is nothing to train on{hint}.")
    return kept


NO_SECTIONS = "items whose set has no arrangement sections to cut clips at (export them without clips); they stay ready"


def _fit(fmt, rows: list[Row], items: dict, summaries: dict, schema: dict, build: Build, artist: dict) -> list[Row]:
    """The rows `fmt`'s trainer takes: those it cannot are left out (counted in `build`), those longer
    than it keeps are cut into parts (trainmode/export/parts.py)."""
    leaves_out = getattr(fmt, "leaves_out", None)
    if leaves_out is not None:
        kept = []
        for row in rows:
            reason = leaves_out(row)
            if reason:
                build.left_out[reason] = build.left_out.get(reason, 0) + 1
            else:
                kept.append(row)
        if not any(r.split == "train" for r in kept):
            why = "; ".join(f"{n} {reason}" for reason, n in build.left_out.items())
            raise ValidationError(
                f"None of {artist['name']}'s {len(rows)} ready rows can train {fmt.TITLE} as they are: {why}."
            )
        rows = kept
    if getattr(fmt, "MAX_SECONDS", None):
        rows, notes = parts.split_long(rows, items, summaries, schema, fmt.MAX_SECONDS)
        build.notes += notes
    return rows


def audio_header(path: Path) -> AudioHeader | None:
    """Sample rate and channels from the MP3's first frame; None when it is not readable as MP3."""
    try:
        info = MP3(path).info
    except (MutagenError, OSError):
        return None
    return AudioHeader(info.sample_rate, info.channels)


class Written(NamedTuple):
    size: int
    sha256: str
    entries: list[Entry]


def write_dataset(
    store: Store, fmt, rows: list[Row], build: Build, target: Path, progress: Progress, *, max_workers: int = 4
) -> Written:
    """Write the format's members for `rows` to `target`: its size, SHA-256 and members."""
    paths = [p for i, p in enumerate(r.audio.path for r in rows) if i == 0 or rows[i - 1].audio.path != p]
    header_of = audio_header if getattr(fmt, "READS_AUDIO_HEADERS", False) else None
    with (
        local_files(store, paths, target.parent, max_workers) as files,
        export_audio.ahead(rows, files, header_of) as audio,
        open(target, "w+b", buffering=0) as fh,
        ZipWriter(fh) as writer,
    ):
        expected: Iterator[Row] = iter(rows)
        for member in formats.zip_members(fmt, rows, build):
            if not isinstance(member, AudioMember):
                writer.add_bytes(member.name, member.data)
                continue
            if member.row is not next(expected, None):
                raise RuntimeError(f"{fmt.NAME} wrote the audio of {member.row.stem} out of row order")
            ready = next(audio)
            try:
                if header_of:
                    build.headers[member.row.stem] = ready.header
                writer.add_parts(member.name, ready.parts, progress.add_bytes, crc=ready.crc)
            finally:
                ready.done()
            progress.item_done()
        if next(expected, None) is not None:
            raise RuntimeError(f"{fmt.NAME} left out the audio of some rows")  # they would be marked exported
        size = writer.close()
        return Written(size, writer.sha256, writer.entries)


# ---- the export ----------------------------------------------------------------------
def _ready_items(store: Store, artist: dict) -> list[dict]:
    """The artist's `ready` items; none is a clear refusal (saying how to export the others again)."""
    items = store.list_items(artist["id"], status="ready")
    if not items:
        again = bool(store.list_items(artist["id"], status="exported"))
        raise ValidationError(
            f"{artist['name']} has no ready training items to export. Save some on the Train page first"
            + (", or re-export all (*Re-export all*, `export --all`)." if again else ".")
        )
    return items


def export_dataset(
    store: Store,
    artist: dict,
    *,
    on_progress: ProgressFn | None = None,
    max_workers: int = 4,
    expires_s: int = 3600,
    stale_after_s: float = lease.LEASE_S,
    format: str = formats.DEFAULT,
    split: float | None = None,
    artist_name: bool = False,
    clips: str = "none",
    window_s: float = clip_plan.WINDOW_S,
    license: str = LICENSE,
) -> ExportResult:
    """Pack every `ready` item of `artist` into a dataset zip in `format`, check it against
    the format's rules, store it and mark the items exported. `split` is the share of items
    to train on (the rest is held out for validation); `artist_name` shows the artist's
    name instead of an opaque id; `clips` ('sections', 'windows') makes each item's clips the
    rows (clip_rows.py), windows of at most `window_s` (clips/plan.py check_window); `license` is
    the card's rights line. The options and the rows' counts are recorded on the export's row.
    Items with no row in the dataset (the card's "Left out") stay `ready`. Raises ExportBusyError
    while another export of the artist runs, DatasetError when the zip breaks its trainer's rules."""
    fmt = formats.get_format(format)
    check_ratio(split)
    window_s = clip_plan.check_window(clips, window_s)
    items = _ready_items(store, artist)
    build = Build("", clips=clips_export.describe(clips, window_s) if clips != "none" else "", license=license)
    with _long_lived(
        lambda: export_rows(
            store,
            artist,
            items,
            split=split,
            artist_name=artist_name,
            clips=clips,
            window_s=window_s,
            fmt=fmt,
            build=build,
        )
    ) as rows:
        build.artist = rows[0].artist
        exported = {r.parent_id or r.item_id for r in rows}
        return _export_rows(
            store,
            artist,
            fmt,
            [i for i in items if i["id"] in exported],
            rows,
            build,
            {"format": fmt.NAME, "clips": clips, "window_s": window_s if clips == "windows" else None, "split": split},
            on_progress=on_progress,
            max_workers=max_workers,
            expires_s=expires_s,
            stale_after_s=stale_after_s,
        )


@contextmanager
def _long_lived(build: Callable[[], list[Row]]) -> Iterator[list[Row]]:
    """`build()`'s rows, made with Python's cyclic garbage collector paused, then kept out of its sight.

    Making the rows reads every exported set's whole summary: for thousands of sets, hundreds of
    thousands of lists and dicts made at once, which set off full collections that each walked
    everything alive again (half the time of a 5,000-item export, benchmarks/bench_scale.py). None
    of it forms a cycle. Once built, what lives (the rows, and all the process held before) is
    frozen (gc.freeze) until the export ends: the export's own short-lived objects are still
    collected, the long-lived ones are not rescanned for each of them. Nothing is leaked."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        rows = build()
    finally:
        if was_on:
            gc.enable()
    gc.freeze()
    try:
        yield rows
    finally:
        gc.unfreeze()


def _export_rows(
    store: Store,
    artist: dict,
    fmt,
    items: list[dict],
    rows: list[Row],
    build: Build,
    options: dict,
    *,
    on_progress: ProgressFn | None,
    max_workers: int,
    expires_s: int,
    stale_after_s: float,
) -> ExportResult:
    """export_dataset once the rows are made: write, check, store, then mark the items exported. The
    row records `options` (format, clips, window_s, split) as it begins, the rows' counts at the end."""
    export_id = new_id()
    zip_path = f"exports/{artist['id']}/{export_id}/{history.zip_name(fmt.NAME)}"
    store.begin_export({"id": export_id, "artist_id": artist["id"], "zip_path": zip_path}, stale_after_s=stale_after_s)
    progress = Progress(on_progress, rows)
    stored = False
    try:
        store.update_row("exports", export_id, options)
        _sweep_leftovers(store, artist["id"])
        with (
            lease.Heartbeat(store, export_id),
            tempfile.TemporaryDirectory(
                dir=store.temp_dir(), prefix=f"export-{artist['id']}-{lease.owner_tag()}-"
            ) as workdir,
        ):
            target = Path(workdir) / "dataset.zip"
            size, sha256 = _write_and_verify(store, fmt, rows, target, progress, max_workers, build)
            progress.report("checking", size, size)
            report = formats.require_valid(target, fmt.NAME)
            progress.report("storing")
            store.adopt_blob(zip_path, target, "application/zip")
            stored = True
        _complete(store, artist["id"], export_id, items, rows, bytes=size, sha256=sha256)
    except BaseException as exc:
        _abandon(store, export_id, zip_path if stored else None, exc)
        if isinstance(exc, OSError):
            raise StoreError(
                f"The export failed while writing files: {exc.strerror or exc}. Nothing was marked exported."
            ) from None
        raise
    progress.report("done")
    return ExportResult(
        export_id,
        zip_path,
        store.blob_url(zip_path, expires_s),
        store.local_path(zip_path),
        len(items),
        size,
        sha256,
        fmt.NAME,
        tuple(report.warnings),
        tuple(report.sees),
        tuple(f"{n}: {reason}" for reason, n in build.left_out.items()),
    )


def _write_and_verify(
    store: Store, fmt, rows: list[Row], target: Path, progress: Progress, max_workers: int, build: Build
) -> tuple[int, str]:
    """Write the zip (hashed as it is written), then check its directory; (size, SHA-256)."""
    progress.report("writing")
    written = write_dataset(store, fmt, rows, build, target, progress, max_workers=max_workers)
    progress.report("verifying", 0, written.size)
    check_directory(target, written.entries, written.size)
    return written.size, written.sha256


def _complete(store: Store, artist_id: str, export_id: str, items: list[dict], rows: list[Row], **totals) -> None:
    """Record how many rows (and validation rows) the zip holds, then mark the export complete and
    its items exported. If that call fails after the transaction committed (a reply lost on the
    network), the export is done: say so rather than delete its zip."""
    counts = {"row_count": len(rows), "valid_count": sum(r.split == "valid" for r in rows)}
    store.update_row("exports", export_id, counts)
    try:
        store.complete_export(export_id, [i["id"] for i in items], item_count=len(items), **totals)
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
    that a second failure here does not hide the first one (logged with its traceback)."""
    error = str(exc) if isinstance(exc, TrainModeError) else f"{exc.__class__.__name__}: {exc}"
    undo = [lambda: store.delete_blob(stored_zip)] if stored_zip else []
    undo.append(lambda: store.fail_export(export_id, error.strip() or exc.__class__.__name__))
    for step in undo:
        try:
            step()
        except Exception:  # noqa: BLE001 - the original error is the one to raise
            log.exception("while undoing export %s", export_id)
