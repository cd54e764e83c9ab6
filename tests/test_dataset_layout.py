"""The dataset inside dataset.zip: per-track files, metadata.jsonl as Hugging Face
`datasets`' audiofolder reads it, the README card and its YAML, the instrument list."""
import hashlib
import json
import re
import zipfile

import pytest

from trainmode import dataset
from trainmode.demo import DEMO_ARTIST, install_demo
from trainmode.service import export_artist

# What audiofolder (datasets 5.2) requires of a folder: the audio files, and a
# metadata.jsonl beside them whose lines all carry a relative `file_name` (other
# files are skipped); every column must keep one JSON type on every line.
AUDIO_EXTENSIONS = {".mp3", ".wav", ".flac", ".ogg", ".opus", ".m4a"}


@pytest.fixture
def unzipped(store, settings, tmp_path):
    install_demo(store, settings, echo=lambda *_: None)
    artist = store.find_artist(DEMO_ARTIST)
    items = store.list_items(artist["id"], "ready")
    result = export_artist(store, settings, artist)
    folder = tmp_path / "dataset"
    with zipfile.ZipFile(result.local_path) as zf:
        zf.extractall(folder)
    return folder, items


def metadata_rows(folder):
    return [json.loads(line) for line in (folder / "metadata.jsonl").read_text(encoding="utf-8").splitlines()]


def test_each_track_has_audio_caption_and_facts(unzipped):
    folder, items = unzipped
    for index, item in enumerate(items, 1):
        stem = f"track-{index:04d}"
        assert (folder / f"{stem}.txt").read_text(encoding="utf-8") == item["prompt_text"] + "\n"
        facts = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
        assert facts["file_name"] == f"{stem}.mp3"
        assert (facts["bpm"], facts["key"], facts["time_signature"]) == (
            item["metadata"]["bpm"], item["metadata"]["key"], item["metadata"]["time_signature"])
        assert facts["duration_s"] == item["audio_duration_s"]
        assert facts["genres"] == ["synthwave", "electronic"] and facts["moods"] == ["nostalgic", "driving"]
        assert facts["provenance"] == item["provenance"] and facts["prompt_edited"] is False


def test_metadata_jsonl_has_the_layout_audiofolder_needs(unzipped):
    folder, items = unzipped
    rows = metadata_rows(folder)
    audio = sorted(p.name for p in folder.iterdir() if p.suffix in AUDIO_EXTENSIONS)
    assert sorted(r["file_name"] for r in rows) == audio == [f"track-{i:04d}.mp3" for i in (1, 2)]
    assert [r["caption"] for r in rows] == [i["prompt_text"] for i in items]
    assert all(sorted(r) == sorted(["file_name", *dataset.CARD_FIELDS]) for r in rows)  # same columns everywhere
    for column in dataset.CARD_FIELDS:  # and one type per column (null aside)
        assert len({type(r[column]).__name__ for r in rows if r[column] is not None}) <= 1, column
    assert all(isinstance(r["bpm"], float) and isinstance(r["instruments"], list) for r in rows)


def test_the_card_counts_the_tracks_and_its_yaml_picks_mp3s_and_metadata(unzipped):
    folder, items = unzipped
    card = (folder / "README.md").read_text(encoding="utf-8")
    total = sum(i["audio_duration_s"] for i in items)
    assert f"2 tracks, 0:00:{round(total):02d} of audio in total ({total:.0f} s)" in card
    assert all(f"`{field}`" in card for field in ("file_name", *dataset.CARD_FIELDS))
    assert 'load_dataset("audiofolder", data_dir=' in card
    front = re.match(r"---\n(.*?)\n---\n", card, re.S)
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load(front.group(1))
    # Without these data_files, load_dataset(folder) would count .txt/.json as the
    # majority and pick the json loader; with only "*.mp3" it would drop metadata.jsonl.
    [default] = config["configs"]
    assert default["data_files"] == [{"split": "train", "path": ["*.mp3", "metadata.jsonl"]}]


