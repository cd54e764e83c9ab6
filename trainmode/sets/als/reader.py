"""Safe byte stream for a Live set: gzip or plain XML, hashed as it is read,
with hard caps on how much XML a file may expand to, and on how long one tag or one text
may be: libxml2's push parser holds a whole start tag in memory before it parses it, so a
400 KB file whose one attribute inflates to 400 MB cost 877 MB before it was refused."""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath, PureWindowsPath
from typing import BinaryIO

from trainmode.errors import AlsError

MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024  # far above any real set, far below an OOM
# Parse time follows the number of tags, not bytes: 512 MiB of "<a/>" would take minutes.
# Real sets have ~35,000 tags per MB, so this allows ~450 MB of typical Live XML.
MAX_XML_TAGS = 16_000_000
# No "<" may appear inside a tag's attributes or inside text, so the longest run of bytes without
# one bounds both. Real sets: the longest tag is under 400 bytes, the longest text (a plug-in's hex
# preset buffer) 9 MB, and libxml2 refuses text over 10 MB anyway (huge_tree=False).
MAX_TAG_BYTES = 1024 * 1024  # from "<" to its ">": an element's name and attributes
MAX_RUN_BYTES = 16 * 1024 * 1024  # from one "<" to the next: a tag and the text after it
CHUNK = 256 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class SetStream:
    """Reads a set once: `chunks()` yields XML bytes; `sha256` is over the raw file bytes."""

    def __init__(self, source, filename: str | None = None, *, max_bytes: int = MAX_DECOMPRESSED_BYTES):
        self.name = _basename(filename) if filename else _name_of(source)
        self.max_bytes = max_bytes
        self._source = source
        self._hash = hashlib.sha256()
        self.raw_bytes = 0
        self.xml_bytes = 0
        self.xml_tags = 0
        self._since_lt = 0  # bytes since the last "<"
        self._tag_closed = True  # a ">" came after the last "<"

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def fail(self, reason: str) -> AlsError:
        return AlsError(f"{self.name} {reason}")

    def chunks(self) -> Iterator[bytes]:
        with self._open() as fh:
            raw = self._raw_chunks(fh)
            first = next(raw, b"")
            if not first:
                raise self.fail("is not an Ableton Live set: the file is empty.")
            if first.startswith(_GZIP_MAGIC):
                yield from self._gunzip(first, raw)
            else:
                yield from self._plain(first, raw)

    def _open(self) -> BinaryIO:
        src = self._source
        if isinstance(src, (bytes, bytearray, memoryview)):
            return io.BytesIO(bytes(src))
        if isinstance(src, (str, os.PathLike)):
            try:
                return open(src, "rb")
            except FileNotFoundError:
                raise self.fail("could not be opened: there is no such file.") from None
            except IsADirectoryError:
                raise self.fail("could not be opened: it is a folder, not a file.") from None
            except OSError as exc:
                raise self.fail(f"could not be opened: {exc.strerror or exc}.") from None
        if hasattr(src, "read"):
            return _Borrowed(src)
        raise TypeError(f"parse_als() needs a path, bytes or a binary file, not {type(src).__name__}")

    def _raw_chunks(self, fh: BinaryIO) -> Iterator[bytes]:
        while True:
            try:
                block = fh.read(CHUNK)
            except OSError as exc:
                raise self.fail(f"could not be read: {exc.strerror or exc}.") from None
            if not block:
                return
            if isinstance(block, str):
                raise TypeError("parse_als() needs a binary file object (open it with 'rb')")
            self.raw_bytes += len(block)
            if self.raw_bytes > self.max_bytes:
                raise self.fail(f"is too large: it is over {self.max_bytes / (1024 * 1024):g} MiB.")
            self._hash.update(block)
            yield bytes(block)

    def _count(self, data: bytes) -> bytes:
        self.xml_bytes += len(data)
        self.xml_tags += data.count(b"<")
        if self.xml_bytes > self.max_bytes:
            raise self.fail(
                f"is too large: it expands to more than {self.max_bytes / (1024 * 1024):g} MiB of XML "
                "(a real Live set is far smaller; this looks like a compression bomb)."
            )
        if self.xml_tags > MAX_XML_TAGS:
            raise self.fail(
                f"is too large: it holds more than {MAX_XML_TAGS:,} XML tags "
                "(a real Live set has far fewer; this looks like a compression bomb)."
            )
        self._check_runs(data)
        return data

    def _check_runs(self, data: bytes) -> None:
        """Refuse one overlong tag (its attributes) or text before libxml2 buffers it. Measured per
        chunk: the caps are far above a chunk, so a run is never missed by more than one chunk."""
        lt = data.rfind(b"<")
        if lt < 0:
            self._since_lt += len(data)
            self._tag_closed = self._tag_closed or b">" in data
        else:
            self._since_lt = len(data) - lt - 1
            self._tag_closed = data.find(b">", lt) >= 0
        if not self._tag_closed and self._since_lt > MAX_TAG_BYTES:
            raise self.fail(
                f"is damaged: one of its XML tags is over {MAX_TAG_BYTES // (1024 * 1024)} MiB long "
                "(a real Live set's tags are a few hundred bytes; this looks like a compression bomb)."
            )
        if self._since_lt > MAX_RUN_BYTES:
            raise self.fail(
                f"is damaged: it holds over {MAX_RUN_BYTES // (1024 * 1024)} MiB of XML text or attributes "
                "without a tag (a real Live set's longest text is under 10 MB; this looks like a compression bomb)."
            )

    def _plain(self, first: bytes, raw: Iterator[bytes]) -> Iterator[bytes]:
        head = first.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"<"):
            raise self.fail("is not an Ableton Live set: it is neither gzip-compressed nor XML.")
        yield self._count(first)
        for block in raw:
            yield self._count(block)

    def _gunzip(self, first: bytes, raw: Iterator[bytes]) -> Iterator[bytes]:
        # Inflate at most CHUNK bytes per call, so a bomb never materialises in memory.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = first
        while not inflater.eof:
            try:
                out = inflater.decompress(data, CHUNK)
            except zlib.error:
                raise self.fail("is damaged: its compressed data is corrupt.") from None
            data = inflater.unconsumed_tail
            if out:
                yield self._count(out)  # then call again, even with no input: zlib may hold more
            elif inflater.eof:
                break
            elif data:
                raise self.fail("is damaged: its compressed data is corrupt.")
            else:
                data = next(raw, b"")
                if not data:
                    raise self.fail("is damaged: the compressed data ends early (was the file cut off?).")
        for _ in raw:  # bytes after the gzip stream: hashed as part of the file, not parsed
            pass


class _Borrowed:
    """A caller's file object: read it, but leave closing to the caller."""

    def __init__(self, fh):
        self._fh = fh

    def read(self, n: int):
        return self._fh.read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _basename(name: str) -> str:
    """Last part of a Windows or POSIX path: only the file name is ever shown or stored."""
    return PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name or name


def _name_of(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return _basename(os.fspath(source)) or str(source)
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return _basename(name)
    return "The uploaded file"
