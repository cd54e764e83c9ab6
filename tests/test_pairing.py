"""Pairing uploaded MP3s with imported sets: by name, length as the tiebreak, never length alone."""

import pytest

from trainmode.audio.analysis import AudioAnalysis
from trainmode.train.pairing import normalize_stem, pair_uploads


def row(parse_id: str, als_filename: str, seconds: float | None = 180.0, created_at: str = "2024-01-01") -> dict:
    return {
        "parse_id": parse_id,
        "als_filename": als_filename,
        "created_at": created_at,
        "summary": {"length": {"seconds": seconds}},
    }


SETS = [
    row("nd", "Night Drive.als", 200.0),
    row("sw", "sunrise_waltz.als", 150.0),
    row("t2", "Track 2.als", 100.0),
    row("t3", "Track 3.als", 100.0),
]


@pytest.mark.parametrize(
    "name",
    [
        "night_drive.mp3",
        "Night Drive (Master).mp3",
        "night_drive_final.mp3",
        "NIGHT-DRIVE-mix v2.MP3",
        "NightDrive.mp3",
        "night drive - version 3.mp3",
        "night_drive (1).mp3",
        "Night  Drive [mastered].mp3",
        "nightdrive_bounce.mp3",
    ],
)
def test_render_names_pair_with_their_set(name):
    [pairing] = pair_uploads([(name, None)], SETS)
    assert (pairing.parse_id, pairing.status) == ("nd", "paired"), pairing
    assert pairing.reason == "same name"


def test_a_number_that_names_the_set_is_not_a_version():
    pairs = pair_uploads([("Track 2 (master).mp3", 101.0), ("track_3.mp3", 101.0)], SETS)
    assert [p.parse_id for p in pairs] == ["t2", "t3"]
    assert normalize_stem("Track 2 v4.mp3") == "track 2"


def test_length_decides_between_sets_with_the_same_name():
    sets = [row("old", "song.als", 120.0, "2024-01-01"), row("new", "song.als", 240.0, "2024-03-01")]
    [long, short, unknown] = pair_uploads([("song.mp3", 243.5), ("Song (master).mp3", 121.0), ("song.mp3", None)], sets)
    assert (long.parse_id, short.parse_id) == ("new", "old")
    assert "length" in long.reason
    # Without a length it is the user's pick, with the closest set (here: the newest) offered first.
    assert unknown.parse_id is None and unknown.status == "ambiguous"
    assert unknown.candidates == ("new", "old")


def test_same_name_and_length_stays_a_manual_pick():
    sets = [row("a", "loop.als", 60.0), row("b", "loop.als", 61.0)]
    [pairing] = pair_uploads([("loop.mp3", 62.0)], sets)
    assert pairing.parse_id is None and set(pairing.candidates) == {"a", "b"}
    assert pairing.reason.startswith("Several sets match")


def test_a_similar_name_pairs_only_when_the_length_agrees():
    [fits, too_long] = pair_uploads([("Night Drive Extended.mp3", 205.0), ("Night Drive Extended.mp3", 600.0)], SETS)
    assert fits.parse_id == "nd" and fits.reason == "similar name; length fits"
    assert too_long.parse_id is None and too_long.candidates == ("nd",)
    assert too_long.status == "unmatched"
    [typo] = pair_uploads([("sunrise_watlz.mp3", 150.0)], SETS)
    assert typo.parse_id == "sw"


def test_length_alone_never_pairs_and_orders_the_choices():
    [pairing] = pair_uploads([("mystery.mp3", 151.0)], SETS)
    assert pairing.parse_id is None and pairing.status == "unmatched"
    assert pairing.candidates[0] == "sw"  # the closest length is offered first
    assert set(pairing.candidates) == {s["parse_id"] for s in SETS}


def test_every_upload_gets_a_pairing_in_order():
    names = ["sunrise_waltz.mp3", "unknown.mp3", "night_drive.mp3"]
    pairs = pair_uploads([(n, None) for n in names], SETS)
    assert [p.name for p in pairs] == names
    assert [p.parse_id for p in pairs] == ["sw", None, "nd"]
    assert pair_uploads([("night_drive.mp3", None)], [])[0].candidates == ()