def test_manifest_lists_every_other_member(unzipped):
    folder, _ = unzipped
    listed = dict(reversed(line.split("  ")) for line in (folder / "MANIFEST.sha256").read_text().splitlines())
    files = sorted(p.name for p in folder.iterdir() if p.name != "MANIFEST.sha256")
    assert sorted(listed) == files
    assert all(hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest for name, digest in listed.items())


@pytest.fixture
def audiofolder(monkeypatch, tmp_path):
    """datasets' real loaders, offline, without torch: datasets 5 imports torchcodec even
    to store a file path in an Audio column, so that one step stores the path as it would."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")        # read when datasets is first imported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.Audio, "encode_example", lambda self, value: {"bytes": None, "path": value})
    return datasets


@pytest.mark.parametrize("how", ["audiofolder", "folder"])
def test_datasets_loads_the_unzipped_export(unzipped, audiofolder, tmp_path, how):
    folder, items = unzipped
    cache = str(tmp_path / "cache")
    if how == "audiofolder":  # what the card shows
        ds = audiofolder.load_dataset("audiofolder", data_dir=str(folder), split="train", cache_dir=cache)
    else:                     # the folder itself, as a Hub repo is loaded: the card's YAML decides
        ds = audiofolder.load_dataset(str(folder), split="train", cache_dir=cache)
    ds = ds.cast_column("audio", audiofolder.Audio(decode=False))
    assert ds.num_rows == 2
    assert set(ds.column_names) == {"audio", *dataset.CARD_FIELDS}
    assert ds["caption"] == [i["prompt_text"] for i in items]
    assert [row["audio"]["path"] for row in ds] == [str(folder / f"track-{i:04d}.mp3") for i in (1, 2)]
    assert ds.features["bpm"].dtype == "float64" and ds[0]["instruments"][:3] == ["synth bass", "drums", "pads"]


# ---- the facts of one track --------------------------------------------------------
SUMMARY = {
    "tempo": {"bpm": 128}, "time_signature": "4/4", "key": {"tonic": "F", "mode": "minor", "confidence": 0.9},
    "devices": ["Drum Rack", "EQ Eight", "Reverb", "Operator", "Simpler", "Limiter"],
    "plugins": ["Serum", "FabFilter Pro-Q 3", "ValhallaRoom"],
}


def test_instruments_are_the_profile_then_instrument_families_never_devices():
    schema = {"instruments": ["Drums", "synth bass"]}
    summary = {**SUMMARY, "tracks": [
        {"name": "Beat", "type": "midi", "devices": ["Drum Rack", "EQ Eight"]},
        {"name": "1-MIDI", "type": "midi", "devices": ["Operator"], "plugins": ["Serum"]},
        {"name": "Hook", "type": "audio", "devices": ["Simpler", "Reverb"]}]}
    assert dataset.instruments(summary, schema) == ["Drums", "synth bass", "synths", "lead"]
    assert dataset.instruments({"devices": ["operator"]}, {"instruments": ["Operator"]}) == ["Operator"]
    assert dataset.instruments({}, {}) == []


def test_a_hand_written_caption_takes_its_facts_from_the_set():
    item = {"prompt_text": " A dark techno loop. ", "metadata": {}, "audio_duration_s": 12, "parse_id": "p1"}
    record = dataset.track_record("track-0001", item, SUMMARY, {"genres": ["techno", 3]})
    assert record["caption"] == "A dark techno loop."
    assert (record["bpm"], record["key"], record["time_signature"]) == (128.0, "F minor", "4/4")
    assert record["duration_s"] == 12.0 and record["genres"] == ["techno"] and record["moods"] == []
    written = {**item, "metadata": {"bpm": 127, "key": None, "time_signature": "4/4"}}
    assert dataset.track_record("track-0001", written, SUMMARY, {})["bpm"] == 127.0
