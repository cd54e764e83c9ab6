"""Each export format, built from the demo's own MP3s and checked against its trainer's
loader rules, re-stated here from the tool's source at the commit named (the trainers
need torch, too heavy for CI; Hugging Face `datasets` is real, in test_dataset_layout.py).
Then each format's checker is shown to catch the trap it exists for."""

import csv
import dataclasses
import importlib.util
import json
import os
import zipfile
from pathlib import Path

import pytest
from mutagen.mp3 import MP3

from trainmode.cli import FORMAT_NAMES, main
from trainmode.errors import DatasetError, ValidationError
from trainmode.export import formats
from trainmode.export import rows as dataset
from trainmode.export.build import export_dataset
from trainmode.export.formats import ace_step, ace_step_v1, audiocraft, stable_audio
from trainmode.export.formats.base import Build
from trainmode.ops.demo import DEMO_ARTIST, install_demo


@pytest.fixture
def demo(store, settings):
    install_demo(store, settings, echo=lambda *_: None)
    artist = store.find_artist(DEMO_ARTIST)
    items = sorted(store.list_items(artist["id"], "ready"), key=lambda i: dataset.split_point(i["id"]))
    first, second = (dataset.split_point(i["id"]) for i in items)
    return store, artist, items, (first + second) / 2  # a ratio: the first item trains, the second validates


def exported(demo, tmp_path, fmt: str, **options) -> tuple[Path, Path]:
    """Export (which runs the format's checker before storing) and unzip: (zip, folder)."""
    store, artist, _, ratio = demo
    result = export_dataset(store, artist, format=fmt, split=options.pop("split", ratio), **options)
    assert result.format == fmt and store.list_items(artist["id"], "ready") == []
    folder = tmp_path / fmt
    with zipfile.ZipFile(result.local_path) as zf:
        zf.extractall(folder)
    return result.local_path, folder


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def audio_in(folder: Path) -> Path:
    """The one audio file in `folder` (each split of the demo export holds one)."""
    [audio] = [p for p in folder.rglob("*.mp3")]
    return audio


# ---- audiocraft (facebookresearch/audiocraft@896ec7c) --------------------------------------
@dataclasses.dataclass
class AudioMeta:
    """audiocraft/data/audio_dataset.py: path, duration and sample_rate have no default."""

    path: str
    duration: float
    sample_rate: int
    amplitude: float | None = None
    weight: float | None = None
    info_path: str | None = None


def music_info_from_dict(info: dict) -> dict:
    """audiocraft/data/music_dataset.py MusicInfo.from_dict(fields_required=True): KeyError
    for any missing field but `keywords`."""
    for name in ("title", "artist", "key", "bpm", "genre", "moods", "description", "name", "instrument"):
        if name not in info:
            raise KeyError(f"Unexpected missing key: {name}")
    return info


@pytest.mark.slow
def test_audiocraft_loads_as_musicgen_reads_it(demo, tmp_path):
    _, folder = exported(demo, tmp_path, "audiocraft")
    _, artist, items, _ = demo
    name = f"trainmode_{dataset.artist_label(artist).replace('-', '_')}"
    config = (folder / f"config/dset/audio/{name}.yaml").read_text()
    assert config.startswith("# @package __global__")
    source = __import__("yaml").safe_load(config)["datasource"]
    assert (source["train"], source["valid"]) == (f"egs/{name}/train", f"egs/{name}/valid")
    for split, item in zip(("train", "valid"), items, strict=True):
        [line] = (folder / source[split] / "data.jsonl").read_text().splitlines()
        meta = AudioMeta(**json.loads(line))
        audio = folder / meta.path  # relative to the unzipped root
        assert abs(meta.duration - MP3(audio).info.length) < 0.05  # duration drives cropping
        assert meta.sample_rate == MP3(audio).info.sample_rate <= source["max_sample_rate"]
        info = music_info_from_dict(read_json(audio.with_suffix(".json")))  # the sidecar, Path.with_suffix
        assert set(info) == set(audiocraft.MUSIC_INFO)
        for listed in ("moods", "keywords"):
            assert isinstance(info[listed], list) and all(isinstance(v, str) for v in info[listed])
        assert info["description"] == item["prompt_text"] and info["name"] == audio.stem
        heard = item["metadata"]["audio"]["tags"]["whole"]  # moods heard by the tagger, not the profile's (#27)
        assert info["artist"] == dataset.artist_label(artist) and info["moods"]  # and the caption's words for them
        said = info["description"].lower()
        assert all(m in said for m in info["moods"]) and set(info["moods"]) <= {t for t, _ in heard["mood"]}
        assert info["genre"] in said and info["genre"] in [t for t, _ in heard["genre"]]
        assert info["bpm"] == item["metadata"]["bpm"] and info["key"] == item["metadata"]["key"]


