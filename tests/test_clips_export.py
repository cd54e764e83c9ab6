"""Export with --clips (issue 16): each section clip is a dataset row with its own caption and
sidecar, cut from the render while the zip streams, and every trainer's checker accepts it."""

import io
import json
import subprocess
import zipfile

import miniaudio
import mutagen.mp3
import pytest

from tests.exporting import export_artist, export_threads
from trainmode.errors import StoreError
from trainmode.export import formats
from trainmode.export.zipwrite import ZipWriter
from trainmode.ops.demo import DEMO_ARTIST, install_demo


@pytest.fixture
def demo_artist(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    return store.find_artist(DEMO_ARTIST)


def _export(store, settings, artist, tmp_path, fmt="hf"):
    result = export_artist(store, settings, artist, format=fmt, clips="sections")
    folder = tmp_path / fmt
    with zipfile.ZipFile(result.local_path) as zf:
        zf.extractall(folder)
    return result, folder


@pytest.mark.slow
def test_clips_export_has_a_row_per_section_with_its_sidecar(store, settings, demo_artist, tmp_path, audiofolder):
    items = store.list_items(demo_artist["id"], "ready")
    result, folder = _export(store, settings, demo_artist, tmp_path)
    assert subprocess.run(["unzip", "-tq", str(result.local_path)], capture_output=True).returncode == 0
    lines = [json.loads(x) for x in (folder / "metadata.jsonl").read_text().splitlines()]
    assert [x["file_name"] for x in lines] == [f"clip-{i:04d}-{n:02d}.mp3" for i in (1, 2) for n in (1, 2)]
    assert [x["section"] for x in lines] == ["Intro", "Drop"] * 2
    # The renders were measured whole: a render's loudness or tempo is not its clip's; the verdict on it stays.
    assert all(item["metadata"]["audio"]["loudness_lufs"] is not None for item in items)
    assert all(x["loudness_lufs"] is None and x["peak_dbfs"] is None and x["audio_bpm"] is None for x in lines)
    assert [x["audio_verdict"] for x in lines] == [item["metadata"]["audio"]["verdict"] for item in items for _ in "ab"]
    for line, item in zip(lines[::2], items, strict=True):
        sidecar = json.loads((folder / line["file_name"].replace(".mp3", ".json")).read_text())
        assert sidecar["parent_track"] == "track-0001" or sidecar["parent_track"] == "track-0002"
        assert sidecar["source_set"] == item["parse_id"] and sidecar["start_s"] == 0.0
        assert line["caption"].startswith("The intro of a track.")
    for parent in ("0001", "0002"):
        total = 0.0
        for n in (1, 2):
            data = (folder / f"clip-{parent}-{n:02d}.mp3").read_bytes()
            total += mutagen.mp3.MP3(io.BytesIO(data)).info.length
            assert miniaudio.decode(data).num_frames > 0
        item = items[int(parent) - 1]
        assert total == pytest.approx(item["audio_duration_s"], abs=0.1)
    assert "clip of a whole render" in (folder / "README.md").read_text()
    ds = audiofolder.load_dataset("audiofolder", data_dir=str(folder), split="train", cache_dir=str(tmp_path / "c"))
    assert ds.num_rows == 4 and ds["section"] == ["Intro", "Drop"] * 2


@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_every_checker_passes_a_clips_export(store, settings, demo_artist, tmp_path, fmt):
    result, folder = _export(store, settings, demo_artist, tmp_path, fmt)
    assert formats.check_dataset(result.local_path, fmt) == []


def test_clips_command_prints_the_saved_items_clips_and_review_is_kept(store, settings, demo_artist, capsys):
    from trainmode.cli import main
    from trainmode.service import TrainMode

    assert main(["clips", "--artist", DEMO_ARTIST, "--als", "night_drive.als", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(c["index"], c["name"], c["start_s"]) for c in printed][:1] == [(1, "Intro", 0.0)]
    assert printed[1]["name"] == "Drop" and printed[1]["caption"].startswith("The drop of a track.")
    tm = TrainMode(store, settings)
    row = tm.find_set(demo_artist, "night_drive.als")
    planned = tm.plan_clips(demo_artist, row)
    planned[1] = {**planned[1], "caption": "The drop of a track, kick and bass at full tilt.", "edited": True}
    planned[0] = {**planned[0], "dropped": True}
    tm.save_clips(tm.saved_item(demo_artist, row), planned)
    again = tm.plan_clips(demo_artist, row)
    assert again[1]["caption"] == "The drop of a track, kick and bass at full tilt." and again[0]["dropped"]
    result = export_artist(store, settings, demo_artist, clips="sections")
    with zipfile.ZipFile(result.local_path) as zf:
        sidecars = [json.loads(zf.read(n)) for n in zf.namelist() if n.startswith("clip-") and n.endswith(".json")]
    mine = [x for x in sidecars if x["source_set"] == row["parse_id"]]
    assert [(x["section"], x["caption"]) for x in mine] == [
        ("Drop", "The drop of a track, kick and bass at full tilt.")
    ]  # the dropped intro is left out


def test_an_offset_saved_from_the_cli_moves_every_cut(store, settings, demo_artist, capsys):
    from trainmode.cli import main
    from trainmode.service import TrainMode

    tm = TrainMode(store, settings)
    row = tm.find_set(demo_artist, "night_drive.als")
    before = tm.plan_clips(demo_artist, row)
    assert main(["clips", "--artist", DEMO_ARTIST, "--als", "night_drive.als", "--offset", "0.5", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[1]["start_s"] == pytest.approx(before[1]["start_s"] + 0.5)
    assert tm.plan_clips(demo_artist, row)[1]["start_s"] == printed[1]["start_s"]  # kept with the item
    assert printed[0]["start_s"] == 0.0 and printed[-1]["end_s"] == before[-1]["end_s"]


def test_progress_counts_the_clips_share_of_each_render(store, settings, demo_artist):
    seen = []
    export_artist(store, settings, demo_artist, clips="sections", on_progress=seen.append)
    writing = [p for p in seen if p.stage == "writing"]
    total = sum(i["audio_bytes"] for i in store.list_items(demo_artist["id"]))
    assert writing[0].bytes_total == pytest.approx(total, rel=0.02) and writing[-1].items_total == 4


def test_a_clip_export_failing_midway_stops_every_thread_and_keeps_items_ready(
    store, settings, demo_artist, monkeypatch
):
    """The clips are made ready on a thread a few rows ahead of the writer: when writing fails
    (here the disk fills on the third clip), that thread and the hashing one end with the export."""
    real, calls = ZipWriter.add_parts, []

    def third_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ZipWriter, "add_parts", third_fails)
    with pytest.raises(StoreError, match="No space left"):
        export_artist(store, settings, demo_artist, clips="sections")
    assert export_threads() == []
    assert len(store.list_items(demo_artist["id"], "ready")) == 2
    assert not list((store.data_dir / "tmp").rglob("*.zip"))
    monkeypatch.undo()
    assert export_artist(store, settings, demo_artist, clips="sections").item_count == 2


def test_a_clip_review_is_read_once_until_its_item_or_clips_change(store, settings, demo_artist, monkeypatch):
    from trainmode.service import TrainMode

    tm = TrainMode(store, settings)
    item = store.list_items(demo_artist["id"], "ready")[0]
    reads, real_get = [], store.get_item
    monkeypatch.setattr(store, "get_item", lambda item_id: reads.append(item_id) or real_get(item_id))
    first = tm.item_clips(demo_artist, item["id"])
    assert tm.item_clips(demo_artist, item["id"]) == first and len(reads) == 1  # a rerun of the Train page
    saved, clips = first
    tm.save_clips(saved, [{**clips[0], "caption": "Only the intro, drums first.", "edited": True}, *clips[1:]])
    _, again = tm.item_clips(demo_artist, item["id"])  # a write: read again
    assert len(reads) == 2 and again[0]["caption"] == "Only the intro, drums first." and again[0]["saved"]
    tm.set_clip_offset(saved, 1.0)
    _, moved = tm.item_clips(demo_artist, item["id"])
    assert len(reads) == 3 and moved[1]["start_s"] == pytest.approx(again[1]["start_s"] + 1.0)
    # The saved captions were for the old cuts: the export captions the moved clips afresh instead of failing.
    with zipfile.ZipFile(export_artist(store, settings, demo_artist, clips="sections").local_path) as zf:
        assert not any("Only the intro" in zf.read(n).decode() for n in zf.namelist() if n.endswith(".txt"))
