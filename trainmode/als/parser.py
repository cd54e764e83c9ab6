"""Streaming parse of a Live set's XML into summary v1.

lxml's pull parser builds the tree but reports only the elements named in WATCHED; after
every chunk all finished elements are pruned, so memory stays flat however big the file.
Handlers therefore read facts as soon as their element ends, never later. Structure is
detected by which elements exist, never by version number:
  MasterTrack (Live <= 11) / MainTrack (12); Live 8 keeps the master mixer in MasterChain
  and parameters without a Manual value (the first automation event is the value);
  Name/EffectiveName (9+) / Name/UserName (8); FileRef Name (<= 10) / Path (11+);
  clips under TakeLanes (12) are recordings, not arrangement clips.
"""
from __future__ import annotations

import math
import pyexpat
import re
from array import array
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import PurePosixPath, PureWindowsPath

from lxml import etree

from ..errors import AlsError
from .devices import DRUM_TAGS, PLUGIN_TAGS, device_name
from .key import NO_KEY, detect_key, scale_key
from .reader import SetStream
from .timing import beats_per_bar, beats_to_seconds, decode_time_signature

SCHEMA_VERSION = 1
TRACK_TYPES = {"AudioTrack": "audio", "MidiTrack": "midi", "GroupTrack": "group", "ReturnTrack": "return"}
MASTER_TAGS = frozenset({"MasterTrack", "MainTrack"})
# Small elements whose end handler reads their own subtree: never pruned while open.
READS_SUBTREE = frozenset({
    "Name", "TrackGroupId", "Speaker", "Tempo", "TimeSignature", "PointeeId",
    "PluginDesc", "SampleRef", "Locator", "ScaleInformation", "CurrentEnd", "MidiKey",
})
WATCHED = (
    "Ableton", *TRACK_TYPES, *MASTER_TAGS, "PreHearTrack", "Devices", "MidiClip", "AudioClip",
    "KeyTrack", "MidiNoteEvent", "AutomationEnvelope", "FloatEvent", *READS_SUBTREE,
)
PROLOG_LIMIT = 1024 * 1024  # bytes allowed before the root element
SUBTREE_LIMIT = 200_000  # nodes one unpruned element may hold (a real one holds dozens)
MAX_ITEMS = 20_000  # tracks, locators, samples, devices per track
MAX_POINTS = 250_000  # master automation points (a pathological real set has 25,000)
MAX_MAGNITUDE = 1e12  # any time or value beyond this is corrupt (Live's "-inf" time is -6.3e7)
MAX_BPM = 999.0  # Live's tempo range is 20-999 BPM
MAX_METER = 99 * 5  # denominators 1..16
_CREATOR = re.compile(r"Ableton Live\s+(\S+)")


@dataclass
class _Track:
    type: str
    id: str | None
    name: str = ""
    muted: bool = False
    group_id: str | None = None
    devices: list[str] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    drums: bool = False  # plays a drum instrument: its notes are not pitches
    clip_count: int = 0
    note_count: int = 0
    arrangement_notes: int = 0
    pitch_min: int | None = None
    pitch_max: int | None = None
    pitch_classes: list[float] = field(default_factory=lambda: [0.0] * 12)


@dataclass
class _DeviceList:
    """An open <Devices> list. Its finished children are recorded and pruned as parsing
    goes, so `offset` counts the ones already gone."""
    el: object
    offset: int = 0
    found: list[tuple[str, str, bool]] = field(default_factory=list)  # (tag, name, is plug-in)
    plugin_names: dict[int, str] = field(default_factory=dict)  # child index -> plug-in name
    nested: dict[int, list] = field(default_factory=dict)  # child index -> devices in its chains

    def index_of(self, el) -> int | None:
        """Position in this list of the device that contains `el` (None if outside)."""
        while el is not None:
            parent = el.getparent()
            if parent is self.el:
                return self.offset + self.el.index(el)
            el = parent
        return None

    def record(self, index: int, tag) -> None:
        if isinstance(tag, str) and len(self.found) < MAX_ITEMS:
            if tag in PLUGIN_TAGS:
                name = self.plugin_names.pop(index, None)
                if name:
                    self.found.append((tag, name, True))
            else:
                self.found.append((tag, device_name(tag), False))
        self.found.extend(self.nested.pop(index, ())[: max(0, MAX_ITEMS - len(self.found))])


