"""TrainMode, the one door: artist names, import validation, and one probe + one fact check
per caption on the way from upload to saved item."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest

import trainmode.captions.generate
import trainmode.train.save
from tests.spies import record_calls
from trainmode.captions.factcheck import Finding
from trainmode.captions.writers import OfflineWriter
from trainmode.errors import ConfirmationRequired, ValidationError, WriterError
from trainmode.service import SaveRequest, TrainMode, saveable
from trainmode.sets.als import ParsedSet


@pytest.fixture
def tm(store, settings):
    return TrainMode(store, settings)


@pytest.fixture
def ada(tm, demo_files):
    results = tm.import_sets("Ada", [(als.name, als) for _, als, _ in demo_files])
    assert {r.status for r in results} == {"imported"}
    return tm.artist("Ada")


# ---- artists --------------------------------------------------------------------------
def test_artist_names_are_trimmed_and_one_per_name_whatever_the_case(tm, store):
    night = tm.create_artist("  Night Drive ")
    assert night["name"] == "Night Drive"
    assert tm.create_artist("night drive ") == night  # selects the existing one
    assert tm.artist("NIGHT DRIVE") == night
    assert store.find_artist("night DRIVE") == night  # the embedded store agrees
    assert store.ensure_artist("NIGHT drive") == night
    assert [a["name"] for a in tm.list_artists()] == ["Night Drive"]


@pytest.mark.parametrize("name,message", [("   ", "empty"), ("x" * 101, "101 characters")])
def test_an_empty_or_too_long_artist_name_is_refused(tm, name, message):
    with pytest.raises(ValidationError, match=message):
        tm.create_artist(name)
    assert tm.list_artists() == []
    assert tm.create_artist("x" * 100)["name"] == "x" * 100


# ---- import -----------------------------------------------------------------------------
def test_a_summary_off_the_contract_is_not_imported(tm, monkeypatch, demo_files):
    _, als, _ = demo_files[0]
    off_contract = ParsedSet(parse_id="f" * 32, filename=als.name, summary={"schema_version": 1}, sha256="f" * 64)
    monkeypatch.setattr("trainmode.sets.importing.parse_als", lambda source, filename: off_contract)
    [result] = tm.import_sets("Bo", [(als.name, als)])
    assert result.status == "failed" and "not valid" in result.error
    assert tm.list_artists() == []  # nothing written, not even the artist


# ---- one generate path, one check, one probe --------------------------------------------
def test_one_caption_and_a_batch_share_the_generate_path(tm, ada, monkeypatch):
    writes = record_calls(monkeypatch, OfflineWriter, "write")
    row = tm.find_set(ada, "night_drive.als")
    generation = tm.generate_caption(ada, row, writer_name="offline")
    assert generation.ok and re.search(r"124 (?:BPM|beats per minute)", generation.caption.text) and len(writes) == 1

    def broken(self, summary, master_schema, **kwargs):
        raise WriterError("The caption service timed out; try again.")

    monkeypatch.setattr(OfflineWriter, "write", broken)
    with pytest.raises(WriterError, match="timed out"):
        tm.generate_caption(ada, row, writer_name="offline")


@pytest.mark.slow
def test_an_upload_is_probed_once_and_each_caption_checked_once(tm, ada, demo_files, monkeypatch):
    _, _, mp3 = demo_files[0]
    info = tm.measure_upload(mp3, mp3.name)
    queue = []
    entry = tm.add_to_queue(
        queue, ada, tm.find_set(ada, "night_drive.als"), mp3.read_bytes(), name=mp3.name, info=info, pairing="same name"
    )
    probes = record_calls(monkeypatch, trainmode.train.save, "probe_mp3")
    generate_checks = record_calls(monkeypatch, trainmode.captions.generate, "check_caption")
    save_checks = record_calls(monkeypatch, trainmode.train.save, "check_caption")
    tm.generate_entries(queue, ada)
    tm.save_entries(queue, ada)
    assert entry.state == "saved", entry.error
    assert len(generate_checks) == 1 and save_checks == [] and probes == []
    item = tm.list_items(ada)[0]
    assert item["audio_sha256"] == info.sha256 and item["audio_duration_s"] == round(info.duration_s, 3)
    assert item["prompt_text"] == entry.caption


@pytest.mark.slow
def test_a_blocking_finding_is_refused_even_when_confirmed(tm, ada, demo_files, monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class Blocking(Finding):
        blocking: bool = True

    _, _, mp3 = demo_files[0]
    found = Blocking("artist_name", "The caption names the artist (Ada).")
    monkeypatch.setattr(trainmode.train.save, "check_caption", lambda *args, **kwargs: [found])
    request = SaveRequest(audio=mp3, audio_name=mp3.name, caption="Ada's synthwave with drums and bass.", confirm=True)
    with pytest.raises(ValidationError, match="cannot be saved: The caption names the artist"):
        tm.save(ada, tm.find_set(ada, "night_drive.als"), request)
    assert tm.list_items(ada) == []


# ---- the audio against its set, through the door ------------------------------------------
@pytest.fixture
def club_set(tm, club_renders):
    tm.import_sets("Cy", [("club.als", club_renders["als"])])
    cy = tm.artist("Cy")
    return cy, tm.find_set(cy, "club.als")


@pytest.mark.slow
def test_a_140_bpm_render_of_a_128_bpm_set_asks_before_saving(tm, club_set, club_renders):
    cy, row = club_set
    fast = club_renders["fast"]
    caption = "A club groove with punchy drums, a steady kick and minor chords."
    request = SaveRequest(audio=fast, audio_name=fast.name, caption=caption)
    with pytest.raises(ConfirmationRequired, match="The audio does not sound like its set: The audio runs at") as err:
        tm.save(cy, row, request)
    assert len(err.value.reasons) == 1 and "runs at 1" in err.value.reasons[0]
    assert tm.list_items(cy) == []
    saved = tm.save(cy, row, dataclasses.replace(request, confirm=True)).item
    assert saved["metadata"]["audio"]["verdict"] == "mismatch" and saved["metadata"]["audio"]["confirmed"]
    match = club_renders["match"]
    plain = tm.save(cy, row, dataclasses.replace(request, audio=match, audio_name=match.name)).item
    assert plain["metadata"]["audio"]["verdict"] == "matches"


@pytest.mark.slow
def test_the_queue_listens_once_shows_the_verdict_and_asks_before_saving_a_mismatch(
    tm, club_set, club_renders, monkeypatch
):
    cy, row = club_set
    queue = []
    for key in ("fast", "match"):
        mp3 = club_renders[key]
        tm.add_to_queue(
            queue, cy, row, mp3.read_bytes(), name=mp3.name, info=tm.measure_upload(mp3, mp3.name), pairing="same name"
        )
    fast, match = queue
    assert fast.verdict.verdict == "mismatch" and "the set at 128" in fast.verdict.reasons[0]
    assert match.verdict.verdict == "matches" and match.analysis.bpm == pytest.approx(128, abs=1)
    analyses = record_calls(monkeypatch, trainmode.train.save, "analyze_mp3")
    tm.generate_entries(queue, cy)
    assert fast not in saveable(queue)  # asked before any save, not after (QA: "Save all (3)" saved 1)
    tm.save_entries(saveable(queue), cy)
    assert match.state == "saved" and fast.state == "review"
    assert fast.to_confirm == list(fast.verdict.reasons)  # what the Train page asks about
    fast.confirmed = True  # "Save anyway"
    tm.save_entries(saveable(queue), cy)
    assert fast.state == "saved" and analyses == []  # each upload was analysed once, when added
    stored = {i["audio_filename"]: i["metadata"]["audio"] for i in tm.list_items(cy)}
    assert stored[fast.audio_name]["confirmed"] and not stored[match.audio_name]["confirmed"]


@pytest.mark.slow
def test_uploads_are_listened_to_in_parallel_and_paired_by_length_and_tempo(
    tm, club_renders, demo_files, audio_fixtures
):
    tm.import_sets("Di", [("club.als", club_renders["als"]), *((als.name, als) for _, als, _ in demo_files)])
    di = tm.artist("Di")
    rows = tm.list_sets(di)
    fast, match = club_renders["fast"], club_renders["match"]
    measured = tm.measure_uploads(
        [
            ("club (master).mp3", io.BytesIO(match.read_bytes())),
            ("mystery.mp3", fast),
            ("notes.mp3", audio_fixtures / "text_renamed.mp3"),
        ]
    )
    assert [m.name for m in measured] == ["club (master).mp3", "mystery.mp3", "notes.mp3"]
    assert measured[2].analysis is None and "text" in measured[2].error
    club, mystery, text = tm.pair_measured(measured, rows)
    assert tm.pair_measured(measured, tm.list_set_rows(di)) == [club, mystery, text]  # as the Train page pairs
    assert club.parse_id == tm.find_set(di, "club.als")["parse_id"] and club.verdict.verdict == "matches"
    assert re.fullmatch(r"length 0:15 vs 0:15, tempo 128 = 128 BPM", club.why), club.why
    # No name decides the mystery render: the closest length and tempo comes first, with why.
    assert mystery.parse_id is None and mystery.verdict is None
    names = [next(r["als_filename"] for r in rows if r["parse_id"] == p) for p in mystery.candidates]
    assert set(names[:2]) == {"club.als", "neon_pulse.als"}  # 15 s at 128 BPM (a tie)
    assert mystery.why == mystery.why_for(mystery.candidates[0]) and "tempo 140 vs 128 BPM" in mystery.why
    sunrise = mystery.candidates[names.index("sunrise_waltz.als")]
    assert mystery.why_for(sunrise) == "length 0:15 vs 0:15, tempo 140 vs 96 BPM"
    assert text.parse_id is None and text.why == ""
