"""Issue 26: every fact a row states is true of its own stretch of music. Per-section tempo,
meters, key and players; instruments from evidence (devices and notes outrank names; only what
plays in the arrangement); meters outside the arrangement ignored; one SetFacts and one key
spelling for every consumer (issue 25). Sets are written here (tests/als_synth.py) so that each
expectation can be checked by hand; the last tests run over every shared corpus set."""

from __future__ import annotations

import pytest

from tests.als_synth import audio_clip, device, live_set, midi_clip, plugin, scale, track
from tests.corpus import CORPUS, EXPECTED, summary_of
from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.audio.analysis.verdict import compare
from trainmode.captions.factcheck import check_caption
from trainmode.captions.writers import OfflineWriter
from trainmode.captions.writers.context import build_context
from trainmode.clips import plan as clips
from trainmode.clips.captions import caption_clips
from trainmode.export import rows
from trainmode.export.clip_rows import plan_clip_rows
from trainmode.export.formats import ace_step
from trainmode.sets.als import parse_als, validate_summary
from trainmode.sets.als.families import families_in
from trainmode.sets.als.key import key_name, spell_key
from trainmode.sets.facts import SetFacts, label, section_summary
from trainmode.tables import summaries_frame

BEAT = 0.5  # seconds per beat at the sets' 120 BPM


def summarise(data: bytes) -> dict:
    return validate_summary(parse_als(data, filename="set.als").summary)


def drums(start: float, end: float, id: int = 1) -> str:
    kicks = [(36, float(b), 0.25) for b in range(int(end - start))]
    return track("midi", "Drums", id=id, devices=device("DrumGroupDevice"), arrangement=midi_clip(start, end, kicks))


def item_for(summary: dict, duration_s: float, **meta) -> tuple[rows.Row, dict]:
    item = {
        "id": "item-1",
        "audio_path": "a.mp3",
        "prompt_text": "A caption.",
        "als_summary_id": "s1",
        "audio_duration_s": duration_s,
        "metadata": meta,
    }
    return rows.row_for(1, item, summary, {"genres": ["house"]}, artist="artist-x"), item


def clip_facts(summary: dict, duration_s: float, mode: str = "sections", **meta) -> list[rows.Row]:
    row, item = item_for(summary, duration_s, **meta)
    return plan_clip_rows([row], {item["id"]: item}, {"s1": summary}, {}, mode=mode).rows


# ---- per-section facts ----------------------------------------------------------------------
def test_a_tempo_jump_on_a_locator_belongs_to_the_next_section_only():
    # 90 BPM to beat 16, where the tempo jumps to 180 exactly on the "Drop" locator. The intro
    # is 16 beats at 90 (10.667 s), the drop 16 beats at 180 (5.333 s): each holds ONE tempo.
    data = live_set(
        [drums(0, 32)],
        bpm=90,
        tempo=[(-63072000, 90), (16, 90), (16, 180)],
        locators=[(0, "Intro"), (16, "Drop")],
    )
    summary = summarise(data)
    intro, drop = (SetFacts.from_summary(section_summary(summary, s)) for s in summary["sections"])
    assert (intro.bpm, intro.tempo_changes, intro.tempo_values) == (90, False, (90.0,))
    assert (drop.bpm, drop.tempo_changes, drop.tempo_values) == (180, False, (180.0,))
    captions = caption_clips(OfflineWriter(), summary, clips.plan_clips(summary, 16.0), {})
    for caption, bpm in zip(captions, (90, 180), strict=True):
        text = " ".join([caption["caption"], *caption["variants"].values()])
        tags = [t.strip() for t in caption["variants"]["tags"].split(",")]
        assert "tempo changes" not in tags and f"{bpm} bpm" in tags  # a steady tempo goes unsaid (filler)
        assert "90-180" not in text and "mostly at" not in text and "with tempo changes" not in text
        assert caption["findings"] == []
    assert [r.facts.bpm for r in clip_facts(summary, 16.0)] == [90.0, 180.0]


def test_windows_take_the_tempo_of_their_own_stretch_and_stay_under_30_s():
    # One 96-beat section: 32 beats at 120 BPM (16 s), then a jump to 60 for 64 beats (64 s).
    # 80 s in all: three windows of 26.67 s. The first spends 16 s at 120 and 10.67 s at 60, so
    # 120 is its tempo although the section's is 60; the other two lie wholly at 60.
    summary = summarise(live_set([drums(0, 96)], tempo=[(-63072000, 120), (32, 120), (32, 60)]))
    assert len(summary["sections"]) == 1 and summary["length"]["seconds"] == 80.0
    windows = clip_facts(summary, 80.0, mode="windows")
    assert [round(r.duration_s, 2) for r in windows] == [26.67, 26.67, 26.67]
    assert [r.facts.bpm for r in windows] == [120.0, 60.0, 60.0]


