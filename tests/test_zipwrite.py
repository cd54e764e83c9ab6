"""The zip writer on its own: zip64 offsets past 4 GiB, and audio that changes while it is copied."""

import io
import shutil
import subprocess
import zipfile

import pytest

from trainmode.errors import StoreError
from trainmode.export.zipwrite import Span, ZipWriter


class ChangingFile(io.BytesIO):
    """Audio that changes on disk between the writer's CRC pass and its copy."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.passes = 0

    def seek(self, *args):
        self.passes += 1
        if self.passes == 2:  # the copy starts: one byte is different now
            self.getbuffer()[1000] ^= 0xFF
        return super().seek(*args)


def test_audio_changing_while_it_is_copied_is_refused(tmp_path):
    with open(tmp_path / "d.zip", "w+b", buffering=0) as fh, ZipWriter(fh) as writer:
        writer.add_file("a.mp3", io.BytesIO(b"steady" * 1000), 6000)
        with pytest.raises(StoreError, match="b.mp3 changed while it was copied"):
            writer.add_parts("b.mp3", [b"head", Span(ChangingFile(b"ID3" * 100_000), 0, 300_000)])


def test_members_past_4_gib_get_zip64_offsets(tmp_path):
    """Offsets over 4 GiB go into zip64 fields: the members are written after a 4.5 GiB
    sparse hole (no disk used), and both Python's zipfile and unzip read them back."""
    target = tmp_path / "big.zip"
    with open(target, "w+b", buffering=0) as fh:
        fh.truncate(4608 * 1024 * 1024)
        fh.seek(0, 2)
        with ZipWriter(fh) as writer:
            writer.add_bytes("a.txt", b"first")
            writer.add_file("b.mp3", io.BytesIO(b"ID3" * 1000), 3000)
            writer.close()
    with zipfile.ZipFile(target) as zf:
        assert [i.header_offset > 2**32 for i in zf.infolist()] == [True, True]
        assert zf.read("a.txt") == b"first" and zf.read("b.mp3") == b"ID3" * 1000
    if shutil.which("unzip"):
        out = subprocess.run(["unzip", "-t", str(target)], capture_output=True, text=True)
        assert "No errors detected" in out.stdout, out.stdout + out.stderr
