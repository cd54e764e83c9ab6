"""Small input, bounded cost: a tiny .als whose one attribute inflates to 400 MB, a zip member that
inflates past what check-dataset reads, a master_schema nested 100,000 deep or with a million
genres. And a reader that stops early (`| head`) ends the command quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from trainmode.errors import AlsError, DatasetError, ProfileError
from trainmode.export import formats
from trainmode.export.formats import base as format_base
from trainmode.export.formats import hf
from trainmode.sets.als import parse_als
from trainmode.sets.als import reader as als_reader
from trainmode.sets.profile import MAX_LIST_ITEMS, parse_master_schema, validate_master_schema

pytestmark = pytest.mark.slow  # trickling servers, hostile inputs, databases made per test: seconds each


ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<Ableton MajorVersion="5" Creator="Ableton Live 11.0"><LiveSet>'


def gzip_als(path: Path, parts) -> Path:
    """A gzip-compressed .als written part by part (a part may be (bytes, times)), never whole in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        for part in parts:
            data, times = part if isinstance(part, tuple) else (part, 1)
            for _ in range(times):
                out.write(packer.compress(data))
        out.write(packer.flush())
    return path


def attribute_bomb(path: Path, mib: int = 400) -> Path:
    return gzip_als(
        path,
        [
            HEAD + b'<Tracks><MidiTrack Id="1"><Name><EffectiveName Value="',
            (b"A" * MIB, mib),
            b'"/></Name></MidiTrack></Tracks></LiveSet></Ableton>\n',
        ],
    )


# The command runs as a grandchild of a small launcher: a process forked from pytest itself
# inherits pytest's own peak in its ru_maxrss (Linux keeps it across exec).
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_mib(argv: list[str], env: dict | None = None) -> tuple[int, float, str]:
    """(exit code, peak resident memory in MiB, stderr) of a command."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=110,
    )
    code, kib = done.stdout.split()
    return int(code), int(kib) / 1024, done.stderr


@pytest.mark.timeout(120)
def test_a_400_kb_set_whose_attribute_inflates_to_400_mb_is_refused_in_little_memory(tmp_path):
    """It peaked at 877 MB: libxml2's push parser holds a whole start tag before parsing it."""
    bomb = attribute_bomb(tmp_path / "bomb.als")
    assert bomb.stat().st_size < 600 * 1024
    code, peak, err = peak_rss_mib([sys.executable, "-m", "trainmode", "summarize", str(bomb)])
    assert peak < 250, f"peak RSS {peak:.0f} MiB"
    assert code == 1 and "XML tags is over 1 MiB long" in err and "bug" not in err, err
    code, peak, err = peak_rss_mib(
        [sys.executable, "-m", "trainmode", "import", "--artist", "Ada", str(bomb)],
        {"TRAINMODE_DATA_DIR": str(tmp_path / "data")},
    )
    assert code == 1 and "looks like a compression bomb" in err and peak < 250, (peak, err)


@pytest.mark.parametrize(
    "parts, words",
    [
        (
            [HEAD + b'<Tracks><MidiTrack Id="1"><Name><EffectiveName Value="', (b"x>" * (MIB // 2), 20), b'"/>'],
            "XML text or attributes",
        ),
        # libxml2 itself refuses text over 10 MB (huge_tree off), before the 16 MiB cap
        ([HEAD + b"<Annotation>", (b"A" * MIB, 20), b"</Annotation></LiveSet></Ableton>"], "Text node too long"),
    ],
    ids=["attribute-with-angle-brackets", "text"],
)
def test_any_run_of_xml_without_a_tag_is_capped(tmp_path, parts, words):
    with pytest.raises(AlsError, match=words):
        parse_als(gzip_als(tmp_path / "x.als", parts))


def test_real_sets_stay_under_the_caps(corpus_dir):
    for path in sorted(corpus_dir.glob("*.als"))[:10]:
        stream = als_reader.SetStream(path)
        for _ in stream.chunks():
            pass
        assert stream.xml_bytes > 0


def test_check_dataset_streams_a_zip_member_and_stops_at_its_cap(tmp_path, monkeypatch):
    """metadata.jsonl declared small, inflating to 64 MiB: read in pieces, refused at the cap."""
    monkeypatch.setattr(format_base, "MAX_TEXT_MEMBER", 4 * MIB)
    target = tmp_path / "bomb.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("track-0001.mp3", b"ID3")
        zf.writestr("README.md", hf.card_yaml([]))
        zf.writestr("MANIFEST.sha256", "")
        with zf.open("metadata.jsonl", "w") as member:
            line = json.dumps({"file_name": "track-0001.mp3", "caption": "x" * 1000}).encode() + b"\n"
            for _ in range(64 * MIB // len(line)):
                member.write(line)
    assert target.stat().st_size < 2 * MIB
    reads = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: pytest.fail("read whole"))
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: reads.append(a[0]) or real_open(self, *a, **k))
    with pytest.raises(DatasetError, match=r"metadata.jsonl is over 4 MiB"):
        formats.check_dataset(target, "hf")
    assert "metadata.jsonl" in reads


def test_a_master_schema_nested_100000_deep_is_a_clear_profile_error():
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        with pytest.raises(ProfileError, match="nested too deeply|is over 256 KB"):
            parse_master_schema(text)
    nested: dict = {}
    inner = nested
    for _ in range(100_000):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(ProfileError, match="nested more than 32 levels"):
        validate_master_schema(nested)


def test_a_master_schema_with_a_million_genres_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(ProfileError, match=f"1,000,000 genres; keep it to {MAX_LIST_ITEMS}"):
        validate_master_schema({"genres": ["techno"] * 1_000_000})
    with pytest.raises(ProfileError, match="keep it under 256 KB"):
        validate_master_schema({"notes": "x" * 300_000})
    assert time.monotonic() - started < 5
    assert validate_master_schema({"genres": ["techno"] * MAX_LIST_ITEMS, "notes": "x" * 1000})


def test_a_reader_that_stops_early_ends_the_command_quietly(store, settings, data_dir):
    """`captions-report | head` printed "error: Broken pipe": the reader left, that is no error."""
    from trainmode.ops.demo import DEMO_ARTIST, install_demo

    install_demo(store, settings, echo=lambda *_: None)
    child = subprocess.Popen(
        [sys.executable, "-m", "trainmode", "captions-report", "--artist", DEMO_ARTIST],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "TRAINMODE_DATA_DIR": str(data_dir)},
    )
    child.stdout.close()  # the reader is gone before the first line is written
    err = child.stderr.read().decode()
    assert child.wait(60) == 141 and err == "", err