def test_a_section_states_only_who_plays_its_own_key_and_meter():
    # Three 16-beat sections at 120 BPM (8 s each). A: a Serum bass alone, playing C minor
    # (tonic triad + the scale, 4 bars). B: drums + "Keys" (Electric) in E major. C: drums alone,
    # in 7/8 from beat 32 (a meter event exactly on the locator), then 5/4 from beat 40. A's key
    # is C minor, B's E major; C has no pitched notes and so no key.
    bass = track("midi", "Bass", id=2, devices=plugin("Serum"), arrangement=midi_clip(0, 16, scale(0, True, 0, 4, 36)))
    keys = track(
        "midi", "Keys", id=3, devices=device("LoungeLizard"), arrangement=midi_clip(16, 32, scale(4, False, 0, 4))
    )
    data = live_set(
        [bass, keys, drums(16, 48)],
        meters=[(-63072000, "4/4"), (32, "7/8"), (40, "5/4")],
        locators=[(0, "A"), (16, "B"), (32, "C")],
    )
    summary = summarise(data)
    expected = [
        (["bass"], "C minor", "4/4"),
        (["drums", "keys"], "E major", "4/4"),  # named "Keys": the name says the part
        (["drums"], None, "7/8"),
    ]
    got = [(r.facts.instruments, r.facts.key, r.facts.time_signature) for r in clip_facts(summary, 24.0)]
    assert [(sorted(i), k, m) for i, k, m in got] == [(sorted(i), k, m) for i, k, m in expected]
    assert [r.facts.bpm for r in clip_facts(summary, 24.0)] == [120.0, 120.0, 120.0]
    # The whole track states all three meters; each section only those in force in it: C starts
    # in 7/8 and turns 5/4 at beat 40, halfway through.
    assert SetFacts.from_summary(summary).meters == ("4/4", "7/8", "5/4")
    scoped = [SetFacts.from_summary(section_summary(summary, s)).meters for s in summary["sections"]]
    assert scoped == [("4/4",), ("4/4",), ("7/8", "5/4")]


def test_clip_captions_claim_no_instrument_of_another_section():
    bass = track("midi", "Bass", id=2, devices=plugin("Serum"), arrangement=midi_clip(0, 16, scale(0, True, 0, 4, 36)))
    summary = summarise(live_set([bass, drums(16, 32)], locators=[(0, "A"), (16, "B")]))
    first, second = caption_clips(OfflineWriter(), summary, clips.plan_clips(summary, 16.0), {})
    assert "drum" not in first["caption"].lower() and "bass" in first["caption"].lower()
    assert "bass" not in second["caption"].lower()
    # The checker reads the section too: drums in the bass-only section are a finding.
    scoped = section_summary(summary, summary["sections"][0])
    assert "unsupported_instrument" in [f.code for f in check_caption("Punchy drums and a deep bass.", scoped)]


# ---- evidence over names ----------------------------------------------------------------------
def test_devices_and_notes_outrank_track_names():
    # "Voice" holds Tension (a modelled string): strings, not vocals. "808" plays a Serum sub
    # bass at MIDI 33-44: bass, not drums. A "Kick" on Simpler at MIDI 36 stays drums (one pitch,
    # a sampler). A "Nylon Guitar" preset on Tension stays a guitar (the name says the part).
    voice = track(
        "midi", "Voice", id=1, devices=device("StringStudio"), arrangement=midi_clip(0, 16, scale(0, False, 0, 4))
    )
    sub = [(p, float(i), 1.0) for i, p in enumerate((33, 36, 40, 44))]
    eight = track("midi", "808", id=2, devices=plugin("Serum"), arrangement=midi_clip(0, 16, sub))
    kick = track("midi", "Kick", id=3, devices=device("OriginalSimpler"), arrangement=midi_clip(0, 16, [(36, 0, 1)]))
    nylon = track(
        "midi", "Nylon Guitar", id=4, devices=device("StringStudio"), arrangement=midi_clip(0, 16, [(60, 0, 1)])
    )
    summary = summarise(live_set([voice, eight, kick, nylon]))
    families = {f["family"] for f in summary["instruments"]}
    assert families == {"strings", "bass", "drums", "guitar"}
    assert not SetFacts.from_summary(summary).vocals


