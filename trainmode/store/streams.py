"""Sizes and seekable copies of upload sources, for backends that send files over the network."""

from __future__ import annotations

import io
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from trainmode.errors import StoreError

SPOOL_IN_MEMORY = 8 * 1024 * 1024  # smaller copies stay in memory


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def spool(stream: BinaryIO, stack: ExitStack) -> tuple[BinaryIO, int]:
    """A seekable stream positioned at the data, and the data's size (TUS seeks to 0)."""
    if stream.seekable() and stream.tell() == 0:
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        return stream, size
    copy = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY))
    shutil.copyfileobj(stream, copy, 1024 * 1024)
    size = copy.tell()
    copy.seek(0)
    return copy, size
