"""Byte-level skipping of plug-in and Max parameter lists, before libxml2 sees them.

A plug-in's <ParameterList> holds every one of its parameters (PluginFloatParameter,
PluginEnumParameter; MxD*Parameter in Max devices, in nested lists): up to a third of a set's
XML, and nothing the collectors read. Building and freeing those nodes costs more than
everything else done for such a set, so the list's contents are cut out of the byte stream
with bytes.find (C speed) and libxml2 sees an empty <ParameterList></ParameterList>.

Cutting is exact only while every "<" starts a real tag, so it stops for good at the first
comment, CDATA section or processing instruction (which may hide look-alike tags; Live writes
none). A list is cut only when it is whole in memory (at most MAX_REGION bytes) and its nested
lists balance with the tag spelled exactly so (no attributes, not self-closing): anything else
passes through unchanged for libxml2 to parse. What is cut is never checked for being
well-formed. Live's text payloads (hex preset buffers) are left alone: libxml2 reads text
about as fast as bytes.find does, so skipping them measured no faster.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

OPEN = b"<ParameterList>"
CLOSE = b"</ParameterList>"
_ANY_OPEN, _ANY_CLOSE = OPEN[:-1], CLOSE[:-1]  # the tag in any spelling
MAX_REGION = 1024 * 1024  # the largest list in the corpus is 214 KB
# Lists looked at per read: real sets hold a few per MB; a file of nothing but tiny lists
# would otherwise cost a Python loop turn per 30 bytes.
MAX_LISTS = 64


def skip_parameter_lists(chunks: Iterable[bytes], start: int = 0) -> Iterator[bytes]:
    """The same XML with the contents of every safely cuttable <ParameterList> removed.
    `start` is where the root element begins: the prolog before it is passed on as it is."""
    pending = b""  # a list whose end has not arrived yet, or a possibly split tag
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
        out, pending = _cut(data, final=False)
        if out:
            yield out
    yield pending if _has_markup(pending) else _cut(pending, final=True)[0]


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


def _cut(data: bytes, final: bool) -> tuple[bytes, bytes]:
    """(what can be passed on now, what must wait for more bytes). Linear in len(data):
    nothing is searched twice within one call; after MAX_LISTS lists the rest goes as it is."""
    pieces, pos = [], 0
    for _ in range(MAX_LISTS):
        start = data.find(OPEN, pos)
        if start < 0:
            break
        body = start + len(OPEN)
        end, cuttable = _list_end(data, body)
        if end is None:  # its end is not here
            if not final and len(data) - start <= MAX_REGION:
                pieces.append(data[pos:start])  # wait for the rest
                return b"".join(pieces), data[start:]
            break  # cut off, or too long to hold: the rest goes as it is
        pieces.append(data[pos:body] if cuttable else data[pos:end])
        pos = end  # at a </ParameterList>
    keep = 0 if final else _partial_tag(data)
    pieces.append(data[pos:len(data) - keep])
    return b"".join(pieces), data[len(data) - keep:]


def _list_end(data: bytes, body: int) -> tuple[int | None, bool]:
    """(where the </ParameterList> ending the list whose contents start at `body` begins,
    whether those contents may be cut). (None, False) if that end is not in `data`."""
    depth, pos = 1, body
    while depth:
        close = data.find(_ANY_CLOSE, pos)
        if close < 0 or close + len(CLOSE) > len(data):
            return None, False
        opened = data.count(_ANY_OPEN, pos, close)
        if data[close:close + len(CLOSE)] != CLOSE or opened and opened != data.count(OPEN, pos, close):
            return close, False  # the tag spelled another way: where the list ends is not certain
        depth += opened - 1
        pos = close + len(CLOSE)
    return pos - len(CLOSE), True


def _partial_tag(data: bytes) -> int:
    """How many bytes at the end of `data` could be the start of a split <ParameterList>
    (or a "<" whose "!" or "?" is in the next chunk)."""
    lt = data.rfind(b"<", max(0, len(data) - len(OPEN) + 1))
    return len(data) - lt if lt >= 0 and OPEN.startswith(data[lt:]) else 0