def test_a_tracks_own_evidence_outranks_its_groups_name():
    # Deliverance's "R Gt"/"L Gt" play Guitar Rig inside a group "Chords" (a synth word): guitars.
    # A track with nothing of its own takes the group's name; a synth in a "Bass" group plays the
    # bass (a synth plays any part, as a track called "Sub Bass" on Operator is the bass).
    chords, bass = track("group", "Chords", id=10), track("group", "Bass", id=20)
    guitar = track("audio", "R Gt", id=1, group=10, devices=plugin("Guitar Rig 5"), arrangement=audio_clip(0, 16))
    rig = track("audio", "Audio 2", id=2, group=10, devices=plugin("Guitar Rig 5"), arrangement=audio_clip(16, 32))
    plain = track("audio", "Audio 3", id=3, group=10, arrangement=audio_clip(32, 48, "Audio 3 take.wav"))
    serum = track("midi", "4-MIDI", id=4, group=20, devices=plugin("Serum"), arrangement=midi_clip(48, 64))
    summary = summarise(
        live_set([chords, guitar, rig, plain, bass, serum], locators=[(0, "A"), (16, "B"), (32, "C"), (48, "D")])
    )
    assert [s["instruments"] for s in summary["sections"]] == [["guitar"], ["guitar"], ["synth"], ["bass"]]


@pytest.mark.parametrize("name", ["Gt", "L Gt", "Gtr", "Gtrs", "Rhythm Gtr 2"])
def test_guitar_abbreviations(name):
    assert families_in(name) == ["guitar"]


def test_only_what_plays_in_the_arrangement_counts():
    # A piano heard only in a session clip is not in any render of the arrangement.
    piano = track("midi", "Piano", id=2, session=midi_clip(0, 16, [(60, 0, 1)]))
    summary = summarise(live_set([drums(0, 16), piano]))
    assert summary["instruments"] == [{"family": "drums", "seconds": 8.0}]
    # A summary stored before this rule keeps the 0-second family; SetFacts leaves it out.
    stored = {**summary, "instruments": [*summary["instruments"], {"family": "piano", "seconds": 0.0}]}
    assert SetFacts.from_summary(stored).instruments == ("drums",)


def test_the_profile_never_puts_instruments_into_a_row():
    summary = summarise(live_set([drums(0, 16)]))
    row = rows.row_for(
        1, {"id": "i", "audio_path": "a", "prompt_text": "x"}, summary, {"instruments": ["guitar"]}, artist="a"
    )
    assert row.facts.instruments == ("drums",)


def test_meter_events_outside_the_arrangement_do_not_count():
    # Transport 8/8; the envelope's only event is Live's default before the song (beat -63072),
    # saying 4/4: the transport meter stands, in the summary, the row, ACE-Step and the tags.
    summary = summarise(live_set([drums(0, 16)], meter="8/8", meters=[(-63072000, "4/4")]))
    assert summary["time_signatures"] == [{"beat": 0.0, "time_signature": "8/8"}]
    row, _ = item_for(summary, 8.0)
    assert row.facts.time_signature == "8/8" and ace_step.metas(row)["timesignature"] is None  # ACE-Step: 2/3/4/6
    assert "4/4" not in OfflineWriter().write(summary, {}).variants["tags"]
    # 14 meter changes after the arrangement's end (beat 16) are never heard: one meter.
    late = [(-63072000, "4/4"), *((16.0 + 4 * i, ("7/8", "5/4")[i % 2]) for i in range(14))]
    summary = summarise(live_set([drums(0, 16)], meters=late))
    assert SetFacts.from_summary(summary).meters == ("4/4",)
    assert "different meters" not in OfflineWriter().write(summary, {}).text
    # A summary stored before the rule still holds them: SetFacts drops them on reading.
    stored = {
        **summary,
        "time_signatures": [{"beat": 0.0, "time_signature": "4/4"}, {"beat": 20.0, "time_signature": "7/8"}],
    }
    assert SetFacts.from_summary(stored).meters == ("4/4",)


def test_vocals_come_from_a_vocal_track_that_plays():
    vox = track("audio", "Lead Vox", id=2, arrangement=audio_clip(0, 16))
    sung = summarise(live_set([drums(0, 16), vox]))
    row, _ = item_for(sung, 8.0)
    assert SetFacts.from_summary(sung).vocals and row.facts.vocals
    assert ace_step.metas(row)["language"] == "unknown"  # sung, words unknown: never "instrumental"
    # The same vocal track with only a session clip is not in the render: instrumental.
    idle = summarise(live_set([drums(0, 16), track("audio", "Lead Vox", id=2, session=audio_clip(0, 16))]))
    row, _ = item_for(idle, 8.0)
    assert not row.facts.vocals and ace_step.metas(row)["language"] == "instrumental"


