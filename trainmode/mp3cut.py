"""Cut an MP3 at frame boundaries without re-encoding: no second lossy generation.

A clip is frames [first, last) of the render, copied byte for byte, after:
- a fresh Xing/Info frame (a silent frame holding the frame and byte counts and a LAME tag),
  so that its duration reads right in every player and in mutagen;
- the priming frames: the frames before `first` that hold the bytes the first frame borrows
  through the bit reservoir (`main_data_begin`), and always at least one for the MDCT
  overlap. The LAME tag's encoder delay names them, so a gapless decoder drops them and the
  clip's length is exactly its own frames; a decoder that ignores the tag plays them as a few
  milliseconds of the audio before the cut, never a decoding error.

Only the frames' headers are read to index a file; the clip's bytes are read from the source
file object as they are written (nothing holds a whole render in memory).
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .errors import ValidationError

_BITRATES = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits
_READ = 1 << 16


@dataclass(frozen=True)
class Frame:
    offset: int
    size: int
    header: bytes           # the 4 header bytes
    reservoir: int          # main_data_begin: bytes this frame borrows from earlier frames
    data_size: int          # bytes after the header, CRC and side info (what later frames may borrow)


@dataclass(frozen=True)
class FrameIndex:
    frames: tuple[Frame, ...]
    sample_rate: int
    samples_per_frame: int

    @property
    def frame_seconds(self) -> float:
        return self.samples_per_frame / self.sample_rate

    @property
    def duration_s(self) -> float:
        return len(self.frames) * self.frame_seconds

    def frame_at(self, seconds: float) -> int:
        """The frame boundary nearest to `seconds` (within half a frame)."""
        return max(0, min(len(self.frames), round(seconds / self.frame_seconds)))


def _parse(header: bytes) -> tuple[int, int, int, int] | None:
    """(frame size, sample rate, samples per frame, side info + CRC bytes) of a layer III header."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    br_index, sr_index = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer != 1 or br_index in (0, 15) or sr_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[1 if mpeg1 else 2][br_index] * 1000
    rate = _RATES[version][sr_index]
    padding = (header[2] >> 1) & 1
    size = (144 if mpeg1 else 72) * bitrate // rate + padding
    mono = (header[3] >> 6) == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    crc = 0 if header[1] & 1 else 2
    return size, rate, 1152 if mpeg1 else 576, side + crc


