"""Text hygiene (trainmode/ops/text.py): control characters leave captions, names and upload names
where they come in and again where they go out, CSV cells cannot start a formula, and the
terminal shows escapes instead of obeying them."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from tests.exporting import export_artist
from trainmode import cli
from trainmode.export import formats
from trainmode.ops import text
from trainmode.ops.demo import DEMO_ARTIST, install_demo
from trainmode.service import SaveRequest, TrainMode

# Every kind of invisible character the hostile cases used, one of each.
BREAKS = "\r\n\x0b\x0c\x85\u2028\u2029"
CONTROLS = "\x00\x07\x08\x1b\x7f\x9b\u202e\u2066\ufeff"
HOSTILE = f"warm pads{BREAKS}and\tdrums{CONTROLS} rising"


def test_clean_keeps_words_and_line_breaks_and_drops_controls():
    assert text.clean(HOSTILE) == "warm pads" + "\n" * 6 + "and drums rising"  # CRLF is one break
    assert text.one_line(HOSTILE) == "warm pads and drums rising"
    assert (
        text.one_line("e\u0301t\u00e9 \u200d\U0001f3b9 \u0627\u0644\u0645")
        == "e\u0301t\u00e9 \u200d\U0001f3b9 \u0627\u0644\u0645"
    )
    assert text.file_name("C:\\Users\\kim\\\x1b[31mtrack\u202e3pm.mp3") == "[31mtrack3pm.mp3"
    assert text.file_name("\n\x07") == "upload"


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_a_csv_cell_that_would_start_a_formula_is_neutralised_and_read_back(cell):
    safe = text.csv_cell(cell)
    assert safe.startswith("'") and text.csv_value(safe) == cell
    assert text.csv_cell("dark techno") == "dark techno" and text.csv_value("'quoted") == "'quoted"


def test_the_terminal_sees_escapes_not_control_characters():
    shown = text.for_terminal("a\x1b[2Jb\x07c\nd\u202ee\u2028f\u00e9")
    assert shown == "a\\x1b[2Jb\\x07c\\x0ad\\u202ee\\u2028f\u00e9"
    assert all(c.isprintable() for c in shown)


@pytest.fixture
def demo(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    return TrainMode(store, settings), store.find_artist(DEMO_ARTIST)


def test_captions_artist_names_and_upload_names_are_cleaned_at_the_door(demo, demo_files, tmp_path):
    tm, artist = demo
    assert tm.create_artist(f"Nova{BREAKS}\x1b[31mLane\u202e")["name"] == "Nova [31mLane"
    row = tm.find_set(artist, "neon_pulse.als")
    upload = tmp_path / "upload.mp3"
    upload.write_bytes(next(mp3 for *_, mp3 in demo_files if mp3.name == "neon_pulse.mp3").read_bytes())
    saved = tm.save(
        artist,
        row,
        SaveRequest(audio=upload, audio_name="../\x1b]0;pwned\x07neon\npulse\u202e.mp3", caption=HOSTILE, confirm=True),
    ).item
    assert saved["prompt_text"] == "warm pads and drums rising"
    assert saved["audio_filename"] == "]0;pwnedneon pulse.mp3"
    with tm.store.open_blob(saved["prompt_path"]) as fh:
        assert fh.read() == b"warm pads and drums rising\n"  # the caption file is one line
    edited = tm.update_caption(artist, saved["id"], f"new{BREAKS}caption\x00")
    assert edited["prompt_text"] == "new caption"


def test_an_export_writes_one_clean_line_for_a_caption_stored_before_the_rule(demo, store, settings):
    """A caption saved with U+2028 (or NEL, VT, FF, NUL, ESC) before the door cleaned it: the hf
    export writes it as one line everywhere, and its own checker accepts the dataset."""
    tm, artist = demo
    first = store.list_items(artist["id"], "ready")[0]
    store.update_row("training_items", first["id"], {"prompt_text": HOSTILE})
    result = export_artist(store, settings, artist)
    with zipfile.ZipFile(result.local_path) as zf:
        assert zf.read("track-0001.txt") == b"warm pads and drums rising\n"
        lines = zf.read("metadata.jsonl").split(b"\n")
        assert len([line for line in lines if line]) == 2
        assert json.loads(lines[0])["caption"] == "warm pads and drums rising"
    assert formats.check_dataset(result.local_path, "hf") == []


def hf_folder(tmp_path, caption: str, broken: bool = False):
    """The smallest hf dataset: one MP3, its metadata line (whose caption may hold U+2028), card, manifest."""
    from trainmode.export.formats import hf

    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "track-0001.mp3").write_bytes(b"ID3")
    line = json.dumps({"file_name": "track-0001.mp3", "caption": caption}, ensure_ascii=False)
    (folder / "metadata.jsonl").write_text((line[:-2] if broken else line) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(hf.card_yaml([]), encoding="utf-8")
    names = ["track-0001.mp3", "metadata.jsonl", "README.md"]
    (folder / "MANIFEST.sha256").write_text("".join(f"{'0' * 64}  {n}\n" for n in names), encoding="utf-8")
    return folder


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c"])
def test_the_hf_checker_reads_metadata_lines_as_datasets_does(tmp_path, separator):
    """metadata.jsonl lines end at "\\n" only (pyarrow, `datasets`): a U+2028 or NEL inside a JSON
    string is not a line break, so one invisible character cannot block a whole export."""
    folder = hf_folder(tmp_path, f"warm{separator}pads")
    assert formats.check_dataset(folder, "hf") == []


def test_a_broken_metadata_line_is_named_by_its_file_not_a_line_number(tmp_path):
    problems = formats.check_dataset(hf_folder(tmp_path, "warm pads", broken=True), "hf")
    assert any("track-0001.mp3" in p and "not a JSON object" in p for p in problems), problems
    assert not any(" line 1 " in p for p in problems)


def test_the_ace_step_csv_cannot_start_a_formula(demo, store, settings):
    tm, artist = demo
    items = store.list_items(artist["id"], "ready")
    store.update_row("training_items", items[0]["id"], {"prompt_text": '=HYPERLINK("http://evil","x")'})
    store.update_row("training_items", items[1]["id"], {"prompt_text": "-12 dB drop, dark techno"})
    result = export_artist(store, settings, artist, format="ace-step")
    with zipfile.ZipFile(result.local_path) as zf:
        csv_name = next(n for n in zf.namelist() if n.endswith("metadata.csv"))
        cells = [row["Caption"] for row in csv.DictReader(io.StringIO(zf.read(csv_name).decode("utf-8")))]
        assert cells == ['\'=HYPERLINK("http://evil","x")', "'-12 dB drop, dark techno"]
        caption_txt = next(n for n in zf.namelist() if n.endswith("track-0001.caption.txt"))
        assert zf.read(caption_txt).decode().strip() == '=HYPERLINK("http://evil","x")'  # only the CSV cell
    assert formats.check_dataset(result.local_path, "ace-step") == []


def test_items_prints_escapes_not_terminal_commands_or_forged_lines(demo, store, capsys):
    """Names stored raw before the door cleaned them: `items` shows them escaped, one line each."""
    tm, artist = demo
    first = store.list_items(artist["id"])[0]
    with store._tx() as db:  # as an older version stored it
        db.execute(
            "UPDATE training_items SET audio_filename = ?, prompt_text = ? WHERE id = ?",
            ("x\x1b[2J\x07.mp3\nforged-id  ready  fake.mp3", "cap\u202etion\r\n", first["id"]),
        )
    assert cli.main(["items", "--artist", DEMO_ARTIST]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\r" not in out
    lines = out.splitlines()
    assert len(lines) == len(store.list_items(artist["id"]))
    assert "x\\x1b[2J\\x07.mp3\\x0aforged-id" in out and "cap\\u202etion" in out
