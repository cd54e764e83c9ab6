"""What every format shares: the members it yields, and the view its checker reads.

A format is a module with `NAME`, `TITLE`, `members(rows, build) -> Iterator[Member]`
and `check(source) -> list[str]` (one sentence per problem, empty when the dataset
meets the tool's rules). Audio members are copied byte for byte from the row's audio;
text members are UTF-8. Members are yielded lazily, in zip order, so a format can
write a manifest after the audio it lists.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from mutagen import MutagenError
from mutagen.mp3 import MP3

from trainmode.errors import DatasetError
from trainmode.export.rows import SPLITS, Row

MANIFEST = "MANIFEST.sha256"
MAX_TEXT_MEMBER = 256 * 1024 * 1024  # a text member the checker reads (metadata of 80,000 clips is ~120 MB)


@dataclass(frozen=True)
class AudioMember:
    name: str
    row: Row


@dataclass(frozen=True)
class TextMember:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


Member = AudioMember | TextMember


class AudioHeader(NamedTuple):
    sample_rate: int
    channels: int


LICENSE = "all rights reserved by the artist"  # TRAINMODE_LICENSE's default (trainmode/config.py)


@dataclass
class Build:
    """What a format knows while its members are written: the artist as the dataset shows
    it, and, for a format with READS_AUDIO_HEADERS = True, the header of each row's audio
    (by stem), filled in as each audio member is written; None when the audio could not be
    read as MP3. The rest is for the dataset card: how the rows were cut into clips ("" for
    whole tracks), the licence, what was left out and why, and what this export changed."""

    artist: str
    headers: dict[str, AudioHeader | None] = field(default_factory=dict)
    clips: str = ""
    license: str = LICENSE
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> how many items or clips
    notes: list[str] = field(default_factory=list)  # what this export did to fit its trainer (long tracks cut ...)

    def header(self, row: Row) -> AudioHeader | None:
        return self.headers[row.stem]  # a KeyError here is a bug: ask only after the row's audio member


def text(name: str, content: str) -> TextMember:
    return TextMember(name, content.encode("utf-8"))


def manifest(members: Iterable[Member]) -> TextMember:
    """MANIFEST.sha256 (`sha256sum -c` format) of the members before it. Audio is copied
    unchanged, so its SHA-256 is the one measured when the item was saved."""
    lines = [f"{m.sha256 if isinstance(m, TextMember) else m.row.audio.sha256}  {m.name}\n" for m in members]
    return text(MANIFEST, "".join(lines))


def with_manifest(members: Iterable[Member]) -> Iterator[Member]:
    """Yield `members`, then the MANIFEST.sha256 listing them."""
    written: list[Member] = []
    for member in members:
        written.append(member)
        yield member
    yield manifest(written)


def splits_of(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """(split, its rows) for each split that has rows, train first."""
    return [(split, [r for r in rows if r.split == split]) for split in SPLITS if any(r.split == split for r in rows)]


def slug(text_: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text_.lower()).strip("_") or "dataset"


# ---- the checker's view of a dataset ------------------------------------------------------
@dataclass
class Report:
    """What a checker found. `problems`: the trainer would refuse the dataset, or silently train
    on nothing or on something else than it says (an export with one is not stored).
    `warnings`: judgment calls, each with its number (padding, seconds cut). `sees`: what the
    trainer will do with the audio and text, with the numbers (batches, sample rate, cuts)."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sees: list[str] = field(default_factory=list)


class Sound(NamedTuple):
    """An audio member as its MP3 header says: what a trainer's decoder will get."""

    duration_s: float
    sample_rate: int
    channels: int


class _Window(io.RawIOBase):
    """Bytes [start, start + size) of an open file, as a seekable file of their own (a stored zip member)."""

    def __init__(self, fh, start: int, size: int):
        self._fh, self._start, self._size, self._at = fh, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = max(0, base + offset)
        return self._at

    def readinto(self, buffer) -> int:
        want = max(0, min(len(buffer), self._size - self._at))
        self._fh.seek(self._start + self._at)
        n = self._fh.readinto(memoryview(buffer)[:want])
        self._at += n
        return n


