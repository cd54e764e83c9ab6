"""What a past export holds, as the Export and Browse pages show it (#29): recorded on its row by
the export, read from its zip for an export made before, and its rows and players read where the
zip is stored, on the embedded store and on Supabase (its fake) alike."""

from __future__ import annotations

import zipfile

import pytest

from trainmode.config import load_settings
from trainmode.errors import NotFoundError
from trainmode.export import formats
from trainmode.export import rows as dataset
from trainmode.export.history import details_of, format_of_zip, zip_contents, zip_name
from trainmode.ops.demo import DEMO_ARTIST, install_demo
from trainmode.service import TrainMode
from trainmode.store import open_store

DETAILS = ("format", "clips", "window_s", "split", "row_count", "valid_count")


@pytest.fixture(params=["embedded", "supabase"])
def tm(request):
    """The demo artist's two ready items, through the door of either backend (Supabase: its fake)."""
    fake = request.getfixturevalue("supabase") if request.param == "supabase" else None  # tests/conftest.py
    settings = load_settings()
    store = open_store(settings)
    install_demo(store, settings, echo=lambda *_: None)
    door = TrainMode(store, settings)
    door.fake = fake
    yield door
    store.close()


def one_each_side(tm: TrainMode) -> float:
    """A train share that puts the demo's first item on the training side, the second on the other."""
    items = tm.list_items(tm.artist(DEMO_ARTIST), status="ready")
    first, second = sorted(dataset.split_point(i["id"]) for i in items)
    return (first + second) / 2


def forget_details(tm: TrainMode, export_id: str) -> None:
    """Make the export look as one made before its row recorded what it holds (nulls)."""
    if tm.fake is None:
        with tm.store._tx() as db:
            db.execute(f"UPDATE exports SET {', '.join(f'{c} = NULL' for c in DETAILS)} WHERE id = ?", (export_id,))
    else:
        next(e for e in tm.fake.tables["exports"] if e["id"] == export_id).update(dict.fromkeys(DETAILS))


def test_the_zip_names_read_back_to_their_format():
    assert [format_of_zip(f"exports/a/e/{zip_name(name)}") for name in formats.FORMATS] == list(formats.FORMATS)
    assert zip_name("hf") == "dataset.zip" and zip_name("ace-step") == "dataset-ace-step.zip"


def test_an_export_records_its_options_and_the_rows_its_zip_holds(tm):
    artist = tm.artist(DEMO_ARTIST)
    share = one_each_side(tm)
    result = tm.export(artist, format="audiocraft", split=share, clips="windows", window_s=30.0)
    row = next(e for e in tm.list_exports(artist) if e["id"] == result.export_id)
    with tm.store.open_blob_range(result.zip_path) as fh, zipfile.ZipFile(fh) as zf:
        held = zip_contents(zf.namelist())
    assert [row[c] for c in DETAILS] == ["audiocraft", "windows", 30.0, share, held["rows"], held["valid"]]
    assert held["rows"] > 2 and 0 < held["valid"] < held["rows"]
    details = tm.export_details(row)
    assert details.rows_text() == f"{held['rows']} window clips (30 s) of 2 items"
    assert details.split_text() == f"{held['train']} train / {held['valid']} valid"

    again = tm.export_everything(artist, format="hf")  # whole tracks, no split
    row = next(e for e in tm.list_exports(artist) if e["id"] == again.export_id)
    assert [row[c] for c in DETAILS] == ["hf", "none", None, None, 2, 0]
    assert (tm.export_details(row).rows_text(), tm.export_details(row).split_text()) == (
        "2 tracks",
        "no validation split",
    )


def test_an_old_export_is_told_from_its_zip_and_a_gone_zip_is_said(tm):
    artist = tm.artist(DEMO_ARTIST)
    result = tm.export(artist, format="ace-step", split=one_each_side(tm), clips="sections")
    forget_details(tm, result.export_id)
    [row] = tm.list_exports(artist)
    assert all(row[c] is None for c in DETAILS)
    details = tm.export_details(row)  # from the zip where it is stored: its name, its directory
    assert (details.format, details.clips, details.recorded) == ("ace-step", "clips", False)
    assert details.rows_text() == "4 clips of 2 items" and details.split_text() == "2 train / 2 valid"

    tm.store.delete_blob(result.zip_path)
    fresh = TrainMode(tm.store, tm.settings)  # nothing read before
    details = fresh.export_details(row)
    assert (details.format, details.rows_text(), details.split_text()) == ("ace-step", "2 items", "?")
    with pytest.raises(NotFoundError, match=r"The zip of this export \(dataset-ace-step.zip\) is no longer in storage"):
        fresh.export_rows(row, 0, 10)


def test_a_past_export_s_rows_and_players_read_where_the_zip_is_stored(tm):
    artist = tm.artist(DEMO_ARTIST)
    items = tm.list_items(artist, status="ready")
    result = tm.export(artist, format="ace-step", split=one_each_side(tm))
    [row] = tm.list_exports(artist)
    rows, total = tm.export_rows(row, 0, 10)
    assert total == 2 and [r["split"] for r in rows] == ["train", "valid"]
    assert all(r["audio"].endswith(".mp3") and len(r["sidecars"]) >= 2 for r in rows)
    caption = next(text for name, text in rows[0]["sidecars"].items() if name.endswith(".caption.txt"))
    assert caption.strip() in {i["prompt_text"] for i in items}
    with tm.store.open_blob(next(i["audio_path"] for i in items if i["prompt_text"] == caption.strip())) as fh:
        assert tm.export_member(row, rows[0]["audio"]) == fh.read()  # the player's bytes: the saved MP3
    with pytest.raises(NotFoundError, match="has no file"):
        tm.export_member(row, "train/nothing.mp3")
    if tm.fake is not None:  # ranged reads through signed links, never the whole zip, the directory read once
        reads = tm.fake.find("GET", f"/storage/v1/object/sign/train-mode/{result.zip_path}")
        assert reads and all("range" in r.headers for r in reads)
        signed = len(tm.fake.find("POST", "/storage/v1/object/sign/"))
        tm.export_rows(row, 1, 10)
        assert len(tm.fake.find("POST", "/storage/v1/object/sign/")) == signed
    tm.delete_export(artist, result.export_id)  # what was kept of it goes with it
    assert tm.zips._open == {} and tm.zips._contents == {}


def test_what_a_row_or_a_zip_tells_is_said_and_only_what_neither_tells_is_a_question_mark():
    base = {"id": "e", "zip_path": "exports/a/e/dataset-audiocraft.zip", "item_count": 2, "status": "complete"}
    recorded = {**base, "format": "audiocraft", "clips": "sections", "split": 0.9, "row_count": 4, "valid_count": 0}
    details = details_of(recorded, None)
    assert (details.rows_text(), details.split_text(), details.empty_split) == (
        "4 section clips of 2 items",
        "4 train / 0 valid",
        True,
    )
    contents = {"rows": 2, "valid": 0, "train": 2, "clips": False}
    assert details_of(base, contents).split_text() == "no validation split"
    assert details_of(base, None).split_text() == "?" and details_of(base, None).rows_text() == "2 items"
    failed = {**recorded, "status": "failed", "item_count": 0}
    assert (details_of(failed, None).rows_text(), details_of(failed, None).split_text()) == ("0 items", "0.90 to train")
