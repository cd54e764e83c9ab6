"""Section clips (issue 16): plans at section times, frame-exact cuts that decode on their own,
and captions that say only what plays in the section."""

from __future__ import annotations

import io
import re

import miniaudio
import mutagen.mp3
import numpy as np
import pytest
from audio_synth import encode, song
from summaries_v2 import steady, v2_summary

from trainmode.audio import frames as mp3cut
from trainmode.captions.factcheck import check_caption
from trainmode.captions.writers import OfflineWriter
from trainmode.clips import plan as clips
from trainmode.clips.captions import caption_clips, clip_label
from trainmode.errors import ValidationError
from trainmode.sets.als.timing import TempoMap
from trainmode.sets.facts import section_summary

RATE = 44100


def _sections(names_beats: list[tuple[str, float]], end_beat: float, tempo: TempoMap) -> list[dict]:
    out = []
    for (name, start), following in zip(names_beats, [*names_beats[1:], ("", end_beat)], strict=False):
        out.append(
            {
                "name": name,
                "start_beat": start,
                "end_beat": following[1],
                "start_s": round(tempo.seconds_at(start), 3),
                "end_s": round(tempo.seconds_at(following[1]), 3),
                "tracks": ["Kit", "Sub"],
                "instruments": ["drums", "bass"],
            }
        )
    return out


CONSTANT = TempoMap([(0.0, 120.0)], 120.0)
AUTOMATED = TempoMap([(0.0, 100.0), (32.0, 100.0), (64.0, 140.0)], 100.0)  # a ramp from beat 32 to 64
LOCATORS = [("Intro", 0.0), ("Build", 16.0), ("Drop", 40.0), ("Break", 56.0), ("Outro", 72.0)]


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(
        miniaudio.decode(data, nchannels=1, sample_rate=RATE, output_format=miniaudio.SampleFormat.SIGNED16).samples,
        dtype=np.int32,
    )


@pytest.mark.parametrize("tempo", [CONSTANT, AUTOMATED], ids=["constant", "automated"])
def test_clips_cut_at_section_times_decode_alone_and_cover_the_render(tempo):
    sections = _sections(LOCATORS, 88.0, tempo)
    render = encode(song(120, "A minor", sections[-1]["end_s"]), kbps=192)
    index = mp3cut.scan(io.BytesIO(render))
    plan = clips.plan_clips({"sections": sections}, index.duration_s)
    assert [c.name for c in plan] == [n for n, _ in LOCATORS]
    whole = _decode(render)
    total = 0.0
    for clip, (first, last), section in zip(plan, clips.frames_of(index, plan), sections, strict=True):
        assert abs(first * index.frame_seconds - section["start_s"]) <= index.frame_seconds
        if clip is not plan[-1]:
            assert abs(last * index.frame_seconds - section["end_s"]) <= index.frame_seconds
        data = b"".join(clips.cut(io.BytesIO(render), index, (first, last)))
        length = mutagen.mp3.MP3(io.BytesIO(data)).info.length
        assert length == pytest.approx((last - first) * index.frame_seconds, abs=1e-6)
        total += length
        pcm = _decode(data)  # from its first frame: the same samples as the whole render decoded
        assert len(pcm) == (last - first) * index.samples_per_frame - 529
        start = first * index.samples_per_frame + 529
        assert np.abs(pcm - whole[start : start + len(pcm)]).max() == 0
    assert total == pytest.approx(mutagen.mp3.MP3(io.BytesIO(render)).info.length, abs=0.1)


def test_windows_stay_inside_sections_and_are_at_most_30_s():
    sections = [
        {"name": "A", "start_beat": 0, "end_beat": 1, "start_s": 0.0, "end_s": 64.0},
        {"name": "B", "start_beat": 1, "end_beat": 2, "start_s": 64.0, "end_s": 66.0},  # < 5 s: merged
        {"name": "C", "start_beat": 2, "end_beat": 3, "start_s": 66.0, "end_s": 100.0},
    ]
    plan = clips.plan_clips({"sections": sections}, 100.0, mode="windows", window_s=30)
    # A (with B merged in) is 66 s: three equal windows of 22 s; C is 34 s: two of 17 s. A 30 s
    # window and a 4 s remainder folded into it would be 34 s, over the documented 30.
    assert [(c.name, c.start_s, c.end_s) for c in plan] == [
        ("A", 0.0, 22.0),
        ("A", 22.0, 44.0),
        ("A", 44.0, 66.0),
        ("C", 66.0, 83.0),
        ("C", 83.0, 100.0),
    ]
    assert max(c.duration_s for c in plan) <= 30.0


