"""Local temp files for uploads: storage backends and parsers get a path, never a BytesIO."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


def spill_to_temp(
    source: bytes | bytearray | memoryview | BinaryIO, folder: str | Path | None, suffix: str = ".mp3"
) -> Path:
    """Copy bytes or a binary file object (e.g. a Streamlit UploadedFile) to a new temp
    file in `folder` and return its path; the caller owns (and deletes) the file."""
    fd, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, (bytes, bytearray, memoryview)):
                out.write(source)
            else:
                source.seek(0)
                shutil.copyfileobj(source, out, CHUNK)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
