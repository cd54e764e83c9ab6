"""The offline writer: deterministic, faithful to the set, three variants, and its captions
pass the fact checker on every corpus set; given the tagger's tags, it leads with what was heard."""

from __future__ import annotations

import copy
import re

import pytest
from summaries_v2 import steady, v2_summary

from trainmode.audio.tagger import Tags, VocalsVerdict
from trainmode.captions.factcheck import check_caption, check_variants
from trainmode.captions.generate import Job, generate_one
from trainmode.captions.report import is_filler, sentences
from trainmode.captions.text import split_tags
from trainmode.captions.writers.context import caption_metadata
from trainmode.captions.writers.heard import contradicts, listen
from trainmode.captions.writers.offline import OFFLINE_VERSION, OfflineWriter
from trainmode.clips.plan import caption_clips, plan_clips
from trainmode.sets.als import parse_als
from trainmode.sets.facts import SetFacts, training_blocker

SCHEMA = {
    "name": "Nova Lane",
    "genres": ["deep house"],
    "moods": ["dreamy", "driving"],
    "instruments": ["analog synths"],
    "descriptors": ["warm", "tape-saturated"],
}
SUMMARY = {
    "schema_version": 1,
    "tempo": {"bpm": 122.0, "automated": False, "min": 122.0, "max": 122.0},
    "time_signature": "4/4",
    "key": {"tonic": "D", "mode": "minor", "confidence": 0.7, "source": "midi_notes"},
    "track_counts": {"audio": 1, "midi": 2, "group": 0, "return": 0},
    "tracks": [
        {"name": "Beat", "type": "midi", "muted": False, "group": None, "devices": ["Drum Rack"], "clip_count": 3},
        {"name": "Rhodes", "type": "midi", "muted": False, "group": None, "devices": [], "clip_count": 1},
        {"name": "Gtr", "type": "audio", "muted": True, "group": None, "devices": [], "clip_count": 4},
    ],
    "samples": ["Nova Lane guitar bounce.wav"],
    "locators": [{"time": 0.0, "name": "Intro"}, {"time": 64.0, "name": "Drop"}],
    "notes": {"count": 900, "pitch_min": 40, "pitch_max": 80, "density": 5.2},
}


def write(summary, schema=None, **kw):
    return OfflineWriter().write(summary, schema if schema is not None else SCHEMA, **kw)


def stated_bpms(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+) (?:BPM|beats per minute)", text)]


def test_caption_from_facts_and_profile_v1():
    result = write(SUMMARY)
    text = result.text
    assert text == result.variants["detailed"]
    assert (result.writer, result.model, result.version) == ("offline", "offline-template", OFFLINE_VERSION)
    assert result.metadata == caption_metadata(SUMMARY) == {"bpm": 122.0, "key": "D minor", "time_signature": "4/4"}
    assert stated_bpms(text) == [122] and "D minor" in text and "deep house" in text
    assert text.lower().index("drums") < text.index("piano")  # ranked: 3 drum clips, 1 piano clip
    assert "guitar" not in text and "synths" not in text  # a muted track; the profile's instrument
    assert not re.search(r"energ|laid-back|high-energy|sparse|dense|busy", text, re.I)  # nothing from tempo alone
    assert check_caption(text, SUMMARY, SCHEMA, artist_name="Nova Lane") == []


def test_three_variants_within_their_lengths_and_all_faithful():
    for summary in (SUMMARY, v2_summary(), steady(128)):
        for schema in ({}, SCHEMA):
            variants = write(summary, schema).variants
            assert set(variants) == {"detailed", "short", "tags"}
            assert 10 <= len(variants["detailed"].split()) <= 60, variants["detailed"]
            assert len(variants["short"].split()) <= 15, variants["short"]
            assert 5 <= len(split_tags(variants["tags"])) <= 15, variants["tags"]
            findings = check_variants(variants, summary, schema, artist_name="Nova Lane")
            assert findings == {"detailed": [], "short": [], "tags": []}, (variants, findings)


