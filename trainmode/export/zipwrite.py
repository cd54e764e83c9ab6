"""dataset.zip on disk: stored (uncompressed) members, zip64 headers, fixed timestamps.

`ZipWriter` writes each member once, front to back, and never reads the zip back:
- a member's CRC-32 goes into its local header, so it is taken first, in a quick pass over
  the member's source (isal's CRC-32 runs at memory speed), then again on the very bytes
  copied into the zip: a source that changed in between is refused, not packed;
- every byte written is handed, in the writer's own buffers, to a second thread that keeps
  the SHA-256 of the zip (hashlib releases the GIL), so on two cores the zip costs about one
  SHA-256 pass over its bytes;
- `check_directory` then reads the finished zip's central directory (not its data) and
  compares it with what was written.

The layout is APPNOTE 6.3.x as Python's zipfile writes it with force_zip64: a zip64 extra
field in every local header, zip64 fields in the central directory and the zip64 end
records only where a value does not fit in 32 bits.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import struct
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from isal.isal_zlib import crc32  # CRC-32 as zlib computes it, about 20x faster

from trainmode.errors import StoreError

CHUNK = 1024 * 1024  # stays in the CPU cache between the read, the CRC and the write
AHEAD = 16  # buffers the writer may fill before the SHA-256 thread has hashed them
SMALL = 64 * 1024  # writes under this size are gathered into one
VERSION = 45  # zip64
DOS_TIME, DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00: same items, same bytes
UNIX_FILE = 0o100644 << 16  # "-rw-r--r--", made on "Unix" (3) everywhere
LIMIT32 = 0x7FFFFFFF  # past this, zipfile (and so this) switches a value to zip64
COUNT_LIMIT = 0xFFFF


@dataclass(frozen=True)
class Entry:
    name: str
    offset: int  # of the local header
    data_offset: int
    size: int
    crc: int


class Span(NamedTuple):
    """Bytes [start, end) of a seekable binary file: part of a member, read when it is written."""

    src: BinaryIO
    start: int
    end: int


def _local_header(name: bytes, size: int, crc: int) -> bytes:
    extra = struct.pack("<HHQQ", 1, 16, size, size)
    return (
        struct.pack(
            "<4s2B4HL2L2H",
            b"PK\x03\x04",
            VERSION,
            0,
            0,
            zipfile.ZIP_STORED,
            DOS_TIME,
            DOS_DATE,
            crc,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(name),
            len(extra),
        )
        + name
        + extra
    )


def _central_entry(entry: Entry) -> bytes:
    name = entry.name.encode("ascii")
    size, offset, wide = entry.size, entry.offset, []
    if size > LIMIT32:
        wide += [size, size]
        size = 0xFFFFFFFF
    if offset > LIMIT32:
        wide.append(offset)
        offset = 0xFFFFFFFF
    extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b""
    return (
        struct.pack(
            "<4s4B4HL2L5H2L",
            b"PK\x01\x02",
            VERSION,
            3,
            VERSION,
            0,
            0,
            zipfile.ZIP_STORED,
            DOS_TIME,
            DOS_DATE,
            entry.crc,
            size,
            size,
            len(name),
            len(extra),
            0,
            0,
            0,
            UNIX_FILE,
            offset,
        )
        + name
        + extra
    )


def _end_records(count: int, start: int, size: int) -> bytes:
    out = b""
    if count > COUNT_LIMIT or start > LIMIT32 or size > LIMIT32:
        out = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, VERSION, VERSION, 0, 0, count, count, size, start)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, start + size, 1)
        count, start, size = min(count, COUNT_LIMIT), min(start, 0xFFFFFFFF), min(size, 0xFFFFFFFF)
    return out + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0)


class Buffers:
    """A pool of up to `count` CHUNK-sized buffers, made when first needed, shared between
    threads: `take` waits while all are in use, `give` returns one, `close` makes every
    waiting and later `take` raise (so a thread waiting on a stopped export ends)."""

    def __init__(self, count: int):
        self.count, self._made = count, 0
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()

    def take(self, alive: Callable[[], bool] = lambda: True) -> memoryview:
        with self._lock:
            if self._made < self.count and self._free.empty():
                self._made += 1
                return memoryview(bytearray(CHUNK))
        while True:
            try:
                buffer = self._free.get(timeout=1.0)
            except queue.Empty:
                if not alive():
                    raise RuntimeError("The export's SHA-256 thread stopped.") from None
                continue
            if buffer is None:
                self._free.put(None)  # for the next waiter
                raise StoreError("The export stopped.")
            return buffer

    def give(self, buffer: memoryview) -> None:
        self._free.put(buffer)

    def close(self) -> None:
        self._free.put(None)


class Held(NamedTuple):
    """Part of a member already read into a pool's buffer; the buffer goes back once hashed."""

    view: memoryview
    buffer: memoryview
    pool: Buffers


