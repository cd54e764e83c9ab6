"""Collector: tracks (name, group, mute, MIDI routing) and the devices on them.

It also owns the parse's scope: which track, or the master (MasterTrack <= 11, MainTrack 12),
or the pre-hear track is open. Name/EffectiveName (9+) or Name/UserName (8).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from trainmode.sets.als.devices import DRUM_TAGS, DeviceList
from trainmode.sets.als.raw import MAX_ITEMS, ParseContext, RawTrack, ancestor, param, value

TRACK_TYPES = {"AudioTrack": "audio", "MidiTrack": "midi", "GroupTrack": "group", "ReturnTrack": "return"}
MASTER_TAGS = frozenset({"MasterTrack", "MainTrack"})
_ROUTED_TRACK = re.compile(r"^Midi(?:In|Out)/Track\.(\d+)/")


def file_name(path: str | None) -> str | None:
    """Last part of a Windows or POSIX path; never the directories."""
    if not path:
        return None
    name = PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name
    return name or None


class TrackCollector:
    subtree = frozenset(
        {"Name", "TrackGroupId", "Speaker", "PluginDesc", "MxDPatchRef", "MidiInputRouting", "MidiOutputRouting"}
    )

    def __init__(self, ctx: ParseContext):
        self.ctx = ctx
        self.lists: list[DeviceList] = []
        self.open_lists: dict = {}  # <Devices> element -> its DeviceList
        self.start = {
            "Ableton": self._root_start,
            **{t: self._track_start for t in TRACK_TYPES},
            **{t: self._master_start for t in MASTER_TAGS},
            "PreHearTrack": self._prehear_start,
            "Devices": self._devices_start,
        }
        self.end = {
            **{t: self._track_end for t in TRACK_TYPES},
            **{t: self._master_end for t in MASTER_TAGS},
            "PreHearTrack": self._scope_end,
            "Name": self._name_end,
            "TrackGroupId": self._group_end,
            "Speaker": self._speaker_end,
            "MidiInputRouting": self._routing_end,
            "MidiOutputRouting": self._routing_end,
            "Devices": self._devices_end,
            "PluginDesc": self._plugindesc_end,
            "MxDPatchRef": self._max_patch_end,
        }
        self.hooks = {"Devices": self._before_prune}

    # -- scope ------------------------------------------------------------------
    def _root_start(self, el) -> None:
        if self.ctx.root is None:
            self.ctx.root = el

    def _track_start(self, el) -> None:
        ctx, parent = self.ctx, el.getparent()
        if ctx.scope or parent is None or parent.tag != "Tracks":
            return
        if len(ctx.raw.tracks) >= MAX_ITEMS:
            raise ctx.too_many("tracks")
        ctx.track = RawTrack(type=TRACK_TYPES[el.tag], id=el.get("Id"))
        ctx.scope_el, ctx.scope = el, "track"

    def _track_end(self, el) -> None:
        ctx = self.ctx
        if el is not ctx.scope_el:
            return
        track = ctx.track
        if not track.name:
            kind = "MIDI" if track.type == "midi" else track.type.capitalize()
            track.name = f"{len(ctx.raw.tracks) + 1}-{kind}"
        ctx.raw.tracks.append(track)
        ctx.track = ctx.scope_el = ctx.scope = None

    def _master_start(self, el) -> None:
        parent = el.getparent()
        if not self.ctx.scope and parent is not None and parent.tag == "LiveSet":
            self.ctx.scope_el, self.ctx.scope = el, "master"

    def _master_end(self, el) -> None:
        if el is self.ctx.scope_el:
            self.ctx.raw.master_seen = True
            self.ctx.scope_el = self.ctx.scope = None

    def _prehear_start(self, el) -> None:
        if not self.ctx.scope:
            self.ctx.scope_el, self.ctx.scope = el, "prehear"

    def _scope_end(self, el) -> None:
        if el is self.ctx.scope_el:
            self.ctx.scope_el = self.ctx.scope = None

    # -- track facts -------------------------------------------------------------
    def _own(self, el) -> bool:
        return self.ctx.scope == "track" and el.getparent() is self.ctx.scope_el

    def _name_end(self, el) -> None:
        if self._own(el):
            # EffectiveName is what Live shows (9+); Live 8 only has UserName.
            self.ctx.track.name = (value(el, "EffectiveName") or value(el, "UserName") or "").strip()

    def _group_end(self, el) -> None:
        if self._own(el):
            group = el.get("Value")
            self.ctx.track.group_id = group if group not in (None, "-1") else None

    def _speaker_end(self, el) -> None:
        if self.ctx.scope == "track" and self.ctx.in_scope_mixer(el):
            self.ctx.track.muted = param(el) == "false"

    def _routing_end(self, el) -> None:
        ctx = self.ctx
        if ctx.scope != "track" or ancestor(el, 2) is not ctx.scope_el:
            return
        match = _ROUTED_TRACK.match(value(el, "Target") or "")
        if match:
            if el.tag == "MidiInputRouting":
                ctx.track.midi_from = match.group(1)
            else:
                ctx.track.midi_to = match.group(1)

    # -- devices (racks nest <Devices> lists inside devices) --------------------
    def _devices_start(self, el) -> None:
        if self.ctx.scope in ("track", "master"):
            found = DeviceList(el, MAX_ITEMS)
            self.lists.append(found)
            self.open_lists[el] = found

    def _before_prune(self, el) -> bool:
        found = self.open_lists.get(el)
        if found is not None:
            found.record_finished()
        return False

    def _name_device(self, el, name: str | None, levels: int) -> None:
        """Remember the display name of the device `levels` above `el` in the open list."""
        if name and self.lists:
            current = self.lists[-1]
            if ancestor(el, levels) is current.el:
                current.names[current.index_of(el)] = name

    def _plugindesc_end(self, el) -> None:
        name = None
        for path in ("VstPluginInfo/PlugName", "Vst3PluginInfo/Name", "AuPluginInfo/Name"):
            name = (value(el, path) or "").strip()
            if name:
                break
        self._name_device(el, name, 2)

    def _max_patch_end(self, el) -> None:
        ref = el.find("FileRef")
        name = value(ref, "Name") or file_name(value(ref, "Path")) or ""
        self._name_device(el, re.sub(r"(?i)\.amxd$", "", name).strip(), 4)

    def _devices_end(self, el) -> None:
        if not self.lists or self.lists[-1].el is not el:
            return
        done = self.lists.pop()
        del self.open_lists[el]
        for i, dev in enumerate(el):
            done.record(done.offset + i, dev.tag)
        if self.lists:  # a rack chain: credit the rack that is open in the outer list
            outer = self.lists[-1]
            outer.nested.setdefault(outer.index_of(el), []).extend(done.found)
        elif self.ctx.scope == "track":
            track = self.ctx.track
            for tag, name, plugin in done.found:  # each name once, in chain order
                names = track.plugins if plugin else track.devices
                if name not in names:
                    names.append(name)
                track.drums |= tag in DRUM_TAGS
        elif self.ctx.scope == "master":
            self.ctx.raw.master_devices.extend(done.found)
