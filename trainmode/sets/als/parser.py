"""Streaming parse of a Live set's XML: collectors gather raw facts, build_summary shapes them.

lxml's pull parser builds the tree but reports only the elements the collectors watch; after
every chunk all finished elements are pruned, so memory stays flat however big the file.
Handlers therefore read facts as soon as their element ends, never later; a collector may
hook into pruning to fold a batch of leaf elements (MIDI notes, master automation points)
before they are freed. Structure is detected by which elements exist, never by version number:
  MasterTrack (Live <= 11) / MainTrack (12); Live 8 keeps the master mixer in MasterChain
  and parameters without a Manual value (the first automation event is the value);
  Name/EffectiveName (9+) / Name/UserName (8); FileRef Name (<= 10) / Path (11+);
  clips under TakeLanes (12) are recordings, not arrangement clips.
"""

from __future__ import annotations

import pyexpat
import re
from contextlib import closing
from itertools import chain

from lxml import etree

from trainmode.sets.als.build import build_summary
from trainmode.sets.als.collect_clips import LiveClipCollector
from trainmode.sets.als.collect_locators import LocatorCollector
from trainmode.sets.als.collect_tempo import TempoCollector
from trainmode.sets.als.collect_tracks import TrackCollector
from trainmode.sets.als.raw import ParseContext
from trainmode.sets.als.reader import SetStream
from trainmode.sets.als.skip import fold_notes, skip_parameter_lists

COLLECTORS = (TrackCollector, TempoCollector, LiveClipCollector, LocatorCollector)
PROLOG_LIMIT = 1024 * 1024  # bytes allowed before the root element
SUBTREE_LIMIT = 200_000  # nodes one unpruned element may hold (a real one holds dozens)
_COUNT_NODES = etree.XPath("count(descendant::*)")


class _Root(Exception):
    """Raised from expat once the root element is seen: the prolog is clean."""


class _Dispatch:
    """Routes the parser's events to the collectors and prunes what they are done with."""

    def __init__(self, stream: SetStream):
        self.ctx = ParseContext(stream)
        self.start: dict = {}
        self.end: dict = {}
        self.hooks: dict = {}
        subtree: set[str] = set()
        for collector in (cls(self.ctx) for cls in COLLECTORS):
            for mine, theirs in (
                (self.start, collector.start),
                (self.end, collector.end),
                (self.hooks, collector.hooks),
            ):
                clash = mine.keys() & theirs.keys()
                assert not clash, f"two collectors handle {clash}"
                mine.update(theirs)
            subtree |= collector.subtree
        self.subtree = frozenset(subtree)
        self.watched = tuple(self.start.keys() | self.end.keys())

    def handle(self, events) -> None:
        start, end = self.start, self.end
        for event, el in events:
            handler = (start if event == "start" else end).get(el.tag)
            if handler is not None:
                handler(el)

    def prune(self) -> None:
        """Free everything already handled. Open elements are always the last child of
        their parent, so keeping only the last child at each level keeps the open path."""
        subtree, hooks = self.subtree, self.hooks
        el = self.ctx.root
        while el is not None:
            tag = el.tag
            if tag in subtree:
                self._check_size(el)
                return
            hook = hooks.get(tag)
            if hook is not None and hook(el):
                self._check_size(el)
                return
            count = len(el)
            if count > 1:
                del el[:-1]
            el = el[-1] if count else None

    def _check_size(self, el) -> None:
        if _COUNT_NODES(el) > SUBTREE_LIMIT:  # counted in C: no Python object per node
            raise self.ctx.fail(f"is damaged: one of its <{el.tag}> elements is unreasonably large.")


def parse_stream(stream: SetStream) -> dict:
    with closing(stream.chunks()) as chunks:  # closes the file even when parsing fails
        return _parse_chunks(stream, chunks)


def _parse_chunks(stream: SetStream, chunks) -> dict:
    dispatch = _Dispatch(stream)
    head, root_at, root_name, root_attrs = _check_prolog(stream, chunks)
    if root_name != "Ableton":
        raise stream.fail(f"is not an Ableton Live set: its XML starts with <{root_name}>, not <Ableton>.")
    dispatch.ctx.raw.creator = root_attrs.get("Creator") or ""
    parser = etree.XMLPullParser(
        events=("start", "end"),
        tag=dispatch.watched,
        # No DTD gets this far (see _check_prolog), so no entity can be declared. Entities
        # are left at lxml's default on purpose: with resolve_entities=False the push parser
        # stops silently at an undefined "&x;" and the file looks truncated, not broken.
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_blank_text=True,
        collect_ids=False,  # fewer nodes to build: ~10% faster
    )
    try:
        xml = fold_notes(skip_parameter_lists(chain(head, chunks), root_at), dispatch.ctx.notes_tag, root_at)
        for chunk in xml:
            parser.feed(chunk)
            dispatch.handle(parser.read_events())
            dispatch.prune()
    except etree.XMLSyntaxError as exc:
        raise stream.fail(f"is damaged: {_xml_reason(exc)}.") from None
    try:
        parser.close()
    except etree.XMLSyntaxError:  # all input was fine, it just stopped: a cut-off file
        raise stream.fail("is damaged: the XML ends early (was the file cut off?).") from None
    dispatch.handle(parser.read_events())
    return build_summary(dispatch.ctx.raw, stream.fail)


def _check_prolog(stream: SetStream, chunks) -> tuple[list[bytes], int, str, dict]:
    """Read up to the root element with expat, refusing any DTD: Live never writes one,
    and DTDs are how entity bombs and external-entity reads get in. Returns the chunks read,
    the root element's byte offset, its name and its attributes."""
    expat = pyexpat.ParserCreate()

    def refuse(*_):
        raise stream.fail("was refused: it declares a DTD or entities, which Live sets never contain.")

    def root(name, attrs):
        raise _Root(expat.CurrentByteIndex, name, attrs)

    def declaration(version, encoding, standalone):
        # Live writes UTF-8. Other encodings could be read differently by expat and libxml2.
        if encoding and encoding.lower().replace("-", "") not in ("utf8", "usascii", "ascii"):
            raise stream.fail(f"was refused: it is encoded as {encoding[:20]}, but Live sets are UTF-8.")

    expat.XmlDeclHandler = declaration
    expat.StartDoctypeDeclHandler = refuse
    expat.EntityDeclHandler = refuse
    expat.StartElementHandler = root
    head, size = [], 0
    for chunk in chunks:
        head.append(chunk)
        size += len(chunk)
        try:
            expat.Parse(chunk, False)
        except _Root as found:
            return head, *found.args
        except pyexpat.ExpatError as exc:
            raise stream.fail(
                f"is not an Ableton Live set: it is not valid XML ({pyexpat.ErrorString(exc.code)})."
            ) from None
        if size > PROLOG_LIMIT:
            break
    raise stream.fail("is not an Ableton Live set: it contains no XML document.")


def _xml_reason(exc: etree.XMLSyntaxError) -> str:
    """libxml2's message, minus its position noise, in words a user can act on."""
    msg = re.sub(r"(, line \d+)?, column \d+$", "", (exc.msg or "").strip())
    if msg.startswith("Excessive depth"):
        return "its elements are nested unreasonably deep"
    line = exc.position[0] if exc.position else 0
    return f"its XML is broken ({msg} at line {line})" if line else f"its XML is broken ({msg or 'unreadable'})"