@pytest.mark.slow
def test_audiocraft_without_a_split_validates_on_the_training_manifest(demo, tmp_path):
    _, folder = exported(demo, tmp_path, "audiocraft", split=None)
    [config] = (folder / "config/dset/audio").iterdir()
    source = __import__("yaml").safe_load(config.read_text())["datasource"]
    assert source["valid"] == source["evaluate"] == source["generate"] == source["train"]
    assert len((folder / source["train"] / "data.jsonl").read_text().splitlines()) == 2


# ---- stable-audio-tools (Stability-AI/stable-audio-tools@50049e3) ---------------------------
def load_module(folder: Path):
    """As create_dataloader_from_config loads custom_metadata_module (relative to the cwd)."""
    spec = importlib.util.spec_from_file_location("metadata_module", str(folder / "custom_metadata.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stable_audio_gives_every_file_its_prompt_and_stops_on_a_missing_sidecar(demo, tmp_path, monkeypatch):
    _, folder = exported(demo, tmp_path, "stable-audio")
    _, _, items, _ = demo
    monkeypatch.chdir(folder)  # train.py runs from the unzipped folder
    for config_name, split, item in (
        ("dataset_config.json", "train", items[0]),
        ("val_dataset_config.json", "valid", items[1]),
    ):
        config = read_json(folder / config_name)
        assert config["dataset_type"] == "audio_dir"
        [entry] = config["datasets"]
        assert entry["id"] and entry["path"] == split
        module = load_module(Path(entry["custom_metadata_module"]).resolve().parent)
        [audio] = [p for p in Path(entry["path"]).rglob("*") if p.suffix in stable_audio.AUDIO_EXTENSIONS]
        assert module.get_custom_metadata({"path": str(audio)}, None) == {"prompt": item["prompt_text"]}
    sidecar = audio_in(folder / "valid").with_suffix(".json")
    sidecar.unlink()
    with pytest.raises(BaseException, match=sidecar.name) as caught:  # on load: every sidecar is checked
        load_module(folder)
    assert not isinstance(caught.value, Exception)  # SampleDataset catches Exception and quietly uses another file
    assert any("has no `prompt`" in p for p in stable_audio.check(folder))


# ---- ACE-Step 1.5 (ace-step/ACE-Step-1.5@f30aee4, upstream b4a045b) -----------------------------
def scan_directory(directory: Path) -> dict[str, dict]:
    """acestep/training/dataset_builder_modules/scan.py + audio_io.py + csv_metadata.py,
    re-stated: lyrics from .lyrics.txt or .txt, caption file, JSON, then the top-level CSV."""
    csv_meta = {}
    for name in os.listdir(directory):
        if name.lower().endswith(".csv"):
            with open(directory / name, encoding="utf-8") as f:
                reader = csv.DictReader(f, dialect=csv.Sniffer().sniff(f.read(4096), delimiters=",;\t"))
                f.seek(0)
                reader = csv.DictReader(f, dialect=reader.dialect)
                header = {h.lower(): h for h in reader.fieldnames}
                for row in reader:
                    csv_meta[row[header["file"]].strip()] = {
                        "caption": row[header["caption"]].strip(),
                        "bpm": int(float(row[header["bpm"]])),
                        "key": row[header["key"]].strip(),
                    }
    samples = {}
    for root, _, files in os.walk(directory):
        for name in sorted(f for f in files if os.path.splitext(f)[1].lower() in ace_step.AUDIO_EXTENSIONS):
            base = os.path.join(root, os.path.splitext(name)[0])
            lyrics = next((Path(base + s) for s in (".lyrics.txt", ".txt") if Path(base + s).exists()), None)
            sample = {"caption": "", "labeled": False, "is_instrumental": lyrics is None, "lyrics_file": lyrics}
            if Path(base + ".caption.txt").exists():
                sample.update(caption=Path(base + ".caption.txt").read_text(encoding="utf-8").strip(), labeled=True)
            meta = read_json(Path(base + ".json")) if Path(base + ".json").exists() else {}
            if meta.get("caption"):
                sample.update(caption=meta["caption"], labeled=True)
            if meta.get("language") and meta["language"] != "instrumental":
                sample["is_instrumental"] = False
            sample.update(json=meta, csv=csv_meta.get(name))
            samples[name] = sample
    return samples


def test_ace_step_captions_reach_the_csv_and_json_and_no_caption_is_read_as_lyrics(demo, tmp_path):
    _, folder = exported(demo, tmp_path, "ace-step")
    _, _, items, _ = demo
    audio = [p for p in folder.rglob("*") if p.suffix in ace_step.AUDIO_EXTENSIONS]
    assert len(audio) == 2 and not [p for p in audio if p.with_suffix(".txt").exists()]
    assert not (folder / "metadata.csv").exists()  # the top folder holds no audio: scan train/
    for split, item in zip(("train", "valid"), items, strict=True):
        assert (folder / split / "metadata.csv").read_bytes()[:4] == b'"Fil'  # UTF-8, no BOM
        [(name, sample)] = scan_directory(folder / split).items()
        # The demo's renders hold no voice and no vocal track plays in its sets: instrumental.
        assert sample["lyrics_file"] is None and sample["is_instrumental"] and sample["labeled"]
        assert sample["caption"] == sample["json"]["caption"] == sample["csv"]["caption"] == item["prompt_text"]
        assert sample["json"]["language"] == "instrumental"
        assert sample["csv"]["bpm"] == sample["json"]["bpm"] == round(item["metadata"]["bpm"])
        assert sample["csv"]["key"] == sample["json"]["keyscale"] == item["metadata"]["key"]
        assert sample["json"]["timesignature"] == item["metadata"]["time_signature"].split("/")[0]


def test_ace_step_writes_lyrics_only_when_there_are_some():
    base = dataset.row_for(1, {"id": "i", "audio_path": "a.mp3", "prompt_text": "A song."}, {}, {}, artist="a")
    sung = dataclasses.replace(base, lyrics="[verse]\nla la")
    names = {m.name: m for m in ace_step.members([base], Build("a"))}
    assert "train/track-0001.lyrics.txt" not in names
    names = {m.name: m for m in ace_step.members([sung], Build("a"))}
    assert names["train/track-0001.lyrics.txt"].data == b"[verse]\nla la\n"
    assert "language" not in json.loads(names["train/track-0001.json"].data)


# ---- ACE-Step v1 (ace-step/ACE-Step@d612523) --------------------------------------------------
def test_ace_step_v1_rows_are_what_convert2hf_dataset_makes(demo, tmp_path):
    _, folder = exported(demo, tmp_path, "ace-step-v1")
    store, artist, items, _ = demo
    for split, item in zip(("train", "valid"), items, strict=True):
        rows = []
        for song in (folder / split).glob("*.mp3"):  # convert2hf_dataset.py create_dataset, re-stated
            prompt_path, lyric_path = (str(song).replace(".mp3", s) for s in ("_prompt.txt", "_lyrics.txt"))
            assert os.path.exists(prompt_path) and os.path.exists(lyric_path)
            rows.append(
                {
                    "keys": song.stem,
                    "tags": Path(prompt_path).read_text(encoding="utf-8").strip().split(", "),
                    "norm_lyrics": Path(lyric_path).read_text(encoding="utf-8").strip(),
                }
            )
        [row] = rows
        summary = store.get_summary(artist["id"], item["parse_id"])["summary"]
        facts = dataset.row_facts(item, summary, store.get_master_schema(artist["id"]))
        variant = item["metadata"].get("captions", {}).get("tags")  # the writer's tag list wins over the facts
        expected = [t.strip() for t in variant.split(",")] if variant else dataset.facts_tags(facts)
        # Instrumental: v1's own token, `[inst]` ("[instrumental]" is [UNK] pieces to its tokenizer).
        assert row["tags"] == expected and row["norm_lyrics"] == "[inst]"
        assert all(t and "," not in t for t in row["tags"])


def test_ace_step_v1_uses_the_tags_variant_and_keeps_each_tag_whole():
    item = {
        "id": "i",
        "audio_path": "a.mp3",
        "prompt_text": "A long sentence, with commas.",
        "metadata": {"captions": {"tags": "synthwave, 96 bpm, dreamy"}},
    }
    row = dataset.row_for(1, item, {}, {}, artist="a")
    assert ace_step_v1.prompt(row) == "synthwave, 96 bpm, dreamy"
    odd = dataclasses.replace(row, captions={})
    assert ace_step_v1.prompt(odd) == "music"  # no facts at all: ACE-Step's own fallback word


# ---- genres and moods: the caption's, in every format ---------------------------------------------
def test_genres_are_those_the_caption_states_in_every_format(demo, settings):
    """QA walk: hf's `genres` was always the profile's list ([] without one) and ACE-Step's `genre` every
    heard tag ("electronica" too), while the caption names the genres it heard. Now each format carries the
    genres (and moods) the caption states, in its words: hf and stable-audio lists, ACE-Step's `genre`,
    audiocraft's first genre."""
    from trainmode.service import TrainMode

    store, artist, items, _ = demo
    tm = TrainMode(store, settings)

    def files(fmt: str) -> dict[str, str]:
        with zipfile.ZipFile(tm.export_everything(artist, format=fmt).local_path) as zf:
            return {n: zf.read(n).decode() for n in zf.namelist() if n.endswith((".json", ".jsonl"))}

    hf_lines = [json.loads(line) for line in files("hf")["metadata.jsonl"].splitlines()]
    ace = files("ace-step")
    craft = {n.rsplit("/", 1)[-1]: json.loads(t) for n, t in files("audiocraft").items() if n.startswith("dataset/")}
    sidecars = files("stable-audio")
    for line in hf_lines:
        stem, said = line["file_name"][:-4], line["caption"].lower()
        heard = line["tags_genre"].split(", ")
        assert line["genres"] and all(g in said and g in heard for g in line["genres"]), line
        assert all(m in said for m in line["moods"]) and set(line["moods"]) <= set(line["tags_mood"].split(", "))
        assert json.loads(ace[f"train/{stem}.json"])["genre"] == ", ".join(line["genres"])
        assert (craft[f"{stem}.json"]["genre"], craft[f"{stem}.json"]["moods"]) == (line["genres"][0], line["moods"])
        sidecar = json.loads(sidecars[f"train/{stem}.json"])
        assert (sidecar["genres"], sidecar["moods"]) == (line["genres"], line["moods"])
    item = items[0]
    summary = store.get_summary(artist["id"], item["parse_id"])["summary"]
    schema = store.get_master_schema(artist["id"])
    facts = dataset.row_for(1, item, summary, schema, artist="a").facts
    [dropped, *kept] = facts.genres  # a hand edit that takes a genre out takes it out of the fields too
    edited = {**item, "prompt_text": item["prompt_text"].replace(dropped, "").replace(dropped.title(), "")}
    assert dataset.row_for(1, edited, summary, schema, artist="a").facts.genres == tuple(kept)


# ---- every checker catches its trap ------------------------------------------------------------
def break_one(folder: Path, fmt: str) -> str:
    """Break `folder` the way a hand-made dataset for `fmt` often is; the problem's words."""
    if fmt == "hf":
        meta = folder / "train" / "metadata.jsonl"
        meta.write_text("", encoding="utf-8")
        return "has no line"
    if fmt == "audiocraft":
        [split_folder] = (folder / "dataset").glob("*/train")
        sidecar = audio_in(split_folder).with_suffix(".json")
        info = read_json(sidecar)
        del info["bpm"]
        sidecar.write_text(json.dumps(info), encoding="utf-8")
        return "lacks `bpm`"
    audio = audio_in(folder / "train")
    if fmt == "stable-audio":
        audio.with_suffix(".json").unlink()
        return "has no `prompt`"
    if fmt == "ace-step":
        audio.with_suffix(".txt").write_text("A caption in the wrong file.", encoding="utf-8")
        return "as lyrics"
    if fmt == "ai-toolkit":
        audio.with_suffix(".txt").write_text("A plain caption, as most trainers take it.", encoding="utf-8")
        return "lacks <CAPTION>"
    audio.with_name(audio.stem + "_lyrics.txt").unlink()
    return "skips"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_each_checker_passes_the_export_and_catches_a_broken_copy(demo, tmp_path, fmt):
    path, folder = exported(demo, tmp_path, fmt)
    assert formats.check_dataset(path, fmt) == [] and formats.check_dataset(folder, fmt) == []
    words = break_one(folder, fmt)
    problems = formats.check_dataset(folder, fmt)
    assert any(words in p for p in problems), problems


def test_a_csv_with_a_bom_is_caught(demo, tmp_path):
    _, folder = exported(demo, tmp_path, "ace-step")
    csv_path = folder / "train" / "metadata.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes())
    assert any("BOM" in p for p in ace_step.check(folder))


def test_check_dataset_command(demo, tmp_path, capsys):
    path, folder = exported(demo, tmp_path, "ace-step")
    assert main(["check-dataset", str(path), "--format", "ace-step"]) == 0
    assert "meets" in capsys.readouterr().out
    lyrics = audio_in(folder / "valid").with_suffix(".txt")
    lyrics.write_text("A caption in the wrong file.", encoding="utf-8")
    assert main(["check-dataset", str(folder), "--format", "ace-step"]) == 1
    assert f"valid/{lyrics.name} is beside" in capsys.readouterr().out
    assert FORMAT_NAMES == tuple(formats.FORMATS)
    with pytest.raises(ValidationError, match="Unknown dataset format 'nope': use one of hf, audiocraft"):
        formats.check_dataset(path, "nope")


def test_the_same_member_names_for_the_same_rows_in_every_format():
    """Member names are ASCII and unique: the zip writer relies on both."""
    rows = [
        dataset.row_for(
            n,
            {"id": f"i{n}", "audio_path": "a.mp3", "prompt_text": "x"},
            {},
            {},
            artist="a",
            split="valid" if n == 3 else "train",
        )
        for n in (1, 2, 3)
    ]
    for fmt in formats.FORMATS.values():
        build = Build("artist-x", headers={r.stem: None for r in rows})
        names = [m.name for m in fmt.members(rows, build)]
        assert len(names) == len(set(names)) and all(n.isascii() for n in names), fmt.NAME


def test_the_formats_doc_shows_every_member_each_format_writes():
    """docs/dataset-formats.md draws each layout: every member a format writes for a
    training split (validation mirrors it) appears in that format's section."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "dataset-formats.md").read_text(encoding="utf-8")
    rows = [dataset.row_for(1, {"id": "i1", "audio_path": "a.mp3", "prompt_text": "x"}, {}, {}, artist="a")]
    for name, fmt in formats.FORMATS.items():
        section = doc.split(f"\n## {name}: ", 1)[1].split("\n## ", 1)[0]
        members = formats.zip_members(fmt, rows, Build("artist-x", headers={"track-0001": None}))
        missing = [m.name for m in members if m.name.replace("trainmode_artist_x", "trainmode_NAME") not in section]
        assert not missing, f"{name}: {missing} not drawn in docs/dataset-formats.md"


def test_ace_step_csv_survives_captions_with_delimiters_quotes_and_newlines():
    """ACE-Step sniffs the CSV's delimiter from ", ; TAB": quoting every field keeps it ","
    whatever the captions hold, and each caption reads back whole (as one line: a tab or a
    line break in a caption is a space in every export, trainmode/ops/text.py)."""
    captions = ['Dark; moody\ttechno, "quoted" bits', "Line one\nline two; x", "plain"]
    rows = [
        dataset.row_for(n, {"id": str(n), "audio_path": "a.mp3", "prompt_text": c}, {}, {}, artist="a")
        for n, c in enumerate(captions, 1)
    ]
    text = ace_step.csv_text(rows)
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    assert dialect.delimiter == ","
    read = [r["Caption"] for r in csv.DictReader(text.splitlines(keepends=True), dialect=dialect)]
    assert read == ['Dark; moody techno, "quoted" bits', "Line one line two; x", "plain"]


def test_the_checkers_report_a_hostile_dataset_instead_of_crashing(tmp_path):
    """check-dataset reads datasets made elsewhere: odd files are problems, not tracebacks."""
    folder = tmp_path / "odd"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "a.mp3").write_bytes(b"ID3")
    (folder / "train" / "a.json").write_text('{"prompt": 3, "caption": 4, "language": "en"}')
    (folder / "train" / "a_prompt.txt").write_text("x,y\nz")
    (folder / "train" / "metadata.jsonl").write_text('{"file_name": "../../etc/passwd"}\n[1]\n')
    card = "---\nconfigs: [{config_name: default, data_files: [{split: train, path: [3]}]}]\n---\n"
    (folder / "README.md").write_text(card)
    (folder / "dataset_config.json").write_text('{"dataset_type": "audio_dir", "datasets": {"id": 1}}')
    (folder / "MANIFEST.sha256").write_text("nope\n")
    for name in formats.FORMATS:
        problems = formats.check_dataset(folder, name)
        assert problems and all(isinstance(p, str) for p in problems), name
    (folder / "README.md").write_bytes(b"\xff\xfe")
    with pytest.raises(DatasetError, match="README.md is not UTF-8"):
        formats.check_dataset(folder, "hf")
    with pytest.raises(ValidationError, match="No dataset path"):  # not the current folder
        formats.check_dataset("", "hf")


@pytest.mark.slow
def test_the_export_command_takes_format_split_and_artist_name(demo, capsys, monkeypatch):
    store, _, _, ratio = demo
    monkeypatch.setenv("TRAINMODE_DATA_DIR", str(store.data_dir))
    args = ["export", "--artist", DEMO_ARTIST, "--format", "stable-audio", "--split", str(ratio), "--artist-name"]
    assert main(args) == 0
    out = capsys.readouterr()
    path = Path(out.out.strip().splitlines()[-1])
    assert path.name == "dataset-stable-audio.zip" and "(stable-audio)" in out.err
    with zipfile.ZipFile(path) as zf:
        sidecars = [json.loads(zf.read(n)) for n in zf.namelist() if n.endswith(".json") and "/" in n]
        assert sorted(n.split("/")[0] for n in zf.namelist() if n.endswith(".mp3")) == ["train", "valid"]
    assert [s["artist"] for s in sidecars] == ["Demo Artist", "Demo Artist"]
