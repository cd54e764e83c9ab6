"""The caption quality report: the figures on small hand-made sets, and the CLI command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainmode.captions.factcheck import Finding
from trainmode.captions.report import caption_report, is_filler, items_report, sentences, trigrams, words

ROOT = Path(__file__).resolve().parent.parent
# Today's offline template, as the issue quotes it, and two other captions.
TEMPLATE = [
    f"Track at {bpm} BPM. A high-energy arrangement of {what}."
    for bpm, what in (
        (120, "drums"),
        (128, "synths"),
        (140, "drums and bass"),
        (160, "vocals"),
        (174, "drums"),
        (135, "bass"),
    )
]
OTHERS = ["Warm dub at 80 BPM with bass and organ, slow and roomy.", "Drums only, 172 BPM, a short sketch in 4/4."]


def test_words_and_trigrams_ignore_case_and_punctuation():
    assert words("Deep-house at 122 BPM, in C# minor (6/8).") == [
        "deep-house",
        "at",
        "122",
        "bpm",
        "in",
        "c#",
        "minor",
        "6/8",
    ]
    assert trigrams("A b c d") == [("a", "b", "c"), ("b", "c", "d")]


def test_template_captions_are_caught():
    findings = [[]] * 7 + [[Finding("tempo_mismatch", "x"), {"code": "tempo_mismatch"}, {"code": "artist_name"}]]
    report = caption_report(TEMPLATE + OTHERS, findings_by_caption=findings)
    assert report.count == 8 and (report.words_min, report.words_max) == (9, 12)
    assert report.same_opening_share == 1 / 8  # "track at 120", "track at 128"...: the tempo differs
    # 3-grams in at least 2 of 8 captions: "track at N" differs, but "bpm a high-energy", "a high-energy
    # arrangement" and "high-energy arrangement of" are in all six template captions (18 occurrences) and
    # "arrangement of drums" in three: 21 of the 61 3-gram occurrences.
    assert ("a high-energy arrangement", 6) in report.top_shared_ngrams
    assert report.shared_ngram_share == 21 / 61
    assert report.findings_by_type == {"artist_name": 1, "tempo_mismatch": 2}
    assert report.duplicates == []
    assert any("template text" in w for w in report.warnings())


def test_shared_ngram_share_and_duplicates():
    captions = [
        "one two three four",
        "one two three five",
        "six seven eight nine",
        "Six seven  eight nine",
        "ten eleven twelve",
        "alpha beta gamma",
        "delta epsilon zeta",
        "eta theta iota",
    ]
    report = caption_report(captions)
    # "one two three" (2 of 8) and "six seven eight", "seven eight nine" (2 of 8) reach a quarter:
    # 2 + 4 of the 12 3-gram occurrences.
    assert report.shared_ngram_share == 6 / 12
    assert report.duplicates == [[2, 3]]  # case and spacing do not make a caption new
    assert report.length_buckets["0-14"] == 8
    text = report.to_text()
    assert "duplicates: 1 groups" in text and "captions 3, 4" in text and "warning:" in text
    assert json.loads(json.dumps(report.to_dict()))["warnings"] == report.warnings()


def test_varied_captions_meet_the_targets():
    report = caption_report(
        [
            "Warm dub at 80 BPM with bass and organ.",
            "Bright house cut led by piano at 124 BPM.",
            "Three sections of guitar and vocals, mostly at 96 BPM.",
            "Drums only, 172 BPM.",
            "Strings swell over a slow pulse in 3/4.",
            "Piano alone, rubato, no drums at all.",
            "Choir and organ in D minor, 70 BPM.",
            "Guitar loop over brushed drums, 100 BPM.",
        ]
    )
    assert report.warnings() == [] and report.shared_ngram_share == 0.0 and report.same_opening_share == 1 / 8
    assert caption_report([]).to_text() == "No captions."


def test_a_few_different_captions_get_no_repetition_warning():
    # With three captions each one is a third of them: its opening and its 3-grams alone are not repetition.
    varied = ["Warm dub at 80 BPM with bass and organ.", "Drums only, 172 BPM.", "Piano alone, rubato, no drums."]
    report = caption_report(varied)
    assert report.warnings() == [] and report.shared_ngram_share == 0.0
    repeated = caption_report(["Warm dub at 80 BPM.", "Warm dub at 90 BPM.", "Drums only, 172 BPM."])
    assert len(repeated.warnings()) == 2  # two of three open alike and share "warm dub at"


@pytest.mark.slow
def test_captions_report_command(data_dir):
    env = {**os.environ, "TRAINMODE_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}

    def run(*args):
        out = subprocess.run(
            [sys.executable, "-m", "trainmode", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    run("demo")
    report = json.loads(run("captions-report", "--artist", "Demo Artist", "--json"))["caption"]
    assert report["count"] == 2 and report["duplicates"] == [] and report["findings_by_type"] == {}
    assert 0 <= report["shared_ngram_share"] <= 1 and report["same_opening_share"] in (0.5, 1.0)
    assert run("captions-report", "--artist", "Demo Artist").startswith("== caption\ncaptions: 2\nwords: min ")


def test_items_report_covers_the_saved_caption_and_each_stored_variant():
    items = [
        {
            "prompt_text": "Edited caption one with drums.",
            "findings": [{"code": "tempo_mismatch"}],
            "metadata": {"captions": {"detailed": "Caption one with drums.", "short": "Drums.", "tags": "drums, 4/4"}},
        },
        {"prompt_text": "Caption two, typed by hand.", "findings": [], "metadata": {}},
    ]
    reports = items_report(items)
    assert list(reports) == ["caption", "detailed", "short", "tags"]
    assert reports["caption"].count == 2 and reports["caption"].findings_by_type == {"tempo_mismatch": 1}
    assert reports["short"].count == 1 and reports["tags"].words_max == 2


def test_filler_sentences_are_counted():
    """Issue 27's examples of filler: a default restated, parts or sections counted, the kind of parts."""
    filler = [
        "It keeps a 4/4 meter.",
        "The tempo holds steady.",
        "It stacks 9 separate parts.",
        "It is laid out in 8 sections.",
        "It is made of recorded and programmed parts.",
        "There are no tempo changes.",
        "Every bar is in 4/4.",
    ]
    sound = [
        "A mellow classical piece led by piano and strings.",
        "Drums and bass enter in the drop, then the break strips back to just pads.",
        "It runs at 124 BPM, in A minor, in 6/8.",
        "Reverb and delay colour the sound.",
    ]
    assert [is_filler(s) for s in filler] == [True] * len(filler)
    assert [is_filler(s) for s in sound] == [False] * len(sound)
    report = caption_report([" ".join(filler[:3] + sound[:1]), " ".join(sound[1:])])
    assert (report.sentences, report.filler_sentences) == (7, 3) and report.filler_share == 3 / 7
    assert any("filler" in w for w in report.warnings()) and "filler: 3 of 7 sentences" in report.to_text()
    assert report.to_dict()["top_filler"][0] == {"sentence": "It keeps a 4/4 meter.", "captions": 1}
    assert not any("filler" in w for w in caption_report(sound).warnings())
    assert sentences("One. Two! Three? ") == ["One.", "Two!", "Three?"]