Part = bytes | Span | Held


def part_size(part: Part) -> int:
    if isinstance(part, Span):
        return part.end - part.start
    return len(part.view) if isinstance(part, Held) else len(part)


class _Hasher:
    """The SHA-256 of everything written, kept by a thread of its own. Buffers handed over with
    their pool go back to it once hashed, so a writer runs at most a pool's worth ahead."""

    def __init__(self):
        self._digest = hashlib.sha256()
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self.pool = Buffers(AHEAD)  # the writer's own, for spans it reads
        self._thread = threading.Thread(target=self._run, name="export-sha256", daemon=True)
        self._thread.start()

    def buffer(self) -> memoryview:
        return self.pool.take(self._thread.is_alive)

    def add(self, data, buffer: memoryview | None = None, pool: Buffers | None = None) -> None:
        """Hash `data` (bytes, or a view of `buffer`, given back to `pool` once hashed)."""
        self._work.put((data, buffer, pool))

    def finish(self) -> str:
        self._work.put(None)
        self._thread.join()
        return self._digest.hexdigest()

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            data, buffer, pool = item
            self._digest.update(data)
            if buffer is not None:
                pool.give(buffer)


class ZipWriter:
    """Members one after the other into `fh` (an unbuffered binary file). Names are ASCII.
    After `close`, `sha256` is the SHA-256 of the bytes written (the whole file when `fh`
    started empty). Use it as a context manager, or call `close`, so its thread ends."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.entries: list[Entry] = []
        self.position = fh.tell()
        self.sha256: str | None = None
        self._hasher: _Hasher | None = _Hasher()
        self._scratch = memoryview(bytearray(CHUNK))  # the CRC pass reads into it
        self._small = bytearray()  # small writes not written yet

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, *exc) -> None:
        if self._hasher is not None:  # not closed: a failure, stop the thread
            self._hasher.finish()
            self._hasher = None

    def _write(self, data, buffer: memoryview | None = None, pool: Buffers | None = None) -> None:
        """Write `data` (a view of `buffer` from `pool`, or bytes) and hand it to the hasher. Small
        writes (headers, captions, sidecars) are gathered into one: a write call costs more than a copy."""
        self.position += len(data)
        if buffer is None and len(data) < SMALL:
            self._small += data
            if len(self._small) >= CHUNK:
                self._flush()
            return
        self._flush()
        self._write_out(data)
        self._hasher.add(data, buffer, pool or self._hasher.pool)

    def _flush(self) -> None:
        if self._small:
            data, self._small = bytes(self._small), bytearray()
            self._write_out(data)
            self._hasher.add(data)

    def _write_out(self, data) -> None:
        view = memoryview(data)
        while view:
            view = view[self.fh.write(view) :]

    def add_bytes(self, name: str, data: bytes) -> Entry:
        crc = crc32(data)
        header = _local_header(name.encode("ascii"), len(data), crc)
        entry = Entry(name, self.position, self.position + len(header), len(data), crc)
        self._write(header)
        self._write(data)
        return self._done(entry)

    def add_file(self, name: str, src: BinaryIO, size: int, on_bytes: Callable[[int], None] | None = None) -> Entry:
        """Copy `size` bytes of `src` (seekable) from where it stands."""
        start = src.tell()
        return self.add_parts(name, [Span(src, start, start + size)], on_bytes)

    def add_parts(
        self, name: str, parts: list[Part], on_bytes: Callable[[int], None] | None = None, *, crc: int | None = None
    ) -> Entry:
        """One member made of `parts`, in order: bytes, bytes held in buffers, and spans of files
        read as they are copied. `crc`: their CRC-32 when the caller took it already (crc_of)."""
        size = sum(part_size(p) for p in parts)
        crc = crc_of(parts, self._scratch, name) if crc is None else crc
        offset, header = self.position, _local_header(name.encode("ascii"), size, crc)
        self._write(header)
        reread = any(isinstance(p, Span) for p in parts)  # what was read twice is checked
        copied = 0
        for part in parts:
            for chunk, buffer, pool in _chunks(part, self._hasher.buffer, name):
                copied = crc32(chunk, copied) if reread else copied
                self._write(chunk, buffer, pool)
                if on_bytes:
                    on_bytes(len(chunk))
        if reread and copied != crc:
            raise StoreError(f"The audio for {name} changed while it was copied. Export again.")
        return self._done(Entry(name, offset, offset + len(header), size, crc))

    def _done(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        return entry

    def close(self) -> int:
        """Write the central directory and end records, wait for the SHA-256; returns the zip's size."""
        start = self.position
        directory = b"".join(_central_entry(e) for e in self.entries)
        self._write(directory + _end_records(len(self.entries), start, len(directory)))
        self._flush()
        self.sha256, self._hasher = self._hasher.finish(), None
        return self.position


