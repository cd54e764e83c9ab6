"""What the summary says about a set, on small hand-written sets that exercise one structural
feature each, plus the parse_id and schema contracts."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from trainmode.errors import AlsError, ValidationError
from trainmode.sets.als import ParsedSet, parse_als, validate_summary


def live_set(tracks: str = "", master: str = "", extra: str = "", creator: str = "Ableton Live 12.1") -> bytes:
    master = master or MAIN_TRACK.format(meter=201, envelopes="")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Ableton MajorVersion="5" Creator="{creator}">
  <LiveSet>
    <Tracks>{tracks}</Tracks>
    {master}
    {extra}
  </LiveSet>
</Ableton>""".encode()


MAIN_TRACK = """<MainTrack>
  <AutomationEnvelopes><Envelopes>{envelopes}</Envelopes></AutomationEnvelopes>
  <DeviceChain><Mixer>
    <Tempo><Manual Value="120"/><AutomationTarget Id="8"/></Tempo>
    <TimeSignature><Manual Value="{meter}"/><AutomationTarget Id="10"/></TimeSignature>
  </Mixer></DeviceChain>
</MainTrack>"""


def notes(pitch: int, *times: float, duration: float = 1.0) -> str:
    events = "".join(f'<MidiNoteEvent Time="{t}" Duration="{duration}" Velocity="100" NoteId="1"/>' for t in times)
    return f'<KeyTrack><Notes>{events}</Notes><MidiKey Value="{pitch}"/></KeyTrack>'


def midi_clip(end: float, keytracks: str) -> str:
    return f'<MidiClip Id="0"><CurrentStart Value="0"/><CurrentEnd Value="{end}"/><Notes><KeyTracks>{keytracks}</KeyTracks></Notes></MidiClip>'


def track(
    kind: str,
    name: str,
    *,
    id: int = 1,
    group: int = -1,
    speaker: str = "true",
    devices: str = "",
    arrangement: str = "",
    session: str = "",
    take_lanes: str = "",
) -> str:
    return f"""<{kind} Id="{id}">
  <Name><EffectiveName Value="{name}"/><UserName Value=""/></Name>
  <TrackGroupId Value="{group}"/>
  <TakeLanes><TakeLanes><TakeLane Id="0"><ClipAutomation><Events>{take_lanes}</Events></ClipAutomation></TakeLane></TakeLanes></TakeLanes>
  <DeviceChain>
    <Mixer><Speaker><Manual Value="{speaker}"/></Speaker></Mixer>
    <MainSequencer>
      <ClipSlotList><ClipSlot Id="0"><ClipSlot><Value>{session}</Value></ClipSlot></ClipSlot></ClipSlotList>
      <ClipTimeable><ArrangerAutomation><Events>{arrangement}</Events></ArrangerAutomation></ClipTimeable>
    </MainSequencer>
    <DeviceChain><Devices>{devices}</Devices></DeviceChain>
  </DeviceChain>
</{kind}>"""


def rack(tag: str, *chains: str) -> str:
    branches = "".join(
        f"<Branch><DeviceChain><AudioToAudioDeviceChain><Devices>{c}</Devices></AudioToAudioDeviceChain></DeviceChain>"
        '<MixerDevice><Speaker><Manual Value="false"/></Speaker></MixerDevice></Branch>'
        for c in chains
    )
    return f"<{tag}><Branches>{branches}</Branches></{tag}>"


VST3 = '<PluginDevice Id="3"><PluginDesc><Vst3PluginInfo Id="0"><Name Value="Pro-Q 3"/></Vst3PluginInfo></PluginDesc></PluginDevice>'
VST2 = '<PluginDevice Id="4"><PluginDesc><VstPluginInfo Id="0"><PlugName Value="Serum"/><Preset><VstPreset><Buffer>00FF</Buffer></VstPreset></Preset></VstPluginInfo></PluginDesc></PluginDevice>'
AU = '<AuPluginDevice Id="5"><PluginDesc><AuPluginInfo Id="0"><Name Value="AUBandpass"/></AuPluginInfo></PluginDesc></AuPluginDevice>'
C_MAJOR_SCALE = (
    "".join(notes(p, 0, 1, 2) for p in (60, 62, 64, 65, 67, 69, 71)) + notes(60, 4, 5, 6, 7) + notes(67, 8, 9)
)


def summarise(data: bytes) -> dict:
    summary = parse_als(data, filename="test.als").summary
    return validate_summary(summary)


