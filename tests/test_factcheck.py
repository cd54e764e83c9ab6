"""The fact checker: each claim a caption can make, checked against the set."""

from __future__ import annotations

import json

import pytest
from summaries_v2 import steady, v2_summary

from trainmode.captions.factcheck import (
    BLOCKING,
    Finding,
    check_caption,
    check_variants,
    strip_markdown,
    supported_families,
)


def track(name, type_="midi", devices=(), plugins=(), muted=False, group=None):
    return {
        "name": name,
        "type": type_,
        "muted": muted,
        "group": group,
        "devices": list(devices),
        "plugins": list(plugins),
        "clip_count": 1,
        "note_count": 8,
    }


def summary(**overrides) -> dict:
    base = {
        "schema_version": 1,
        "tempo": {"bpm": 124.0, "automated": False, "min": 124.0, "max": 124.0},
        "time_signature": "4/4",
        "key": {"tonic": "F#", "mode": "minor", "confidence": 0.9, "source": "midi_notes"},
        "track_counts": {"audio": 1, "midi": 3, "group": 0, "return": 1},
        "tracks": [
            track("Kit", devices=["Drum Rack"]),
            track("Bass", devices=["Operator"]),
            track("Chords", plugins=["Serum"]),
            track("Gtr DI", "audio", muted=True),
            track("A-Reverb", "return", devices=["Reverb"]),
        ],
        "samples": ["Kick_01.wav", "snare.wav"],
        "locators": [],
    }
    return {**base, **overrides}


GOOD = (
    "Driving deep house at 124 BPM in F# minor, with punchy drums, a rolling bass line and lush synth chords "
    "that build to a bright, euphoric peak."
)


def codes(caption: str, s: dict | None = None, schema: dict | None = None, **kw) -> list[str]:
    return [f.code for f in check_caption(caption, s or summary(), schema, **kw)]


def test_a_faithful_caption_has_no_findings():
    assert check_caption(GOOD, summary(), {"genres": ["deep house"]}) == []


def test_findings_are_json_ready():
    findings = check_caption("Techno at 130 BPM.", summary())
    assert all(isinstance(f, Finding) for f in findings)
    assert json.loads(json.dumps([f.to_dict() for f in findings])) == [
        {
            "code": "too_short",
            "message": "The caption has 4 words; describe the track in at least 10.",
            "severity": "warning",
            "blocking": False,
        },
        {
            "code": "tempo_mismatch",
            "message": "The caption says 130 BPM but the set is 124 BPM.",
            "severity": "error",
            "blocking": False,
        },
    ]


@pytest.mark.parametrize(
    "stated, ok", [("124", True), ("125 bpm", True), ("123", True), ("126", False), ("122", False), ("124.5", True)]
)
def test_tempo_within_one_bpm(stated, ok):
    caption = GOOD.replace("124 BPM", stated if "bpm" in stated else f"{stated} BPM")
    assert ("tempo_mismatch" not in codes(caption)) is ok


def test_tempo_phrasings_and_automated_tempo():
    assert codes("A drum workout with a tempo of 140 and punchy drums, rolling bass and synth chords.") == [
        "tempo_mismatch"
    ]
    ramp = summary(tempo={"bpm": 120.0, "automated": True, "min": 120.0, "max": 128.0})
    assert "tempo_mismatch" not in codes(GOOD, ramp)
    [finding] = check_caption(GOOD.replace("124", "132"), ramp)
    assert finding.message == "The caption says 132 BPM but the set is 120–128 BPM."


@pytest.mark.parametrize(
    "caption, at_124, at_80",
    [
        ("A slow, quiet electronic tune with drums, bass and synth chords in F# minor.", True, False),
        (
            "Slow-paced deep house with punchy drums, a rolling bass line and lush synth chords in F# minor.",
            True,
            False,
        ),
        ("Fast and driving deep house with punchy drums, a rolling bass line and synth chords.", True, True),
        ("Deep house with fast hi-hats, drums, a rolling bass line and synth chords in a slow build.", False, False),
    ],
)
def test_a_tempo_word_must_fit_the_sets_tempo(caption, at_124, at_80):
    slow_set = summary(tempo={"bpm": 80.0, "automated": False, "min": 80.0, "max": 80.0})
    assert ("tempo_word_mismatch" in codes(caption)) is at_124
    assert ("tempo_word_mismatch" in codes(caption, slow_set)) is at_80
    fast_set = summary(tempo={"bpm": 140.0, "automated": False, "min": 140.0, "max": 140.0})
    assert ("tempo_word_mismatch" in codes(caption, fast_set)) is caption.startswith(("A slow", "Slow"))


