"""`generate --audio` and `save --generate` listen to the render before the caption is written, so
it leads with what is heard, as on the Train page; `generate` without audio says its caption is
from the set alone. Run in-process (`cli.main`), so the session's analysis cache (conftest) applies."""

from __future__ import annotations

import json

import pytest

from tests.gm_render import missing_tools, render_mp3
from trainmode import cli

SET_ALONE = "note: this caption is from the set alone"


def cli_run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def night_drive(demo_files, capsys):
    """Ada with the demo's Night Drive set (drums, bass, synths at 124 BPM in A minor)."""
    _, als, mp3 = demo_files[0]
    assert cli_run(capsys, "import", "--artist", "Ada", als)[0] == 0
    return als.name, mp3


@pytest.fixture(scope="module")
def piano_mp3(tmp_path_factory):
    """12 s of General MIDI piano: the tagger hears `classical` and `piano` in it (tests/test_tagger.py)."""
    if missing_tools():
        pytest.skip(missing_tools())
    return render_mp3("piano", 12.0, tmp_path_factory.mktemp("gm") / "piano.mp3")


def test_without_audio_the_caption_is_from_the_set_and_says_how_to_listen(night_drive, capsys):
    als, _ = night_drive
    code, out, err = cli_run(capsys, "generate", "--artist", "Ada", "--als", als)
    assert code == 0 and out.strip()
    [note] = [line for line in err.splitlines() if line.startswith(SET_ALONE)]
    assert "--audio FILE.mp3" in note


def test_a_bad_audio_file_is_one_clear_line_and_no_caption(night_drive, capsys, audio_fixtures, tmp_path):
    als, _ = night_drive
    for audio, words in (
        (audio_fixtures / "wav_renamed.mp3", ("WAV", "not an MP3")),
        (tmp_path / "gone.mp3", ("gone.mp3", "No such file")),
        (tmp_path, ("Is a directory",)),
    ):
        code, out, err = cli_run(capsys, "generate", "--artist", "Ada", "--als", als, "--audio", audio)
        assert code == 1 and out == "" and "Traceback" not in err, err
        last = err.strip().splitlines()[-1]
        assert last.startswith("error: ") and all(w in last for w in words), last


def test_a_silent_render_is_a_warning_and_the_caption_says_only_the_set(night_drive, capsys, audio_fixtures):
    als, _ = night_drive
    code, alone, _ = cli_run(capsys, "generate", "--artist", "Ada", "--als", als)
    code, out, err = cli_run(
        capsys, "generate", "--artist", "Ada", "--als", als, "--audio", audio_fixtures / "silence_2s.mp3"
    )
    assert code == 0
    assert "warning: audio: mismatch. The audio is silent: there is no music in it." in err.splitlines()[0]
    assert "heard: nothing confidently" in err and SET_ALONE not in err
    assert out == alone  # nothing heard: the caption the set alone gives


@pytest.mark.slow
def test_generate_with_audio_leads_with_what_is_heard(night_drive, piano_mp3, capsys):
    als, _ = night_drive
    _, alone, _ = cli_run(capsys, "generate", "--artist", "Ada", "--als", als, "--writer", "offline")
    code, out, err = cli_run(
        capsys, "generate", "--artist", "Ada", "--als", als, "--audio", piano_mp3, "--writer", "offline", "--json"
    )
    assert code == 0, err
    caption = json.loads(out)["caption"].lower()
    [heard] = [line for line in err.splitlines() if line.startswith("heard: ")]
    assert "classical" in heard and "classical" in caption and "classical" not in alone.lower()
    # 12 s of piano at another tempo is not Night Drive's render: said as a warning, the page's words.
    assert err.splitlines()[0].startswith("warning: audio: mismatch. ")
    assert SET_ALONE not in err


@pytest.mark.slow
def test_save_generate_listens_before_the_caption_is_written(night_drive, piano_mp3, capsys, store):
    als, _ = night_drive
    code, out, err = cli_run(
        capsys, "save", "--artist", "Ada", "--als", als, "--audio", piano_mp3, "--generate", "--force", "--json"
    )
    assert code == 0, err
    item = json.loads(out)
    assert "classical" in item["prompt_text"].lower()
    assert "classical" in [t for t, _ in item["metadata"]["audio"]["tags"]["whole"]["genre"]]
    assert err.startswith("audio: mismatch. ")  # save's own words: the mismatch is what --force confirms
    assert "heard: classical" in err
