"""dataset.zip on disk: stored (uncompressed) members, zip64 headers, fixed timestamps.

`ZipWriter` writes each member once, front to back: its local header, its data with the
CRC-32 taken from the very bytes written, then that CRC into the header. `ZipCheck`
re-reads every finished member on a second thread, behind the writer: the SHA-256 of
every byte of the file, and the CRC-32 of each member's data against the header's. The
two threads share the work (hashlib, zlib/isal and file reads release the GIL), so the
zip costs about one SHA-256 pass over its bytes.

The layout is APPNOTE 6.3.x as Python's zipfile writes it with force_zip64: a zip64
extra field in every local header, zip64 fields in the central directory and the zip64
end records only where a value does not fit in 32 bits.
"""
from __future__ import annotations

import hashlib
import os
import queue
import struct
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from isal.isal_zlib import crc32  # CRC-32 as zlib computes it, about 20x faster

from .errors import StoreError

CHUNK = 1024 * 1024
VERSION = 45                   # zip64
DOS_TIME, DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00: same items, same bytes
UNIX_FILE = 0o100644 << 16     # "-rw-r--r--", made on "Unix" (3) everywhere
LIMIT32 = 0x7FFFFFFF           # past this, zipfile (and so this) switches a value to zip64
COUNT_LIMIT = 0xFFFF


@dataclass(frozen=True)
class Entry:
    name: str
    offset: int        # of the local header
    data_offset: int
    size: int
    crc: int


def _local_header(name: bytes, size: int, crc: int) -> bytes:
    extra = struct.pack("<HHQQ", 1, 16, size, size)
    return struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", VERSION, 0, 0, zipfile.ZIP_STORED, DOS_TIME, DOS_DATE,
                       crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra)) + name + extra


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
    return struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", VERSION, 3, VERSION, 0, 0, zipfile.ZIP_STORED,
                       DOS_TIME, DOS_DATE, entry.crc, size, size, len(name), len(extra), 0, 0, 0, UNIX_FILE,
                       offset) + name + extra


def _end_records(count: int, start: int, size: int) -> bytes:
    out = b""
    if count > COUNT_LIMIT or start > LIMIT32 or size > LIMIT32:
        out = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, VERSION, VERSION, 0, 0, count, count, size, start)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, start + size, 1)
        count, start, size = min(count, COUNT_LIMIT), min(start, 0xFFFFFFFF), min(size, 0xFFFFFFFF)
    return out + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0)


class ZipWriter:
    """Members one after the other into `fh` (an unbuffered binary file at its start).
    Names are ASCII. `on_member(entry)` runs when a member is complete on disk."""

    def __init__(self, fh: BinaryIO, on_member: Callable[[Entry], None] | None = None):
        self.fh = fh
        self.on_member = on_member
        self.entries: list[Entry] = []
        self.position = fh.tell()
        self._buffer = memoryview(bytearray(CHUNK))

    def _write(self, data) -> None:
        view = memoryview(data)
        while view:
            written = self.fh.write(view)
            view = view[written:]
        self.position += len(data)

    def add_bytes(self, name: str, data: bytes) -> Entry:
        crc = crc32(data)
        header = _local_header(name.encode("ascii"), len(data), crc)
        entry = Entry(name, self.position, self.position + len(header), len(data), crc)
        self._write(header)
        self._write(data)
        return self._done(entry)

    def add_file(self, name: str, src: BinaryIO, size: int, on_bytes: Callable[[int], None] | None = None) -> Entry:
        """Copy exactly `size` bytes from `src`; the CRC goes into the header afterwards."""
        offset, header = self.position, _local_header(name.encode("ascii"), size, 0)
        self._write(header)
        crc = copied = 0
        while n := src.readinto(self._buffer):
            chunk = self._buffer[:n]
            crc = crc32(chunk, crc)
            self._write(chunk)
            copied += n
            if on_bytes:
                on_bytes(n)
        if copied != size:
            raise StoreError(f"The audio for {name} changed while it was copied ({copied} bytes, expected {size}).")
        os.pwrite(self.fh.fileno(), struct.pack("<L", crc), offset + 14)
        return self._done(Entry(name, offset, offset + len(header), size, crc))

    def _done(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        if self.on_member:
            self.on_member(entry)
        return entry

    def close(self) -> int:
        """Write the central directory and end records; returns the zip's size."""
        start = self.position
        directory = b"".join(_central_entry(e) for e in self.entries)
        self._write(directory + _end_records(len(self.entries), start, len(directory)))
        return self.position


class ZipCheck:
    """Re-reads a zip from disk on a thread of its own, behind the writer: the SHA-256 of
    every byte and the CRC-32 of every member's data.

    `add` each member once it is complete on disk, in file order; `result` waits for the
    reader, compares the central directory with what it checked and returns the SHA-256.
    Leaving the `with` block stops the reader."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.bytes_checked = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._checked: list[Entry] = []
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

    def add(self, entry: Entry) -> None:
        self._queue.put(entry)

    def result(self, on_bytes: Callable[[int], None] | None = None) -> str:
        self._queue.put(None)
        while self._thread.is_alive():
            self._thread.join(0.25)
            if on_bytes:
                on_bytes(self.bytes_checked)
        if self._error:
            raise self._error
        try:
            with zipfile.ZipFile(self.path) as zf:
                on_disk = [(i.filename, i.header_offset, i.compress_size, i.CRC) for i in zf.infolist()]
        except zipfile.BadZipFile as exc:
            raise StoreError(f"The export zip is damaged: {exc}.") from None
        if on_disk != [(e.name, e.offset, e.size, e.crc) for e in self._checked]:
            raise StoreError("The export zip is damaged: its directory does not match its members.")
        return self._digest.hexdigest()

    def _run(self) -> None:
        try:
            entry = self._queue.get()  # the first member exists, so the file does too
            if entry is None or self._stop:
                return
            with open(self.path, "rb", buffering=0) as fh:
                buffer = memoryview(bytearray(CHUNK))
                while entry is not None and not self._stop:
                    self._read(fh, buffer, entry.data_offset)  # the local header: hashed only
                    if self._read(fh, buffer, entry.data_offset + entry.size, crc=0) != entry.crc:
                        raise StoreError(f"The export zip is damaged: {entry.name} failed its CRC check.")
                    self._checked.append(entry)
                    entry = self._queue.get()
                self._read(fh, buffer, None)  # the central directory
        except StoreError as exc:
            self._error = exc
        except OSError as exc:
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
                crc = crc32(buffer[:n], crc)
            self.bytes_checked += n
        return crc