def test_v2_tempo_changes_meter_changes_null_key_and_sections():
    result = write(v2_summary(), {})
    text = result.text
    assert stated_bpms(text) == [90]  # the dominant tempo, never the transport's 180
    assert "tempo change" in text or "tempo changes" in text
    assert "6/8" in text and "7/8" in text  # the meter changes
    assert not re.search(r"\b[A-G](?:#|b)? (?:major|minor)\b", text)  # the key is undetermined
    assert re.search(r"the break (?:strips back to just|thins out to|leaves only) drums and bass", text)
    assert re.search(r"[Pp]iano and strings (?:enter|arrive|join) in the verse|the verse adds piano and strings", text)
    assert "vocals" in result.variants["tags"] and "changing meter" in result.variants["tags"]
    assert result.metadata == {"bpm": 90.0, "key": None, "time_signature": "6/8"}


def test_v2_steady_set_states_a_whole_bpm_and_its_key():
    result = write(steady(93.02), {})
    assert stated_bpms(result.text) == [93] and "C# minor" in result.text
    assert "93 bpm" in result.variants["tags"] and result.metadata["bpm"] == 93.02


def test_the_profile_is_woven_in_but_does_not_open_every_caption():
    openings = set()
    for bpm in range(100, 130):
        text = write(steady(float(bpm)), SCHEMA).text
        assert "deep house" in text
        openings.add(" ".join(text.split()[:3]))
    assert len(openings) >= 8


def test_profile_descriptors_read_right_whether_adjectives_or_nouns():
    schema = {**SCHEMA, "descriptors": ["analog warmth", "punchy"]}
    used = 0
    for bpm in range(100, 140):
        text = write(steady(float(bpm)), schema).text
        # "It sounds analog warmth", "The production is punchy and analog warmth": never a predicate
        assert not re.search(r"\b(?:is|sounds|leans) (?:analog warmth|punchy)", text), text
        used += "analog warmth" in text or "punchy" in text
    assert used >= 10  # the descriptors are still woven in


def test_deterministic():
    first = write(SUMMARY).to_dict()
    reordered = {k: copy.deepcopy(SUMMARY[k]) for k in reversed(list(SUMMARY))}
    assert OfflineWriter().write(reordered, dict(reversed(SCHEMA.items()))).to_dict() == first
    assert write(SUMMARY).to_dict() == first


def test_sparse_facts_still_make_a_caption_without_padding():
    """A set that says nothing but "two audio tracks" gets a caption saying just that; the fact
    checker's too-short warning is the right signal (once, it was padded with "2 parts are
    layered together")."""
    result = write({"tempo": {"bpm": None}, "track_counts": {"audio": 2}}, {})
    assert "recorded audio" in result.text and not re.search(r"\d", result.text)
    assert result.metadata == {"bpm": None, "key": None, "time_signature": None}
    codes = [f.code for f in check_caption(result.text, {"tempo": {"bpm": None}, "track_counts": {"audio": 2}})]
    assert codes == ["too_short"]


def corpus_sets(corpus_dir):
    sets = sorted(corpus_dir.glob("*.als"))
    assert sets, f"no .als files in {corpus_dir}"
    return sets


@pytest.mark.slow
def test_every_corpus_set_passes_the_fact_checker(corpus_dir):
    failures = {}
    for path in corpus_sets(corpus_dir):
        summary = parse_als(path).summary  # every corpus set parses (see test_als_corpus.py)
        if training_blocker(summary):
            continue  # nothing plays in its arrangement: no training item is made of it (test_empty_sets.py)
        artist = path.name.split("__")[0]  # corpus files are named owner__repo__set.als
        result = OfflineWriter().write(summary, {"name": artist})
        findings = check_variants(result.variants, summary, {"name": artist}, artist_name=artist)
        if any(findings.values()) or not result.text:
            failures[path.name] = (result.variants, findings)
        # The tempo stated is the one covering most of the arrangement (SetFacts), not the transport's.
        assert result.metadata["bpm"] == pytest.approx(SetFacts.from_summary(summary).dominant_bpm, abs=0.01)
        assert OfflineWriter().write(summary, {"name": artist}).text == result.text
    assert failures == {}


