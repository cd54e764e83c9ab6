"""Byte-level work on the XML stream before libxml2 sees it: what no collector reads is cut,
and MIDI note lists are counted, so libxml2 never builds those nodes.

- A plug-in's <ParameterList> holds every one of its parameters (PluginFloatParameter,
  PluginEnumParameter; MxD*Parameter in Max devices, in nested lists): up to a third of a set's
  XML, never read. Its contents are cut: libxml2 sees <ParameterList></ParameterList>.
- A KeyTrack's <Notes> is one MidiNoteEvent per note: a quarter of a note-dense set. When every
  note in it is plainly written (self-closing, enabled, a finite Duration in double quotes), the
  notes become one <N… C="count" W="weight"/>, its tag a per-parse nonce that a file cannot
  forge; LiveClipCollector reads it instead of the notes. Anything else is left whole, so the
  collector reads (and rejects) it as before. Lists shorter than MIN_NOTES_BYTES are left to
  libxml2 too. The search is for a note, not for <Notes>: a long needle is found faster.

Both are exact only while every "<" starts a real tag, so the rewriting stops for good at the
first comment, CDATA section or processing instruction (which may hide look-alike tags; Live
writes none). A region is rewritten only when it is whole in memory (at most MAX_REGION bytes)
and the tag is spelled exactly so. What is cut is never checked for being well-formed; the size
and tag caps (reader.py) count the bytes before rewriting. Live's text payloads (hex preset
buffers) are left alone: libxml2 reads text about as fast as bytes.find does, so skipping them
measured no faster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from trainmode.sets.als.raw import MAX_MAGNITUDE

MAX_REGION = 1024 * 1024  # the largest list in the corpus is 214 KB
# Regions looked at per read: real sets hold up to ~90 per 256 KiB (note lists); a file of
# nothing but tiny lists would otherwise cost a Python loop turn per 30 bytes.
MAX_REGIONS = 256

# region(data, start) -> (end, replacement for data[start:end] or None to keep it);
# end None: the region's end is not in `data`.
Region = Callable[[bytes, int], tuple[int | None, bytes | None]]


def skip_parameter_lists(chunks: Iterable[bytes], start: int = 0) -> Iterator[bytes]:
    """The same XML with the contents of every safely cuttable <ParameterList> removed.
    `start` is where the root element begins: the prolog before it is passed on as it is."""
    return _rewrite(chunks, start, _LIST_OPEN, _parameter_list)


def fold_notes(chunks: Iterable[bytes], tag: str, start: int = 0) -> Iterator[bytes]:
    """The same XML with the MidiNoteEvents of every plainly written note list replaced by one
    <{tag} C="count" W="weight"/>: the number of notes and the sum of their positive lengths."""
    return _rewrite(chunks, start, _FIRST_NOTE, lambda data, at: _notes(data, at, tag.encode()))


def _rewrite(chunks: Iterable[bytes], start: int, opening: bytes, region: Region) -> Iterator[bytes]:
    pending = b""  # a region whose end has not arrived yet, or a possibly split tag
    chunks = iter(chunks)
    for chunk in chunks:
        if start:
            yield chunk[:start]
            chunk, start = chunk[start:], max(0, start - len(chunk))
        data = pending + chunk if pending else chunk
        if _has_markup(data):
            yield data
            yield from chunks
            return
        out, pending = _cut(data, opening, region, final=False)
        if out:
            yield out
    yield pending if _has_markup(pending) else _cut(pending, opening, region, final=True)[0]


def _has_markup(data: bytes) -> bool:
    """A comment, CDATA section, DOCTYPE or processing instruction starts in `data`."""
    return _follows_lt(data, b"!") or _follows_lt(data, b"?")


def _follows_lt(data: bytes, mark: bytes) -> bool:
    """`mark` comes right after a "<" somewhere in `data`. Searching for the rare byte
    (memchr) and looking back is ~20x quicker than searching for the pair: "<" is everywhere."""
    at = data.find(mark)
    for _ in range(16):  # "?" is common in some attribute values ("...GroupDevice?n=...")
        if at < 0:
            return False
        if at and data[at - 1] == 0x3C:  # "<"
            return True
        at = data.find(mark, at + 1)
    return b"<" + mark in data


def _cut(data: bytes, opening: bytes, region: Region, final: bool) -> tuple[bytes, bytes]:
    """(what can be passed on now, what must wait for more bytes). Linear in len(data);
    after MAX_REGIONS regions the rest goes as it is."""
    pieces, pos = [], 0
    for _ in range(MAX_REGIONS):
        start = data.find(opening, pos)
        if start < 0:
            break
        end, replacement = region(data, start)
        if end is None:  # its end is not here
            if not final and len(data) - start <= MAX_REGION:
                pieces.append(data[pos:start])  # wait for the rest
                return b"".join(pieces), data[start:]
            break  # cut off, or too long to hold: the rest goes as it is
        pieces.append(data[pos:end] if replacement is None else data[pos:start] + replacement)
        pos = end
    keep = 0 if final else _partial_tag(data, opening)
    pieces.append(data[pos : len(data) - keep])
    return b"".join(pieces), data[len(data) - keep :]


def _partial_tag(data: bytes, opening: bytes) -> int:
    """How many bytes at the end of `data` could be the start of a split opening tag
    (or a "<" whose "!" or "?" is in the next chunk)."""
    lt = data.rfind(b"<", max(0, len(data) - len(opening) + 1))
    return len(data) - lt if lt >= 0 and opening.startswith(data[lt:]) else 0


# -- parameter lists ---------------------------------------------------------------
_LIST_OPEN, _LIST_CLOSE = b"<ParameterList>", b"</ParameterList>"
_LIST_ANY_OPEN, _LIST_ANY_CLOSE = _LIST_OPEN[:-1], _LIST_CLOSE[:-1]  # the tag in any spelling


def _parameter_list(data: bytes, start: int) -> tuple[int | None, bytes | None]:
    """Up to the </ParameterList> that closes this list (nested lists balance): cut its
    contents, unless the tag is spelled another way inside, when where it ends is not certain."""
    depth, pos = 1, start + len(_LIST_OPEN)
    while depth:
        close = data.find(_LIST_ANY_CLOSE, pos)
        if close < 0 or close + len(_LIST_CLOSE) > len(data):
            return None, None
        opened = data.count(_LIST_ANY_OPEN, pos, close)
        if (
            data[close : close + len(_LIST_CLOSE)] != _LIST_CLOSE
            or opened
            and opened != data.count(_LIST_OPEN, pos, close)
        ):
            return close, None
        depth += opened - 1
        pos = close + len(_LIST_CLOSE)
    return pos - len(_LIST_CLOSE), _LIST_OPEN


# -- MIDI notes --------------------------------------------------------------------
_NOTE, _NOTES_CLOSE = b"<MidiNoteEvent ", b"</Notes>"
_FIRST_NOTE = _NOTE + b'Time="'  # how Live starts every note; the longer needle is found faster
_DURATION = re.compile(rb' Duration="([^"]*)"')
# Counting a list costs ~7 us, parsing a note ~0.8 us: lists shorter than ~15 notes are
# quicker left to libxml2.
MIN_NOTES_BYTES = 2048


def _notes(data: bytes, start: int, tag: bytes) -> tuple[int | None, bytes | None]:
    """From a note to the end of its list: one <tag C="count" W="weight"/> if every note
    there is plainly written, else left whole (and the rest of the list with it)."""
    close = data.find(_NOTES_CLOSE, start)
    if close < 0:
        return None, None
    if close - start < MIN_NOTES_BYTES:
        return close, None
    facts = _note_facts(data[start:close])
    return close, None if facts is None else b"<%s %s/>" % (tag, facts)


def _note_facts(notes: bytes) -> bytes | None:
    """b'C="count" W="weight"' for plainly written enabled notes; None for anything else."""
    count = notes.count(_NOTE)
    if (
        notes.count(b"<") != count
        or notes.count(b"/>") != count
        or b"'" in notes
        or notes.count(b"IsEnabled") != notes.count(b'IsEnabled="true"')
    ):
        return None
    raw = _DURATION.findall(notes)
    if len(raw) != count:
        return None
    try:
        lengths = list(map(float, raw))
    except ValueError:
        return None
    if not all(-MAX_MAGNITUDE <= d <= MAX_MAGNITUDE for d in lengths):  # also refuses nan
        return None
    return b'C="%d" W="%r"' % (count, sum(d for d in lengths if d > 0))
