"""A seekable, read-only file over ranged reads of a remote blob (HTTP `Range` requests).

`zipfile` reads a zip's directory from its end and then single members, so a past export's rows
can be browsed with a few small requests instead of downloading the whole zip:

    with open_ranges(size, fetch) as fh:      # fetch(first, last) -> the bytes first..last
        zipfile.ZipFile(fh).read("train/track-0001.json")

Bounds: one request asks for at most MAX_REQUEST bytes, small reads are served from one buffer
of BLOCK bytes (io.BufferedReader), and the zip's tail (its end record and, for a zip of up to a
few hundred rows, its whole directory) is fetched once with the first read near the end and kept.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from trainmode.errors import StoreError

BLOCK = 256 * 1024  # the buffer small reads (a member's header, a caption file) are served from
TAIL = 64 * 1024 + 22  # a zip's end record with the longest comment, and a small zip's directory
MAX_REQUEST = 8 * 1024 * 1024  # the most one request asks for (a large member takes several)

Fetch = Callable[[int, int], bytes]  # (first, last) byte offsets, inclusive -> exactly those bytes


class RangeReader(io.RawIOBase):
    """The raw file: every read is one `fetch` of the bytes asked for (at most MAX_REQUEST, and not
    past where the tail starts), except reads inside the tail (the last TAIL bytes), which the first
    of them fetches whole. `requests` counts the fetches."""

    def __init__(self, size: int, fetch: Fetch, *, what: str = "the file", max_request: int = MAX_REQUEST):
        super().__init__()
        self.size, self._fetch, self._what, self._max = size, fetch, what, max_request
        self._pos = 0
        self._tail: bytes | None = None
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:  # zipfile probes with seek(-22, 2) and expects OSError on a tiny file
            raise OSError(f"cannot seek to {base + offset} in {self._what}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError("I/O operation on a closed file")
        n = min(len(buffer), self.size - self._pos)
        if n <= 0:
            return 0
        tail_start = max(self.size - TAIL, 0)
        if self._pos >= tail_start:
            if self._tail is None:
                self._tail = self._get(tail_start, self.size - 1)
            data = self._tail[self._pos - tail_start : self._pos - tail_start + n]
        else:  # up to where the tail starts: no byte is asked for twice
            data = self._get(self._pos, self._pos + min(n, self._max, tail_start - self._pos) - 1)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        """The rest of the file, in requests of at most MAX_REQUEST (zipfile reads its end record so)."""
        parts = []
        while chunk := self.read(self._max):
            parts.append(chunk)
        return b"".join(parts)

    def _get(self, first: int, last: int) -> bytes:
        self.requests += 1
        data = self._fetch(first, last)
        if len(data) != last - first + 1:
            raise StoreError(
                f"Reading {self._what} failed: bytes {first}-{last} came back as {len(data)} bytes. Try again."
            )
        return data


def open_ranges(size: int, fetch: Fetch, *, what: str = "the file", buffer_size: int = BLOCK) -> io.BufferedReader:
    """The buffered file to hand to zipfile (close it when done; its `.raw.requests` counts fetches)."""
    return io.BufferedReader(RangeReader(size, fetch, what=what), buffer_size)