# ---- with the audio analysis: length AND tempo ----------------------------------------------
def heard(duration_s: float, bpm: float | None) -> AudioAnalysis:
    return AudioAnalysis(
        duration_s=duration_s,
        sample_rate=44100,
        channels=2,
        bpm=bpm,
        bpm_confidence=0.7,
        key=None,
        key_strength=None,
        loudness_lufs=-10.0,
        loudness_range_lu=5.0,
        peak_dbfs=-0.5,
        silence_start_s=0.0,
        silence_end_s=0.5,
        clipped_ratio=0.0,
        mono=False,
        mono_compatible=True,
        stereo_correlation=0.5,
    )


def tempo_row(parse_id: str, als_filename: str, seconds: float, bpm: float) -> dict:
    return {**row(parse_id, als_filename, seconds), "summary": {"length": {"seconds": seconds}, "tempo": {"bpm": bpm}}}


def test_the_tempo_splits_sets_whose_name_and_length_match_equally():
    sets = [tempo_row("slow", "loop.als", 60.0, 120.0), tempo_row("fast", "loop.als", 61.0, 140.0)]
    [without, with_audio] = pair_uploads([("loop.mp3", 62.0)] * 2, sets, [None, heard(62.0, 139.6)])
    assert without.parse_id is None and without.why == "" and without.verdict is None  # names and length tie
    assert with_audio.parse_id == "fast" and with_audio.status == "paired"
    assert with_audio.reason == "same name; length and tempo fit only this set"
    assert with_audio.why == "length 1:02 vs 1:01, tempo 140 = 140 BPM"
    assert with_audio.verdict.verdict == "matches" and with_audio.candidates == ("fast", "slow")
    assert with_audio.why_for("slow") == "length 1:02 vs 1:00, tempo 140 vs 120 BPM"


def test_length_and_tempo_rank_but_never_pair_without_a_name():
    sets = [
        tempo_row("a", "alpha.als", 180.0, 128.0),
        tempo_row("b", "beta.als", 182.0, 174.0),
        tempo_row("c", "gamma.als", 240.0, 87.0),
    ]
    [pairing] = pair_uploads([("mystery.mp3", 181.0)], sets, [heard(181.0, 174.2)])
    assert pairing.parse_id is None and pairing.verdict is None and pairing.status == "unmatched"
    # Same length and tempo first; then the mean of the two closenesses: a 4:00 set at exactly half
    # the tempo (0.54) before a set of the right length whose tempo is far off (0.50).
    assert pairing.candidates == ("b", "c", "a")
    assert pairing.why == "length 3:01 vs 3:02, tempo 174 = 174 BPM"
    assert pairing.why_for("c") == "length 3:01 vs 4:00, tempo 174 = 87 BPM (double time)"


def test_a_paired_set_gets_the_verdict_of_its_audio():
    sets = [tempo_row("nd", "night_drive.als", 200.0, 128.0)]
    [same, wrong] = pair_uploads([("night_drive.mp3", 200.0)] * 2, sets, [heard(200.0, 128.2), heard(200.0, 140.0)])
    assert same.verdict.verdict == "matches" and wrong.verdict.verdict == "mismatch"
    assert wrong.parse_id == "nd" and wrong.verdict.reasons == ("The audio runs at 140 BPM, the set at 128.",)


def test_a_render_pairs_with_a_set_stored_with_a_prefix():
    """Sets imported from a collection keep its prefix ('owner__pack__name.als'): the render is
    named after the set's own name (#29)."""
    from trainmode.train.pairing import pair_uploads as pair

    rows = [
        {"parse_id": "a", "als_filename": "Sonic__pack__live8-patch-markers-auto.als", "seconds": 60.0},
        {"parse_id": "b", "als_filename": "Sonic__pack__live8-patch-markers.als", "seconds": 60.0},
    ]
    [pairing] = pair([("live8-patch-markers-auto.mp3", 61.0)], rows)
    assert pairing.parse_id == "a" and pairing.reason == "same name"


def test_a_tempo_close_enough_is_approximately_not_equal():
    from trainmode.audio.analysis.rank import _tempo

    assert _tempo(172.0, 174.0)[1] == "tempo 172 ≈ 174 BPM"  # was "172 = 174"
    assert _tempo(128.2, 128.0)[1] == "tempo 128 = 128 BPM"