def test_the_window_length_is_chosen_and_windows_still_stay_inside_sections():
    sections = [
        {"name": "A", "start_beat": 0, "end_beat": 1, "start_s": 0.0, "end_s": 66.0},
        {"name": "C", "start_beat": 1, "end_beat": 2, "start_s": 66.0, "end_s": 100.0},
    ]
    spans = {
        length: [(c.name, c.start_s, c.end_s) for c in clips.plan_clips({"sections": sections}, 100.0, **how)]
        for length, how in ((15, {"mode": "windows", "window_s": 15}), (240, {"mode": "windows", "window_s": 240}))
    }
    # A (66 s) in five windows of 13.2 s, C (34 s) in three of 11.333 s: never across 66 s.
    assert spans[15] == [
        ("A", 0.0, 13.2),
        ("A", 13.2, 26.4),
        ("A", 26.4, 39.6),
        ("A", 39.6, 52.8),
        ("A", 52.8, 66.0),
        ("C", 66.0, 77.333),
        ("C", 77.333, 88.667),
        ("C", 88.667, 100.0),
    ]
    assert spans[240] == [("A", 0.0, 66.0), ("C", 66.0, 100.0)]  # a window never joins two sections


@pytest.mark.parametrize(
    ("mode", "window_s", "says"),
    [
        ("windows", 4.9, "out of range: choose 5 to 240 s"),
        ("windows", 241, "out of range: choose 5 to 240 s"),
        ("windows", float("nan"), "out of range"),
        ("windows", "15", "must be a number of seconds"),
        ("sections", 15, "only for window clips (clips='windows'), not for section clips"),
        ("none", 15, "not for whole tracks"),
    ],
)
def test_a_window_length_out_of_range_or_without_window_clips_is_refused(mode, window_s, says):
    sections = [{"name": "A", "start_beat": 0, "end_beat": 1, "start_s": 0.0, "end_s": 66.0}]
    with pytest.raises(ValidationError, match=re.escape(says)):
        clips.plan_clips({"sections": sections}, 66.0, mode=mode, window_s=window_s)
    assert clips.check_window("windows", 5) == 5.0 and clips.check_window("sections", clips.WINDOW_S) == 30.0


def test_offset_moves_the_cuts_and_none_makes_no_clips():
    sections = _sections(LOCATORS, 88.0, CONSTANT)
    plan = clips.plan_clips({"sections": sections}, 50.0, offset_s=2.0)
    assert plan[1].start_s == sections[1]["start_s"] + 2.0 and plan[0].start_s == 0.0 and plan[-1].end_s == 50.0
    assert clips.plan_clips({"sections": sections}, 50.0, mode="none") == []


def test_a_drums_and_bass_section_is_captioned_with_drums_and_bass_only():
    summary = steady()
    plan = clips.plan_clips(summary, 76.0)
    captions = caption_clips(OfflineWriter(), summary, plan)
    brk = next(c for c in captions if c["name"] == "Break")
    assert brk["caption"].startswith("The break of a track.")
    lowered = brk["caption"].lower()
    for word in ("piano", "rhodes", "string", "vocal", "sax", "keys"):
        assert word not in lowered
    assert "drum" in lowered or "bass" in lowered
    assert brk["findings"] == []
    scoped = section_summary(summary, plan[2].section)
    flagged = check_caption("A break with drums, bass and a soaring string section over a steady groove.", scoped)
    assert any("string" in f.message.lower() for f in flagged)
    whole = check_caption("A break with drums, bass and a soaring string section over a steady groove.", summary)
    assert not any("string" in f.message.lower() for f in whole)  # the song has strings, the break does not


