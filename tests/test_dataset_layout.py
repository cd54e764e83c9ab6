"""The dataset inside dataset.zip: per-track files, metadata.jsonl as Hugging Face
`datasets`' audiofolder reads it, the README card and its YAML, the instrument list."""

import hashlib
import json
import re
import zipfile

import pytest

from tests.exporting import export_artist
from trainmode.export import rows as dataset
from trainmode.export.build import export_dataset
from trainmode.export.formats import hf
from trainmode.export.formats.base import Build
from trainmode.ops.demo import DEMO_ARTIST, install_demo

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


@pytest.mark.slow
def test_each_track_has_audio_caption_and_facts(unzipped):
    folder, items = unzipped
    for index, item in enumerate(items, 1):
        stem = f"track-{index:04d}"
        assert (folder / f"{stem}.txt").read_text(encoding="utf-8") == item["prompt_text"] + "\n"
        facts = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
        assert facts["file_name"] == f"{stem}.mp3"
        assert (facts["bpm"], facts["key"], facts["time_signature"]) == (
            item["metadata"]["bpm"],
            item["metadata"]["key"],
            item["metadata"]["time_signature"],
        )
        assert facts["duration_s"] == item["audio_duration_s"]
        # The genres and moods the caption states of what was heard, never the profile's list (#3 of the QA walk).
        assert facts["genres"] and all(g in facts["caption"].lower() for g in facts["genres"] + facts["moods"])
        assert set(facts["genres"]) <= set(facts["tags_genre"]) and set(facts["moods"]) <= set(facts["tags_mood"])
        assert facts["provenance"] == item["provenance"] and facts["prompt_edited"] is False


def test_metadata_jsonl_has_the_layout_audiofolder_needs(unzipped):
    folder, items = unzipped
    rows = metadata_rows(folder)
    audio = sorted(p.name for p in folder.iterdir() if p.suffix in AUDIO_EXTENSIONS)
    assert sorted(r["file_name"] for r in rows) == audio == [f"track-{i:04d}.mp3" for i in (1, 2)]
    assert [r["caption"] for r in rows] == [i["prompt_text"] for i in items]
    assert all(sorted(r) == sorted(["file_name", *hf.CARD_FIELDS]) for r in rows)  # same columns everywhere
    for column in hf.CARD_FIELDS:  # and one type per column (null aside)
        assert len({type(r[column]).__name__ for r in rows if r[column] is not None}) <= 1, column
    assert all(isinstance(r["bpm"], float) and isinstance(r["instruments"], list) for r in rows)


@pytest.mark.slow
def test_the_card_counts_the_tracks_and_its_yaml_picks_mp3s_and_metadata(unzipped):
    folder, items = unzipped
    card = (folder / "README.md").read_text(encoding="utf-8")
    total = sum(i["audio_duration_s"] for i in items)
    assert f"2 tracks, 0:00:{round(total):02d} of audio in total ({total:.0f} s)" in card
    assert all(f"`{field}`" in card for field in ("file_name", *hf.CARD_FIELDS))
    assert 'load_dataset("audiofolder", data_dir=' in card
    front = re.match(r"---\n(.*?)\n---\n", card, re.S)
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load(front.group(1))
    # Without these data_files, load_dataset(folder) would count .txt/.json as the
    # majority and pick the json loader; with only "*.mp3" it would drop metadata.jsonl.
    [default] = config["configs"]
    assert default["data_files"] == [{"split": "train", "path": ["*.mp3", "metadata.jsonl"]}]


@pytest.mark.slow
def test_manifest_lists_every_other_member(unzipped):
    folder, _ = unzipped
    listed = dict(reversed(line.split("  ")) for line in (folder / "MANIFEST.sha256").read_text().splitlines())
    files = sorted(p.name for p in folder.iterdir() if p.name != "MANIFEST.sha256")
    assert sorted(listed) == files
    assert all(hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest for name, digest in listed.items())


@pytest.mark.slow
@pytest.mark.parametrize("how", ["audiofolder", "folder"])
def test_datasets_loads_the_unzipped_export(unzipped, audiofolder, tmp_path, how):
    folder, items = unzipped
    cache = str(tmp_path / "cache")
    if how == "audiofolder":  # what the card shows
        ds = audiofolder.load_dataset("audiofolder", data_dir=str(folder), split="train", cache_dir=cache)
    else:  # the folder itself, as a Hub repo is loaded: the card's YAML decides
        ds = audiofolder.load_dataset(str(folder), split="train", cache_dir=cache)
    ds = ds.cast_column("audio", audiofolder.Audio(decode=False))
    assert ds.num_rows == 2
    assert set(ds.column_names) == {"audio", *hf.CARD_FIELDS}
    assert ds["caption"] == [i["prompt_text"] for i in items]
    assert [row["audio"]["path"] for row in ds] == [str(folder / f"track-{i:04d}.mp3") for i in (1, 2)]
    assert ds.features["bpm"].dtype == "float64" and {"drums", "bass", "pads"} <= set(ds[0]["instruments"])


