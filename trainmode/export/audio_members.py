"""The audio members of an export, made ready one step ahead of the zip writer, on a thread.

For each row, in order: its render opened once (all the clips of a render share the file),
the clip's frames found (the render's frame index, built once per render), the member read
into memory (up to HOLD bytes) and its CRC-32 taken, since the zip's local header must hold it
before the data. The writer then only writes those bytes while this runs on the next rows, and
a third thread hashes what was written (trainmode/export/zipwrite.py): the three share the cores. A
member bigger than HOLD is read again by the writer, which checks its CRC on the way.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from trainmode.audio import frames as mp3cut
from trainmode.audio import seek as mp3seek
from trainmode.errors import StoreError
from trainmode.export.formats.base import AudioHeader
from trainmode.export.rows import ClipCut, Row
from trainmode.export.zipwrite import CHUNK, Buffers, Part, Span, crc_of, hold, part_size

AHEAD = 16  # rows made ready before the writer asks for them (a render's clips, or open files)
HOLD = 16 * CHUNK  # a member up to this size is read once, into buffers
POOL = 24  # buffers (of CHUNK) the members read ahead may hold: the most memory this takes


@dataclass(frozen=True)
class Audio:
    """One row's audio member: its parts, their CRC-32, the render's MP3 header when the format
    asked for it, and the file to close once it is written (on a render's last row, when the
    writer reads that file because a member was too big to hold in memory)."""

    parts: list[Part]
    crc: int
    header: AudioHeader | None
    closes: BinaryIO | None

    def done(self) -> None:
        if self.closes is not None:
            self.closes.close()


def prepare(
    rows: list[Row], files: Iterator[Path], pool: Buffers, header_of: Callable[[Path], AudioHeader | None] | None = None
) -> Iterator[Audio]:
    """An Audio per row, in order; `files` gives each render's local file as its first row comes.
    A member of at most HOLD bytes is read once, into buffers of `pool` that the writer writes
    from; a bigger one is read twice (here for its CRC, then by the writer)."""
    fh: BinaryIO | None = None
    try:
        scratch = memoryview(bytearray(CHUNK))
        for i, row in enumerate(rows):
            if i == 0 or rows[i - 1].audio.path != row.audio.path:
                path = next(files)
                fh, index, spans = open(path, "rb"), None, False  # noqa: SIM115 - closed below or by an Audio
                header = header_of(path) if header_of else None
            if row.audio.cut:
                if index is None:
                    index = _index(fh, row)
                index, parts = _clip(fh, index, row.audio.cut)
            else:
                parts = [Span(fh, 0, _size(fh, row))]
            if sum(part_size(p) for p in parts) <= HOLD:
                parts = _held(parts, pool, row.stem)
            else:
                spans = True  # the writer reads the file: it must stay open until then
            last = i + 1 == len(rows) or rows[i + 1].audio.path != row.audio.path
            audio = Audio(parts, crc_of(parts, scratch, row.stem), header, fh if last and spans else None)
            if last:
                if not spans:
                    fh.close()  # all its bytes are in memory: a fetched temp file's space is free again
                fh = None
            yield audio
    finally:
        if fh is not None:
            fh.close()


def _held(parts: list[Part], pool: Buffers, name: str) -> list[Part]:
    """`parts` with each span read into buffers of `pool`."""
    out: list[Part] = []
    for part in parts:
        out += hold(part, pool, name) if isinstance(part, Span) else [part]
    return out


def _index(fh: BinaryIO, row: Row) -> mp3cut.Timing:
    """The render's frames, through the seek table saved with the item when it has one."""
    _size(fh, row, mp3seek.saved_bytes(row.audio.frames))  # a render of another size is refused, as a whole one
    return mp3seek.index_of(fh, row.audio.frames)


def _clip(fh: BinaryIO, index: mp3cut.Timing, cut: ClipCut) -> tuple[mp3cut.Timing, list[Part]]:
    """The clip's parts, and the index to cut the render's next clips with: a full scan once the
    seek table turned out not to fit the file (never a clip cut at the wrong bytes)."""
    try:
        head, start, end = mp3cut.clip_parts(fh, index, *_frames(index, cut))
    except mp3seek.Stale:
        index = mp3cut.scan(fh)
        head, start, end = mp3cut.clip_parts(fh, index, *_frames(index, cut))
    return index, [head, Span(fh, start, end)]


def _frames(index: mp3cut.Timing, cut: ClipCut) -> tuple[int, int]:
    """The clip's [first, last) frames: boundaries at the nearest frame."""
    first = 0 if cut.start_s <= 0 else index.frame_at(cut.start_s)
    last = index.count if cut.to_end else index.frame_at(cut.end_s)
    return first, max(last, first + 1)


def _size(fh: BinaryIO, row: Row, saved: int | None = None) -> int:
    size = os.fstat(fh.fileno()).st_size
    saved = row.audio.bytes if saved is None else saved
    if saved is not None and size != saved:
        raise StoreError(
            f"The audio of {row.stem} is {size} bytes, but {saved} were saved: it changed "
            "after it was saved. Save that item again."
        )
    return size


@contextmanager
def ahead(
    rows: list[Row],
    files: Iterator[Path],
    header_of: Callable[[Path], AudioHeader | None] | None = None,
    depth: int = AHEAD,
) -> Iterator[Iterator[Audio]]:
    """`prepare` run on a thread of its own, at most `depth` rows (and POOL buffers) ahead of the
    reader. On the way out (done or failed) the thread stops and every file it opened is closed."""
    buffers = Buffers(POOL)
    audio = prepare(rows, files, buffers, header_of)
    pool = ThreadPoolExecutor(1, thread_name_prefix="export-prepare")
    pending: deque[Future] = deque(pool.submit(next, audio, None) for _ in range(depth))

    def made() -> Iterator[Audio]:
        while (item := pending.popleft().result()) is not None:
            pending.append(pool.submit(next, audio, None))
            yield item

    try:
        yield made()
    finally:
        buffers.close()  # a thread waiting for a buffer the writer will not give back
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if not future.cancelled() and future.exception() is None and future.result() is not None:
                future.result().done()
        audio.close()  # its own open file, if it stopped within a render
