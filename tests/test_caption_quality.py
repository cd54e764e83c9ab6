"""Issue 17's and issue 27's done-when, measured over the 38 shared corpus sets with the offline writer.

Captions must be varied (no duplicates, at most 20 % opening with the same three words, at
most 10 % of word 3-gram occurrences in 3-grams shared by a quarter of the captions), sized
(15–80 words) and faithful (no fact-check finding on any variant, every stated BPM the
dominant tempo, no key for a set whose key is undetermined). The facts the captions are
judged against are read from the summaries here, independently of the writer's adapter.

Issue 27 (slow, needs fluidsynth + the GM soundfont + the musicnn wheel): the six GM styles'
captions name a confidently heard tag; each corpus set rendered from its own arrangement
(tests/set_render.py) and tagged gets captions that state a sound word grounded in the tags
(>= 90 %), with at most 10 % filler sentences and no genre or mood the tags do not support.
Its sections' clips, each captioned with its section's tags, say the track's genre (a clip may
only leave out a beat-driven one when no drums play in it) and name every instrument that plays.

The detailed variant is 25–60 words (a warning below); a caption under 25 is accepted only
for a set with at most two instrument families, where nothing more is known to say.
"""

from __future__ import annotations

import os
import re

import pytest
from scipy.io import wavfile

from tests.gm_render import missing_tools, render
from tests.set_render import render_sets, rendered_sections
from trainmode.audio.listen import clip_tags
from trainmode.audio.tagger import TaggerError, Tagging, Tags, open_tagger
from trainmode.audio.tagger.vocab import VOCABULARIES
from trainmode.captions.factcheck import DETAILED_WORDS, check_variants
from trainmode.captions.report import caption_report
from trainmode.captions.writers.heard import BEAT_FAMILIES, GENRE_KIN, MOOD_KIN, listen, needs_beat, supports
from trainmode.captions.writers.offline import OfflineWriter
from trainmode.captions.writers.phrases import label
from trainmode.clips.captions import caption_clips
from trainmode.clips.plan import ClipPlan
from trainmode.sets.als import parse_als
from trainmode.sets.facts import SetFacts, section_summary, training_blocker

PROFILES = {
    "no profile": {},
    "a profile": {
        "genres": ["deep house", "techno"],
        "moods": ["dreamy", "driving"],
        "descriptors": ["warm", "tape-saturated"],
        "instruments": ["analog synths", "saxophone"],
    },
}
KEY_CONFIDENCE = 0.6  # v1 keys below this are guesses (the rule the writers apply)
_RANGE = re.compile(r"(\d+)\s*(?:to|and|-|–)\s*(\d+)\s*(?:BPM|bpm|beats per minute)")
_SINGLE = re.compile(r"(\d+)\s*(?:BPM|bpm|beats per minute)")
_KEY = re.compile(r"(?i)\b[A-G](?:#|b)?\s(?:major|minor)\b")


@pytest.fixture(scope="module")
def corpus(corpus_dir) -> dict[str, dict]:
    sets = sorted(corpus_dir.glob("*.als"))
    assert len(sets) == 38, f"expected the 38 shared sets in {corpus_dir}"
    summaries = {path.name: parse_als(path).summary for path in sets}
    # A set with nothing in its arrangement makes no training item, so it is never captioned.
    return {name: s for name, s in summaries.items() if not training_blocker(s)}


def dominant_bpm(summary: dict) -> float | None:
    """v2: tempo.dominant_bpm; v1: the tempo when it never changes (else unknown)."""
    tempo = summary.get("tempo") or {}
    if tempo.get("dominant_bpm") is not None:
        return float(tempo["dominant_bpm"])
    if tempo.get("bpm") is not None and not (tempo.get("automated") and tempo.get("min") != tempo.get("max")):
        return float(tempo["bpm"])
    return None


def tempo_span(summary: dict) -> tuple[float, float] | None:
    tempo = summary.get("tempo") or {}
    points = [float(p["bpm"]) for p in tempo.get("map") or []] or [
        float(v) for v in (tempo.get("min"), tempo.get("max")) if v is not None
    ]
    return (min(points), max(points)) if points else None