def crc_of(parts: list[Part], scratch: memoryview, name: str) -> int:
    """The CRC-32 of `parts` (a member's data), reading its spans through `scratch`."""
    crc = 0
    for part in parts:
        for chunk, _, _ in _chunks(part, lambda: scratch, name):
            crc = crc32(chunk, crc)
    return crc


def hold(span: Span, pool: Buffers, name: str) -> list[Held]:
    """The bytes of `span` read into buffers of `pool`."""
    return [Held(chunk, buffer, pool) for chunk, buffer, _ in _chunks(span, pool.take, name)]


def _chunks(part: Part, next_buffer: Callable[[], memoryview], name: str) -> Iterator[tuple]:
    """(chunk, the buffer it is a view of or None, that buffer's pool or None) for `part`: a span
    is read a CHUNK at a time into buffers from `next_buffer`. A real file is read at its offsets
    (pread), not through its position, so another thread may use the same file."""
    if isinstance(part, bytes):
        yield part, None, None
        return
    if isinstance(part, Held):
        yield part
        return
    try:
        fd = part.src.fileno()
    except (AttributeError, io.UnsupportedOperation):  # an in-memory file
        fd = None
    at = part.start
    while at < part.end:
        buffer = next_buffer()
        want = buffer[: min(CHUNK, part.end - at)]
        if fd is None:
            part.src.seek(at)
            n = part.src.readinto(want)
        else:
            n = os.preadv(fd, [want], at)
        if not n:
            raise StoreError(
                f"The audio for {name} changed while it was copied (it ended {part.end - at} bytes "
                "early). Export again."
            )
        at += n
        yield buffer[:n], buffer, None


def check_directory(path: Path, entries: list[Entry], size: int) -> None:
    """The finished zip as it was written: `size` bytes, and a central directory naming each
    member where it was written, with its size and CRC. Reads the directory, not the data."""
    try:
        if Path(path).stat().st_size != size:
            raise StoreError(f"The export zip is damaged: it is {Path(path).stat().st_size} bytes, not {size}.")
        with zipfile.ZipFile(path) as zf:
            on_disk = [(i.filename, i.header_offset, i.compress_size, i.CRC) for i in zf.infolist()]
    except zipfile.BadZipFile as exc:
        raise StoreError(f"The export zip is damaged: {exc}.") from None
    if on_disk != [(e.name, e.offset, e.size, e.crc) for e in entries]:
        raise StoreError("The export zip is damaged: its directory does not match its members.")