# ---- the facts of one track --------------------------------------------------------
SUMMARY = {
    "tempo": {"bpm": 128},
    "time_signature": "4/4",
    "key": {"tonic": "F", "mode": "minor", "confidence": 0.9},
    "devices": ["Drum Rack", "EQ Eight", "Reverb", "Operator", "Simpler", "Limiter"],
    "plugins": ["Serum", "FabFilter Pro-Q 3", "ValhallaRoom"],
}


def test_instruments_are_the_sets_families_never_the_profiles_or_devices():
    # The profile says this artist often plays piano and synth bass: that is no evidence that
    # this set has them (issue 26: "drums" first on a set without drums), so they are left out.
    schema = {"instruments": ["Piano", "synth bass"]}
    summary = {
        **SUMMARY,
        "tracks": [
            {"name": "Beat", "type": "midi", "devices": ["Drum Rack", "EQ Eight"]},
            {"name": "1-MIDI", "type": "midi", "devices": ["Operator"], "plugins": ["Serum"]},
            {"name": "Hook", "type": "audio", "devices": ["Simpler", "Reverb"]},
        ],
    }
    assert dataset.set_facts(summary, schema)["instruments"] == ["drums", "synths", "lead"]
    assert dataset.set_facts({"devices": ["operator"]}, {"instruments": ["Operator"]})["instruments"] == []
    assert dataset.set_facts({}, {})["instruments"] == []


def record_of(item: dict, summary: dict, schema: dict) -> dict:
    item = {"id": "i1", "audio_path": "a.mp3", **item}
    return hf.track_record(dataset.row_for(1, item, summary, schema, artist="artist-x"))


# A set whose drums play: techno, a beat genre, may be stated of it (heard.py BEAT_GENRES).
WITH_DRUMS = {**SUMMARY, "tracks": [{"name": "Beat", "type": "midi", "devices": ["Drum Rack"], "clip_count": 1}]}


def test_a_hand_written_caption_takes_its_facts_from_the_set():
    item = {"prompt_text": " A dark techno loop. ", "metadata": {}, "audio_duration_s": 12, "parse_id": "p1"}
    assert record_of(item, SUMMARY, {"genres": ["techno"]})["genres"] == []  # no drums: techno is not the set's
    record = record_of(item, WITH_DRUMS, {"genres": ["techno", 3]})
    assert record["caption"] == "A dark techno loop."
    assert (record["bpm"], record["key"], record["time_signature"]) == (128.0, "F minor", "4/4")
    assert record["duration_s"] == 12.0 and record["genres"] == ["techno"] and record["moods"] == []
    written = {**item, "metadata": {"bpm": 127, "key": None, "time_signature": "4/4"}}
    assert record_of(written, SUMMARY, {})["bpm"] == 127.0


def test_tags_come_from_the_tags_variant_else_from_the_facts():
    item = {"prompt_text": "A loop.", "metadata": {"captions": {"tags": "dark techno, 128 bpm,, Dark Techno "}}}
    assert record_of(item, SUMMARY, {})["tags"] == ["dark techno", "128 bpm"]
    derived = record_of({"prompt_text": "A loop.", "metadata": {}}, SUMMARY, {"genres": ["techno"], "moods": ["dark"]})
    assert derived["tags"] == ["128 bpm", "F minor"]  # devices and plug-ins are never instruments
    assert derived["captions"] == {}  # and the caption states no genre or mood: none is a tag
    said = record_of(
        {"prompt_text": "A techno loop.", "metadata": {}}, WITH_DRUMS, {"genres": ["techno"], "moods": ["dark"]}
    )
    assert said["tags"][:1] == ["techno"] and said["tags"][-2:] == [
        "128 bpm",
        "F minor",
    ]  # nothing heard: the profile's one genre, as the writers


# ---- splits and artist identity --------------------------------------------------------
def test_the_split_is_a_pure_function_of_the_item_id():
    ids = [f"item-{n}" for n in range(400)]
    sides = [dataset.split_of(i, 0.8) for i in ids]
    assert sides == [dataset.split_of(i, 0.8) for i in ids]  # the same item, the same side
    assert 0.7 < sides.count("train") / len(ids) < 0.9  # and about the ratio
    smaller = [dataset.split_of(i, 0.5) for i, s in zip(ids, sides, strict=True) if s == "valid"]
    assert set(smaller) == {"valid"}  # a smaller ratio only moves items to valid
    assert {dataset.split_of(i, None) for i in ids} == {"train"}  # no ratio: everything trains


