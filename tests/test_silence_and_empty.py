"""Issue 26: nothing empty, nothing silent. A set with nothing in its arrangement imports and
shows but makes no training item, and says why; a silent (or mostly silent) render is a
`mismatch`; silent clips never reach an export and are counted; a render that starts late
gets its clips cut where its music is. Renders are made here (tests/audio_synth.py)."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from tests.als_synth import audio_clip, device, live_set, midi_clip, track
from tests.audio_synth import RATE, encode, song, with_silence, write_render, write_set
from tests.corpus import save_vocal_only
from trainmode import cli
from trainmode.audio.analysis import analyze_mp3
from trainmode.audio.analysis.verdict import compare
from trainmode.audio.check import item_audio, judge, silent_item
from trainmode.captions.writers import OfflineWriter
from trainmode.clips import plan as clips
from trainmode.errors import ValidationError
from trainmode.export import rows
from trainmode.export.build import SILENT_CLIPS
from trainmode.export.clip_rows import plan_clip_rows
from trainmode.service import TrainMode
from trainmode.sets.als import parse_als
from trainmode.sets.facts import SetFacts, training_blocker
from trainmode.sets.importing import import_sets, require_summary
from trainmode.train import work_queue
from trainmode.train.pairing import pair_uploads
from trainmode.train.save import SaveRequest, save_item


def kicks(start: float, end: float) -> list[tuple[int, float, float]]:
    return [(36, float(b), 0.25) for b in range(int(end - start))]


SESSION_ONLY = live_set(
    [
        track("midi", "Drums", id=1, devices=device("DrumGroupDevice"), session=midi_clip(0, 16, kicks(0, 16))),
        track("audio", "Vox", id=2, session=audio_clip(0, 16)),
    ]
)


# ---- an empty set ---------------------------------------------------------------------------------
def test_a_set_with_nothing_in_its_arrangement_imports_but_makes_no_training_item(store, tmp_path):
    path = tmp_path / "session_jam.als"
    path.write_bytes(SESSION_ONLY)
    import_sets(store, "Ada", [(path.name, path)])  # it imports and shows in the Library
    artist = store.find_artist("Ada")
    row = require_summary(store, artist, path.name)
    facts = SetFacts.from_summary(row["summary"])
    assert not facts.has_arrangement and facts.instruments == () and facts.sections == ()
    reason = training_blocker(row["summary"])
    assert "Session view" in reason
    # Its caption claims no parts, sections or tracks it does not have.
    text = " ".join(OfflineWriter().write(row["summary"], {}).variants.values())
    assert not any(w in text for w in ("section", "parts", "recorded", "programmed", "drums", "vocals"))
    # Pairing (from the Library's narrow rows, and from whole rows) says why.
    for set_rows in (store.list_set_rows(artist["id"]), [row]):
        [pairing] = pair_uploads([("session_jam.mp3", 10.0)], set_rows)
        assert pairing.parse_id == row["parse_id"] and pairing.blocker and "arrangement" in pairing.blocker
    # The queue fails the entry with the reason; saving is refused.
    entry = work_queue.QueueEntry(artist["id"], row["parse_id"], path.name, "session_jam.mp3", str(tmp_path / "x.mp3"))
    work_queue.generate([entry], OfflineWriter(), {}, artist, {row["parse_id"]: row})
    assert entry.state == "failed" and entry.error == reason
    render = write_render(tmp_path / "session_jam.mp3", 120, 8.0)
    with pytest.raises(ValidationError, match="session_jam.als cannot make a training item. Nothing plays"):
        save_item(
            store, artist, row, SaveRequest(audio=render, audio_name=render.name, caption="x " * 20, confirm=True)
        )
    assert store.list_items(artist["id"]) == []


# ---- silent renders -------------------------------------------------------------------------------
def test_a_silent_render_is_a_mismatch(tmp_path):
    path = tmp_path / "silence.mp3"
    path.write_bytes(encode(np.zeros((30 * RATE, 2))))
    analysis = analyze_mp3(path)
    verdict = compare(analysis, set_bpm=120.0, set_seconds=30.0)
    assert verdict.verdict == "mismatch" and verdict.reasons == ("The audio is silent: there is no music in it.",)
    # Saved anyway (confirmed), the item says so from its stored measurements, for the export.
    item = {"metadata": {"audio": item_audio(analysis, verdict, True)}}
    assert silent_item(item) == "The audio is silent: there is no music in it."


@pytest.mark.slow
def test_a_render_far_longer_than_its_set_is_a_mismatch_whatever_the_tail_holds(tmp_path):
    # 15 s of music at 120 BPM, then 10 minutes of digital silence (the 15 s + 500 MB of
    # zeros, smaller): the tempo and key agree, the length does not, and 98 % of it is silent.
    path = tmp_path / "long_tail.mp3"
    path.write_bytes(
        encode(with_silence(song(120, "A minor", 15, rate=22050), 0, 600, rate=22050), rate=22050, kbps=64)
    )
    analysis = analyze_mp3(path)
    assert analysis.duration_s == pytest.approx(615, abs=0.5) and analysis.bpm == pytest.approx(120, abs=1)
    verdict = compare(analysis, set_bpm=120.0, set_key="A minor", set_seconds=15.0)
    assert verdict.verdict == "mismatch"
    assert verdict.reasons[0] == "The audio is silent for 98% of its length (sound in 15 s of 615 s)."
    assert "10:15 long but the set's arrangement is 0:15" in verdict.reasons[1]
    # Even when the set's length is unknown, a render silent for most of its length is refused.
    assert compare(analysis, set_bpm=120.0).verdict == "mismatch"


def test_silent_clips_are_not_exported_and_are_counted(tmp_path):
    # Three 16-beat sections at 120 BPM, 8 s each. Nothing plays in "Intro" (the drums start at
    # beat 16); the render is silent in "Outro" although the set's drums play there.
    drums = track(
        "midi", "Drums", id=1, devices=device("DrumGroupDevice"), arrangement=midi_clip(16, 48, kicks(16, 48))
    )
    summary = parse_als(
        live_set([drums], locators=[(0, "Intro"), (16, "Main"), (32, "Outro")]), filename="x.als"
    ).summary
    render = tmp_path / "r.mp3"
    render.write_bytes(encode(with_silence(song(120, "A minor", 8), 8, 8)))
    analysis = analyze_mp3(render)
    assert analysis.sound_spans[0][0] == pytest.approx(8.0, abs=0.05) and analysis.sound_spans[-1][1] < 17.0
    verdict = judge(analysis, summary)
    item = {
        "id": "i1",
        "audio_path": "a.mp3",
        "prompt_text": "A caption.",
        "als_summary_id": "s1",
        "audio_duration_s": analysis.duration_s,
        "metadata": {"audio": item_audio(analysis, verdict, False)},
    }
    row = rows.row_for(1, item, summary, {}, artist="a")
    result = plan_clip_rows([row], {"i1": item}, {"s1": summary}, {}, mode="sections")
    assert [r.source["section"] for r in result.rows] == ["Main"]
    assert [(s.clip_index, s.reason.split(" (")[0]) for s in result.silent] == [
        (1, "nothing plays in this part of the set"),
        (3, "the render is silent here"),
    ]


# ---- the offset from the audio ----------------------------------------------------------------------
def test_a_render_that_starts_5_s_late_gets_its_clips_cut_in_the_right_place(store, tmp_path):
    # The demo writer's set: 8 bars at 120 BPM (16 s), "Intro" at beat 0 and "Drop" at beat 16
    # (8 s); its clips start at beat 0. The render has 5 s of silence before the music: the
    # offset proposed is 5 s, so the Drop clip starts at 13 s of the render, not at 8.
    als = tmp_path / "late.als"
    write_set(als, 120)
    render = write_render(tmp_path / "late.mp3", 120, 16.0, lead_silence_s=5.0)
    import_sets(store, "Ada", [(als.name, als)])
    artist = store.find_artist("Ada")
    set_row = require_summary(store, artist, als.name)
    caption = "Drums, a bass line and pads in a steady house groove at 120 BPM, with vocal chops on top."
    item = save_item(
        store, artist, set_row, SaveRequest(audio=render, audio_name=render.name, caption=caption, confirm=True)
    ).item
    assert item["metadata"]["clip_offset_s"] == pytest.approx(5.0, abs=0.05)
    plan = clips.plan_clips(
        set_row["summary"], item["audio_duration_s"], offset_s=clips.clip_offset(item, set_row["summary"])
    )
    assert [c.name for c in plan] == ["Intro", "Drop"] and plan[1].start_s == pytest.approx(13.0, abs=0.05)
    # An item saved before offsets were proposed gets the same cut from its measured lead-in.
    older = {**item, "metadata": {k: v for k, v in item["metadata"].items() if k != "clip_offset_s"}}
    assert clips.clip_offset(older, set_row["summary"]) == pytest.approx(5.0, abs=0.05)
    # The user's own offset still wins.
    assert clips.clip_offset({"metadata": {**item["metadata"], "clip_offset_s": 0.0}}, set_row["summary"]) == 0.0


def test_a_quiet_opening_in_a_render_as_long_as_its_set_is_no_lead_in(store, tmp_path, corpus_dir):
    # The render is silent for its first 59.8 s yet 111 s long like the arrangement: there is no
    # room for a lead-in, so no offset is proposed and the clips are the set's three sections (QA
    # saw one clip, 0-111 s, cut with a 59.86 s offset).
    _, set_row, item = save_vocal_only(store, tmp_path)
    assert item["metadata"]["audio"]["silence_start_s"] == pytest.approx(59.8, abs=0.2)
    assert "clip_offset_s" not in item["metadata"]
    summary = set_row["summary"]
    plan = clips.plan_clips(summary, item["audio_duration_s"], offset_s=clips.clip_offset(item, summary))
    assert [c.start_s for c in plan] == [0.0, 59.836, 96.764]
    # The same lead-in in a render 60 s longer than the arrangement is a lead-in.
    assert clips.proposed_offset(59.86, summary, 171.05) == pytest.approx(59.86)
    assert clips.proposed_offset(59.86, summary, 111.05) == 0.0


def test_a_mostly_silent_render_gives_its_clips_with_sound_but_no_whole_track(store, settings, tmp_path, corpus_dir):
    artist, _, item = save_vocal_only(store, tmp_path)
    assert item["metadata"]["audio"]["verdict"] == "mismatch"  # silent for 67 % of its length
    tm = TrainMode(store, settings)
    # As a whole track it is 74 s of silence: left out (the only item, so the export refuses).
    with pytest.raises(ValidationError, match="mostly silent renders: there is nothing to train on .export section"):
        tm.export(artist, format="hf")
    # Its clips are judged by their own sound: the vocal section is exported, the silent ones are counted.
    result = tm.export(artist, format="hf", clips="sections")
    with zipfile.ZipFile(result.local_path) as zf:
        audio = sorted(n for n in zf.namelist() if n.endswith(".mp3"))
        card = zf.read(next(n for n in zf.namelist() if n.endswith("README.md"))).decode("utf-8")
    assert [n.rsplit("/", 1)[-1] for n in audio] == ["clip-0001-02.mp3"]
    assert result.left_out == ("2: " + SILENT_CLIPS,)
    assert "1 mostly silent render is (sound in under half the length) in this dataset only as clips" in card
    assert "silent renders (no music to train on)" not in card


def test_the_clips_panel_offers_no_caption_for_a_silent_clip(store, settings, tmp_path, corpus_dir):
    artist, _, item = save_vocal_only(store, tmp_path)
    tm = TrainMode(store, settings)
    _, shown = tm.item_clips(artist, item["id"])
    assert [bool(c["silent"]) for c in shown] == [True, False, True]
    assert shown[0]["caption"] == "" and "the render is silent here" in shown[0]["silent"]
    assert shown[1]["caption"] and "vocal" in shown[1]["caption"].lower()
    # Saving the review keeps the one clip that is exported; the silent ones have nothing to keep.
    assert [c["position"] for c in tm.save_clips(item, shown, artist=artist)] == [2]


def test_the_clips_command_says_a_silent_clip_is_not_exported(store, tmp_path, capsys):
    # The data dir's store, as the CLI opens it: the render sounds only from 59.8 s to 96.8 s.
    save_vocal_only(store, tmp_path)
    assert (
        cli.main(["clips", "--artist", "Ada", "--als", "polisen__ableton-project-analyzer__test_vocal_project.als"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "(silent, not exported" in lines[0] and "(silent, not exported" not in lines[1]