class _Root(Exception):
    """Raised from expat once the root element is seen: the prolog is clean."""


def parse_stream(stream: SetStream) -> dict:
    with closing(stream.chunks()) as chunks:  # closes the file even when parsing fails
        return _parse_chunks(stream, chunks)


def _parse_chunks(stream: SetStream, chunks) -> dict:
    builder = _SetBuilder(stream)
    head, root_name, root_attrs = _check_prolog(stream, chunks)
    if root_name != "Ableton":
        raise stream.fail(f"is not an Ableton Live set: its XML starts with <{root_name}>, not <Ableton>.")
    builder.creator = root_attrs.get("Creator") or ""
    parser = etree.XMLPullParser(
        events=("start", "end"), tag=WATCHED,
        # No DTD gets this far (see _check_prolog), so no entity can be declared. Entities
        # are left at lxml's default on purpose: with resolve_entities=False the push parser
        # stops silently at an undefined "&x;" and the file looks truncated, not broken.
        no_network=True, load_dtd=False, huge_tree=False,
        remove_blank_text=True, collect_ids=False,  # fewer nodes to build: ~10% faster
    )
    try:
        for chunk in chain(head, chunks):
            parser.feed(chunk)
            builder.handle(parser.read_events())
            builder.prune()
    except etree.XMLSyntaxError as exc:
        raise stream.fail(f"is damaged: {_xml_reason(exc)}.") from None
    try:
        parser.close()
    except etree.XMLSyntaxError:  # all input was fine, it just stopped: a cut-off file
        raise stream.fail("is damaged: the XML ends early (was the file cut off?).") from None
    builder.handle(parser.read_events())
    return builder.summary()


def _check_prolog(stream: SetStream, chunks) -> tuple[list[bytes], str, dict]:
    """Read up to the root element with expat, refusing any DTD: Live never writes one,
    and DTDs are how entity bombs and external-entity reads get in."""
    expat = pyexpat.ParserCreate()

    def refuse(*_):
        raise stream.fail("was refused: it declares a DTD or entities, which Live sets never contain.")

    def root(name, attrs):
        raise _Root(name, attrs)

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
            return head, found.args[0], found.args[1]
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


def _value(el, path: str) -> str | None:
    if el is None:
        return None
    child = el.find(path)
    return None if child is None else child.get("Value")


def _file_name(path: str | None) -> str | None:
    """Last part of a Windows or POSIX path; never the directories."""
    if not path:
        return None
    name = PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name
    return name or None


def _ancestor(el, levels: int):
    for _ in range(levels):
        if el is None:
            return None
        el = el.getparent()
    return el