# ---- one SetFacts, one key spelling (issue 25) --------------------------------------------------
V1_AUTOMATED = {
    "schema_version": 1,
    "tempo": {"bpm": 126.0, "automated": True, "min": 120.0, "max": 140.0},
    "time_signature": "4/4",
    "key": None,
    "length": {"beats": 256.0, "seconds": 120.0, "bars": 64.0},
    "track_counts": {"audio": 1, "midi": 2, "group": 0, "return": 0},
    "tracks": [
        {"name": "Pad", "type": "midi", "devices": ["Operator"], "clip_count": 1},
        {"name": "Drums", "type": "midi", "devices": ["Drum Rack"], "clip_count": 6},
        {"name": "Vox", "type": "audio", "devices": [], "clip_count": 3},
    ],
    "locators": [],
}


def test_a_v1_summary_with_tempo_automation_has_one_reading():
    # Without a tempo map, which tempo plays most is unknown: the transport's 126 is never stated
    # (the writers' old view said None, the Library's 126), and instruments rank by clip count.
    facts = SetFacts.from_summary(V1_AUTOMATED)
    assert (facts.bpm, facts.dominant_bpm, facts.transport_bpm) == (None, None, 126.0)
    assert facts.tempo_changes and (facts.tempo_low, facts.tempo_high) == (120, 140)
    assert facts.instruments == ("drums", "vocals", "pad")
    assert facts.caption_metadata()["bpm"] is None
    assert rows.set_facts(V1_AUTOMATED, {})["bpm"] is None
    assert rows.set_facts(V1_AUTOMATED, {})["instruments"] == ["drums", "vocals", "pads"]
    context = build_context(V1_AUTOMATED)
    assert "instruments, longest-playing first: drums, vocals, pad" in context and "126" not in context
    assert "126" not in OfflineWriter().write(V1_AUTOMATED, {}).text


def test_every_consumer_spells_a_key_the_same_way():
    assert (key_name(1, "major"), key_name(1, "minor")) == ("Db major", "C# minor")
    assert spell_key("C# major") == "Db major" and spell_key("Db minor") == "C# minor"
    summary = {**V1_AUTOMATED, "key": {"tonic": "C#", "mode": "major", "confidence": 0.8, "source": "midi_notes"}}
    assert SetFacts.from_summary(summary).key == "Db major"  # the Library, the writers, the rows
    assert (
        summaries_frame([{"summary": summary, "als_filename": "x.als", "parse_id": "p"}]).iloc[0]["key"] == "Db major"
    )
    assert "Db major" in OfflineWriter().write(summary, {}).variants["tags"]
    [finding] = [
        f
        for f in check_caption("A long and warm track in D major with drums and vox.", summary)
        if f.code == "key_mismatch"
    ]
    assert finding.message.endswith("the set is in Db major.")
    assert rows.set_facts(summary, {})["key"] == "Db major"
    heard = AudioAnalysis(120, 44100, 2, None, None, "C# major", 0.95, -10, 5, -1, 0, 0, 0, False, True, 0.9)
    assert compare(heard, set_key="Db major").agreements == ("Key agrees: Db major.",)  # not "C# major"


# ---- every corpus set ---------------------------------------------------------------------------
def _tempo_values_in(summary: dict, start: float, end: float) -> list[float]:
    """Independently of the code under test: the map points inside [start, end) and the last one
    at or before `start` (a ramp's values lie between its points)."""
    points = [(p["beat"], p["bpm"]) for p in summary["tempo"]["map"]]
    before = [v for b, v in points if b <= start]
    return [before[-1] if before else points[0][1], *(v for b, v in points if start < b < end)]


def _meter_at(summary: dict, beat: float) -> str:
    end = summary["length"]["beats"]
    events = [m for m in summary["time_signatures"] if m["beat"] < end]
    if len(events) <= 1:
        return summary["time_signature"]
    return [m["time_signature"] for m in events if m["beat"] <= beat][-1]


@pytest.mark.skipif(not EXPECTED, reason=f"no .als corpus at {CORPUS}")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_clip_row_carries_only_its_sections_facts(name):
    summary = summary_of(name)
    duration = summary["length"]["seconds"]
    for clip in clip_facts(summary, duration):
        # The clip's section, found from its own start in the render (no offset here).
        section = next(s for s in clips.merged_sections(summary) if s["end_s"] > clip.source["start_s"] + 1e-6)
        values = _tempo_values_in(summary, section["start_beat"], section["end_beat"])
        assert min(values) - 0.01 <= clip.facts.bpm <= max(values) + 0.01, (section["name"], clip.facts.bpm, values)
        if len(set(values)) == 1 and len({p["bpm"] for p in summary["tempo"]["map"]}) == 1:
            assert clip.facts.bpm == round(values[0], 2)
        assert clip.facts.instruments == tuple(label(f) for f in section["instruments"])
        assert clip.facts.time_signature == _meter_at(summary, section["start_beat"])
        assert clip.facts.key == ((section.get("key") or {}).get("name"))
