"""Past exports as the Export and Browse pages show them (#29): what each one holds, and its rows.

An export records on its row the options it was made with (format, clips, window_s, split) and how
many rows it wrote (row_count, valid_count; trainmode/export/build.py, supabase/migrations/
20261207000000_train_mode_export_details.sql). One made before keeps nulls there: its zip's name
tells its format and its directory the rest (zip_contents). A zip is read where it is stored,
through Store.open_blob_range: on Supabase by ranged reads of its directory and of the members a
page shows, never the whole zip.
"""

from __future__ import annotations

import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from trainmode.errors import NotFoundError, StoreError
from trainmode.export import formats
from trainmode.export.formats.card import stems_noun
from trainmode.ops.text import counted
from trainmode.store import Store
from trainmode.store.rows import Export

SIDECAR_CHARS = 4000  # of a sidecar shown on the Browse page
KEEP_OPEN = 3  # zips kept open (their directory parsed, one read buffer each) for paging through rows


def zip_name(fmt_name: str) -> str:
    """dataset.zip for the default format, dataset-<format>.zip for the others."""
    return "dataset.zip" if fmt_name == formats.DEFAULT else f"dataset-{fmt_name}.zip"


def format_of_zip(zip_path: str) -> str:
    """The format an export's zip is named after (zip_name read backwards)."""
    name = PurePosixPath(zip_path).name
    return formats.DEFAULT if name == "dataset.zip" else name.removeprefix("dataset-").removesuffix(".zip")


AUDIO_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg")
VALID_FOLDERS = {"valid", "validation", "val", "eval", "test"}


def zip_contents(names: list[str]) -> dict:
    """What an export's zip holds, from its member names: rows (audio files), how many in a
    validation folder, whether they are clips ('clip-…') or whole tracks, and `noun`, the
    dataset card's word for them ('clips', 'files' when long tracks were cut into parts, 'tracks')."""
    audio = [n for n in names if n.lower().endswith(AUDIO_SUFFIXES)]
    valid = sum(bool(VALID_FOLDERS & set(n.lower().split("/")[:-1])) for n in audio)
    stems = [n.rsplit("/", 1)[-1] for n in audio]
    clips = any(s.startswith("clip-") for s in stems)
    noun = stems_noun(stems, len(audio))
    return {"rows": len(audio), "valid": valid, "train": len(audio) - valid, "clips": clips, "noun": noun}


def zip_rows(names: list[str]) -> list[dict]:
    """An export's rows as a trainer finds them: each audio file of the zip, its split (the folder
    it is in) and its sidecars, the files beside it named after it ('track-0001.json',
    'track-0001.caption.txt', 'track-0001_prompt.txt'), whatever the format. One pass: a zip of
    5,000 rows has 15,000 names."""
    beside: dict[tuple[str, str], list[str]] = {}
    for name in names:
        if name.lower().endswith(AUDIO_SUFFIXES):
            continue
        folder, _, file = name.rpartition("/")
        for mark in (".", "_"):
            if mark in file:
                beside.setdefault((folder, file.split(mark, 1)[0]), []).append(name)
    rows = []
    for name in names:
        if not name.lower().endswith(AUDIO_SUFFIXES):
            continue
        folder, _, file = name.rpartition("/")
        sidecars = list(dict.fromkeys(beside.get((folder, file.rsplit(".", 1)[0]), [])))
        valid = bool(VALID_FOLDERS & set(name.lower().split("/")[:-1]))
        rows.append({"audio": name, "split": "valid" if valid else "train", "sidecars": sidecars})
    return rows


@dataclass(frozen=True)
class ExportDetails:
    """What one export holds. `recorded`: the options come from its row (None split: none asked);
    otherwise split is unknown and clips is 'clips' or 'none' as its zip's names tell, or None."""

    format: str
    clips: str | None  # 'none', 'sections', 'windows'; 'clips' when only the zip tells
    window_s: float | None
    split: float | None  # the share asked to train on
    recorded: bool
    items: int
    rows: int | None  # tracks or clips in the zip; None: not complete, or not known
    valid: int | None  # of them, in the validation split

    @property
    def empty_split(self) -> bool:
        """A validation split was asked for, and none of the rows fell on its side."""
        return self.recorded and self.split is not None and self.valid == 0

    def rows_text(self) -> str:
        """'4 section clips of 2 items', '6 window clips (30 s) of 2 items', '2 tracks', or '2 items'."""
        items = counted(self.items, "item")
        if self.rows is None:
            return items
        if self.clips in (None, "none"):  # more files than items: long tracks cut into parts (ACE-Step)
            return (
                counted(self.rows, "track") if self.rows == self.items else f"{counted(self.rows, 'file')} of {items}"
            )
        kind = {"sections": "section clips", "windows": "window clips"}.get(self.clips, "clips")
        window = f" ({self.window_s:g} s)" if self.clips == "windows" and self.window_s else ""
        return f"{self.rows} {kind}{window} of {items}"

    def split_text(self) -> str:
        """'3 train / 1 valid', 'no validation split', '0.90 to train' (not complete) or '?'."""
        if self.rows is not None and self.valid is not None:
            if self.valid or (self.recorded and self.split is not None):
                return f"{self.rows - self.valid} train / {self.valid} valid"
            return "no validation split"
        if self.recorded:
            return "no validation split" if self.split is None else f"{self.split:.2f} to train"
        return "?"


def needs_zip(export: Export) -> bool:
    """Whether only the zip can tell what this export holds (a complete one made before its row did)."""
    return export.get("status") == "complete" and (export.get("row_count") is None or export.get("clips") is None)


