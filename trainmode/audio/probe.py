"""Check that an upload really is an MP3, and measure it.

mutagen parses the Xing/Info + LAME tag well (exact gapless length), but with no
such tag it guesses the length from the file size and the first frame's bitrate
(wrong for VBR), and on a truncated file it trusts the tag. So we always walk the
MPEG frame headers ourselves (seeking frame to frame, 4 bytes per frame) and only
believe the tag when the frames on disk agree with it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, NamedTuple

# Private module, but it is the parser MP3() itself uses; mutagen is pinned.
from mutagen.mp3._util import XingHeader, XingHeaderError

from trainmode.errors import AudioError

Source = str | os.PathLike | bytes | bytearray | BinaryIO

CHUNK = 1 << 16
MIN_CHAIN = 4  # consecutive consistent headers needed to believe a sync (random bytes rarely chain)
DECODER_DELAY = 529  # samples every MP3 decoder adds; LAME's tag delay excludes it

# kbps by [MPEG-1?][layer]; index 0 (free format) and 15 are unsupported.
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
_VERSIONS = {0b11: "1", 0b10: "2", 0b00: "2.5"}
_RATES = {"1": (44100, 48000, 32000), "2": (22050, 24000, 16000), "2.5": (11025, 12000, 8000)}
_LAYER_NAMES = {1: "Layer I (MP1)", 2: "Layer II (MP2)"}


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float
    sample_rate: int
    channels: int
    bitrate_mode: str  # "cbr" | "vbr", from the frames actually present
    bitrate_kbps: int  # average over the audio frames
    frames: int  # whole audio frames (the Xing/Info frame is not audio)
    bytes: int
    sha256: str
    duration_source: str  # "lame" (tag + gapless trim) | "xing" (tag frame count) | "frames" (walked)
    mpeg_version: str  # "1" | "2" | "2.5"
    layer: int
    truncated: bool = False  # frames end before the tag says, or the last frame is cut


class _Frame(NamedTuple):
    version: str
    layer: int
    kbps: int
    sample_rate: int
    channels: int
    length: int  # bytes, including the 4-byte header
    samples: int

    def same_stream(self, other: _Frame) -> bool:
        return self[:2] == other[:2] and self[3:5] == other[3:5]


@lru_cache(maxsize=1024)
def _header(b: bytes) -> _Frame | None:
    """Decode a 4-byte MPEG audio frame header, or None if it is not one."""
    if len(b) < 4 or b[0] != 0xFF or b[1] & 0xE0 != 0xE0:
        return None
    version = _VERSIONS.get((b[1] >> 3) & 3)
    layer = 4 - ((b[1] >> 1) & 3)
    br_index, sr_index = b[2] >> 4, (b[2] >> 2) & 3
    if version is None or layer == 4 or br_index in (0, 15) or sr_index == 3:
        return None
    mpeg1 = version == "1"
    kbps = _BITRATES[(mpeg1, layer)][br_index]
    rate = _RATES[version][sr_index]
    pad = (b[2] >> 1) & 1
    if layer == 1:
        length, samples = (12000 * kbps // rate + pad) * 4, 384
    elif layer == 2 or mpeg1:
        length, samples = 144000 * kbps // rate + pad, 1152
    else:  # MPEG-2/2.5 Layer III: half the samples per frame
        length, samples = 72000 * kbps // rate + pad, 576
    return _Frame(version, layer, kbps, rate, 1 if b[3] >> 6 == 3 else 2, length, samples)


def _read_at(f: BinaryIO, pos: int, n: int) -> bytes:
    f.seek(pos)
    return f.read(n)


def _chain(f: BinaryIO, pos: int, size: int, like: _Frame | None = None) -> _Frame | None:
    """The frame at pos if consistent headers follow one another from there:
    MIN_CHAIN of them, or at least two running to the end of the file (a short tail)."""
    first, links = None, 0
    while links < MIN_CHAIN:
        if pos >= size:
            return first if links >= 2 else None
        frame = _header(_read_at(f, pos, 4))
        if frame is None or not frame.same_stream(first or like or frame):
            return None
        first, links, pos = first or frame, links + 1, pos + frame.length
    return first


def _find_chain(f: BinaryIO, start: int, size: int, like: _Frame | None = None) -> tuple[int, _Frame] | None:
    """Scan forward from start for the first believable frame."""
    for chunk_pos in range(start, size - 3, CHUNK):
        buf = _read_at(f, chunk_pos, CHUNK + 3)
        i = buf.find(b"\xff")
        while 0 <= i < len(buf) - 3 and i < CHUNK:
            if _header(buf[i : i + 4]) and (frame := _chain(f, chunk_pos + i, size, like)):
                return chunk_pos + i, frame
            i = buf.find(b"\xff", i + 1)
    return None


def _id3v2_end(f: BinaryIO) -> int | None:
    """End of the ID3v2 tag(s) at the start, or None if absent or the size is impossible."""
    pos = 0
    while (head := _read_at(f, pos, 10))[:3] == b"ID3":
        if len(head) < 10 or any(x & 0x80 for x in head[6:10]):
            return None  # not syncsafe: bogus
        size = sum(b << (7 * (3 - k)) for k, b in enumerate(head[6:10]))  # 4 x 7 bits
        pos += 10 + size + (10 if head[5] & 0x10 else 0)  # footer flag
    return pos


def _first_frame(f: BinaryIO, size: int) -> tuple[int, _Frame] | None:
    tag_end = _id3v2_end(f)
    if tag_end is not None and tag_end < size and (frame := _chain(f, tag_end, size)):
        return tag_end, frame
    # Padding after the tag, junk, or a bogus tag size: resync by scanning.
    return _find_chain(f, 0, size)


def _xing(f: BinaryIO, pos: int, frame: _Frame) -> XingHeader | None:
    """The Xing/Info (+LAME) tag stored in place of audio in the first frame, if any."""
    if frame.layer != 3:
        return None
    offset = (36 if frame.channels == 2 else 21) if frame.version == "1" else (21 if frame.channels == 2 else 13)
    data = _read_at(f, pos, frame.length)
    try:
        return XingHeader(io.BytesIO(data[offset:]))
    except XingHeaderError:
        return None


_MAGIC = [  # (offset, bytes, what it is)
    (0, b"RIFF", "a WAV (RIFF) file"),
    (0, b"fLaC", "FLAC audio"),
    (4, b"ftyp", "an MP4/M4A (ftyp) file"),
    (0, b"FORM", "an AIFF file"),
    (0, b"\x1aE\xdf\xa3", "a Matroska/WebM file"),
    (0, b"0&\xb2u\x8ef\xcf\x11", "a WMA/ASF file"),
    (0, b"PK\x03\x04", "a ZIP archive"),
    (0, b"\x1f\x8b", "a gzip-compressed file (an Ableton .als set?)"),
    (0, b"%PDF", "a PDF document"),
    (0, b"\x89PNG", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
]


def _sniff(head: bytes) -> str | None:
    """Name a non-MP3 format from its first bytes."""
    if head[:4] == b"OggS":
        ogg = [(b"\x01vorbis", "Ogg Vorbis audio"), (b"OpusHead", "Ogg Opus audio"), (b"FLAC", "Ogg FLAC audio")]
        for marker, what in ogg:
            if marker in head[:256]:
                return what
        return "an Ogg file"
    if head[:4] == b"RIFF" and head[8:12] != b"WAVE":
        return "a RIFF file"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "AAC (ADTS) audio"
    return next((what for at, magic, what in _MAGIC if head[at : at + len(magic)] == magic), None)


def _is_text(head: bytes) -> bool:
    """Mostly printable UTF-8 (ASCII included)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:  # not just a character cut by the read
            return False
        text = head[: e.start].decode("utf-8")
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return bool(text) and printable >= 0.95 * len(text)


