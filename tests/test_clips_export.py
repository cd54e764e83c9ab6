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


# ---- the window length (#29): chosen at the door, carried to the cuts, the card and the checker ----
def _clips_of(result) -> tuple[list[dict], str, dict[str, float]]:
    """(each clip's sidecar, the card, each clip's length by its stem) of an export."""
    with zipfile.ZipFile(result.local_path) as zf:
        names = zf.namelist()
        sidecars = [json.loads(zf.read(n)) | {"stem": n} for n in names if "clip-" in n and n.endswith(".json")]
        card = zf.read(next(n for n in names if n.endswith("README.md"))).decode()
        lengths = {
            n.rsplit("/", 1)[-1][:-4]: mutagen.mp3.MP3(io.BytesIO(zf.read(n))).info.length
            for n in names
            if n.endswith(".mp3")
        }
    return sidecars, card, lengths


def test_window_clips_are_at_most_the_chosen_length_and_the_card_and_checker_say_so(store, settings, demo_artist):
    from trainmode.service import TrainMode

    # The demo renders are 15 s, two sections of about 7.5 s each: 5 s windows make two of about 3.8 s per section.
    result = export_artist(store, settings, demo_artist, clips="windows", window_s=5)
    sidecars, card, lengths = _clips_of(result)
    assert len(lengths) == 8 and max(lengths.values()) <= 5.0 + 0.03  # within a frame of the cut
    for x in sidecars:  # every window inside its section: the sections meet at 7.5 or 7.742 s
        assert x["end_s"] - x["start_s"] <= 5.0
        assert x["end_s"] <= 7.742 or x["start_s"] >= 7.5
    assert "windows of at most 5 s (the window length chosen at export)" in card
    # audiocraft draws 30 s segments: the checker's padding warning is about these short clips.
    again = TrainMode(store, settings).export_everything(demo_artist, format="audiocraft", clips="windows", window_s=5)
    [padding] = [w for w in again.warnings if "zero padding" in w]
    assert "(8 files of 3.7-3.9 s" in padding and "of each 30 s MusicGen sample" in padding
    assert "windows of at most 5 s" in _clips_of(again)[1]
    default = TrainMode(store, settings).export_everything(demo_artist, clips="windows")
    assert "windows of at most 30 s" in _clips_of(default)[1]


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ({"clips": "windows", "window_s": 2}, "out of range: choose 5 to 240 s"),
        ({"clips": "windows", "window_s": 600}, "out of range: choose 5 to 240 s"),
        ({"clips": "sections", "window_s": 15}, "only for window clips"),
        ({"window_s": 15}, "not for whole tracks"),
    ],
)
def test_a_wrong_window_length_refuses_the_export_and_writes_nothing(store, settings, demo_artist, how, says):
    from trainmode.errors import ValidationError

    with pytest.raises(ValidationError, match=says):
        export_artist(store, settings, demo_artist, **how)
    assert store.list_exports(demo_artist["id"]) == []
    assert len(store.list_items(demo_artist["id"], "ready")) == 2


def test_window_captions_reviewed_at_one_length_never_go_on_another_lengths_audio(store, settings, demo_artist):
    from trainmode.service import TrainMode

    tm = TrainMode(store, settings)
    row = tm.find_set(demo_artist, "night_drive.als")
    item = tm.saved_item(demo_artist, row)
    at_30 = tm.plan_clips(demo_artist, row, mode="windows")  # 0-7.742 and 7.742-15.517: one window a section
    at_30[0] = {**at_30[0], "caption": "Reviewed for the whole intro, 0 to 7.7 s.", "edited": True}
    at_30[1] = {**at_30[1], "dropped": True}
    tm.save_clips(item, at_30, "windows")
    # Reviewed at 30 s: planned at 5 s, no stored caption fits a span, so none is shown or kept.
    at_5 = tm.plan_clips(demo_artist, row, mode="windows", window_s=5)
    assert [(c["start_s"], c["end_s"]) for c in at_5] == [(0.0, 3.871), (3.871, 7.742), (7.742, 11.63), (11.63, 15.517)]
    assert not any(c["saved"] or c["dropped"] or c["caption"].startswith("Reviewed") for c in at_5)
    assert tm.plan_clips(demo_artist, row, mode="windows")[0]["caption"].startswith("Reviewed")  # 30 s: kept

    first = export_artist(store, settings, demo_artist, clips="windows", window_s=5)
    mine = [x for x in _clips_of(first)[0] if x["source_set"] == row["parse_id"]]
    assert len(mine) == 4 and not any(x["caption"].startswith("Reviewed") for x in mine)  # not on 0-3.9 s
    assert not any("dropped" in line for line in first.left_out)  # the drop was of 7.7-15.5 s, not these
    again = tm.export_everything(demo_artist, clips="windows", window_s=30)
    mine = [x for x in _clips_of(again)[0] if x["source_set"] == row["parse_id"]]
    assert [x["caption"] for x in mine] == ["Reviewed for the whole intro, 0 to 7.7 s."]  # its own span: kept
    assert "1: clips dropped when their item's clips were reviewed" in again.left_out