def test_tracks_groups_mute_and_counts():
    tracks = (
        track("GroupTrack", "Drums", id=10)
        + track("AudioTrack", "Kick", id=11, group=10, speaker="false")
        + track("MidiTrack", "Keys", id=12)
        + track("ReturnTrack", "A-Reverb", id=13)
    )
    summary = summarise(live_set(tracks))
    assert summary["track_counts"] == {"audio": 1, "midi": 1, "group": 1, "return": 1}
    by_name = {t["name"]: t for t in summary["tracks"]}
    assert [t["name"] for t in summary["tracks"]] == ["Drums", "Kick", "Keys", "A-Reverb"]
    assert by_name["Kick"]["group"] == "Drums" and by_name["Keys"]["group"] is None
    assert by_name["Kick"]["muted"] is True and by_name["Keys"]["muted"] is False
    assert by_name["A-Reverb"]["type"] == "return"


def test_devices_in_rack_chains_belong_to_the_track_and_plugins_are_named():
    devices = (
        "<Operator/>"
        + rack("AudioEffectGroupDevice", "<Eq8/>" + VST3, rack("AudioEffectGroupDevice", AU))
        + VST2
        + "<OriginalSimpler/><OriginalSimpler/>"
    )
    summary = summarise(live_set(track("MidiTrack", "Lead", devices=devices)))
    lead = summary["tracks"][0]
    # Chain order, each name once; the rack's MixerDevice is not a device.
    assert lead["devices"] == ["Operator", "Audio Effect Rack", "EQ Eight", "Simpler"]
    assert lead["plugins"] == ["Pro-Q 3", "AUBandpass", "Serum"]
    assert summary["plugins"] == ["AUBandpass", "Pro-Q 3", "Serum"]
    assert summary["devices"] == ["Audio Effect Rack", "EQ Eight", "Operator", "Simpler"]
    assert lead["muted"] is False  # the rack chain's Speaker is not the track's


def test_external_and_max_devices_are_named_and_instruments_are_families():
    max_poli = (
        '<MxDeviceInstrument Id="1"><PatchSlot><Value><MxDPatchRef Id="0"><FileRef>'
        '<Path Value="/Users/me/Max/Poli.amxd"/></FileRef></MxDPatchRef></Value></PatchSlot></MxDeviceInstrument>'
    )
    tracks = track(
        "MidiTrack",
        "1-MIDI",
        id=1,
        devices=max_poli + "<ProxyAudioEffectDevice/>",
        arrangement=midi_clip(16, notes(60, 0)),
    ) + track(
        "AudioTrack",
        "Voc",
        id=2,
        devices="<ProxyInstrumentDevice/>",
        arrangement='<AudioClip Id="1"><CurrentStart Value="0"/><CurrentEnd Value="8"/></AudioClip>',
    )
    summary = summarise(live_set(tracks))
    assert summary["tracks"][0]["devices"] == ["Poli", "External Audio Effect"]
    assert summary["tracks"][1]["devices"] == ["External Instrument"]
    # 16 beats of the Max synth, 8 of vocals at 120 BPM; device names stay devices.
    assert summary["instruments"] == [{"family": "synth", "seconds": 8.0}, {"family": "vocals", "seconds": 4.0}]


def test_take_lane_clips_are_not_arrangement_clips():
    summary = summarise(
        live_set(
            track(
                "MidiTrack",
                "Keys",
                arrangement=midi_clip(16, notes(60, 0, 1)),
                session=midi_clip(4, notes(64, 0)),
                take_lanes=midi_clip(64, notes(72, 0, 1, 2, 3, 4)),
            )
        )
    )
    keys = summary["tracks"][0]
    assert keys["clip_count"] == 2 and keys["note_count"] == 3
    assert summary["length"] == {"beats": 16.0, "seconds": 8.0, "bars": 4.0}
    assert summary["notes"] == {"count": 3, "pitch_min": 60, "pitch_max": 64, "density": 0.125}


def test_key_from_notes_ignores_drum_tracks():
    tracks = track("MidiTrack", "Keys", id=1, arrangement=midi_clip(16, C_MAJOR_SCALE)) + track(
        "MidiTrack",
        "Beat",
        id=2,
        devices="<DrumGroupDevice/>",
        arrangement=midi_clip(16, notes(37, *range(16)) + notes(42, *range(16))),
    )
    summary = summarise(live_set(tracks))
    assert summary["key"]["tonic"] == "C" and summary["key"]["mode"] == "major"
    assert summary["key"]["source"] == "midi_notes" and summary["key"]["confidence"] >= 0.6