def _id3_size(head: bytes) -> int:
    if head[:3] != b"ID3" or len(head) < 10:
        return 0
    size = 0
    for byte in head[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _is_tag_frame(body: bytes, side: int) -> bool:
    return body[4 + side:8 + side] in (b"Xing", b"Info") or body[36:40] == b"VBRI"


def scan(source: BinaryIO) -> FrameIndex:
    """Index the MPEG layer III frames of `source` (skips ID3v2 and an existing Xing/Info frame)."""
    source.seek(0)
    pos = _id3_size(source.read(10))
    frames: list[Frame] = []
    rate = spf = 0
    while True:
        source.seek(pos)
        head = source.read(40)
        parsed = _parse(head[:4])
        if parsed is None:
            if len(head) < 4 or head[:3] == b"TAG" or (frames and len(head) < 40):
                break
            pos += 1  # resync over junk between frames
            continue
        size, rate_here, spf_here, side = parsed
        if not frames and not rate:
            rate, spf = rate_here, spf_here
            source.seek(pos)
            if _is_tag_frame(source.read(size), side - (0 if head[1] & 1 else 2)):
                pos += size
                continue
        mpeg1 = spf_here == 1152
        crc = 0 if head[1] & 1 else 2
        first = int.from_bytes(head[4 + crc:6 + crc], "big")
        reservoir = first >> 7 if mpeg1 else first >> 8
        frames.append(Frame(pos, size, bytes(head[:4]), reservoir, size - 4 - side))
        rate, spf = rate_here, spf_here
        pos += size
    if not frames:
        raise ValidationError("This file holds no MPEG layer III frames, so it cannot be cut into clips.")
    return FrameIndex(tuple(frames), rate, spf)


def _lender(index: FrameIndex, first: int, source: BinaryIO) -> bytes:
    """A silent frame (no granule reads a bit) whose data area ends with the bytes that the frame
    before `first`, and `first` itself, borrow through the bit reservoir from earlier frames."""
    before, at = index.frames[first - 1], index.frames[first]
    need = max(before.reservoir, at.reservoir - before.data_size, 0)
    tail = b""
    for frame in reversed(index.frames[:first - 1]):
        if len(tail) >= need:
            break
        source.seek(frame.offset + frame.size - frame.data_size)
        tail = source.read(frame.data_size) + tail
    tail = tail[len(tail) - need:] if need else b""
    head, side = _biggest(before.header)
    size = _parse(head)[0]
    return head + bytes(side) + bytes(size - 4 - side - len(tail)) + tail


def _biggest(header: bytes) -> tuple[bytes, int]:
    """The header of the largest frame with this format (no CRC, no padding) and its side info size."""
    head = bytearray(header)
    head[1] |= 1
    head[2] = (14 << 4) | (head[2] & 0x0C)
    size, _, _, side = _parse(bytes(head))
    return bytes(head), side


def _tag_header(header: bytes) -> tuple[bytes, int, int]:
    """(header, frame size, side info size) of the smallest frame of this format that holds the tags."""
    head = bytearray(header)
    head[1] |= 1  # no CRC
    for br_index in range(1, 15):
        head[2] = (br_index << 4) | (head[2] & 0x0C)  # padding bit off, private bit off
        size, _, _, side = _parse(bytes(head))
        if size >= side + 4 + 16 + 36:
            break
    return bytes(head), size, side


def clip_size(index: FrameIndex, first: int, last: int) -> int:
    """The size in bytes of `clip(source, index, first, last)`, without reading the source."""
    frames = index.frames[max(first - 1, 0):last]
    lender = _parse(_biggest(index.frames[first - 1].header)[0])[0] if first else 0
    return _tag_header(frames[0].header)[1] + lender + frames[-1].offset + frames[-1].size - frames[0].offset


def _tag_frame(like: Frame, frames: list[Frame], delay: int, padding: int, extra: tuple[int, int]) -> bytes:
    """A silent frame with the same format as `like`, holding an Info/Xing header and a LAME tag;
    `extra` is (bytes, frames) of the lender frame that precedes `frames`."""
    audio_bytes = sum(f.size for f in frames) + extra[0]
    cbr = not extra[1] and len({f.header[2] >> 4 for f in frames}) == 1
    head, size, side = _tag_header(like.header)
    lame = bytearray(b"LAME3.100")
    lame += bytes([1 if cbr else 4, 0]) + bytes(8) + bytes([0, 0])
    lame += struct.pack(">I", (delay << 12) | padding)[1:]
    lame += bytes(4) + struct.pack(">I", size + audio_bytes) + bytes(4)
    counts = struct.pack(">III", 3, len(frames) + extra[1], size + audio_bytes)
    body = (b"Info" if cbr else b"Xing") + counts + bytes(lame)
    frame = bytes(head) + bytes(side) + body
    return frame + bytes(size - len(frame))


def clip(source: BinaryIO, index: FrameIndex, first: int, last: int) -> Iterator[bytes]:
    """The bytes of a clip holding frames [first, last) of `source`, as chunks: an Info/Xing frame,
    then (unless the clip starts the file) a silent lender frame and the frame before `first`,
    which the LAME tag's encoder delay tells a decoder to drop, then the frames themselves."""
    if not 0 <= first < last <= len(index.frames):
        raise ValidationError(f"A clip must hold at least one frame of the {len(index.frames)} in the file.")
    lead = 2 if first else 0
    frames = list(index.frames[max(first - 1, 0):last])
    lender = _lender(index, first, source) if first else b""
    counted = _parse(lender[:4]) if lender else None
    yield _tag_frame(frames[0], frames, lead * index.samples_per_frame, 0, (counted[0] if counted else 0, lead // 2))
    if lender:
        yield lender
    start, end = frames[0].offset, frames[-1].offset + frames[-1].size
    source.seek(start)
    while start < end:
        chunk = source.read(min(_READ, end - start))
        if not chunk:
            raise ValidationError("The audio file ended while a clip was being cut from it.")
        start += len(chunk)
        yield chunk
