"""What every format shares: the members it yields, and the view its checker reads.

A format is a module with `NAME`, `TITLE`, `members(rows, build) -> Iterator[Member]`
and `check(source) -> list[str]` (one sentence per problem, empty when the dataset
meets the tool's rules). Audio members are copied byte for byte from the row's audio;
text members are UTF-8. Members are yielded lazily, in zip order, so a format can
write a manifest after the audio it lists.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

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


@dataclass
class Build:
    """What a format knows while its members are written: the artist as the dataset shows
    it, and, for a format with READS_AUDIO_HEADERS = True, the header of each row's audio
    (by stem), filled in as each audio member is written; None when the audio could not be
    read as MP3."""

    artist: str
    headers: dict[str, AudioHeader | None] = field(default_factory=dict)
    clips: str = ""  # how the rows were cut into clips, for the card ("" for whole tracks)

    def header(self, row: Row) -> AudioHeader | None:
        return self.headers[row.stem]  # a KeyError here is a bug: ask only after the row's audio member


def readme(title: str, rows: list[Row], build: Build, body: str) -> TextMember:
    """README.md for a trainer's layout: what is in it, then how to train on it."""
    total = sum(r.duration_s or 0 for r in rows)
    counts = ", ".join(f"{len(split_rows)} in `{split}/`" for split, split_rows in splits_of(rows))
    return text(
        "README.md",
        f"""# {build.artist} — Train Mode dataset for {title}

{len(rows)} tracks ({counts}), {total:.0f} s of audio, each with a caption for text-to-music
training, made with Train Mode from the artist's Ableton Live sets. `MANIFEST.sha256` holds
the SHA-256 of every other file: check them with `sha256sum -c MANIFEST.sha256`.

{build.clips + chr(10) + chr(10) if build.clips else ""}{body.strip()}
""",
    )


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
class DatasetView:
    """A dataset as a checker reads it: a .zip, or the folder it was unpacked into.
    Names are POSIX paths relative to the dataset root, files only."""

    def __init__(self, source: str | Path):
        self.source = Path(source)
        self._zip: zipfile.ZipFile | None = None
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


@contextmanager
def open_view(source: str | Path | DatasetView) -> Iterator[DatasetView]:
    if isinstance(source, DatasetView):
        yield source
        return
    with DatasetView(source) as view:
        yield view


def checker(rules: Callable[[DatasetView], list[str]]) -> Callable[..., list[str]]:
    """A format's `check(zip_or_dir) -> list[problem]`: the shared rules, then the tool's."""

    def check(source: str | Path | DatasetView) -> list[str]:
        with open_view(source) as view:
            return common_problems(view) + rules(view)

    check.__doc__ = rules.__doc__
    return check


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