def test_window_clips_of_one_section_say_which_window_they_are():
    """QA: two window clips of one track both opened "The outro of a track."."""
    summary = steady()  # Intro 16 s, Verse 32 s, Break 12 s, an unnamed last section 16 s
    plan = clips.plan_clips(summary, 76.0, mode="windows", window_s=12)
    labels = [clip_label(plan, c) for c in plan]
    assert labels == [
        "The intro of a track, first half.",
        "The intro of a track, second half.",
        "The verse of a track, window 1 of 3.",
        "The verse of a track, window 2 of 3.",
        "The verse of a track, window 3 of 3.",
        "The break of a track.",
        "The outro of a track, first half.",  # the last of four sections, unnamed: its place by position
        "The outro of a track, second half.",
    ]
    openings = [c["caption"].split(".")[0] for c in caption_clips(OfflineWriter(), summary, plan)]
    assert len(set(openings)) == len(openings), openings
    unnamed = {**summary, "sections": summary["sections"][:2]}  # two sections: no intro or outro by position
    two = clips.plan_clips({**unnamed, "sections": [{**s, "name": ""} for s in unnamed["sections"]]}, 48.0)
    assert [clip_label(two, c) for c in two] == ["", ""]  # whole sections without a place word: no label
    windows = clips.plan_clips({"sections": [{**s, "name": ""} for s in unnamed["sections"]]}, 48.0, mode="windows")
    assert [clip_label(windows, c) for c in windows] == [
        "",  # 16 s: one window, the whole section
        "A section of a track, first half.",  # 32 s: two windows
        "A section of a track, second half.",
    ]


def test_a_section_states_its_own_tempo():
    summary = v2_summary()
    last = section_summary(summary, summary["sections"][-1])
    first = section_summary(summary, summary["sections"][0])
    assert last["tempo"]["dominant_bpm"] == 180.0 and first["tempo"]["dominant_bpm"] == 90.0


@pytest.mark.parametrize(
    "encoding",
    [dict(kbps=320), dict(vbr=True), dict(kbps=64, mono=True), dict(kbps=32)],
    ids=["cbr-320", "vbr", "mono-64", "mpeg2-32"],
)
def test_any_cut_decodes_to_the_same_samples_as_the_whole_render(encoding):
    pcm = song(120, "A minor", 6.0)
    if encoding.pop("mono", False):
        pcm = pcm.mean(axis=1)
    render = encode(pcm, **encoding)
    index = mp3cut.scan(io.BytesIO(render))
    spf, rate = index.samples_per_frame, index.sample_rate
    whole = np.asarray(
        miniaudio.decode(render, nchannels=1, sample_rate=rate, output_format=miniaudio.SampleFormat.SIGNED16).samples,
        dtype=np.int32,
    )
    for first in range(1, len(index.frames) - 8, 7):
        data = b"".join(mp3cut.clip(io.BytesIO(render), index, first, first + 8))
        assert len(data) == mp3cut.clip_size(index, first, first + 8)
        pcm_clip = np.asarray(
            miniaudio.decode(
                data, nchannels=1, sample_rate=rate, output_format=miniaudio.SampleFormat.SIGNED16
            ).samples,
            dtype=np.int32,
        )
        assert len(pcm_clip) == 8 * spf - 529
        start = first * spf + 529
        assert np.array_equal(pcm_clip, whole[start : start + len(pcm_clip)]), f"clip at frame {first}"


def _walk(data: bytes, start: int) -> list[int]:
    """The frames of `data` found the slow, obvious way: header after header from the first sync."""
    at = start
    while not (data[at] == 0xFF and mp3cut._parse(data[at : at + 4])):
        at += 1
    offsets = []
    while at + 4 <= len(data) and (parsed := mp3cut._parse(data[at : at + 4])) and at + parsed[0] <= len(data):
        offsets.append(at)
        at += parsed[0]
    return offsets


def test_a_render_longer_than_a_read_is_indexed_frame_by_frame():
    """scan reads a megabyte at a time and walks runs of frames: across chunk boundaries, past
    junk between frames, it finds exactly the frames a header-by-header walk finds."""
    one = encode(song(120, "A minor", 20.0), kbps=320)
    data = one * 4 + b"\xff\xfb\x90 junk" + one * 2  # about 5 MB; the frames stop chaining at the junk
    index = mp3cut.scan(io.BytesIO(data))
    walked = _walk(data, 0)
    assert len(data) > 4 * (1 << 20) and len(walked) > 4 * len(mp3cut.scan(io.BytesIO(one)).offsets)
    skip = len(walked) - len(index.offsets)  # an Info frame first is not audio
    assert skip in (0, 1) and index.offsets.tolist() == walked[skip:]
