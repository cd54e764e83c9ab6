"""Cut an MP3 at frame boundaries without re-encoding: no second lossy generation.

A clip is frames [first, last) of the render, copied byte for byte, after:
- a fresh Xing/Info frame (a silent frame holding the frame and byte counts and a LAME tag),
  so that its duration reads right in every player and in mutagen;
- the priming frames: the frames before `first` that hold the bytes the first frame borrows
  through the bit reservoir (`main_data_begin`), and always at least one for the MDCT
  overlap. The LAME tag's encoder delay names them, so a gapless decoder drops them and the
  clip's length is exactly its own frames; a decoder that ignores the tag plays them as a few
  milliseconds of the audio before the cut, never a decoding error.

`scan` indexes a file in one chunked pass (numpy finds the candidate headers; the chain of frames
is then walked a run at a time, not frame by frame); the clip's bytes are read from the source
file object as they are written (nothing holds a whole render in memory).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from trainmode.errors import ValidationError

_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits
_READ = 1 << 16
_SCAN = 1 << 20  # bytes searched for frame headers at a time


@dataclass(frozen=True)
class Frame:
    offset: int
    size: int
    header: bytes  # the 4 header bytes
    reservoir: int  # main_data_begin: bytes this frame borrows from earlier frames
    data_size: int  # bytes after the header, CRC and side info (what later frames may borrow)


class _Frames(Sequence):
    """The frames of a FrameIndex as `Frame`s, made when asked for (an index holds only arrays)."""

    def __init__(self, index: FrameIndex):
        self._index = index

    def __len__(self) -> int:
        return len(self._index.offsets)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        x = self._index
        i = range(len(self))[i]
        head = int(x.heads[i]).to_bytes(4, "big")
        side = _parse(head)[3]
        size = int(x.sizes[i])
        return Frame(int(x.offsets[i]), size, head, int(x.reservoirs[i]), size - 4 - side)


class Timing:
    """What a clip needs of a render's frames, whichever way they were found: `count`, the format
    and `frame(i)`. FrameIndex holds every frame (a full scan); trainmode/audio/seek.py's SeekTable
    finds the few a cut needs from checkpoints saved with the item."""

    count: int
    sample_rate: int
    samples_per_frame: int
    one_bitrate: bool  # every frame has the same bitrate (CBR)

    def frame(self, i: int) -> Frame:
        raise NotImplementedError

    @property
    def frame_seconds(self) -> float:
        return self.samples_per_frame / self.sample_rate

    @property
    def duration_s(self) -> float:
        return self.count * self.frame_seconds

    def frame_at(self, seconds: float) -> int:
        """The frame boundary nearest to `seconds` (within half a frame)."""
        return max(0, min(self.count, round(seconds / self.frame_seconds)))


@dataclass(frozen=True)
class FrameIndex(Timing):
    offsets: np.ndarray  # byte offset of each frame
    sizes: np.ndarray
    heads: np.ndarray  # each frame's 4 header bytes as an int
    reservoirs: np.ndarray  # main_data_begin of each frame
    sample_rate: int
    samples_per_frame: int
    one_bitrate: bool  # every frame has the same bitrate (CBR)

    @property
    def frames(self) -> _Frames:
        return _Frames(self)

    @property
    def count(self) -> int:
        return len(self.offsets)

    def frame(self, i: int) -> Frame:
        return self.frames[i]


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
    return body[4 + side : 8 + side] in (b"Xing", b"Info") or body[36:40] == b"VBRI"


def _size_table() -> np.ndarray:
    """Frame size (0: not a layer III header) for every value of header bytes 1 and 2."""
    table = np.zeros(65536, dtype=np.int64)
    for b1 in range(0xE0, 0x100):
        for b2 in range(256):
            parsed = _parse(bytes((0xFF, b1, b2, 0)))
            table[(b1 << 8) | b2] = parsed[0] if parsed else 0
    return table


_SIZES = _size_table()


def _candidates(source: BinaryIO, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every offset from `start` on where a layer III frame could begin (0xFF, 3 sync bits, a valid
    bitrate and rate, the frame inside the file), the frame size its header gives and the 8 bytes
    from there (header and the start of the side info) as one big-endian number. Read a chunk at a
    time: bounded memory, no mapping."""
    buf = bytearray(_SCAN + 8)  # 8 bytes past the chunk: a candidate's header and side info
    data, mask = np.frombuffer(buf, dtype=np.uint8), np.empty(_SCAN, dtype=bool)
    found, pos = [], start
    while True:
        source.seek(pos)
        n = _fill(source, buf)
        limit = min(n - 7, _SCAN)  # closer to the end, no frame fits
        if limit > 0:
            np.equal(data[:limit], 0xFF, out=mask[:limit])
            at = np.flatnonzero(mask[:limit])
            sizes = _SIZES[np.ndarray((limit,), dtype=">u2", buffer=buf, offset=1, strides=(1,))[at]]  # bytes 1-2
            at, sizes = at[sizes > 0], sizes[sizes > 0]
            words = np.ndarray((limit,), dtype=">u8", buffer=buf, strides=(1,))[at].astype(np.uint64)
            found.append((at + pos, sizes, words))
        if n < len(buf):
            break
        pos += _SCAN
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint64)
    syncs, sizes, words = (np.concatenate(a) for a in zip(*found, strict=True))
    keep = syncs + sizes <= pos + n
    return syncs[keep], sizes[keep], words[keep]