# ---- listening: captions lead with what the tagger heard (issue 27) ----------------------------
def heard(genre=(), mood=(), instrument=(), vocals=None, gender=None, **others) -> Tags:
    """Tags as the tagger returns them: the confidently heard ones in their categories, every
    probability in `tags` (anything unnamed at 0.1: neither heard nor denied)."""
    probs = {name: 0.1 for name in ("drums", "beat", "piano", "strings", "synth", "guitar", "flute", "violin")}
    probs |= dict(genre) | dict(mood) | dict(instrument) | others
    verdict = VocalsVerdict(vocals, 0.6 if vocals is not None else 0.05, gender)
    return Tags("musicnn", "test", probs, list(genre), list(mood), list(instrument), verdict, patches=4)


def first_sentence(text: str) -> str:
    return text.split(". ")[0]


def test_the_caption_leads_with_the_heard_genre_mood_and_instruments():
    tags = heard(genre=[("techno", 0.7), ("electronic", 0.55)], mood=[("fast", 0.3)], instrument=[("piano", 0.4)])
    result = write(steady(128.0), {}, heard=tags)
    head = first_sentence(result.text)
    assert "techno" in head and "fast" in head and "piano" in head, result.text
    assert result.text.lower().index("piano") < result.text.lower().index("drums")  # heard before only-in-the-set
    assert "techno" in result.variants["short"] and "techno" in result.variants["tags"]
    assert result.provenance["heard"]["used"][:3] == ["techno", "electronic", "fast"]
    assert check_variants(result.variants, steady(128.0), {}) == {"detailed": [], "short": [], "tags": []}


def test_profile_words_are_chosen_by_the_audio_never_at_random():
    profile = {
        "genres": ["reggae", "deep house", "techno"],
        "moods": ["uplifting", "dark", "dreamy", "driving"],
    }
    house = heard(genre=[("house", 0.4)], mood=[("happy", 0.3), ("sad", 0.25)])
    text = write(steady(122.0), profile, heard=house).text
    assert "deep house" in text and "uplifting" in text  # the artist's words for what was heard
    assert not re.search(r"reggae|techno|dark|dreamy|driving|\bsad\b", text)  # unsupported, or contradicting
    calm = heard(genre=[("ambient", 0.5)], mood=[("mellow", 0.4)])
    text = write(steady(122.0), profile, heard=calm).text
    assert "dreamy" in text and "ambient" in text and not re.search(r"reggae|house|techno|uplifting", text)
    # The same set with different sounds reads differently: the hash no longer picks the genre.
    for bpm in range(100, 110):
        assert "techno" in write(steady(float(bpm)), profile, heard=heard(genre=[("techno", 0.6)])).text
        nothing = write(steady(float(bpm)), profile).text  # not listened to: no evidence, no genre or mood
        assert not re.search(r"reggae|house|techno|uplifting|dark|dreamy|driving", nothing), nothing


def test_two_moods_at_most_and_never_contradicting():
    tags = heard(mood=[("happy", 0.4), ("sad", 0.35), ("fast", 0.3), ("mellow", 0.3)])
    sound = listen(tags, ["drums"], {"genres": [], "moods": []})
    assert sound.moods == ["happy", "fast"]
    assert contradicts("happy", "sad") and contradicts("driving", "dreamy") and not contradicts("dark", "driving")


def test_a_tempo_word_the_sets_tempo_contradicts_is_not_said():
    # musicnn hears "slow" in quiet, sparse music: at 124 BPM a caption saying slow states two tempos.
    tags = heard(genre=[("electronic", 0.5)], mood=[("slow", 0.5), ("quiet", 0.4)])
    assert listen(tags, ["drums"], {"genres": [], "moods": []}, bpm=124).moods == ["quiet"]
    assert listen(tags, ["drums"], {"genres": [], "moods": []}, bpm=80).moods == ["slow", "quiet"]
    for bpm, word in [(124.0, "slow"), (90.0, "fast")]:
        swapped = heard(genre=[("electronic", 0.5)], mood=[(word, 0.5)])
        result = write(steady(bpm), {}, heard=swapped)
        assert not any(re.search(rf"\b{word}\b", v) for v in result.variants.values()), result.variants
    kept = write(steady(80.0), {}, heard=heard(genre=[("electronic", 0.5)], mood=[("slow", 0.5)]))
    assert "slow" in kept.text