@pytest.mark.parametrize(
    "key, finding",
    [
        ("F# minor", None),
        ("Gb minor", None),
        ("F#m", None),
        ("F sharp minor", None),
        ("A major", "The caption says A major but the set is in F# minor."),
        ("F# major", "The caption says F# major but the set is in F# minor."),
        ("Am", "The caption says Am but the set is in F# minor."),
    ],
)
def test_key_and_mode(key, finding):
    found = check_caption(GOOD.replace("F# minor", key), summary())
    assert [f.message for f in found] == ([finding] if finding else [])


def test_mode_without_tonic_and_low_confidence_keys():
    assert codes(GOOD.replace("in F# minor", "in a major key")) == ["mode_mismatch"]
    unsure = summary(key={"tonic": "C", "mode": "major", "confidence": 0.4, "source": "midi_notes"})
    # A guessed key is not the set's key: stating any key needs a confirmation.
    [finding] = check_caption(GOOD, unsure)
    assert (finding.code, finding.blocking) == ("key_unverified", False)
    assert finding.message == "The caption says F# minor but the set's key could not be determined."
    assert codes(GOOD.replace(" in F# minor", ""), unsure) == []


def test_meter():
    assert codes(GOOD.replace("124 BPM", "124 BPM in 7/8")) == ["meter_mismatch"]
    assert codes(GOOD.replace("punchy drums", "punchy drums with 1/16 hats")) == []  # a note value, not a meter
    assert codes(GOOD.replace("124 BPM", "124 BPM in 3/4"), summary(time_signature="3/4")) == []


def test_instruments_need_evidence():
    [finding] = check_caption(GOOD + " A wailing saxophone takes the lead.", summary())
    assert finding.code == "unsupported_instrument" and finding.severity == "warning"
    assert finding.message.startswith("The caption mentions saxophone, but no audible track")


def test_plucked_strings_are_the_plucked_family_not_the_bowed_strings():
    harp = summary(tracks=[*summary()["tracks"], track("Harp", "audio")])
    assert codes(GOOD + " Plucked strings shimmer above.", harp) == []
    assert codes(GOOD + " Plucked strings shimmer above.") == ["unsupported_instrument"]
    assert codes(GOOD + " A string section swells.", harp) == ["unsupported_instrument"]


def test_muted_tracks_and_returns_are_not_evidence():
    assert codes(GOOD + " Clean guitar licks answer the chords.") == ["unsupported_instrument"]
    unmuted = summary(tracks=[*summary()["tracks"][:3], track("Gtr DI", "audio")])
    assert codes(GOOD + " Clean guitar licks answer the chords.", unmuted) == []
    in_muted_group = summary(
        tracks=[track("Keys", "group", muted=True), track("Rhodes", group="Keys"), *summary()["tracks"]]
    )
    assert codes(GOOD + " Warm electric piano too.", in_muted_group) == ["unsupported_instrument"]


@pytest.mark.parametrize(
    "name, devices, instrument",
    [
        ("1-MIDI", ["Electric"], "electric piano"),
        ("Keys", [], "piano"),
        ("Audio 3", ["DrumGroupDevice"], "hi-hats"),
        ("Audio 3", ["Impulse"], "percussion"),
        ("Lead", ["Wavetable"], "arpeggios"),
        ("Sub", [], "sub-bass"),
        ("BV stack", [], "backing vocals"),
        ("Breath Bells", [], "chimes"),
    ],
)
def test_evidence_from_names_and_devices(name, devices, instrument):
    s = summary(tracks=[track(name, devices=devices)], samples=[])
    assert (
        codes(f"Moody downtempo piece at 124 BPM built around {instrument} and little else, slowly evolving.", s) == []
    )


def test_samples_are_evidence_but_the_profiles_instruments_are_not():
    """An artist who often plays flute did not necessarily play it on this set."""
    caption = GOOD + " Breathy flute lines float on top."
    assert codes(caption) == ["unsupported_instrument"]
    assert codes(caption, schema={"instruments": ["alto flute"]}) == ["unsupported_instrument"]
    assert codes(caption, summary(samples=["Flute_Phrase_C.wav"])) == []