def details_of(export: Export, contents: dict | None) -> ExportDetails:
    """The export's row, with its zip's `contents` (zip_contents, or None) where the row is null."""
    recorded = export.get("clips") is not None
    counted = export.get("status") == "complete" and export.get("row_count") is not None
    if recorded:
        clips = export["clips"]
    else:
        clips = None if contents is None else "clips" if contents["clips"] else "none"
    return ExportDetails(
        format=export.get("format") or format_of_zip(export["zip_path"]),
        clips=clips,
        window_s=export.get("window_s"),
        split=export.get("split"),
        recorded=recorded,
        items=export.get("item_count") or 0,
        rows=export["row_count"] if counted else contents["rows"] if contents else None,
        valid=export.get("valid_count") if counted else contents["valid"] if contents else None,
    )


@dataclass
class _OpenZip:
    """One open zip: its directory parsed, the file it reads (a read buffer), and its rows once listed.
    `users` reads are under way; a zip let go (`retired`) is closed when the last one ends."""

    zf: zipfile.ZipFile
    file: BinaryIO
    rows: list[dict] | None = None
    users: int = 0
    retired: bool = False

    def close(self) -> None:
        self.zf.close()
        self.file.close()  # zipfile leaves a file it was handed open


class ExportZips:
    """The zips of complete exports, read in place: what each holds (kept per export id and SHA-256),
    and its rows and members for the Browse page, the KEEP_OPEN most recently used kept open.
    Sessions share it (one TrainMode per server): reads of one zip take turns (zipfile's lock)."""

    def __init__(self, store: Store, keep: int = KEEP_OPEN):
        self._store, self._keep = store, keep
        self._open: OrderedDict[tuple, _OpenZip] = OrderedDict()
        self._contents: dict[tuple, dict | None] = {}
        self._lock = threading.Lock()

    def contents(self, export: Export) -> dict | None:
        """zip_contents of a complete export's zip (None for one that is not complete). Raises
        NotFoundError when the zip is gone (remembered: it does not come back), StoreError when unreadable."""
        if export.get("status") != "complete":
            return None
        key = _key(export)
        if key not in self._contents:
            try:
                with self._using(export) as opened:
                    self._contents[key] = zip_contents(opened.zf.namelist())
            except NotFoundError:
                self._contents[key] = None
        if self._contents[key] is None:
            raise _gone(export)
        return self._contents[key]

    def rows(self, export: Export, offset: int, limit: int) -> tuple[list[dict], int] | None:
        """A page of a complete export's rows as the trainer reads them: [{audio, split, sidecars:
        {name: text}}], and how many rows there are; None for an export that is not complete."""
        if export.get("status") != "complete":
            return None
        with self._using(export) as opened:
            if opened.rows is None:
                opened.rows = zip_rows(opened.zf.namelist())
            page = [
                {**r, "sidecars": {n: _text(opened.zf, n) for n in r["sidecars"]}}
                for r in opened.rows[offset : offset + limit]
            ]
            return page, len(opened.rows)

    def member(self, export: Export, name: str) -> bytes:
        """One file of a complete export's zip (a row's audio, for a player)."""
        with self._using(export) as opened:
            try:
                return opened.zf.read(name)
            except KeyError:
                raise NotFoundError(f"The export's zip has no file {name}.") from None

    def forget(self, export_id: str) -> None:
        """Let go of what is kept of an export (it was deleted)."""
        with self._lock:
            for key in [k for k in self._open if k[0] == export_id]:
                self._retire(self._open.pop(key))
            for key in [k for k in self._contents if k[0] == export_id]:
                del self._contents[key]

    @contextmanager
    def _using(self, export: Export) -> Iterator[_OpenZip]:
        """The export's open zip (opened if needed), not closed while the block runs."""
        key = _key(export)
        with self._lock:
            opened = self._open.get(key)
            if opened is not None:
                self._open.move_to_end(key)
                opened.users += 1
        if opened is None:
            opened = self._add(key, _open_zip(self._store, export))  # opened outside the lock: network reads
        try:
            yield opened
        finally:
            with self._lock:
                opened.users -= 1
                if opened.retired and not opened.users:
                    opened.close()

    def _add(self, key: tuple, opened: _OpenZip) -> _OpenZip:
        with self._lock:
            if key in self._open:  # another session opened it meanwhile
                opened.close()
                opened = self._open[key]
            self._open[key] = opened
            opened.users += 1
            while len(self._open) > self._keep:
                self._retire(self._open.popitem(last=False)[1])
            return opened

    @staticmethod
    def _retire(opened: _OpenZip) -> None:
        opened.retired = True
        if not opened.users:
            opened.close()


def _key(export: Export) -> tuple:
    return export["id"], export.get("sha256")


def _gone(export: Export) -> NotFoundError:
    return NotFoundError(
        f"The zip of this export ({PurePosixPath(export['zip_path']).name}) is no longer in storage: "
        "export again for a new one."
    )


def _open_zip(store: Store, export: Export) -> _OpenZip:
    try:
        file = store.open_blob_range(export["zip_path"], export.get("bytes") or None)
    except NotFoundError:
        raise _gone(export) from None
    try:
        return _OpenZip(zipfile.ZipFile(file), file)
    except zipfile.BadZipFile as exc:
        file.close()
        raise StoreError(f"The zip of this export ({export['zip_path']}) cannot be read: {exc}.") from None
    except BaseException:
        file.close()
        raise


def _text(zf: zipfile.ZipFile, name: str) -> str:
    """The start of a sidecar file, as text (a long one is cut at SIDECAR_CHARS bytes)."""
    with zf.open(name) as fh:
        return fh.read(SIDECAR_CHARS).decode("utf-8", "replace")