class DatasetView:
    """A dataset as a checker reads it: a .zip, or the folder it was unpacked into.
    Names are POSIX paths relative to the dataset root, files only."""

    def __init__(self, source: str | Path):
        self.source = Path(source)
        self._zip: zipfile.ZipFile | None = None
        self._sounds: dict[str, Sound | None] = {}
        if self.source.is_dir():
            self.names = sorted(p.relative_to(self.source).as_posix() for p in self.source.rglob("*") if p.is_file())
        else:
            self._zip = zipfile.ZipFile(self.source)
            self.names = [n for n in self._zip.namelist() if not n.endswith("/")]
        self._set = set(self.names)

    def __enter__(self) -> DatasetView:
        return self

    def __exit__(self, *exc) -> None:
        if self._zip is not None:
            self._zip.close()

    def exists(self, name: str) -> bool:
        return name in self._set

    def read_bytes(self, name: str, limit: int | None = None) -> bytes:
        """The member's bytes, read in pieces; DatasetError once it passes `limit` (default
        MAX_TEXT_MEMBER: a zip may declare a small size and inflate to gigabytes, so the bytes
        read are what count, and the rest is never read)."""
        limit = MAX_TEXT_MEMBER if limit is None else limit
        with self._zip.open(name) if self._zip is not None else open(self.source / name, "rb") as fh:
            data = bytearray()
            while piece := fh.read(1024 * 1024):
                data += piece
                if len(data) > limit:
                    raise DatasetError(
                        f"{name} is over {limit // (1024 * 1024)} MiB: too large for a text file of a dataset."
                    )
        return bytes(data)

    def read_text(self, name: str) -> str:
        try:
            return self.read_bytes(name).decode("utf-8")
        except UnicodeDecodeError:
            raise DatasetError(f"{name} is not UTF-8 text.") from None

    def files(self, folder: str = "", suffix: str = "", recursive: bool = True) -> list[str]:
        """Files under `folder` ending in `suffix` (case-insensitive), sorted."""
        prefix = f"{folder.rstrip('/')}/" if folder else ""
        return [
            n
            for n in self.names
            if n.startswith(prefix)
            and n.lower().endswith(suffix.lower())
            and (recursive or "/" not in n[len(prefix) :])
        ]

    def sound(self, name: str) -> Sound | None:
        """Length, sample rate and channels of an MP3 member from its headers (mutagen, as the
        export reads them); None when it is not an MP3 that can be read. Only the headers are
        read: a stored zip member is read in place."""
        if name not in self._sounds:
            self._sounds[name] = self._measure(name) if name.lower().endswith(".mp3") else None
        return self._sounds[name]

    def _measure(self, name: str) -> Sound | None:
        try:
            with self._open(name) as fh:
                info = MP3(fh).info
        except (MutagenError, OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None
        return Sound(float(info.length), int(info.sample_rate), int(info.channels))

    def _open(self, name: str):
        if self._zip is None:
            return open(self.source / name, "rb")  # noqa: SIM115 - the caller closes it
        info = self._zip.getinfo(name)
        if info.compress_type != zipfile.ZIP_STORED:
            return io.BytesIO(self._zip.read(name))
        raw = self._zip.fp
        raw.seek(info.header_offset + 26)
        name_len, extra_len = (int.from_bytes(raw.read(2), "little") for _ in range(2))
        return io.BufferedReader(_Window(raw, info.header_offset + 30 + name_len + extra_len, info.file_size))


@contextmanager
def open_view(source: str | Path | DatasetView) -> Iterator[DatasetView]:
    if isinstance(source, DatasetView):
        yield source
        return
    with DatasetView(source) as view:
        yield view


Rules = Callable[[DatasetView], list[str]]
Sees = Callable[[DatasetView, Report], None]


def checker(rules: Rules, sees: Sees | None = None) -> tuple[Callable[..., list[str]], Callable[..., Report]]:
    """A format's `check(zip_or_dir) -> list[problem]` (the shared rules, then the tool's) and
    `inspect(zip_or_dir) -> Report` (those problems, then what the trainer will make of the data:
    `sees(view, report)` adds problems, warnings and what it sees)."""

    def inspect(source: str | Path | DatasetView) -> Report:
        with open_view(source) as view:
            report = Report(common_problems(view) + rules(view))
            if sees is not None:
                sees(view, report)
            return report

    def check(source: str | Path | DatasetView) -> list[str]:
        return inspect(source).problems

    check.__doc__ = inspect.__doc__ = rules.__doc__
    return check, inspect


def common_problems(view: DatasetView) -> list[str]:
    """Every format's MANIFEST.sha256 lists each other file once (names only; the hashes
    are checked by `sha256sum -c`, not here)."""
    if not view.exists(MANIFEST):
        return [f"{MANIFEST} is missing."]
    listed = [line.split("  ", 1)[-1] for line in view.read_text(MANIFEST).splitlines() if line.strip()]
    others = set(view.names) - {MANIFEST}
    problems = [f"{MANIFEST} lists {name}, which is not in the dataset." for name in sorted(set(listed) - others)]
    problems += [f"{MANIFEST} does not list {name}." for name in sorted(others - set(listed))]
    return problems


def json_file(view: DatasetView, name: str, problems: list[str]):
    """The JSON in `name`, or None (with a problem) when it does not parse."""
    try:
        return json.loads(view.read_text(name))
    except json.JSONDecodeError as exc:
        problems.append(f"{name} is not JSON ({exc.msg}, line {exc.lineno}).")
        return None


def json_lines(view: DatasetView, name: str, problems: list[str]) -> list[dict]:
    """The JSON objects of a .jsonl file, one problem per line that is not one. Lines end at
    "\n" only, as pyarrow and `datasets` read them: U+2028, NEL or a form feed inside a JSON
    string is part of its line (str.splitlines() would cut the line there)."""
    out = []
    for number, line in enumerate(view.read_bytes(name).split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            entry = None
        if isinstance(entry, dict):
            out.append(entry)
        else:
            problems.append(f"{name}: the line {line_label(line, number)} is not a JSON object.")
    return out


def line_label(line: bytes, number: int) -> str:
    """A metadata line as a user finds it: by the file it names, else by its number."""
    named = re.search(rb'"file_name"\s*:\s*"((?:[^"\\]|\\.){1,200})"', line)
    return f"of {named.group(1).decode('utf-8', 'replace')}" if named else str(number)


def stem_of(name: str) -> str:
    """'train/track-0001.mp3' -> 'train/track-0001'."""
    path = PurePosixPath(name)
    return str(path.with_suffix("")) if path.suffix else name


def cut_seconds(view: DatasetView, audio: list[str], limit_s: float, who: str, report: Report) -> None:
    """What a trainer that keeps only the first `limit_s` seconds of a file cuts: a warning with the
    seconds (the captions describe what is never heard), else the longest file in what it sees."""
    measured = [(n, s.duration_s) for n in audio if (s := view.sound(n))]
    long = [(n, d) for n, d in measured if d > limit_s + 0.1]  # a frame (26 ms) past a cut made at the limit
    if long:
        name, longest = max(long, key=lambda x: x[1])
        report.warnings.append(
            f"{len(long)} files are longer than {limit_s:g} s: {who} keeps the first {limit_s:g} s of each and cuts "
            f"{sum(d - limit_s for _, d in long):.0f} s in all (the longest, {name}, is {longest:.0f} s: "
            f"{longest - limit_s:.0f} s cut); their captions and metas describe what is never heard."
        )
    elif measured:
        report.sees.append(
            f"Cut: 0 s. The longest of {len(measured)} measured files is {max(d for _, d in measured):.1f} s, "
            f"within the {limit_s:g} s {who} keeps."
        )