def test_key_falls_back_to_a_chosen_scale_never_to_the_default():
    scale = '<ScaleInformation><RootNote Value="9"/><Name Value="Minor"/></ScaleInformation>'
    assert summarise(live_set(extra=scale))["key"] == {
        "tonic": "A",
        "mode": "minor",
        "name": "A minor",
        "confidence": 0.6,
        "source": "scale_information",
    }
    sharp = '<ScaleInformation><RootNote Value="1"/><Name Value="Minor"/></ScaleInformation>'
    assert summarise(live_set(extra=sharp))["key"]["name"] == "C# minor"  # not "Db minor"
    live12_default = '<ScaleInformation><Root Value="0"/><Name Value="0"/></ScaleInformation>'
    assert summarise(live_set(extra=live12_default))["key"] is None  # every new set says C major
    assert summarise(live_set())["key"] is None


def test_key_needs_enough_notes_and_pitch_classes_and_audible_tracks():
    three_a = notes(57, 0, 1, 2)  # three notes, all the same pitch: no key
    assert summarise(live_set(track("MidiTrack", "Keys", arrangement=midi_clip(8, three_a))))["key"] is None
    muted = track("MidiTrack", "Keys", speaker="false", arrangement=midi_clip(16, C_MAJOR_SCALE))
    assert summarise(live_set(muted))["key"] is None
    # A MIDI track whose output feeds the drum track plays drum pads, not pitches.
    feeder = track("MidiTrack", "Notes", id=1, arrangement=midi_clip(16, C_MAJOR_SCALE)).replace(
        "<MainSequencer>",
        '<MidiOutputRouting><Target Value="MidiOut/Track.2/TrackIn"/></MidiOutputRouting><MainSequencer>',
    )
    player = track("MidiTrack", "Player", id=2, devices="<DrumGroupDevice/>")
    assert summarise(live_set(feeder + player))["key"] is None
    assert summarise(live_set(feeder.replace("Track.2", "Track.9") + player))["key"]["name"] == "C major"


def test_meter_locators_and_tempo_automation():
    envelope = """<AutomationEnvelope Id="0"><EnvelopeTarget><PointeeId Value="8"/></EnvelopeTarget>
      <Automation><Events><FloatEvent Id="1" Time="-63072000" Value="120"/><FloatEvent Id="2" Time="6" Value="120"/>
      <FloatEvent Id="3" Time="6" Value="60"/></Events></Automation></AutomationEnvelope>"""
    locators = """<Locators><Locators><Locator Id="1"><Time Value="12"/><Name Value="Drop"/></Locator>
      <Locator Id="0"><Time Value="0"/><Name Value="Intro"/></Locator></Locators></Locators>"""
    summary = summarise(live_set(master=MAIN_TRACK.format(meter=302, envelopes=envelope), extra=locators))
    assert summary["time_signature"] == "6/8"  # 302 = (6 - 1) + 99 * log2(8)
    # 6 beats at 120 (3 s) then a jump to 60: 6 beats (6 s); a 6/8 bar is 3 quarter notes.
    assert summary["locators"] == [
        {"time": 0.0, "name": "Intro", "seconds": 0.0},
        {"time": 12.0, "name": "Drop", "seconds": 9.0},
    ]
    assert summary["tempo"] == {
        "bpm": 120.0,
        "automated": True,
        "min": 60.0,
        "max": 120.0,
        "dominant_bpm": 60.0,  # 6 s at 60 BPM against 3 s at 120
        "map": [
            {"beat": 0.0, "seconds": 0.0, "bpm": 120.0},
            {"beat": 6.0, "seconds": 3.0, "bpm": 120.0},
            {"beat": 6.0, "seconds": 3.0, "bpm": 60.0},
        ],
    }
    assert summary["length"] == {"beats": 12.0, "seconds": 9.0, "bars": 4.0}
    assert summary["time_signatures"] == [{"beat": 0.0, "time_signature": "6/8"}]


def test_a_note_length_that_is_not_a_number_is_one_clear_error():
    bad = notes(60, 0, 1).replace('Duration="1.0"', 'Duration="long"', 1)
    with pytest.raises(AlsError, match="test.als is damaged: a MIDI note length is 'long', which is not a number"):
        parse_als(live_set(track("MidiTrack", "Keys", arrangement=midi_clip(8, bad))), filename="test.als")


