"""Seek tables (trainmode/audio/seek.py): a clip cut through the table saved with an item is the
same bytes as one cut after a full scan, and a render that changed since never gives a wrong clip."""

import csv
import io
import zipfile

import pytest

from tests.audio_synth import encode, song
from trainmode.audio import frames as mp3cut
from trainmode.audio import seek as mp3seek
from trainmode.errors import StoreError
from trainmode.export import build as export_mod
from trainmode.export import formats
from trainmode.export.formats.base import Build
from trainmode.ops.demo import DEMO_ARTIST, install_demo
from trainmode.service import TrainMode


def _cuttable(audio_fixtures) -> dict[str, bytes]:
    with open(audio_fixtures / "MANIFEST.tsv", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["valid_mp3"] == "yes"]
    return {r["file"]: (audio_fixtures / r["file"]).read_bytes() for r in rows}


def _with_crc(data: bytes) -> bytes:
    """`data` with every frame header saying a CRC follows it: the side info (and the reservoir
    pointer in it) then starts 2 bytes later. Not decodable, but indexed and cut like any file."""
    index, out = mp3cut.scan(io.BytesIO(data)), bytearray(data)
    for offset in index.offsets.tolist():
        out[offset + 1] &= 0xFE
    return bytes(out)


@pytest.fixture(scope="module")
def renders(audio_fixtures) -> dict[str, bytes]:
    music = song(124, "A minor", 12.0)
    found = _cuttable(audio_fixtures)
    found["synth_vbr.mp3"] = encode(music, vbr=True)
    found["synth_cbr_crc.mp3"] = _with_crc(encode(music))
    return found


def _table(data: bytes, tmp_path) -> dict:
    path = tmp_path / "render.mp3"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        return mp3seek.make(fh)


def _cuts(count: int, every: int) -> set[tuple[int, int]]:
    """Cuts at 0, at the end, and on every side of every checkpoint."""
    edges = {0, 1, 2, count - 2, count - 1, count}
    for mark in range(0, count + 1, every):
        edges |= {mark - 2, mark - 1, mark, mark + 1}
    edges = sorted(e for e in edges if 0 <= e <= count)
    return {(a, b) for a in edges for b in (a + 1, a + every + 3, count) if a < b <= count}


@pytest.mark.parametrize("every", [mp3seek.EVERY, 5])
def test_a_cut_through_the_seek_table_is_the_same_bytes_as_after_a_scan(renders, tmp_path, monkeypatch, every):
    monkeypatch.setattr(mp3seek, "EVERY", every)
    assert {"vbr_xing_8s.mp3", "cbr128_stereo_5s.mp3", "mono_22khz_4s.mp3", "id3v2_tagged_3s.mp3"} <= set(renders)
    for name, data in renders.items():
        scanned = mp3cut.scan(io.BytesIO(data))
        table = _table(data, tmp_path)
        sought = mp3seek.SeekTable(io.BytesIO(data), table)
        assert (sought.count, sought.sample_rate, sought.samples_per_frame, sought.one_bitrate) == (
            scanned.count,
            scanned.sample_rate,
            scanned.samples_per_frame,
            scanned.one_bitrate,
        ), name
        assert [sought.frame(i) for i in range(sought.count)] == list(scanned.frames), name
        for first, last in _cuts(scanned.count, every):
            want = b"".join(mp3cut.clip(io.BytesIO(data), scanned, first, last))
            got = b"".join(mp3cut.clip(io.BytesIO(data), sought, first, last))
            assert got == want, (name, first, last)


def test_the_table_is_small(renders, tmp_path):
    long = renders["synth_vbr.mp3"] * 50  # 10 minutes
    table = _table(long, tmp_path)
    assert table["count"] > 20000 and len(str(table)) < 2500