def key_determined(summary: dict) -> bool:
    key = summary.get("key")
    if not key or not key.get("tonic"):
        return False
    return summary.get("schema_version", 1) >= 2 or (key.get("confidence") or 0) >= KEY_CONFIDENCE


def short_detailed(findings: dict[str, dict], corpus: dict[str, dict]) -> dict[str, list[str]]:
    """The sets whose detailed variant the check finds outside 25–60 words, with their families:
    only sets with at most two families may fall short (the writer says what it knows, no padding)."""
    flagged = {n: f["detailed"] for n, f in findings.items() if any(x.code == "variant_length" for x in f["detailed"])}
    return {n: list(SetFacts.from_summary(corpus[n]).instruments) for n in flagged}


def other_findings(findings: dict[str, dict]) -> dict[str, dict]:
    """Findings other than the detailed variant's length warning (see short_detailed)."""
    out = {}
    for name, found in findings.items():
        rest = {v: [f for f in fs if not (v == "detailed" and f.code == "variant_length")] for v, fs in found.items()}
        if any(rest.values()):
            out[name] = rest
    return out


def tempo_problems(text: str, summary: dict) -> list[str]:
    """Every stated BPM is the dominant tempo (±1); a range 'from X to Y BPM' is the tempo's span."""
    problems, span, dominant = [], tempo_span(summary), dominant_bpm(summary)
    for low, high in _RANGE.findall(text):
        if not span or abs(int(low) - span[0]) > 1 or abs(int(high) - span[1]) > 1:
            problems.append(f"range {low}-{high} vs {span}")
    for bpm in _SINGLE.findall(_RANGE.sub(" ", text)):
        if dominant is None or abs(int(bpm) - dominant) > 1:
            problems.append(f"{bpm} BPM vs dominant {dominant}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES, ids=list(PROFILES))
def test_offline_captions_over_the_corpus_meet_the_targets(corpus, profile):
    schema = PROFILES[profile]
    written = {
        name: OfflineWriter().write(summary, {**schema, "name": name.split("__")[0]})
        for name, summary in corpus.items()
    }
    captions = [result.text for result in written.values()]
    findings = {
        name: check_variants(
            result.variants, corpus[name], {**schema, "name": name.split("__")[0]}, artist_name=name.split("__")[0]
        )
        for name, result in written.items()
    }
    report = caption_report(captions, [[f for fs in found.values() for f in fs] for found in findings.values()])
    print(f"\n{profile}:\n{report.to_text()}")  # the figures, with -s

    assert report.duplicates == []
    assert report.same_opening_share <= 0.20, report.top_opening
    assert report.shared_ngram_share <= 0.10, report.top_shared_ngrams
    # 10: the fact checker's minimum; a set that says nothing but its tempo is no longer padded
    assert all(10 <= len(c.split()) <= DETAILED_WORDS[1] for c in captions), [
        c for c in captions if len(c.split()) < 10
    ]
    assert other_findings(findings) == {}
    short = short_detailed(findings, corpus)
    assert all(len(families) <= 2 for families in short.values()), short
    assert len(short) <= 8, short  # 7 of 28 measured (no profile), 5 with a profile: the sparsest sets
    wrong_tempo = {
        name: p
        for name, r in written.items()
        if (p := [x for v in r.variants.values() for x in tempo_problems(v, corpus[name])])
    }
    assert wrong_tempo == {}
    keyed = {
        name: r.text
        for name, r in written.items()
        if not key_determined(corpus[name]) and any(_KEY.search(v) for v in r.variants.values())
    }
    assert keyed == {}
    assert sum(key_determined(s) for s in corpus.values()) >= 5  # the key rule is exercised both ways


def test_the_checks_here_can_fail():
    """The tempo and key readers above catch what they are meant to catch."""
    steady = {"tempo": {"bpm": 120.0, "automated": False, "min": 120.0, "max": 120.0}}
    assert tempo_problems("A cut at 120 BPM, 121 bpm in tags.", steady) == []
    assert tempo_problems("A cut at 123 BPM.", steady) == ["123 BPM vs dominant 120.0"]
    ramp = {"tempo": {"bpm": 140.0, "automated": True, "min": 132.0, "max": 180.0}}
    assert tempo_problems("Tempo changes from 132 to 180 BPM.", ramp) == []
    assert tempo_problems("At 140 BPM, with tempo changes.", ramp) == ["140 BPM vs dominant None"]
    assert not key_determined({"key": {"tonic": "C", "mode": "major", "confidence": 0.1}})
    assert not key_determined({"schema_version": 2, "key": None})
    assert _KEY.search("drums, 4/4, a minor")


# ---- issue 27: captions that listen, over music a person can reason about -------------------------
IN_CI = os.environ.get("CI", "").lower() == "true"
GENRE_MOOD_WORDS = sorted(
    {label.tag for vocab in VOCABULARIES.values() for label in vocab.values() if label.category in ("genre", "mood")}
)
# What the six GM styles are, as the set a producer would have made them in (track name, family).
GM_SETS = {
    "piano": (90, [("Piano", "piano")]),
    "strings": (72, [("Strings", "strings"), ("Violin", "strings"), ("Cello", "strings")]),
    "rock": (130, [("Guitar", "guitar"), ("Bass", "bass"), ("Drums", "drums")]),
    "techno": (128, [("Drums", "drums"), ("Bass", "bass"), ("Synth", "synth")]),
    "choir": (66, [("Choir", "vocals")]),
    "flute": (100, [("Flute", "woodwinds")]),
}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tagger():
    reason = missing_tools()
    if reason:
        _unavailable(reason)
    try:
        return open_tagger("musicnn")
    except TaggerError as exc:
        _unavailable(str(exc))


def gm_summary(style: str) -> dict:
    bpm, parts = GM_SETS[style]
    tempo = {"bpm": bpm, "automated": False, "min": bpm, "max": bpm, "dominant_bpm": bpm, "map": []}
    return {
        "schema_version": 2,
        "tempo": {**tempo, "map": [{"beat": 0.0, "seconds": 0.0, "bpm": bpm}]},
        "time_signature": "4/4",
        "time_signatures": [{"beat": 0.0, "time_signature": "4/4"}],
        "key": {"tonic": "C", "mode": "major", "confidence": 0.9, "source": "midi_notes"},
        "track_counts": {"audio": 0, "midi": len(parts), "group": 0, "return": 0},
        "tracks": [{"name": n, "type": "midi", "muted": False, "devices": [], "clip_count": 2} for n, _ in parts],
        "instruments": [{"family": f, "seconds": 10.0} for f in dict.fromkeys(f for _, f in parts)],
        "sections": [],
    }


def says(text: str, word: str) -> bool:
    """`word` in `text` as a word or the start of one ("synth" in "synths")."""
    return bool(re.search(rf"(?i)(?<![\w-]){re.escape(word)}", text))


def allowed_words(tags: Tags, schema: dict) -> list[str]:
    """Genre and mood words a caption may use: the heard ones, and the profile's words a heard one supports."""
    heard = [t for t, _ in tags.genre + tags.mood]
    kin = {**GENRE_KIN, **MOOD_KIN}
    profile = [w for f in ("genres", "moods") for w in schema.get(f) or []]
    return heard + [w for w in profile if any(supports(t, w, kin) for t in heard)]


def unheard_genre_or_mood(text: str, tags: Tags, schema: dict) -> list[str]:
    """Genre and mood words (the tagger's vocabulary and the profile's) in `text` that nothing heard supports."""
    allowed = allowed_words(tags, schema)
    rest = text.lower()
    for word in sorted(allowed, key=len, reverse=True):  # "deep house" is allowed, so its "house" is too
        rest = re.sub(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", " ", rest)
    vocabulary = GENRE_MOOD_WORDS + [w for f in ("genres", "moods") for w in schema.get(f) or []]
    return [w for w in vocabulary if re.search(rf"(?<![\w-]){re.escape(w.lower())}(?![\w-])", rest)]


def grounded(text: str, tags: Tags, schema: dict) -> bool:
    """Does `text` state a sound word grounded in the tags (a heard tag, or the artist's word for one)?"""
    return any(says(text, w) for w in allowed_words(tags, schema) + tags.heard())


@pytest.mark.slow
def test_each_gm_style_caption_names_a_confidently_heard_tag(tagger, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gm-captions")
    for style in GM_SETS:
        rate, samples = wavfile.read(render(style, 10.0, folder / f"{style}.wav"))
        tags = tagger.tag(samples, rate).whole
        result = OfflineWriter().write(gm_summary(style), {}, heard=tags)
        named = [t for t in tags.heard() if says(result.text, t)]
        print(f"\n{style:8} heard {tags.heard()}\n         {result.text}")
        assert named, (style, tags.heard(), result.text)
        # One instrument, a tempo and a key: a detailed caption may fall under 25 words (a warning).
        assert other_findings({style: check_variants(result.variants, gm_summary(style), {})}) == {}
        assert unheard_genre_or_mood(result.text, tags, {}) == []


@pytest.fixture(scope="session")
def corpus_tagging(corpus_dir, tagger, tmp_path_factory) -> dict[str, Tagging]:
    """Every corpus set rendered from its own arrangement (tests/set_render.py, 12 s each, one
    FluidSynth run) and tagged: set name -> the excerpt's Tagging (the whole excerpt, and each
    section it plays, in order). Once per session."""
    summaries = {path.name: parse_als(path).summary for path in sorted(corpus_dir.glob("*.als"))}
    wav = tmp_path_factory.mktemp("corpus-renders") / "sets.wav"
    placed = render_sets(summaries, wav, seconds=12.0)
    rate, samples = wavfile.read(wav)
    out = {}
    for name, (start, spans) in placed.items():
        excerpt = samples[int(start * rate) : int((start + spans[-1][1]) * rate)]
        out[name] = tagger.tag(excerpt, rate, spans)
    return out


@pytest.fixture(scope="session")
def corpus_tags(corpus_tagging) -> dict[str, Tags]:
    """set name -> the excerpt's whole-render Tags."""
    return {name: tagging.whole for name, tagging in corpus_tagging.items()}


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES, ids=list(PROFILES))
def test_listened_captions_over_the_corpus_meet_the_targets(corpus, corpus_tags, profile):
    """Issue 27's done-when: >= 90 % of detailed captions state a sound word grounded in the tags,
    <= 10 % filler sentences, no genre or mood the tags do not support, and issue 17's targets."""
    schema = PROFILES[profile]
    written, findings = {}, {}
    for name, summary in corpus.items():
        artist = name.split("__")[0]
        written[name] = OfflineWriter().write(summary, {**schema, "name": artist}, heard=corpus_tags[name])
        findings[name] = check_variants(written[name].variants, summary, {**schema, "name": artist}, artist_name=artist)
    captions = {name: r.text for name, r in written.items()}
    report = caption_report(list(captions.values()), [[f for fs in v.values() for f in fs] for v in findings.values()])
    ungrounded = [n for n, text in captions.items() if not grounded(text, corpus_tags[n], schema)]
    unheard = {n: w for n, text in captions.items() if (w := unheard_genre_or_mood(text, corpus_tags[n], schema))}
    share = 1 - len(ungrounded) / len(captions)
    print(f"\n{profile}: grounded {share:.0%}, filler {report.filler_share:.1%}\n{report.to_text()}")
    assert share >= 0.90, {n: (captions[n], corpus_tags[n].heard()) for n in ungrounded}
    assert report.filler_share <= 0.10, report.top_filler
    assert unheard == {}
    assert report.duplicates == [] and other_findings(findings) == {}, findings
    short = short_detailed(findings, corpus)
    assert all(len(families) <= 2 for families in short.values()) and len(short) <= 8, short
    assert report.same_opening_share <= 0.20, report.top_opening
    assert report.shared_ngram_share <= 0.10, report.top_shared_ngrams
    assert all(10 <= len(c.split()) <= DETAILED_WORDS[1] for c in captions.values())


# ---- clips: one track, one genre; every instrument that plays ------------------------------------
GENRE_WORDS = sorted(
    {label.tag for vocab in VOCABULARIES.values() for label in vocab.values() if label.category == "genre"}
)


def genre_words(text: str, schema: dict) -> set[str]:
    """The genre words (the tagger's and the profile's) `text` says; "deep house" is not also "house"."""
    rest, found = text.lower(), set()
    for word in sorted({*GENRE_WORDS, *(schema.get("genres") or [])}, key=len, reverse=True):
        pattern = rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])"
        if re.search(pattern, rest):
            found.add(word)
            rest = re.sub(pattern, " ", rest)
    return found