def test_live8_layout():
    tracks = """<AudioTrack Id="3"><Name><UserName Value="Vox"/></Name><TrackGroupId Value="-1"/>
      <DeviceChain><Mixer><Speaker><ArrangerAutomation><Events><BoolEvent Time="-63072000" Value="false"/></Events>
      </ArrangerAutomation></Speaker></Mixer>
      <MainSequencer><Sample><ArrangerAutomation><Events><AudioClip Time="0"><CurrentEnd Value="32"/>
      <SampleRef><FileRef><RelativePath><RelativePathElement Dir="Samples"/></RelativePath><Name Value="vox take 3.wav"/>
      </FileRef></SampleRef></AudioClip></Events></ArrangerAutomation></Sample></MainSequencer></DeviceChain></AudioTrack>"""
    master = """<MasterTrack><Name><UserName Value=""/></Name><MasterChain><Mixer>
      <Tempo><ArrangerAutomation><Events><FloatEvent Time="-63072000" Value="138"/></Events></ArrangerAutomation></Tempo>
      <TimeSignature><ArrangerAutomation><Events><EnumEvent Time="-63072000" Value="200"/></Events></ArrangerAutomation></TimeSignature>
      </Mixer></MasterChain></MasterTrack>"""
    summary = summarise(live_set(tracks, master=master, creator="Ableton Live 8.2.1"))
    assert summary["live_version"] == "8.2.1"
    assert summary["tempo"]["bpm"] == 138.0 and summary["time_signature"] == "3/4"
    assert summary["tracks"][0]["name"] == "Vox" and summary["tracks"][0]["muted"] is True
    assert summary["samples"] == ["vox take 3.wav"]
    assert summary["length"]["bars"] == pytest.approx(32 / 3, abs=1e-3)


def test_samples_are_file_names_never_paths():
    refs = "".join(
        f'<AudioClip><CurrentEnd Value="4"/><SampleRef><FileRef><RelativePath Value="{rel}"/><Path Value="{path}"/></FileRef>'
        '<SourceContext><SourceContext><OriginalFileRef><FileRef><Path Value="/secret/original.wav"/></FileRef>'
        "</OriginalFileRef></SourceContext></SourceContext></SampleRef></AudioClip>"
        for rel, path in (
            ("Samples/Imported/kick.wav", "/Users/me/Music/Project/Samples/Imported/kick.wav"),
            ("", "C:\\Users\\me\\Splice\\snare 01.wav"),
        )
    )
    summary = summarise(live_set(track("AudioTrack", "Drums", arrangement=refs)))
    assert summary["samples"] == ["kick.wav", "snare 01.wav"]


def test_parse_id_is_deterministic_and_content_based(tmp_path):
    data = gzip.compress(live_set(track("MidiTrack", "Keys")), mtime=0)
    path = tmp_path / "sub" / "My Song.als"
    path.parent.mkdir()
    path.write_bytes(data)
    runs = [parse_als(path), parse_als(path), parse_als(data, filename="other.als"), parse_als(io.BytesIO(data))]
    assert len({r.parse_id for r in runs}) == 1
    assert len(runs[0].parse_id) == 32 and runs[0].sha256.startswith(runs[0].parse_id)
    assert runs[0] == runs[1]  # the whole result is reproducible, not just the id
    renamed = parse_als(gzip.compress(live_set(track("MidiTrack", "Keys 2")), mtime=0))
    assert renamed.parse_id != runs[0].parse_id


def test_filename_is_only_the_base_name(tmp_path):
    data = live_set()
    assert parse_als(data, filename="/home/artist/sets/Song.als").filename == "Song.als"
    assert parse_als(data, filename="C:\\Users\\artist\\Song.als").filename == "Song.als"
    (tmp_path / "Set.als").write_bytes(data)
    assert parse_als(tmp_path / "Set.als").filename == "Set.als"
    assert parse_als(str(tmp_path / "Set.als")).filename == "Set.als"


def test_gzip_and_plain_xml_give_the_same_summary():
    data = live_set(track("MidiTrack", "Keys", arrangement=midi_clip(8, C_MAJOR_SCALE)))
    plain, packed = parse_als(data), parse_als(gzip.compress(data))
    assert isinstance(plain, ParsedSet)
    assert plain.summary == packed.summary
    assert plain.parse_id != packed.parse_id  # the id is of the file's bytes


def test_validate_summary_rejects_off_contract_summaries():
    summary = summarise(live_set(track("AudioTrack", "Kick")))
    assert validate_summary(json.loads(json.dumps(summary))) == summary
    broken = json.loads(json.dumps(summary))
    broken["samples"] = ["/Users/me/kick.wav"]
    with pytest.raises(ValidationError, match="samples/0"):
        validate_summary(broken)
    broken = json.loads(json.dumps(summary))
    broken["tracks"][0]["type"] = "master"
    with pytest.raises(ValidationError, match="tracks/0/type"):
        validate_summary(broken)
    with pytest.raises(ValidationError, match="top level"):
        validate_summary({"schema_version": 1})