def test_a_render_that_changed_is_scanned_not_cut_wrong(renders, tmp_path):
    data = renders["vbr_xing_8s.mp3"]
    table = _table(data, tmp_path)
    shifted = data[:1000] + data[1001:] + b"\0"  # same size, every frame after byte 1000 moved
    sought = mp3seek.SeekTable(io.BytesIO(shifted), table)
    with pytest.raises(mp3seek.Stale):
        [sought.frame(i) for i in range(sought.count)]
    assert isinstance(mp3seek.index_of(io.BytesIO(shifted), table), mp3cut.FrameIndex)
    for damaged in (
        {**table, "version": 0},
        {**table, "offsets": "not base64!"},
        {**table, "count": None},
        {**table, "every": 1},
    ):
        assert isinstance(mp3seek.index_of(io.BytesIO(data), damaged), mp3cut.FrameIndex)
    assert isinstance(mp3seek.index_of(io.BytesIO(data[:-500]), table), mp3cut.FrameIndex)
    assert mp3seek.saved_bytes(table) == len(data) and mp3seek.saved_bytes({**table, "bytes": "1"}) is None


@pytest.fixture
def demo(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    artist = store.find_artist(DEMO_ARTIST)
    return artist, store.list_items(artist["id"], "ready")


def _members(store, artist, items, target, clips) -> dict[str, bytes]:
    rows = export_mod.export_rows(store, artist, items, clips=clips)
    export_mod.write_dataset(
        store,
        formats.get_format("hf"),
        rows,
        Build(rows[0].artist),
        target,
        export_mod.Progress(None, rows),
        max_workers=2,
    )
    with zipfile.ZipFile(target) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.endswith(".mp3")}


@pytest.mark.slow
@pytest.mark.parametrize("clips", ["sections", "windows"])
def test_saved_items_carry_a_table_and_export_the_same_clips_as_without(store, demo, tmp_path, clips, monkeypatch):
    artist, items = demo
    assert all(mp3seek.usable(i["metadata"].get("frames")) for i in items)
    bare = [{**i, "metadata": {k: v for k, v in i["metadata"].items() if k != "frames"}} for i in items]
    with monkeypatch.context() as m:
        m.setattr(mp3seek, "scan", None)  # through the table, no render is scanned
        m.setattr(mp3cut, "scan", None)
        with_table = _members(store, artist, items, tmp_path / "a.zip", clips)
    scanned = _members(store, artist, bare, tmp_path / "b.zip", clips)
    assert len(with_table) >= 4 and with_table == scanned


def test_a_render_of_another_size_than_its_table_is_refused(store, demo, tmp_path):
    artist, items = demo
    path = store.local_path(items[0]["audio_path"])
    path.write_bytes(path.read_bytes() + b"\0" * 10)
    bare = [{**i, "audio_bytes": None} for i in items]  # only the table knows the size now
    with pytest.raises(StoreError, match="changed after it was saved"):
        _members(store, artist, bare, tmp_path / "a.zip", "sections")


def test_an_export_scans_a_render_whose_frames_moved_since_it_was_saved(store, demo, tmp_path):
    artist, items = demo
    path = store.local_path(items[0]["audio_path"])
    before = _members(store, artist, items, tmp_path / "before.zip", "sections")
    data = path.read_bytes()
    frame = mp3cut.scan(io.BytesIO(data)).frame(100)
    cut = frame.offset + frame.size
    path.write_bytes(data[: frame.offset] + data[cut:] + bytes(frame.size))  # a frame less, the same size
    bare = [{**i, "metadata": {k: v for k, v in i["metadata"].items() if k != "frames"}} for i in items]
    after = _members(store, artist, items, tmp_path / "a.zip", "sections")
    assert after == _members(store, artist, bare, tmp_path / "b.zip", "sections") and after != before


def test_the_train_page_player_cuts_through_the_table_too(store, settings, demo, monkeypatch):
    artist, items = demo
    tm = TrainMode(store, settings)
    item, planned = tm.item_clips(artist, items[0]["id"])
    bare = {**item, "metadata": {k: v for k, v in item["metadata"].items() if k != "frames"}}
    scanned = [tm.clip_audio(bare, clip) for clip in planned]
    monkeypatch.setattr(mp3seek, "scan", None)
    monkeypatch.setattr(mp3cut, "scan", None)
    assert len(planned) >= 2 and [tm.clip_audio(item, clip) for clip in planned] == scanned