class _SetBuilder:
    def __init__(self, stream: SetStream):
        self.stream = stream
        self.creator = ""
        self.root = None
        self.tracks: list[_Track] = []
        self.track: _Track | None = None
        self.scope_el = None  # the open track, master or pre-hear element
        self.scope: str | None = None  # "track" | "master" | "prehear"
        self.bpm: float | None = None
        self.tempo_target: str | None = None
        self.tempo_points: list[tuple[float, float]] = []
        self.meter: int | None = None
        self.master_seen = False
        self.master_envelopes: dict[str, array] = {}  # PointeeId -> flat (time, value, ...)
        self.envelope: list | None = None  # [pointee, points] of the open master envelope
        self.master_points = 0
        self.master_devices: list[tuple[str, str, bool]] = []
        self.device_lists: list[_DeviceList] = []
        self.clip_el = None
        self.clip: str | None = None  # "arrangement" | "session" | None (not counted)
        self.clip_end: float | None = None
        self.key_pitch: int | None = None
        self.key_notes = 0
        self.key_weight = 0.0
        self.arrangement_end = 0.0
        self.locators: list[dict] = []
        self.samples: set[str] = set()
        self.scale: tuple[int | None, str | None] | None = None
        self._start = {
            "Ableton": self._root_start,
            **{t: self._track_start for t in TRACK_TYPES},
            **{t: self._master_start for t in MASTER_TAGS},
            "PreHearTrack": self._prehear_start,
            "Devices": self._devices_start,
            "MidiClip": self._clip_start,
            "AudioClip": self._clip_start,
            "KeyTrack": self._keytrack_start,
            "AutomationEnvelope": self._envelope_start,
        }
        self._end = {
            **{t: self._track_end for t in TRACK_TYPES},
            **{t: self._master_end for t in MASTER_TAGS},
            "PreHearTrack": self._scope_end,
            "Name": self._name_end,
            "TrackGroupId": self._group_end,
            "Speaker": self._speaker_end,
            "Tempo": self._tempo_end,
            "TimeSignature": self._meter_end,
            "AutomationEnvelope": self._envelope_end,
            "PointeeId": self._pointee_end,
            "FloatEvent": self._float_event_end,
            "Devices": self._devices_end,
            "PluginDesc": self._plugindesc_end,
            "MidiClip": self._clip_end,
            "AudioClip": self._clip_end,
            "CurrentEnd": self._currentend_end,
            "KeyTrack": self._keytrack_end,
            "MidiKey": self._midikey_end,
            "MidiNoteEvent": self._note_end,
            "SampleRef": self._sampleref_end,
            "Locator": self._locator_end,
            "ScaleInformation": self._scale_end,
        }

    # -- plumbing -------------------------------------------------------------
    def handle(self, events) -> None:
        start, end = self._start, self._end
        for event, el in events:
            handler = (start if event == "start" else end).get(el.tag)
            if handler is not None:
                handler(el)

    def prune(self) -> None:
        """Free everything already handled. Open elements are always the last child of
        their parent, so keeping only the last child at each level keeps the open path."""
        lists = iter(self.device_lists)
        pending = next(lists, None)
        el = self.root
        while el is not None:
            if el.tag in READS_SUBTREE:
                self._check_size(el)
                return
            count = len(el)
            if count > 1:
                if pending is not None and el is pending.el:  # record devices before they go
                    for i, dev in enumerate(el[:-1]):
                        pending.record(pending.offset + i, dev.tag)
                    pending.offset += count - 1
                del el[:-1]
            if pending is not None and el is pending.el:
                pending = next(lists, None)
            el = el[-1] if count else None

    def _check_size(self, el) -> None:
        if sum(1 for _ in islice(el.iter(), SUBTREE_LIMIT + 1)) > SUBTREE_LIMIT:
            raise self.stream.fail(f"is damaged: one of its <{el.tag}> elements is unreasonably large.")

    def _too_many(self, what: str) -> AlsError:
        return self.stream.fail(f"is not a usable Live set: it has more than {MAX_ITEMS:,} {what}.")

    def num(self, raw: str | None, what: str) -> float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        shown = "missing" if raw is None else f"{raw[:40]!r}"
        if not math.isfinite(value):
            raise self.stream.fail(f"is damaged: {what} is {shown}, which is not a number.")
        if abs(value) > MAX_MAGNITUDE:
            raise self.stream.fail(f"is damaged: {what} is {shown}, which is out of range.")
        return value

    @staticmethod
    def param(el) -> str | None:
        """A Live parameter's value: Manual (9+), else its first automation event (Live 8)."""
        manual = el.find("Manual")
        if manual is not None:
            return manual.get("Value")
        events = el.find("ArrangerAutomation/Events")
        if events is not None and len(events):
            return events[0].get("Value")
        return None

    def _events(self, events, what: str) -> list[tuple[float, float]]:
        if events is None:
            return []
        return [
            (self.num(ev.get("Time"), f"a {what} time"), self.num(ev.get("Value"), f"a {what} value"))
            for ev in events if ev.get("Value") is not None
        ]

    def _in_scope_mixer(self, el) -> bool:
        """el sits in the open track's own mixer (not in a rack chain's mixer)."""
        parent = el.getparent()
        return parent is not None and parent.tag == "Mixer" and _ancestor(parent, 2) is self.scope_el

    # -- tracks ---------------------------------------------------------------
    def _root_start(self, el) -> None:
        if self.root is None:
            self.root = el

    def _track_start(self, el) -> None:
        parent = el.getparent()
        if self.scope or parent is None or parent.tag != "Tracks":
            return
        if len(self.tracks) >= MAX_ITEMS:
            raise self._too_many("tracks")
        self.track = _Track(type=TRACK_TYPES[el.tag], id=el.get("Id"))
        self.scope_el, self.scope = el, "track"

    def _track_end(self, el) -> None:
        if el is not self.scope_el:
            return
        track = self.track
        if not track.name:
            kind = "MIDI" if track.type == "midi" else track.type.capitalize()
            track.name = f"{len(self.tracks) + 1}-{kind}"
        self.tracks.append(track)
        self.track = self.scope_el = self.scope = None

    def _master_start(self, el) -> None:
        parent = el.getparent()
        if not self.scope and parent is not None and parent.tag == "LiveSet":
            self.scope_el, self.scope = el, "master"

    def _master_end(self, el) -> None:
        if el is self.scope_el:
            self.master_seen = True
            self.scope_el = self.scope = None

    def _prehear_start(self, el) -> None:
        if not self.scope:
            self.scope_el, self.scope = el, "prehear"

    def _scope_end(self, el) -> None:
        if el is self.scope_el:
            self.scope_el = self.scope = None

    def _name_end(self, el) -> None:
        if self.scope == "track" and el.getparent() is self.scope_el:
            # EffectiveName is what Live shows (9+); Live 8 only has UserName.
            self.track.name = (_value(el, "EffectiveName") or _value(el, "UserName") or "").strip()

    def _group_end(self, el) -> None:
        if self.scope == "track" and el.getparent() is self.scope_el:
            group = el.get("Value")
            self.track.group_id = group if group not in (None, "-1") else None

    def _speaker_end(self, el) -> None:
        if self.scope == "track" and self._in_scope_mixer(el):
            self.track.muted = self.param(el) == "false"

    def _tempo_end(self, el) -> None:
        if self.scope != "master" or not self._in_scope_mixer(el):
            return
        self.bpm = self.num(self.param(el), "the tempo")
        target = el.find("AutomationTarget")
        self.tempo_target = target.get("Id") if target is not None else None
        # Live 8 keeps the automation inside the parameter; 9+ in the track's envelopes.
        self.tempo_points = self._events(el.find("ArrangerAutomation/Events"), "tempo automation")

    def _meter_end(self, el) -> None:
        if self.scope == "master" and self._in_scope_mixer(el):
            meter = int(self.num(self.param(el), "the time signature"))
            if not 0 <= meter < MAX_METER:
                raise self.stream.fail(f"is damaged: its time signature code {meter} is not one Live uses.")
            self.meter = meter

    # Master automation is streamed point by point: one tempo envelope can be huge, and
    # which envelope is the tempo's is only known once <Tempo> (after them) is read.
    def _envelope_start(self, el) -> None:
        self.envelope = [None, array("d")] if self.scope == "master" else None

    def _pointee_end(self, el) -> None:
        if self.envelope is not None and el.getparent().tag == "EnvelopeTarget":
            self.envelope[0] = el.get("Value")

    def _float_event_end(self, el) -> None:
        if self.envelope is not None:
            self.master_points += 1
            if self.master_points > MAX_POINTS:
                raise self.stream.fail(f"is not a usable Live set: it has more than {MAX_POINTS:,} master automation points.")
            self.envelope[1].extend((self.num(el.get("Time"), "an automation time"),
                                     self.num(el.get("Value"), "an automation value")))

    def _envelope_end(self, el) -> None:
        if self.envelope is not None and self.envelope[0] is not None:
            self.master_envelopes[self.envelope[0]] = self.envelope[1]
        self.envelope = None

    # -- devices (racks nest <Devices> lists inside devices) --------------------
    def _devices_start(self, el) -> None:
        if self.scope in ("track", "master"):
            self.device_lists.append(_DeviceList(el))

    def _plugindesc_end(self, el) -> None:
        if self.device_lists:
            name = None
            for path in ("VstPluginInfo/PlugName", "Vst3PluginInfo/Name", "AuPluginInfo/Name"):
                name = (_value(el, path) or "").strip()
                if name:
                    break
            current = self.device_lists[-1]
            if name and el.getparent().getparent() is current.el:
                current.plugin_names[current.index_of(el)] = name

    def _devices_end(self, el) -> None:
        if not self.device_lists or self.device_lists[-1].el is not el:
            return
        done = self.device_lists.pop()
        for i, dev in enumerate(el):
            done.record(done.offset + i, dev.tag)
        if self.device_lists:  # a rack chain: credit the rack that is open in the outer list
            outer = self.device_lists[-1]
            outer.nested.setdefault(outer.index_of(el), []).extend(done.found)
        elif self.scope == "track":
            track = self.track
            for tag, name, plugin in done.found:  # each name once, in chain order
                names = track.plugins if plugin else track.devices
                if name not in names:
                    names.append(name)
                track.drums |= tag in DRUM_TAGS
        elif self.scope == "master":
            self.master_devices.extend(done.found)

    # -- clips and notes ------------------------------------------------------
    def _clip_start(self, el) -> None:
        self.clip, self.clip_el, self.clip_end = None, el, None
        if self.scope != "track":
            return
        seen = set()
        node = el.getparent()
        while node is not None and node is not self.scope_el:
            seen.add(node.tag)
            node = node.getparent()
        if "MainSequencer" not in seen or "TakeLanes" in seen or "FreezeSequencer" in seen:
            return
        if "ArrangerAutomation" in seen:
            self.clip = "arrangement"
        elif "ClipSlotList" in seen:
            self.clip = "session"

    def _currentend_end(self, el) -> None:
        if self.clip and el.getparent() is self.clip_el:
            self.clip_end = self.num(el.get("Value"), "a clip end")

    def _clip_end(self, el) -> None:
        if self.clip and el is self.clip_el:
            self.track.clip_count += 1
            if self.clip == "arrangement" and self.clip_end is not None:
                self.arrangement_end = max(self.arrangement_end, self.clip_end)
        self.clip = self.clip_el = None

    def _keytrack_start(self, el) -> None:
        self.key_pitch, self.key_notes, self.key_weight = None, 0, 0.0

    def _midikey_end(self, el) -> None:
        if self.clip:
            self.key_pitch = int(self.num(el.get("Value"), "a MIDI note pitch"))

    def _note_end(self, el) -> None:
        # Notes come before their KeyTrack's MidiKey: sum them up, assign at KeyTrack end.
        if self.clip and el.get("IsEnabled") != "false":
            self.key_notes += 1
            self.key_weight += max(self.num(el.get("Duration"), "a MIDI note length"), 0.0)

    def _keytrack_end(self, el) -> None:
        pitch, count = self.key_pitch, self.key_notes
        if self.clip and count and pitch is not None and 0 <= pitch <= 127:
            track = self.track
            track.note_count += count
            if self.clip == "arrangement":
                track.arrangement_notes += count
            track.pitch_classes[pitch % 12] += self.key_weight
            track.pitch_min = pitch if track.pitch_min is None else min(track.pitch_min, pitch)
            track.pitch_max = pitch if track.pitch_max is None else max(track.pitch_max, pitch)
        self.key_pitch, self.key_notes, self.key_weight = None, 0, 0.0

    # -- set-wide facts -------------------------------------------------------
    def _sampleref_end(self, el) -> None:
        if self.scope == "prehear":
            return
        ref = el.find("FileRef")  # not SourceContext/OriginalFileRef: that is the source, not the sample
        name = _value(ref, "Name") or _file_name(_value(ref, "Path")) or _file_name(_value(ref, "RelativePath"))
        if name and name not in self.samples:
            if len(self.samples) >= MAX_ITEMS:
                raise self._too_many("samples")
            self.samples.add(name)

    def _locator_end(self, el) -> None:
        parent = el.getparent()
        if parent is not None and parent.tag == "Locators":
            if len(self.locators) >= MAX_ITEMS:
                raise self._too_many("locators")
            self.locators.append({
                "time": self.num(_value(el, "Time"), "a locator time"),
                "name": _value(el, "Name") or "",
            })

    def _scale_end(self, el) -> None:
        parent = el.getparent()
        if parent is not None and parent.tag == "LiveSet":
            root = _value(el, "RootNote") or _value(el, "Root")  # Live <= 11 / 12
            self.scale = (int(self.num(root, "the scale root")) if root is not None else None, _value(el, "Name"))

    # -- result ---------------------------------------------------------------
    def summary(self) -> dict:
        if not self.master_seen:
            raise self.stream.fail("is damaged: it has no master track.")
        if self.bpm is None:
            raise self.stream.fail("is damaged: its master track has no tempo.")
        if self.meter is None:
            raise self.stream.fail("is damaged: its master track has no time signature.")
        numerator, denominator = decode_time_signature(self.meter)
        bpm = self.bpm
        flat = self.master_envelopes.get(self.tempo_target)
        points = list(zip(flat[::2], flat[1::2], strict=False)) if flat else self.tempo_points
        if not all(0 < v <= MAX_BPM for v in (bpm, *(v for _, v in points))):
            raise self.stream.fail(f"is damaged: its tempo is outside Live's range of 20-{MAX_BPM:g} BPM.")
        values = [v for _, v in points]
        automated = len(set(values)) > 1
        beats = max([self.arrangement_end, *(loc["time"] for loc in self.locators)])
        beats = max(beats, 0.0)
        tracks = self.tracks
        group_names = {t.id: t.name for t in tracks if t.type == "group"}
        note_count = sum(t.note_count for t in tracks)
        arrangement_notes = sum(t.arrangement_notes for t in tracks)
        pitches = [t for t in tracks if t.pitch_min is not None]
        profile = [sum(t.pitch_classes[i] for t in tracks if not t.drums) for i in range(12)]
        key = detect_key(profile) or (self.scale and scale_key(*self.scale)) or dict(NO_KEY)
        creator = self.creator
        version = _CREATOR.search(creator)
        plugins = {n for t in tracks for n in t.plugins} | {n for _, n, p in self.master_devices if p}
        devices = {n for t in tracks for n in t.devices} | {n for _, n, p in self.master_devices if not p}
        return {
            "schema_version": SCHEMA_VERSION,
            "live_version": version.group(1) if version else None,
            "creator": creator,
            "tempo": {
                "bpm": bpm,
                "automated": automated,
                "min": min(values) if automated else bpm,
                "max": max(values) if automated else bpm,
            },
            "time_signature": f"{numerator}/{denominator}",
            "key": key,
            "length": {
                "beats": round(beats, 6),
                "seconds": round(beats_to_seconds(beats, points if automated else [], bpm), 3),
                "bars": round(beats / beats_per_bar(numerator, denominator), 3),
            },
            "track_counts": {kind: sum(t.type == kind for t in tracks) for kind in ("audio", "midi", "group", "return")},
            "tracks": [
                {
                    "name": t.name,
                    "type": t.type,
                    "muted": t.muted,
                    "group": group_names.get(t.group_id) if t.group_id else None,
                    "devices": t.devices,
                    "plugins": t.plugins,
                    "clip_count": t.clip_count,
                    "note_count": t.note_count,
                }
                for t in tracks
            ],
            "plugins": sorted(plugins, key=str.casefold),
            "devices": sorted(devices, key=str.casefold),
            "locators": sorted(self.locators, key=lambda loc: loc["time"]),
            "samples": sorted(self.samples, key=str.casefold),
            "notes": {
                "count": note_count,
                "pitch_min": min((t.pitch_min for t in pitches), default=None),
                "pitch_max": max((t.pitch_max for t in pitches), default=None),
                "density": round(arrangement_notes / beats, 3) if beats > 0 else None,
            },
        }