def section_clips(summary: dict, tagging: Tagging) -> tuple[list[ClipPlan], dict]:
    """The sections the excerpt played, as clips, and an item storing the excerpt's tags as a
    saved render's (each section's at its span in the set), for clip_tags to read."""
    sections = rendered_sections(summary)
    spans = [{**t.to_dict(), "span": [s["start_s"], s["end_s"]]} for t, s in zip(tagging.spans, sections, strict=True)]
    item = {"metadata": {"audio": {"tags": {"whole": tagging.whole.to_dict(), "spans": spans}}}}
    plan = [ClipPlan(i + 1, s.get("name") or "", s["start_s"], s["end_s"], s, i) for i, s in enumerate(sections)]
    return plan, item


def clip_problems(summary: dict, schema: dict, tagging: Tagging) -> tuple[dict, list[dict]]:
    """Each clip whose caption says a genre its track does not, leaves out one of the track's
    without a beatless section to excuse it (heard.BEAT_GENRES), or leaves out an instrument
    that plays in it; and every clip's caption."""
    plan, item = section_clips(summary, tagging)
    heard = [clip_tags(item, c.start_s, c.end_s) for c in plan]
    track = genre_words(OfflineWriter().write(summary, schema, heard=tagging.whole).text, schema)
    written = caption_clips(OfflineWriter(), summary, plan, schema, artist_name=schema["name"], heard=heard)
    problems = {}
    for clip, tags, caption in zip(plan, heard, written, strict=True):
        facts = SetFacts.from_summary(section_summary(summary, clip.section))
        sound = listen(tags, list(facts.instruments), {}, facts.bpm)
        playing = [f for f in facts.instruments if f not in sound.hidden]
        said = genre_words(caption["caption"], schema)
        beat = any(f in BEAT_FAMILIES for f in playing)
        missing = {g for g in track - said if beat or not needs_beat(g)}
        detailed = caption["variants"]["detailed"].lower()
        unnamed = [f for f in playing if label(sound.names.get(f, f)).lower() not in detailed]
        if said - track or missing or unnamed:
            problems[clip.index] = (sorted(track), caption["caption"], said - track, missing, unnamed)
    return problems, written


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES, ids=list(PROFILES))
def test_clips_say_their_tracks_genre_and_every_instrument_that_plays(corpus, corpus_tagging, profile):
    """QA: Shukumei's clips switched between electronic, indie, jazz and experimental over the same
    drums and synths, and a third instrument (Deliverance's guitar) was never said in a clip."""
    problems, captions = {}, []
    for name, summary in corpus.items():
        if rendered_sections(summary):
            schema = {**PROFILES[profile], "name": name.split("__")[0]}
            found, written = clip_problems(summary, schema, corpus_tagging[name])
            problems |= {f"{name} clip {i}": p for i, p in found.items()}
            captions += written
    report = caption_report([c["caption"] for c in captions], [c["findings"] for c in captions])
    print(f"\nclips, {profile}:\n{report.to_text()}")
    assert len(captions) >= 80  # 26 sets play sections
    assert problems == {}
    assert report.findings_by_type == {} and report.duplicates == []
    assert report.filler_share <= 0.10, report.top_filler
    assert report.shared_ngram_share <= 0.10, report.top_shared_ngrams