def test_reviewed_window_captions_are_checked_against_their_own_window():
    """A window's caption is fact-checked against what plays in its span at the length it was planned at."""
    from tests.als_synth import device, live_set, midi_clip, track
    from trainmode.clips import plan as clip_plan
    from trainmode.clips import review
    from trainmode.sets.als import parse_als, validate_summary

    # One 96-beat section: 16 s at 120 BPM, then 64 s at 60. At 10 s windows the first is wholly at 120.
    kicks = [(36, float(b), 0.25) for b in range(96)]
    drums = track("midi", "Drums", id=1, devices=device("DrumGroupDevice"), arrangement=midi_clip(0, 96, kicks))
    data = live_set([drums], tempo=[(-63072000, 120), (32, 120), (32, 60)])
    summary = validate_summary(parse_als(data, filename="set.als").summary)
    item = {"id": "i1", "artist_id": "a1", "parse_id": "p1", "audio_duration_s": 80.0, "metadata": {}}

    class Store:  # what save_reviewed reads and writes
        def get_summary(self, artist_id, parse_id):
            return {"summary": summary}

        def get_master_schema(self, artist_id):
            return {}

        def save_clips(self, item_id, mode, rows):
            return rows

    planned = clip_plan.plan_clips(summary, 80.0, mode="windows", window_s=10)

    def codes(caption: str) -> list[str]:
        first = {**planned[0].to_dict(), "caption": caption, "findings": []}
        [saved] = review.save_reviewed(Store(), item, [first], "windows", window_s=10)
        return [f["code"] for f in saved["findings"]]

    assert "tempo_mismatch" in codes("A steady kick drum pattern, dry and punchy, at 60 BPM.")  # 0-10 s is at 120
    assert "tempo_mismatch" not in codes("A steady kick drum pattern, dry and punchy, at 120 BPM.")


def test_the_cli_takes_a_window_length_for_window_clips_only(store, settings, demo_artist, capsys):
    from trainmode.cli import main

    clips = ["clips", "--artist", DEMO_ARTIST, "--als", "night_drive.als", "--json", "--mode", "windows"]
    assert main([*clips, "--window-seconds", "5"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(c["start_s"], c["end_s"]) for c in printed] == [
        (0.0, 3.871),
        (3.871, 7.742),
        (7.742, 11.63),
        (11.63, 15.517),
    ]
    export = ["export", "--artist", DEMO_ARTIST, "--clips"]
    assert main([*export, "sections", "--window-seconds", "30"]) == 1  # even the default: sections have no windows
    assert capsys.readouterr().err.strip() == (
        "error: --window-seconds is only for window clips (--clips windows), not --clips sections."
    )
    assert main([*export, "windows", "--window-seconds", "1"]) == 1
    assert "out of range: choose 5 to 240 s" in capsys.readouterr().err
    assert main([*clips[:-2], "--window-seconds", "15"]) == 1  # clips --mode sections (the default)
    assert "not --mode sections" in capsys.readouterr().err
    assert main([*export, "windows", "--window-seconds", "5"]) == 0
    zip_path = capsys.readouterr().out.strip().splitlines()[-1]
    with zipfile.ZipFile(zip_path) as zf:
        clips_made = [n for n in zf.namelist() if n.startswith("clip-") and n.endswith(".mp3")]
        assert len(clips_made) == 8
        assert all(mutagen.mp3.MP3(io.BytesIO(zf.read(n))).info.length <= 5.03 for n in clips_made)