def test_negated_instruments_and_genre_names_are_not_claims():
    caption = (
        "Instrumental drum and bass roller at 124 BPM with no vocals or saxophone, built on punchy drums, "
        "a rolling bass line and synth chords, vocal-free throughout."
    )
    assert codes(caption) == []


def test_artist_names_samples_paths_and_files_are_errors():
    leaks = {
        "by Nova Lane": "artist_name",
        "sampled from Kick_01.wav": "sample_name",
        "sampled from Kick_01": "sample_name",
        "rendered from /Users/nova/Music/set.als": "path",
        r"from C:\Samples\loops": "path",
        "from loop_take2.aif": "file_name",
    }
    for text, code in leaks.items():
        found = check_caption(f"{GOOD[:-1]}, {text}.", summary(), {"name": "Nova Lane"})
        assert code in [f.code for f in found], text
        assert all(f.severity == "error" and f.blocking for f in found), text
    # Ordinary words are not sample names ("snare.wav" is in the set; "snare" is just a word).
    assert codes(GOOD + " A crisp snare cracks on two and four.") == []
    assert codes(GOOD, artist_name="Nova Lane") == []
    assert codes(GOOD.replace("Driving", "Nova Lane's driving"), artist_name="Nova Lane") == ["artist_name"]


def test_length():
    assert codes(GOOD + " Lush synth chords." * 30) == ["too_long"]
    assert codes("Deep house.") == ["too_short"]
    assert codes("   ") == ["empty"]


def test_supported_families_for_the_offline_writer():
    s = summary(samples=["Flute_01.wav"])
    assert supported_families(s) == ["drums", "bass", "synth", "woodwinds"]  # not guitar: its track is muted
    assert supported_families(s, samples=False) == ["drums", "bass", "synth"]


# ---- summary v2 facts, blocking findings, variants ------------------------------------------------
V2_GOOD = (
    "Warm downtempo groove in 6/8, mostly at 90 BPM with tempo changes, built on drums and bass, with piano "
    "and strings entering in the verse and vocals near the end."
)


def test_v2_tempo_map_dominant_tempo_and_meter_changes():
    s = v2_summary()
    assert check_caption(V2_GOOD, s) == []
    assert codes(V2_GOOD.replace("mostly at 90 BPM", "at 135 BPM"), s) == ["tempo_mismatch"]  # a ramp is no tempo
    [finding] = check_caption(V2_GOOD.replace("90 BPM", "120 BPM"), s)
    assert finding.message == ("The caption says 120 BPM but the set is mostly 90 BPM, changing between 90 and 180.")
    assert codes(V2_GOOD + " It ends in 7/8.", s) == []
    assert codes(V2_GOOD + " It ends in 5/4.", s) == ["meter_mismatch"]


def test_v2_null_key_means_no_key_may_be_stated():
    assert codes(V2_GOOD.replace("groove", "groove in A minor"), v2_summary()) == ["key_unverified"]
    at_90 = V2_GOOD.replace("mostly at 90 BPM with tempo changes", "at 90 BPM")
    assert codes(at_90.replace("groove", "groove in C# minor"), steady(90)) == ["meter_mismatch"]  # steady is 4/4
    assert codes(at_90.replace("groove in 6/8", "groove in Db minor"), steady(90)) == []  # same pitch class


def test_v2_instruments_ranked_by_the_set_not_the_profile():
    s = v2_summary()
    assert codes(V2_GOOD + " Guitar licks too.", s, {"instruments": ["guitar"]}) == ["unsupported_instrument"]
    assert codes(V2_GOOD + " A saxophone answers.", s) == ["unsupported_instrument"]  # its track is muted
    woodwinds = v2_summary(instruments=[{"family": "woodwinds", "seconds": 10.0}], tracks=[])
    assert (
        codes("A flute and a sax carry this calm piece, mostly at 90 BPM with tempo changes, in 6/8.", woodwinds) == []
    )


@pytest.mark.parametrize(
    "text, code",
    [
        ("see https://example.com/track", "url"),
        ("more at www.example.org", "url"),
        ("on soundcloud.com/nova", "url"),
        ("by Nova Lane", "artist_name"),
        ("from Vox_take_03.wav", "sample_name"),
    ],
)
def test_urls_and_leaks_block_saving(text, code):
    [finding] = [
        f for f in check_caption(f"{V2_GOOD[:-1]}, {text}.", v2_summary(), {"name": "Nova Lane"}) if f.code == code
    ]
    assert finding.blocking and finding.code in BLOCKING


