"""Readable names for Live's native devices (the XML tag is an internal class name)."""

from __future__ import annotations

import re

# Tags whose display name differs from the tag; anything else is split at case changes.
NATIVE_NAMES = {
    "OriginalSimpler": "Simpler",
    "MultiSampler": "Sampler",
    "InstrumentImpulse": "Impulse",
    "UltraAnalog": "Analog",
    "LoungeLizard": "Electric",
    "StringStudio": "Tension",
    "InstrumentVector": "Wavetable",
    "InstrumentMeld": "Meld",
    "DrumCell": "Drum Sampler",
    "InstrumentGroupDevice": "Instrument Rack",
    "DrumGroupDevice": "Drum Rack",
    "AudioEffectGroupDevice": "Audio Effect Rack",
    "MidiEffectGroupDevice": "MIDI Effect Rack",
    "Eq8": "EQ Eight",
    "FilterEQ3": "EQ Three",
    "ChannelEq": "Channel EQ",
    "Compressor2": "Compressor",
    "MultibandDynamics": "Multiband Dynamics",
    "CrossDelay": "Simple Delay",
    "StereoGain": "Utility",
    "SpectrumAnalyzer": "Spectrum",
    "Tube": "Dynamic Tube",
    "Vinyl": "Vinyl Distortion",
    "Resonator": "Resonators",
    "Redux2": "Redux",
    "Chorus2": "Chorus-Ensemble",
    "PhaserNew": "Phaser-Flanger",
    "Hybrid": "Hybrid Reverb",
    "MidiArpeggiator": "Arpeggiator",
    "MidiChord": "Chord",
    "MidiNoteLength": "Note Length",
    "MidiPitcher": "Pitch",
    "MidiRandom": "Random",
    "MidiScale": "Scale",
    "MidiVelocity": "Velocity",
    "MxDeviceAudioEffect": "Max Audio Effect",
    "MxDeviceInstrument": "Max Instrument",
    "MxDeviceMidiEffect": "Max MIDI Effect",
    "ProxyInstrumentDevice": "External Instrument",
    "ProxyAudioEffectDevice": "External Audio Effect",
}

# Third-party plug-in hosts: reported under "plugins" by their own name instead.
PLUGIN_TAGS = frozenset({"PluginDevice", "AuPluginDevice"})

# Max for Live devices: named after their .amxd file when the set says which one.
MAX_TAGS = frozenset({"MxDeviceAudioEffect", "MxDeviceInstrument", "MxDeviceMidiEffect"})

# Instruments whose MIDI notes are drum hits, not pitches (kept out of key detection).
DRUM_TAGS = frozenset({"DrumGroupDevice", "InstrumentImpulse", "DrumCell"})

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def device_name(tag: str) -> str:
    """'OriginalSimpler' -> 'Simpler', 'GlueCompressor' -> 'Glue Compressor'."""
    return NATIVE_NAMES.get(tag) or _CAMEL.sub(" ", tag)


class DeviceList:
    """An open <Devices> list. Its finished children are recorded and pruned as parsing
    goes, so `offset` counts the ones already gone."""

    def __init__(self, el, limit: int):
        self.el = el
        self.limit = limit
        self.offset = 0
        self.found: list[tuple[str, str, bool]] = []  # (tag, name, is plug-in)
        self.names: dict[int, str] = {}  # child index -> plug-in or Max device name
        self.nested: dict[int, list] = {}  # child index -> devices in its chains

    def index_of(self, el) -> int | None:
        """Position in this list of the device that contains `el` (None if outside)."""
        while el is not None:
            parent = el.getparent()
            if parent is self.el:
                return self.offset + self.el.index(el)
            el = parent
        return None

    def record(self, index: int, tag) -> None:
        if isinstance(tag, str) and len(self.found) < self.limit:
            name = self.names.pop(index, None)
            if tag in PLUGIN_TAGS:
                if name:
                    self.found.append((tag, name, True))
            else:
                self.found.append((tag, name if name and tag in MAX_TAGS else device_name(tag), False))
        self.found.extend(self.nested.pop(index, ())[: max(0, self.limit - len(self.found))])

    def record_finished(self) -> None:
        """Record every child but the last (still open) one, which pruning is about to free."""
        el = self.el
        count = len(el)
        if count > 1:
            for i, dev in enumerate(el[:-1]):
                self.record(self.offset + i, dev.tag)
            self.offset += count - 1
