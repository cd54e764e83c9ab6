"""Small Live sets written by the tests themselves, one structural fact each: tracks with their
devices, arrangement and session clips with notes, tempo and meter automation, locators.

    data = live_set([track("midi", "Bass", devices=plugin("Serum"), arrangement=midi_clip(0, 16, notes))],
                    tempo=[(-63072000, 90), (16, 90), (16, 180)], locators=[(0, "Intro"), (16, "Drop")])
    summary = parse_als(data, filename="x.als").summary
"""

from __future__ import annotations

import gzip

TEMPO_TARGET, METER_TARGET = 8, 10


def meter_code(meter: str) -> int:
    """Live's enum for a meter: numerator - 1 + 99 * log2(denominator) (4/4 is 201)."""
    numerator, denominator = (int(x) for x in meter.split("/"))
    return numerator - 1 + 99 * (denominator.bit_length() - 1)


def notes_xml(notes: list[tuple[int, float, float]]) -> str:
    """KeyTracks for (pitch, time in the clip, duration) notes."""
    by_pitch: dict[int, list[tuple[float, float]]] = {}
    for pitch, time, duration in notes:
        by_pitch.setdefault(pitch, []).append((time, duration))
    return "".join(
        f'<KeyTrack Id="{i}"><Notes>'
        + "".join(f'<MidiNoteEvent Time="{t:g}" Duration="{d:g}" Velocity="100" IsEnabled="true"/>' for t, d in events)
        + f'</Notes><MidiKey Value="{pitch}"/></KeyTrack>'
        for i, (pitch, events) in enumerate(sorted(by_pitch.items()))
    )


def midi_clip(start: float, end: float, notes: list[tuple[int, float, float]] = ()) -> str:
    return (
        f'<MidiClip Id="0" Time="{start:g}"><CurrentStart Value="{start:g}"/><CurrentEnd Value="{end:g}"/>'
        f"<Notes><KeyTracks>{notes_xml(list(notes))}</KeyTracks></Notes></MidiClip>"
    )


def audio_clip(start: float, end: float, sample: str = "take.wav") -> str:
    return (
        f'<AudioClip Id="0" Time="{start:g}"><CurrentStart Value="{start:g}"/><CurrentEnd Value="{end:g}"/>'
        f'<SampleRef><FileRef><Name Value="{sample}"/></FileRef></SampleRef></AudioClip>'
    )


def plugin(name: str) -> str:
    info = f'<VstPluginInfo Id="0"><PlugName Value="{name}"/></VstPluginInfo>'
    return f'<PluginDevice Id="0"><PluginDesc>{info}</PluginDesc></PluginDevice>'


def device(tag: str) -> str:
    """A native Live device by its XML tag: "InstrumentVector" (Wavetable), "StringStudio" (Tension)..."""
    return f'<{tag} Id="0"/>'


def track(
    kind: str,
    name: str,
    *,
    id: int = 1,
    devices: str = "",
    arrangement: str = "",
    session: str = "",
    muted=False,
    group: int = -1,
) -> str:
    """kind: "midi" | "audio" | "group"; `arrangement`/`session`: clip XML (midi_clip, audio_clip);
    `group`: the Id of the group track it is in."""
    tag = {"midi": "MidiTrack", "audio": "AudioTrack", "group": "GroupTrack"}[kind]
    return f"""<{tag} Id="{id}">
  <Name><EffectiveName Value="{name}"/><UserName Value="{name}"/></Name>
  <TrackGroupId Value="{group}"/>
  <DeviceChain>
    <Mixer><Speaker><Manual Value="{"false" if muted else "true"}"/></Speaker></Mixer>
    <MainSequencer>
      <ClipSlotList><ClipSlot Id="0"><ClipSlot><Value>{session}</Value></ClipSlot></ClipSlot></ClipSlotList>
      <ClipTimeable><ArrangerAutomation><Events>{arrangement}</Events></ArrangerAutomation></ClipTimeable>
    </MainSequencer>
    <DeviceChain><Devices>{devices}</Devices></DeviceChain>
  </DeviceChain>
</{tag}>"""


def _envelope(target: int, tag: str, events) -> str:
    points = "".join(f'<{tag} Id="{i}" Time="{t:g}" Value="{v:g}"/>' for i, (t, v) in enumerate(events))
    return (
        f'<AutomationEnvelope Id="{target}"><EnvelopeTarget><PointeeId Value="{target}"/></EnvelopeTarget>'
        f"<Automation><Events>{points}</Events></Automation></AutomationEnvelope>"
    )


def live_set(
    tracks: list[str],
    *,
    bpm: float = 120.0,
    meter: str = "4/4",
    tempo: list[tuple[float, float]] = (),
    meters: list[tuple[float, str]] = (),
    locators: list[tuple[float, str]] = (),
    gzipped: bool = False,
) -> bytes:
    """A Live 12 set. `tempo`: automation points (beat, bpm); `meters`: (beat, "N/D") events."""
    envelopes = ""
    if tempo:
        envelopes += _envelope(TEMPO_TARGET, "FloatEvent", tempo)
    if meters:
        envelopes += _envelope(METER_TARGET, "EnumEvent", [(t, meter_code(m)) for t, m in meters])
    marks = "".join(
        f'<Locator Id="{i}"><Time Value="{t:g}"/><Name Value="{n}"/></Locator>' for i, (t, n) in enumerate(locators)
    )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<Ableton MajorVersion="5" Creator="Ableton Live 12.1">
  <LiveSet>
    <Tracks>{"".join(tracks)}</Tracks>
    <MainTrack>
      <AutomationEnvelopes><Envelopes>{envelopes}</Envelopes></AutomationEnvelopes>
      <DeviceChain><Mixer>
        <Tempo><Manual Value="{bpm:g}"/><AutomationTarget Id="{TEMPO_TARGET}"/></Tempo>
        <TimeSignature><Manual Value="{meter_code(meter)}"/><AutomationTarget Id="{METER_TARGET}"/></TimeSignature>
      </Mixer></DeviceChain>
    </MainTrack>
    <Locators><Locators>{marks}</Locators></Locators>
  </LiveSet>
</Ableton>""".encode()
    return gzip.compress(xml, mtime=0) if gzipped else xml


def scale(tonic: int, minor: bool, start: float, bars: int, octave: int = 60) -> list[tuple[int, float, float]]:
    """Notes that show a key clearly: the tonic triad held each bar and the scale run over it,
    `bars` bars of 4 beats from beat `start` (times inside the clip)."""
    steps = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    third = 3 if minor else 4
    out = []
    for bar in range(bars):
        at = start + 4 * bar
        out += [(octave + tonic + s, at, 4.0) for s in (0, third, 7)]
        out += [(octave + 12 + tonic + s, at + k * 0.5, 0.5) for k, s in enumerate(steps)]
    return out