def test_strip_markdown_keeps_link_text_and_drops_images():
    text = "![cover](https://x.io/c.png) Deep [house](https://x.io/a_(b)) groove with [keys][1] <https://x.io>\n[1]: x"
    assert strip_markdown(text) == "Deep house groove with keys"
    assert strip_markdown("Plain caption, 6/8 [sic].") == "Plain caption, 6/8 [sic]."


def test_check_variants_runs_the_same_check_on_every_variant_with_its_own_length_rule():
    s = steady(122)
    variants = {
        "detailed": "Deep house at 122 BPM in C# minor with drums, bass, piano, strings and vocals, the verse "
        "adding piano and strings over the steady drums.",
        "short": "Deep house at 122 BPM with drums, bass and a saxophone.",
        "tags": "deep house, drums, bass, c# minor, 122 bpm, 4/4, a minor",
    }
    found = check_variants(variants, s)
    assert found["detailed"] == []
    assert [f.code for f in found["short"]] == ["unsupported_instrument"]  # short is allowed under 10 words
    assert [f.code for f in found["tags"]] == ["key_mismatch"]  # "a minor" read as a key
    too_many = check_variants({"short": " ".join(["drums"] * 16), "tags": "drums, bass"}, s)
    assert [f.code for f in too_many["short"]] == ["variant_length"]
    assert [f.code for f in too_many["tags"]] == ["variant_length"]


def test_the_detailed_variant_is_25_to_60_words_a_warning_outside():
    """What the Train page shows as "25–60 words": the check says so when the detailed variant misses it."""
    s = steady(122)
    base = "Deep house at 122 BPM in C# minor with drums, bass, piano, strings and vocals"
    for words, finding in [(16, True), (24, True), (25, False), (60, False), (61, True)]:
        text = " ".join((base + " over the steady drums").split()[:16] + ["drums"] * (words - 16)) + "."
        found = check_variants({"detailed": text, "short": "Deep house at 122 BPM.", "tags": "x"}, s)["detailed"]
        assert [f.code for f in found] == (["variant_length"] if finding else []), (words, found)
        if finding:
            assert found[0].severity == "warning" and f"has {words} words" in found[0].message
            assert "25 to 60" in found[0].message
    assert check_caption(base + ".", s) == []  # the caption itself keeps the fact checker's 10-word minimum


def test_tempo_and_meter_changes_must_be_in_the_set():
    steady_set = steady(122)
    assert codes(
        "Deep house at 122 BPM in 4/4 whose tempo shifts in the break, with drums, bass and piano.", steady_set
    ) == ["tempo_change_unsupported"]
    assert codes(
        "Deep house at 122 BPM with changing meters, drums, bass and piano all the way through.", steady_set
    ) == ["meter_change_unsupported"]
    negated = "Deep house at 122 BPM with no tempo changes and drums, bass and piano all the way through."
    assert codes(negated, steady_set) == []
    assert codes(V2_GOOD.replace("groove in 6/8", "groove with changing meters"), v2_summary()) == []


@pytest.mark.parametrize(
    "added, named",
    [
        (" in the style of Daft Punk", "Daft Punk"),
        (", reminiscent of The Chemical Brothers", "The Chemical Brothers"),
        (". It sounds like Aphex Twin", "Aphex Twin"),
        (", inspired by Burial, with soft keys", "Burial"),
    ],
)
def test_a_caption_that_compares_the_track_to_another_artist_is_flagged(added, named):
    """Issue 30: another artist's name taught nothing about this sound and passed the check."""
    [finding] = check_caption(GOOD.rstrip(".") + added + ".", summary(), None)
    assert finding.code == "other_artist" and f"“{named}”" in finding.message and finding.severity == "warning"


@pytest.mark.parametrize("scene", ["in the style of Chicago house", "in the vein of Detroit techno", "à la UK garage"])
def test_a_scene_or_place_before_a_genre_is_not_an_artist(scene):
    assert codes(GOOD.rstrip(".") + f", {scene}.") == []


@pytest.mark.parametrize("ensemble", ["a string quartet", "a chamber orchestra", "an orchestra", "a string trio"])
def test_ensembles_claim_strings(ensemble):
    """Issue 30: "string quartet" named no instrument the checker knew, so a set without strings passed."""
    caption = GOOD.rstrip(".") + f", over {ensemble}."
    assert codes(caption) == ["unsupported_instrument"]
    with_strings = summary(tracks=[*summary()["tracks"], track("Violins")])
    assert "unsupported_instrument" not in codes(caption, with_strings)