def test_the_artist_is_an_opaque_id_unless_the_user_opts_in():
    artist = {"id": "1b4e28ba-2fa1-11d2-883f-0016cb0a3b9d", "name": "Jane  Doe"}
    label = dataset.artist_label(artist)
    assert label.startswith("artist-") and "Jane" not in label and artist["id"] not in label
    assert label == dataset.artist_label(dict(artist)) != dataset.artist_label({**artist, "id": "other"})
    assert dataset.artist_label(artist, real_name=True) == "Jane Doe"


def split_ratio_between(items) -> float:
    """A ratio putting the first item on the training side and the second on the validation
    side, whatever their (random) ids: halfway between where the two fall."""
    first, second = sorted(dataset.split_point(i["id"]) for i in items)
    return (first + second) / 2


@pytest.fixture
def unzipped_with_split(store, settings, tmp_path):
    install_demo(store, settings, echo=lambda *_: None)
    artist = store.find_artist(DEMO_ARTIST)
    items = sorted(store.list_items(artist["id"], "ready"), key=lambda i: dataset.split_point(i["id"]))
    result = export_dataset(store, artist, split=split_ratio_between(items))
    folder = tmp_path / "dataset"
    with zipfile.ZipFile(result.local_path) as zf:
        zf.extractall(folder)
    return folder, items, artist


@pytest.mark.slow
def test_a_split_export_declares_both_splits_and_datasets_loads_them(unzipped_with_split, audiofolder, tmp_path):
    folder, (train, valid), artist = unzipped_with_split
    assert hf.check(folder) == []
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert artist["name"] not in card  # the artist is an opaque id by default
    config = pytest.importorskip("yaml").safe_load(re.match(r"---\n(.*?)\n---\n", card, re.S).group(1))
    assert [s["split"] for s in config["configs"][0]["data_files"]] == ["train", "validation"]
    for how in ("audiofolder", "folder"):
        if how == "audiofolder":
            ds = audiofolder.load_dataset("audiofolder", data_dir=str(folder), cache_dir=str(tmp_path / how))
        else:
            ds = audiofolder.load_dataset(str(folder), cache_dir=str(tmp_path / how))
        assert set(ds) == {"train", "validation"}, how
        assert ds["train"]["caption"] == [train["prompt_text"]]
        assert ds["validation"]["caption"] == [valid["prompt_text"]]
        assert set(ds["train"]["artist"]) == {dataset.artist_label(artist)}


def test_the_render_measurements_reach_the_sidecar_metadata_and_card():
    heard = {
        "duration_s": 30.0,
        "sample_rate": 44100,
        "channels": 2,
        "bpm": 139.8,
        "bpm_confidence": 0.9,
        "key": "A minor",
        "key_strength": 0.8,
        "loudness_lufs": -9.5,
        "loudness_range_lu": 4.0,
        "peak_dbfs": -0.3,
        "silence_start_s": 0.0,
        "silence_end_s": 0.2,
        "clipped_ratio": 0.0,
        "mono": False,
        "mono_compatible": True,
        "stereo_correlation": 0.4,
        "analyzer": "essentia",
        "notes": [],
        "verdict": "mismatch",
        "reasons": ["The audio runs at 140 BPM, the set at 128."],
        "confirmed": True,
    }
    listened = {"id": "i1", "audio_path": "a.mp3", "prompt_text": "A loop.", "metadata": {"audio": heard}}
    unheard = {"id": "i2", "audio_path": "b.mp3", "prompt_text": "A loop.", "metadata": {}}
    rows = [dataset.row_for(n, item, SUMMARY, {}, artist="artist-x") for n, item in enumerate((listened, unheard), 1)]
    first, second = (hf.track_record(r) for r in rows)
    assert (first["audio_bpm"], first["loudness_lufs"], first["audio_key"]) == (139.8, -9.5, "A minor")
    assert first["audio_verdict"] == "mismatch" and first["confirmed_despite_doubt"] is True
    assert all(second[name] is None for name in dataset.AUDIO_FIELDS)  # one type per column, null when unheard
    line = json.loads(hf.metadata_line(first))
    assert line["loudness_lufs"] == -9.5 and set(dataset.AUDIO_FIELDS) <= set(line)
    card = hf.dataset_card(Build("artist-x"), rows, [])
    assert "Loudness from -9.5 to -9.5 LUFS over 1 measured tracks" in card
    assert "1 saved over a mismatch with its set (someone confirmed it)" in card