def test_vocals_are_said_when_the_set_has_a_voice_the_tagger_does_not_deny():
    sung = steady(122.0)  # has a "Vox" track: vocals
    assert "female vocals" in write(sung, {}, heard=heard(vocals=True, gender="female")).variants["tags"]
    assert "vocals" in write(sung, {}, heard=heard(vocals=None)).variants["tags"]  # unsure: the set decides
    denied = write(sung, {}, heard=heard(vocals=False))
    assert not any("vocal" in v for v in denied.variants.values()), denied.variants
    assert "vocals" in denied.provenance["heard"]["hidden"]
    bare = copy.deepcopy(steady(122.0))
    bare["tracks"] = [t for t in bare["tracks"] if t["name"] != "Vox"]
    bare["instruments"] = [i for i in bare["instruments"] if i["family"] != "vocals"]
    bare["sections"] = [{**s, "instruments": [i for i in s["instruments"] if i != "vocals"]} for s in bare["sections"]]
    voice = write(bare, {}, heard=heard(vocals=True, gender="male"))  # heard, but no vocal track to show for it
    assert not any("vocal" in v for v in voice.variants.values())
    assert check_variants(voice.variants, bare, {}) == {"detailed": [], "short": [], "tags": []}
    instrumental = write(bare, {}, heard=heard(vocals=False))
    assert "instrumental" in instrumental.variants["tags"]
    assert re.search(r"instrumental|no vocals|without vocals", instrumental.text)


def test_an_instrument_the_set_has_but_nobody_hears_is_not_stated():
    tags = heard(genre=[("ambient", 0.5)], drums=0.004, beat=0.002)  # drums muted by the mix
    result = write(steady(122.0), {}, heard=tags)
    assert not any("drum" in v for v in result.variants.values()), result.variants
    assert "bass" in result.text and "piano" in result.text
    assert result.provenance["heard"]["hidden"] == ["drums"]


def test_numbers_once_and_no_filler():
    for bpm in range(100, 140):
        tags = heard(genre=[("house", 0.4)], mood=[("chill", 0.3)], instrument=[("synth", 0.3)])
        result = write(steady(float(bpm)), {}, heard=tags)
        assert stated_bpms(result.text) == [bpm] and result.text.count("C# minor") == 1, result.text
        assert stated_bpms(result.variants["short"]) == [bpm]  # once: a user may make it the caption
        assert result.variants["tags"].count(f"{bpm} bpm") == 1
        assert not any(is_filler(s) for s in sentences(result.text)), result.text
        assert "4/4" not in result.text  # the default meter goes unsaid


def test_tags_arrive_as_tags_their_dict_or_a_tagging_dict():
    tags = heard(genre=[("jazz", 0.5)])
    as_dict = write(steady(), {}, heard=tags.to_dict()).variants
    assert write(steady(), {}, heard=tags).variants == as_dict
    assert write(steady(), {}, heard={"whole": tags.to_dict(), "spans": []}).variants == as_dict
    silent = Tags("musicnn", "test", reason="silent")
    assert write(steady(), {}, heard=silent).variants == write(steady(), {}).variants  # empty tags: not heard


def test_each_clip_is_captioned_with_its_own_sections_tags():
    summary = steady(122.0)
    plan = plan_clips(summary, 76.0)
    quiet = heard(genre=[("ambient", 0.5)], mood=[("quiet", 0.4)], drums=0.003, beat=0.001)
    loud = heard(genre=[("techno", 0.6)], mood=[("loud", 0.3)])
    captions = caption_clips(OfflineWriter(), summary, plan, heard=[loud, None, quiet, loud])
    texts = [c["caption"] for c in captions]
    assert "techno" in texts[0] and "ambient" in texts[2] and "drum" not in texts[2].lower()
    assert not re.search(r"techno|ambient|quiet|loud", texts[1])  # a clip without tags: no genre or mood
    assert all(c["findings"] == [] for c in captions), captions


def test_the_generate_path_passes_the_tags_to_the_writer():
    tags = heard(genre=[("jazz", 0.5)], mood=[("mellow", 0.3)])
    listened = generate_one(Job(steady(), {}, heard=tags.to_dict()), OfflineWriter())
    assert listened.ok and "jazz" in listened.caption.text and listened.findings == []
    assert listened.caption.provenance["heard"]["used"] == ["jazz", "mellow"]
    plain = generate_one(Job(steady(), {}), OfflineWriter())
    assert "jazz" not in plain.caption.text and plain.caption.provenance["heard"] is None
