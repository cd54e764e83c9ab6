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
}

# Third-party plug-in hosts: reported under "plugins" by their own name instead.
PLUGIN_TAGS = frozenset({"PluginDevice", "AuPluginDevice"})

# Instruments whose MIDI notes are drum hits, not pitches (kept out of key detection).
DRUM_TAGS = frozenset({"DrumGroupDevice", "InstrumentImpulse", "DrumCell"})

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def device_name(tag: str) -> str:
    """'OriginalSimpler' -> 'Simpler', 'GlueCompressor' -> 'Glue Compressor'."""
    return NATIVE_NAMES.get(tag) or _CAMEL.sub(" ", tag)