def _fill(source: BinaryIO, buf: bytearray) -> int:
    view, n = memoryview(buf), 0
    while n < len(buf) and (got := source.readinto(view[n:])):
        n += got
    return n


def _chain(syncs: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The candidates that are frames: from the first one, each frame's end is the next frame's
    start. Vectorised: candidates form runs (each ends where the next one starts); a run's last
    frame ends at a candidate of a later run (past false syncs, 0xFF bytes inside frame data) or
    nowhere. The runs reached from the first one are found by pointer doubling, not a loop."""
    ends = syncs + sizes
    breaks = np.flatnonzero(np.append(syncs[1:] != ends[:-1], True))  # each run's last candidate
    following = np.searchsorted(syncs, ends[breaks])
    linked = syncs[np.minimum(following, len(syncs) - 1)] == ends[breaks]
    run_of = np.repeat(np.arange(len(breaks)), np.diff(breaks, prepend=-1))  # candidate -> its run
    done = len(breaks)  # past the last frame
    jump = np.append(np.where(linked, run_of[np.minimum(following, len(syncs) - 1)], done), done)
    reached = np.zeros(done + 1, dtype=bool)  # the runs less than 2^i steps from run 0, for growing i
    reached[0] = True
    while not reached[nxt := jump[reached]].all():
        reached[nxt] = True
        jump = jump[jump]
    runs = np.flatnonzero(reached[:done])
    starts = np.append(0, following[runs[:-1]])  # where the chain enters each run
    lengths = breaks[runs] + 1 - starts
    begin = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return begin + np.arange(int(lengths.sum()))


def scan(source: BinaryIO) -> FrameIndex:
    """Index the MPEG layer III frames of `source` (skips ID3v2 and an existing Xing/Info frame)."""
    source.seek(0)
    syncs, sizes, words8 = _candidates(source, _id3_size(source.read(10)))
    if not len(syncs):
        raise ValidationError("This file holds no MPEG layer III frames, so it cannot be cut into clips.")
    chain = _chain(syncs, sizes)
    offsets, lengths, words = syncs[chain], sizes[chain], words8[chain]
    heads = (words >> 32).astype(np.int64)
    side = np.where(heads & 0x10000, words >> 16, words) & 0xFFFF  # after the CRC, if the header has one
    reservoirs = np.where(((heads >> 19) & 3) == 3, side >> 7, side >> 8).astype(np.int64)  # main_data_begin
    head0 = int(heads[0]).to_bytes(4, "big")
    parsed = _parse(head0)
    source.seek(int(offsets[0]))
    skip = 1 if _is_tag_frame(source.read(int(lengths[0])), parsed[3] - (0 if head0[1] & 1 else 2)) else 0
    if skip and len(offsets) == 1:
        raise ValidationError("This file holds no MPEG layer III frames, so it cannot be cut into clips.")
    bitrates = (heads[skip:] >> 12) & 0xF
    return FrameIndex(
        offsets[skip:],
        lengths[skip:],
        heads[skip:],
        reservoirs[skip:],
        parsed[1],
        parsed[2],
        bool((bitrates == bitrates[0]).all()),
    )


def _lender(index: Timing, first: int, source: BinaryIO) -> bytes:
    """A silent frame (no granule reads a bit) whose data area ends with the bytes that the frame
    before `first`, and `first` itself, borrow through the bit reservoir from earlier frames."""
    before, at = index.frame(first - 1), index.frame(first)
    need = max(before.reservoir, at.reservoir - before.data_size, 0)
    tail, back = b"", first - 1
    while len(tail) < need and back > 0:
        back -= 1
        frame = index.frame(back)
        source.seek(frame.offset + frame.size - frame.data_size)
        tail = source.read(frame.data_size) + tail
    tail = tail[len(tail) - need :] if need else b""
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


def _span(index: Timing, first: int, last: int) -> tuple[int, int]:
    """Byte range [start, end) of the frames a clip copies: from the frame before `first`."""
    lead = max(first - 1, 0)
    end = index.frame(last - 1)
    return index.frame(lead).offset, end.offset + end.size


def clip_size(index: Timing, first: int, last: int) -> int:
    """The size in bytes of `clip(source, index, first, last)`, without reading the source."""
    head = index.frame(max(first - 1, 0)).header
    lender = _parse(_biggest(head)[0])[0] if first else 0
    start, end = _span(index, first, last)
    return _tag_header(head)[1] + lender + end - start


def _tag_frame(header: bytes, frames: int, audio_bytes: int, delay: int, cbr: bool) -> bytes:
    """A silent frame with the format of `header`, holding an Info/Xing header (the count of the
    `frames` and `audio_bytes` after it) and a LAME tag with the encoder `delay` in samples."""
    head, size, side = _tag_header(header)
    lame = bytearray(b"LAME3.100")
    lame += bytes([1 if cbr else 4, 0]) + bytes(8) + bytes([0, 0])
    lame += struct.pack(">I", delay << 12)[1:]
    lame += bytes(4) + struct.pack(">I", size + audio_bytes) + bytes(4)
    counts = struct.pack(">III", 3, frames, size + audio_bytes)
    body = (b"Info" if cbr else b"Xing") + counts + bytes(lame)
    frame = bytes(head) + bytes(side) + body
    return frame + bytes(size - len(frame))


def clip_parts(source: BinaryIO, index: Timing, first: int, last: int) -> tuple[bytes, int, int]:
    """A clip holding frames [first, last) of `source` as (head, start, end): the clip is `head`,
    then bytes [start, end) of `source`. `head` is an Info/Xing frame and, unless the clip starts
    the file, a silent lender frame; [start, end) holds the frame before `first` (which, with the
    lender, the LAME tag's encoder delay tells a decoder to drop) and the frames themselves."""
    if not 0 <= first < last <= index.count:
        raise ValidationError(f"A clip must hold at least one frame of the {index.count} in the file.")
    lender = _lender(index, first, source) if first else b""
    start, end = _span(index, first, last)
    header = index.frame(max(first - 1, 0)).header
    lead = 2 if first else 0
    tag = _tag_frame(
        header,
        last - first + lead,
        end - start + len(lender),
        lead * index.samples_per_frame,
        index.one_bitrate and not lender,
    )
    return tag + lender, start, end


def clip(source: BinaryIO, index: Timing, first: int, last: int) -> Iterator[bytes]:
    """The bytes of a clip holding frames [first, last) of `source`, as chunks (see clip_parts)."""
    head, start, end = clip_parts(source, index, first, last)
    yield head
    source.seek(start)
    while start < end:
        chunk = source.read(min(_READ, end - start))
        if not chunk:
            raise ValidationError("The audio file ended while a clip was being cut from it.")
        start += len(chunk)
        yield chunk
