"""A render's seek table: the byte offset of every EVERY-th MPEG frame, made once when the item
is saved and kept in its metadata, so that an export cuts clips without scanning the render.

A full scan (mp3cut.scan) reads and indexes every frame: 3-6 ms per 10 MB render, the largest
cost of a clip export. With the table, a cut jumps to the checkpoint before it and walks at
most EVERY frame headers of one small read (the part between two checkpoints), which also
checks the table: a walk that does not land exactly on the next checkpoint means the file is
not the one that was indexed, and `Stale` sends the caller back to a full scan. The frames a
table gives are those of the scan it was made from, so clips are the same bytes either way.

The offsets are stored as little-endian uint32 gaps between checkpoints, zlib-compressed and in
base64: a 10-minute CBR render (23,000 frames) takes well under 1 KB, a VBR one about 1 KB.
"""

from __future__ import annotations

import base64
import zlib
from collections import OrderedDict
from typing import BinaryIO

import numpy as np

from trainmode.audio.frames import _SIZES, Frame, Timing, _parse, scan

VERSION = 1
EVERY = 64  # frames between checkpoints: a cut walks at most this many headers
_KEPT = 4  # walked segments kept per render (a render's clips are cut in order)
_SIZE_OF = _SIZES.tolist()  # frame size by header bytes 1-2, as a list: faster to index one by one


class Stale(Exception):
    """The file does not match its seek table (it changed after it was indexed): scan it instead."""


def make(source: BinaryIO) -> dict:
    """The seek table of an MP3 (raises ValidationError like mp3cut.scan when it holds no frames)."""
    index = scan(source)
    marks = index.offsets[::EVERY].astype(np.int64)
    gaps = np.diff(marks, prepend=0).astype("<u4")
    return {
        "version": VERSION,
        "every": EVERY,
        "count": index.count,
        "bytes": source.seek(0, 2),
        "end": int(index.offsets[-1] + index.sizes[-1]),
        "sample_rate": index.sample_rate,
        "samples_per_frame": index.samples_per_frame,
        "one_bitrate": index.one_bitrate,
        "offsets": base64.b64encode(zlib.compress(gaps.tobytes(), 9)).decode("ascii"),
    }


def usable(table) -> bool:
    """A table this code can read (an item saved before tables, or by a later version, has none)."""
    return isinstance(table, dict) and table.get("version") == VERSION


def saved_bytes(table) -> int | None:
    """The size of the file a usable table was made from (None: no table, or it does not say)."""
    size = table.get("bytes") if usable(table) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


class SeekTable(Timing):
    """The frames of one open render, found through its seek table (see the module doc)."""

    def __init__(self, source: BinaryIO, table: dict):
        self._source = source
        try:  # a table edited or damaged in the database is not a reason to fail: the scan remains
            self.every, self.count = int(table["every"]), int(table["count"])
            self.sample_rate, self.samples_per_frame = int(table["sample_rate"]), int(table["samples_per_frame"])
            self.one_bitrate = bool(table["one_bitrate"])
            gaps = np.frombuffer(zlib.decompress(base64.b64decode(table["offsets"])), dtype="<u4")
            self._marks = np.cumsum(gaps, dtype=np.int64).tolist() + [int(table["end"])]
        except (KeyError, TypeError, ValueError, zlib.error) as exc:
            raise Stale(f"unreadable seek table: {exc}") from None
        if len(self._marks) != -(-self.count // self.every) + 1:
            raise Stale("the seek table's checkpoints do not match its frame count")
        self._walked: OrderedDict[int, tuple[bytes, list[int]]] = OrderedDict()

    def frame(self, i: int) -> Frame:
        if not 0 <= i < self.count:
            raise IndexError(i)
        data, starts = self._segment(i // self.every)
        at = starts[i % self.every]
        head = data[at : at + 4]
        size, _, _, side = _parse(head)
        crc = not head[1] & 1
        word = int.from_bytes(data[at + 4 + 2 * crc : at + 6 + 2 * crc], "big")  # side info, after the CRC
        reservoir = word >> 7 if (head[1] >> 3) & 3 == 3 else word >> 8  # main_data_begin: 9 bits, 8 in MPEG-2
        return Frame(self._marks[i // self.every] + at, size, head, reservoir, size - 4 - side)

    def _segment(self, k: int) -> tuple[bytes, list[int]]:
        """The bytes from checkpoint `k` to the next one and where each frame starts in them."""
        if k in self._walked:
            return self._walked[k]
        start, stop = self._marks[k], self._marks[k + 1]
        self._source.seek(start)
        data = self._source.read(stop - start)
        if len(data) != stop - start:
            raise Stale(f"the file ends before byte {stop}")
        starts, at, n = [], 0, min(self.every, self.count - k * self.every)
        for _ in range(n):
            size = _SIZE_OF[(data[at + 1] << 8) | data[at + 2]] if at + 4 <= len(data) and data[at] == 0xFF else 0
            if not size:
                raise Stale(f"no frame header at byte {start + at}")
            starts.append(at)
            at += size
        if at != stop - start:
            raise Stale(f"the frames after byte {start} do not end at the next checkpoint")
        self._walked[k] = data, starts
        if len(self._walked) > _KEPT:
            self._walked.popitem(last=False)
        return data, starts


def index_of(source: BinaryIO, table) -> Timing:
    """The render's frames: through its seek table when it has a usable one, else a full scan."""
    if usable(table):
        try:
            sought = SeekTable(source, table)
            sought.frame(sought.count - 1)  # walks the last checkpoint's frames to the saved end: a frame
            return sought  # more or less since the save is found before any cut
        except Stale:
            pass
    return scan(source)
