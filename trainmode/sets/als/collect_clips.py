"""Collector: Live's clips (arrangement and session clips: not the section clips a render is
cut into), their MIDI notes and the samples they play.

MidiClip/AudioClip under the track's MainSequencer: under ArrangerAutomation they are
arrangement clips, under ClipSlotList session clips; clips in TakeLanes (Live 12 comping), in
the FreezeSequencer and in the groove pool are not counted. Notes are KeyTrack/Notes/
MidiNoteEvent with the pitch in the KeyTrack's MidiKey (Live 8-12). They are never handled one
by one in Python: each batch that streams past is counted and summed by XPath (in C), then freed.
"""

from __future__ import annotations

import math

from lxml import etree

from trainmode.sets.als.collect_tracks import file_name
from trainmode.sets.als.raw import MAX_ITEMS, MAX_MAGNITUDE, ArrangementClip, ParseContext, child, value

# Lengths of the enabled notes in one batch, as strings (no per-note Python objects but these).
FOLD_AT = 512  # notes an open KeyTrack may hold before they are counted and freed
_DURATIONS = etree.XPath("MidiNoteEvent[not(@IsEnabled='false')]/@Duration", smart_strings=False)


class LiveClipCollector:
    subtree = frozenset({"CurrentStart", "CurrentEnd", "Disabled", "SampleRef"})

    def __init__(self, ctx: ParseContext):
        self.ctx = ctx
        self.clip_el = None
        self.clip: str | None = None  # "arrangement" | "session" | None (not counted)
        self.clip_start = self.clip_end = None
        self.clip_muted = False
        self.clip_notes, self.clip_profile = 0, [0.0] * 12  # an arrangement clip's pitched notes
        self.notes = 0
        self.weight = 0.0
        self.start = {"MidiClip": self._clip_start, "AudioClip": self._clip_start, "KeyTrack": self._keytrack_start}
        self.end = {
            "MidiClip": self._clip_end,
            "AudioClip": self._clip_end,
            "CurrentStart": self._bound_end,
            "CurrentEnd": self._bound_end,
            "Disabled": self._disabled_end,
            "KeyTrack": self._keytrack_end,
            "SampleRef": self._sampleref_end,
        }
        self.hooks = {"KeyTrack": self._before_prune}

    def _clip_start(self, el) -> None:
        self.clip, self.clip_el, self.clip_start, self.clip_end, self.clip_muted = None, el, None, None, False
        self.clip_notes, self.clip_profile = 0, [0.0] * 12
        ctx = self.ctx
        if ctx.scope != "track":
            return
        seen = set()
        node = el.getparent()
        while node is not None and node is not ctx.scope_el:
            seen.add(node.tag)
            node = node.getparent()
        if "MainSequencer" not in seen or "TakeLanes" in seen or "FreezeSequencer" in seen:
            return
        if "ArrangerAutomation" in seen:
            self.clip = "arrangement"
        elif "ClipSlotList" in seen:
            self.clip = "session"

    def _bound_end(self, el) -> None:
        if self.clip and el.getparent() is self.clip_el:
            time = self.ctx.num(el.get("Value"), "a clip end" if el.tag == "CurrentEnd" else "a clip start")
            if el.tag == "CurrentEnd":
                self.clip_end = time
            else:
                self.clip_start = time

    def _disabled_end(self, el) -> None:
        if self.clip and el.getparent() is self.clip_el:
            self.clip_muted = el.get("Value") == "true"

    def _clip_end(self, el) -> None:
        if self.clip and el is self.clip_el:
            track, raw = self.ctx.track, self.ctx.raw
            track.clip_count += 1
            if self.clip == "arrangement" and self.clip_end is not None:
                raw.arrangement_end = max(raw.arrangement_end, self.clip_end)
                start = self.clip_start if self.clip_start is not None else 0.0
                if not self.clip_muted and self.clip_end > start:
                    if len(track.arrangement_clips) >= MAX_ITEMS:
                        raise self.ctx.too_many("clips on one track")
                    profile = tuple(self.clip_profile) if self.clip_notes else None
                    track.arrangement_clips.append(ArrangementClip(start, self.clip_end, self.clip_notes, profile))
        self.clip = self.clip_el = None

    # -- notes ------------------------------------------------------------------
    def _keytrack_start(self, el) -> None:
        self.notes, self.weight = 0, 0.0

    def _before_prune(self, el) -> bool:
        notes = child(el, "Notes")
        if notes is not None and len(notes) > FOLD_AT:  # small batches wait for the KeyTrack's end
            self._fold(el)
        return True  # what is left of a KeyTrack (its MidiKey) is tiny

    def _fold(self, keytrack) -> None:
        notes = child(keytrack, "Notes")
        if notes is None:
            return
        counted = notes[-1] if len(notes) else None  # by skip.fold_notes, before parsing
        if counted is not None and counted.tag == self.ctx.notes_tag:
            if self.clip:
                self.notes += int(counted.get("C"))
                self.weight += float(counted.get("W"))
            del notes[-1]
        if not len(notes):
            return
        if self.clip:
            # A few notes are quicker to read one by one than through an XPath call.
            raw = (
                _DURATIONS(notes)
                if len(notes) > 48
                else [n.get("Duration") for n in notes if n.get("IsEnabled") != "false"]
            )
            try:
                lengths = list(map(float, raw))
            except (TypeError, ValueError):  # not a number, or missing
                lengths = [self.ctx.num(d, "a MIDI note length") for d in raw]  # raises, naming the value
            if lengths and (not MAX_MAGNITUDE >= max(map(abs, lengths)) or any(map(math.isnan, lengths))):
                next(self.ctx.num(d, "a MIDI note length") for d in raw if not abs(float(d)) <= MAX_MAGNITUDE)
            self.notes += len(lengths)
            self.weight += sum(d for d in lengths if d > 0)
        del notes[:]

    def _keytrack_end(self, el) -> None:
        self._fold(el)
        last = el[-1] if len(el) else None  # MidiKey comes after Notes: usually the last child
        raw_pitch = last.get("Value") if last is not None and last.tag == "MidiKey" else value(el, "MidiKey")
        if not self.clip or not self.notes or raw_pitch is None:
            return
        pitch, count = int(self.ctx.num(raw_pitch, "a MIDI note pitch")), self.notes
        if not 0 <= pitch <= 127:
            return
        track = self.ctx.track
        track.note_count += count
        if self.clip == "arrangement":
            track.arrangement_notes += count
        if not self.clip_muted:
            track.key_notes += count
            track.pitch_classes[pitch % 12] += self.weight
            if self.clip == "arrangement":
                self.clip_notes += count
                self.clip_profile[pitch % 12] += self.weight
        track.pitch_min = pitch if track.pitch_min is None else min(track.pitch_min, pitch)
        track.pitch_max = pitch if track.pitch_max is None else max(track.pitch_max, pitch)

    # -- samples ------------------------------------------------------------------
    def _sampleref_end(self, el) -> None:
        ctx = self.ctx
        if ctx.scope == "prehear":
            return
        ref = el.find("FileRef")  # not SourceContext/OriginalFileRef: that is the source, not the sample
        name = value(ref, "Name") or file_name(value(ref, "Path")) or file_name(value(ref, "RelativePath"))
        if not name:
            return
        if name not in ctx.raw.samples:
            if len(ctx.raw.samples) >= MAX_ITEMS:
                raise ctx.too_many("samples")
            ctx.raw.samples.add(name)
        if ctx.scope == "track" and name not in ctx.track.samples and len(ctx.track.samples) < 64:
            ctx.track.samples.append(name)