@contextmanager
def _opened(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield f
    elif not getattr(source, "seekable", lambda: False)():
        yield io.BytesIO(source.read())
    else:  # e.g. a Streamlit UploadedFile: read from the start, leave it rewound for the caller
        source.seek(0)
        try:
            yield source
        finally:
            source.seek(0)


def probe_mp3(source: Source, *, name: str | None = None) -> AudioInfo:
    """Validate and measure an MP3; raise AudioError naming what the file really is."""
    if name is None:
        name = os.path.basename(source) if isinstance(source, (str, os.PathLike)) else "The file"
    with _opened(source) as f:
        digest, size = hashlib.sha256(), 0
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return _measure(f, size, name, digest.hexdigest())


def _walk(f: BinaryIO, pos: int, size: int, first: _Frame) -> tuple[int, int, set[int], bool]:
    """Walk the audio frames from pos: (frames, sum of their kbps, the kbps seen, last frame cut)."""
    frames, kbps_sum, kbps_seen, partial = 0, 0, set(), False
    while pos + 4 <= size:
        frame = _header(_read_at(f, pos, 4))
        if frame is None or not frame.same_stream(first):
            # Damage or trailing tags (ID3v1, APE, Lyrics3): look for more frames.
            found = _find_chain(f, pos + 1, size, like=first)
            if found is None:
                break
            pos = found[0]
            continue
        if pos + frame.length > size:
            partial = True
            break
        frames += 1
        kbps_sum += frame.kbps
        kbps_seen.add(frame.kbps)
        pos += frame.length
    return frames, kbps_sum, kbps_seen, partial


def _measure(f: BinaryIO, size: int, name: str, sha256: str) -> AudioInfo:
    if size == 0:
        raise AudioError(f"{name} is empty (0 bytes).")
    head = _read_at(f, 0, 4096)
    if what := _sniff(head):
        raise AudioError(f"{name} is {what}, not an MP3.")
    found = _first_frame(f, size)
    if found is None:
        if _is_text(head):
            raise AudioError(f"{name} is a text file, not an MP3.")
        raise AudioError(f"{name} is not an MP3: no MPEG audio frames were found in it.")
    pos, first = found
    if first.layer != 3:
        raise AudioError(f"{name} is MPEG-{first.version} {_LAYER_NAMES[first.layer]} audio, not MP3 (Layer III).")

    xing = _xing(f, pos, first)
    if xing is not None or _read_at(f, pos + 36, 4) == b"VBRI":
        pos += first.length  # a tag frame, not audio

    frames, kbps_sum, kbps_seen, partial = _walk(f, pos, size, first)
    if frames == 0:
        raise AudioError(f"{name} has no complete MP3 audio frame (no audio).")

    # With no LAME tag the encoder delay is unknown: report the frames' full length
    # (LAME files read ~0.05 s long this way, well inside any useful tolerance).
    samples, source = frames * first.samples, "frames"
    lame = xing.lame_header if xing is not None else None
    tag_frames = xing.frames if xing is not None else -1
    if tag_frames == frames:
        source = "xing"
        if lame is not None:
            samples -= lame.encoder_delay_start + lame.encoder_padding_end
            source = "lame"
    elif lame is not None:
        # Cut (or extended) after encoding: the end padding is gone, the start delay is still there.
        samples -= lame.encoder_delay_start + DECODER_DELAY
    return AudioInfo(
        duration_s=max(samples, 0) / first.sample_rate,
        sample_rate=first.sample_rate,
        channels=first.channels,
        bitrate_mode="vbr" if len(kbps_seen) > 1 else "cbr",
        bitrate_kbps=round(kbps_sum / frames),
        frames=frames,
        bytes=size,
        sha256=sha256,
        duration_source=source,
        mpeg_version=first.version,
        layer=first.layer,
        truncated=partial or 0 < frames < tag_frames,
    )


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def duration_mismatch(audio_s: float, set_seconds: float | None) -> str | None:
    """A warning when the MP3 is far longer or shorter than the set's arrangement.

    Renders legitimately run a little long (reverb/delay tails) and sometimes a
    little short (silent intro/outro trimmed), so only flag a gap that is both
    large in proportion (under 75 % or over 150 % of the arrangement) and more
    than 10 s: a cut-off render, a loop-brace export, or the wrong set.
    """
    if not set_seconds or set_seconds <= 0:
        return None
    gap = audio_s - set_seconds
    if abs(gap) <= 10 or 0.75 * set_seconds <= audio_s <= 1.5 * set_seconds:
        return None
    lengths = f"The MP3 is {_clock(audio_s)} long but the set's arrangement is {_clock(set_seconds)}"
    if gap < 0:
        return f"{lengths}: was the render cut short, or only a loop exported?"
    return f"{lengths}: is this the right set, or was it exported with loops or a long tail?"
