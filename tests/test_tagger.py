"""The music tagger (trainmode.audio.tagger) on General MIDI renders a person can reason about.

Six ~10 s pieces are rendered once per session with FluidSynth (tests/gm_render.py):
piano, string ensemble, distorted-guitar rock, techno, choir, flute. Without fluidsynth,
the GM soundfont or the musicnn wheel these tests skip on a laptop and fail in CI.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from tests.gm_render import FITTING_WORDS, STYLES, missing_tools, render
from trainmode.audio.tagger import TaggerError, Tagging, Tags, open_tagger
from trainmode.audio.tagger import musicnn as mn
from trainmode.audio.tagger.checkpoint import read_index

IN_CI = os.environ.get("CI", "").lower() == "true"
SECONDS = 10.0


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tagger():
    try:
        return open_tagger("musicnn")
    except TaggerError as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def renders(tmp_path_factory) -> dict[str, tuple[int, np.ndarray]]:
    """style -> (sample rate, int16 stereo samples), rendered once per session."""
    reason = missing_tools()
    if reason:
        _unavailable(reason)
    folder = tmp_path_factory.mktemp("gm")
    return {style: wavfile.read(render(style, SECONDS, folder / f"{style}.wav")) for style in STYLES}


@pytest.fixture(scope="session")
def tagged(tagger, renders) -> dict[str, Tagging]:
    return {style: tagger.tag(samples, rate) for style, (rate, samples) in renders.items()}


def _fits(style: str, tags: Tags) -> bool:
    return any(word in tag for tag, _ in tags.top(5) for word in FITTING_WORDS[style])


def test_a_fitting_word_is_in_the_top_five_for_at_least_five_of_six_styles(tagged):
    report = {style: (_fits(style, t.whole), t.whole.top(5)) for style, t in tagged.items()}
    print("\n" + "\n".join(f"{s:8} {'ok ' if ok else 'MISS'} {top}" for s, (ok, top) in report.items()))
    hits = sum(ok for ok, _ in report.values())
    assert hits >= 5, f"only {hits}/6 styles have a fitting word in their top 5: {report}"


def test_choir_has_vocals_and_piano_has_none(tagged):
    assert tagged["choir"].whole.vocals.present is True
    assert tagged["choir"].whole.vocals.probability >= 0.5
    assert tagged["piano"].whole.vocals.present is not True


def test_heard_tags_come_in_their_categories(tagged):
    assert "techno" in dict(tagged["techno"].whole.genre)
    assert "flute" in dict(tagged["flute"].whole.instrument)
    assert all(0.0 <= p <= 1.0 for t in tagged.values() for p in t.whole.tags.values())


def test_silence_gives_no_tags(tagger):
    result = tagger.tag(np.zeros((44100 * 8, 2), dtype=np.int16), 44100, spans=[(0.0, 4.0)])
    for tags in (result.whole, *result.spans):
        assert tags.empty and tags.reason == "silent"
        assert tags.genre == [] and tags.vocals.present is None


def test_spans_are_tagged_apart_and_short_spans_refused(tagger, renders):
    rate, piano = renders["piano"]
    _, techno = renders["techno"]
    song = np.concatenate([piano[: rate * 9], techno[: rate * 9]])
    result = tagger.tag(song, rate, spans=[(0.0, 9.0), (9.0, 18.0), (9.0, 10.0), (40.0, 50.0)])
    first, second, short, outside = result.spans
    assert first.span == (0.0, 9.0) and first.patches >= 1 and _fits("piano", first)
    assert second.patches >= 1 and _fits("techno", second)
    assert short.empty and short.reason.startswith("too short")
    assert outside.empty and outside.reason.startswith("too short")
    assert result.whole.patches >= 4


def test_json_round_trip(tagged):
    original = tagged["choir"]
    again = Tagging.from_dict(json.loads(json.dumps(original.to_dict())))
    assert again == original
    assert again.whole.model == "musicnn" and again.whole.version


def test_unknown_tagger_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TRAINMODE_TAGGER", "no-such-model")
    with pytest.raises(TaggerError, match="unknown tagger 'no-such-model'.*TRAINMODE_TAGGER.*musicnn"):
        open_tagger()
    with pytest.raises(TaggerError, match="'clap' is not available"):
        open_tagger("clap")


def test_checkpoint_index_is_read_without_tensorflow(tagger):
    entries = read_index(mn.package_dir() / "MTT_musicnn" / ".index")
    assert entries["conv2d/kernel"]["shape"] == [7, 38, 1, 204]
    assert entries["dense_1/kernel"]["shape"] == [200, 50]
    assert "tensorflow" not in sys.modules and "musicnn.extractor" not in sys.modules


def _reference_signal() -> np.ndarray:
    """4 s at 16 kHz: a 220 Hz tone, a rising chirp and a gated 1 kHz tone, quiet enough for float16."""
    t = np.arange(4 * 16000) / 16000.0
    y = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * (330 + 200 * t) * t)
    y += 0.1 * np.sin(2 * np.pi * 1000 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    return (0.1 * y).astype(np.float32)


# The five highest tags of the first patch of _reference_signal() from musicnn 0.1.0's own
# TensorFlow graph (musicnn.extractor.extractor with librosa 0.11 in reflect-pad mode,
# tensorflow-cpu 2.21 + tf_keras), run once in a scratch venv; see docs/tagger.md.
TF_REFERENCE = {
    "MTT_musicnn": {"slow": 0.21589, "electronic": 0.202275, "quiet": 0.195307, "flute": 0.148306, "soft": 0.108595},
    "MSD_musicnn": {
        "blues": 0.54498,
        "jazz": 0.401243,
        "folk": 0.063421,
        "oldies": 0.04218,
        "female vocalists": 0.04091,
    },
}


def test_numpy_port_matches_tensorflow_reference(tagger):
    mel = mn.log_mel(_reference_signal())[: mn.PATCH]
    for model, golden in TF_REFERENCE.items():
        probs = dict(zip(mn.LABELS[model], mn.forward(mel, tagger.weights[model]).tolist(), strict=True))
        for label, expected in golden.items():
            assert probs[label] == pytest.approx(expected, abs=1e-4), (model, label)


def test_renderer_writes_a_wav(tmp_path):
    if missing_tools():
        _unavailable(missing_tools())
    path = render("flute", 2.0, tmp_path / "f.wav")
    rate, samples = wavfile.read(path)
    assert rate == 44100 and len(samples) > rate and Path(path).with_suffix(".mid").read_bytes()[:4] == b"MThd"
