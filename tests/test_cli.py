"""`python -m trainmode`: every command, exit codes, one clear line on failure."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from trainmode.cli import HANDLERS, build_parser

ROOT = Path(__file__).resolve().parent.parent


def run(*args, data_dir, check=True):
    env = {**os.environ, "TRAINMODE_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "trainmode", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    if check:
        assert out.returncode == 0, out.stderr
    return out


def assert_one_clear_line(out, *words):
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ")
    for word in words:
        assert word in lines[-1]


def test_every_command_is_in_the_parser():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == set(HANDLERS)


@pytest.mark.slow
def test_demo_then_export_gives_pairs_of_valid_mp3_and_caption(data_dir):
    first = run("demo", data_dir=data_dir)
    assert first.stdout.strip() == "Demo Artist"
    run("demo", data_dir=data_dir)  # idempotent
    items = json.loads(run("items", "--artist", "Demo Artist", "--json", data_dir=data_dir).stdout)
    assert len(items) == 2 and {i["status"] for i in items} == {"ready"}
    out = run("export", "--artist", "Demo Artist", data_dir=data_dir)
    zip_path = Path(out.stdout.strip().splitlines()[-1])
    from trainmode.audio.probe import probe_mp3

    with zipfile.ZipFile(zip_path) as zf:
        mp3s = sorted(n for n in zf.namelist() if n.endswith(".mp3"))
        assert mp3s == ["track-0001.mp3", "track-0002.mp3"]
        for name in mp3s:
            assert probe_mp3(zf.read(name)).duration_s > 1
            assert zf.read(name.replace(".mp3", ".txt")).decode().strip()
    items = json.loads(
        run("items", "--artist", "Demo Artist", "--status", "exported", "--json", data_dir=data_dir).stdout
    )
    assert len(items) == 2
    assert "exported 2 items (hf)" in out.stderr and "2/2 rows" in out.stderr
    nothing_ready = run("export", "--artist", "Demo Artist", data_dir=data_dir, check=False)
    assert_one_clear_line(nothing_ready, "no ready training items", "export --all")
    again = run("export", "--artist", "Demo Artist", "--all", "--clips", "sections", data_dir=data_dir)
    assert "exported 2 items (hf)" in again.stderr  # re-export all: the exported items again, as clips
    with zipfile.ZipFile(Path(again.stdout.strip().splitlines()[-1])) as zf:
        assert any(n.startswith("clip-0001-") for n in zf.namelist())


def test_summarize_prints_the_summary(data_dir, demo_files):
    _, als, _ = demo_files[0]
    summary = json.loads(run("summarize", als, data_dir=data_dir).stdout)
    assert summary["schema_version"] == 2 and summary["tempo"]["bpm"] == 124.0
    assert not data_dir.exists(), "summarize needs no store"


def test_summarize_a_broken_file_is_one_clear_line(data_dir, tmp_path):
    broken = tmp_path / "broken.als"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert_one_clear_line(run("summarize", broken, data_dir=data_dir, check=False), "broken.als")


def test_import_reports_each_file_and_a_bad_one_does_not_stop_the_others(data_dir, demo_files, tmp_path):
    notes = tmp_path / "notes.als"
    notes.write_text("just some notes")
    good = [als for _, als, _ in demo_files]
    out = run("import", "--artist", "Bo", notes, *good, data_dir=data_dir, check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "[1/4] notes.als: failed" in out.stderr and "[4/4]" in out.stderr
    again = run("import", "--artist", "Bo", *good, data_dir=data_dir)
    assert again.stderr.count(": duplicate") == 3


def test_importing_only_broken_files_leaves_the_store_unchanged(data_dir, tmp_path):
    notes = tmp_path / "notes.als"
    notes.write_text("just some notes")
    out = run("import", "--artist", "Nobody", notes, data_dir=data_dir, check=False)
    assert_one_clear_line(out, "1 of 1")
    assert "notes.als" in out.stderr
    assert_one_clear_line(run("items", "--artist", "Nobody", data_dir=data_dir, check=False), "Nobody")


@pytest.mark.slow
def test_save_and_generate_from_the_command_line(data_dir, demo_files):
    demo, als, mp3 = demo_files[2]
    run("import", "--artist", "Cy", als, data_dir=data_dir)
    gen = json.loads(
        run("generate", "--artist", "Cy", "--als", als.name, "--writer", "offline", "--json", data_dir=data_dir).stdout
    )
    assert gen["writer"] == "offline" and gen["findings"] == [] and re.search(r"128 (BPM|beats)", gen["caption"])
    assert set(gen["captions"]) == {"detailed", "short", "tags"} and gen["captions"]["detailed"] == gen["caption"]
    assert gen["caption_findings"] == {"detailed": [], "short": [], "tags": []}
    saved = run("save", "--artist", "Cy", "--als", als.name, "--audio", mp3, "--generate", data_dir=data_dir)
    [item] = json.loads(run("items", "--artist", "Cy", "--json", data_dir=data_dir).stdout)
    assert item["id"] == saved.stdout.strip() and item["prompt_writer"] == "offline"
    assert f"caption: {item['prompt_text']}" in saved.stderr  # what was saved is shown, not only its id


@pytest.mark.slow
def test_save_refuses_a_non_mp3_and_changes_nothing(data_dir, demo_files, audio_fixtures):
    _, als, _ = demo_files[0]
    run("import", "--artist", "Di", als, data_dir=data_dir)
    out = run(
        "save",
        "--artist",
        "Di",
        "--als",
        als.name,
        "--audio",
        audio_fixtures / "wav_renamed.mp3",
        "--caption",
        "A synthwave groove with punchy drums, a deep bass line and soft pads.",
        data_dir=data_dir,
        check=False,
    )
    assert_one_clear_line(out, "WAV")
    assert json.loads(run("items", "--artist", "Di", "--json", data_dir=data_dir).stdout) == []


def test_save_refuses_a_truncated_render_unless_forced(data_dir, demo_files, audio_fixtures):
    _, als, _ = demo_files[0]
    run("import", "--artist", "Ed", als, data_dir=data_dir)
    args = (
        "save",
        "--artist",
        "Ed",
        "--als",
        als.name,
        "--audio",
        audio_fixtures / "silence_2s.mp3",
        "--caption",
        "Synthwave groove with punchy drums, a deep bass line and soft pads.",
    )
    assert_one_clear_line(run(*args, data_dir=data_dir, check=False), "--force")
    run(*args, "--force", data_dir=data_dir)


@pytest.mark.slow
def test_save_refuses_a_render_at_another_tempo_unless_forced(data_dir, club_renders):
    run("import", "--artist", "Flo", club_renders["als"], data_dir=data_dir)
    args = (
        "save",
        "--artist",
        "Flo",
        "--als",
        "club.als",
        "--json",
        "--caption",
        "A club groove with punchy drums, a steady kick and minor chords.",
    )
    refused = run(*args, "--audio", club_renders["fast"], data_dir=data_dir, check=False)
    assert refused.returncode == 1 and refused.stdout == ""
    assert re.search(r"^audio: mismatch\. The audio runs at 1(39\.\d|40) BPM, the set at 128\.$", refused.stderr, re.M)
    assert refused.stderr.strip().splitlines()[-1].endswith("Use --force to save anyway.")
    assert json.loads(run("items", "--artist", "Flo", "--json", data_dir=data_dir).stdout) == []
    forced = run(*args, "--audio", club_renders["fast"], "--force", data_dir=data_dir)
    assert json.loads(forced.stdout)["metadata"]["audio"]["confirmed"] is True
    matching = run(*args, "--audio", club_renders["match"], data_dir=data_dir)  # no question, no --force
    assert matching.stderr.startswith("audio: matches. Tempo agrees")
    assert json.loads(matching.stdout)["metadata"]["audio"]["verdict"] == "matches"


def test_a_stray_option_is_reported_with_its_commands_usage(data_dir):
    out = run("export", "--artist", "Ghost", "--rows", "sections", data_dir=data_dir, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("usage: python -m trainmode export ")
    assert "unrecognized arguments: --rows sections" in out.stderr


def test_an_empty_artist_name_is_said_once_before_any_file(data_dir, tmp_path):
    sets = [tmp_path / "a.als", tmp_path / "b.als"]
    for path in sets:
        path.write_text("not a set")  # the name is refused first: no file is even read
    out = run("import", "--artist", "   ", *sets, data_dir=data_dir, check=False)
    assert_one_clear_line(out, "artist name")
    assert out.stderr.count("error") == 1 and "[1/2]" not in out.stderr


def test_unknown_artist_is_a_clear_message(data_dir):
    assert_one_clear_line(run("export", "--artist", "Ghost", data_dir=data_dir, check=False), "Ghost")


@pytest.mark.slow
def test_missing_or_wrong_files_are_one_clear_line(data_dir, demo_files, tmp_path):
    _, als, _ = demo_files[0]
    run("import", "--artist", "Fa", als, data_dir=data_dir)
    save = ("save", "--artist", "Fa", "--als", als.name)
    caption = ("--caption", "Synthwave groove with punchy drums, a deep bass line and soft pads.")
    assert_one_clear_line(
        run(*save, "--audio", tmp_path / "gone.mp3", *caption, data_dir=data_dir, check=False),
        "gone.mp3",
        "No such file",
    )
    assert_one_clear_line(
        run(*save, "--audio", tmp_path, *caption, data_dir=data_dir, check=False), str(tmp_path), "directory"
    )
    latin1 = tmp_path / "caption.txt"
    latin1.write_bytes("Café synthwave with drums".encode("latin-1"))
    mp3 = demo_files[0][2]
    assert_one_clear_line(
        run(*save, "--audio", mp3, "--caption-file", latin1, data_dir=data_dir, check=False), "caption.txt", "UTF-8"
    )
    assert_one_clear_line(
        run(*save, "--audio", mp3, "--caption-file", tmp_path / "none.txt", data_dir=data_dir, check=False),
        "none.txt",
        "No such file",
    )
    assert_one_clear_line(
        run(*save, "--audio", mp3, "--caption-file", tmp_path, data_dir=data_dir, check=False), "directory"
    )


def test_an_unexpected_error_is_one_line_naming_the_log_with_the_traceback(data_dir, monkeypatch, capsys):
    from trainmode import cli

    def bug(args, settings):
        raise KeyError("a bug")

    monkeypatch.setitem(cli.HANDLERS, "items", bug)
    assert cli.main(["items", "--artist", "Anyone"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    log = data_dir.resolve() / "logs" / "trainmode.log"
    assert err == [f"error: an unexpected error (a bug); the traceback is in {log}"]
    assert "Traceback" in log.read_text() and "KeyError: 'a bug'" in log.read_text()
