"""`ace-step`: ACE-Step 1.5 LoRA training (its Gradio Dataset Builder scans a folder).

    train/track-0001.mp3           the audio
    train/track-0001.caption.txt   its caption
    train/track-0001.json          caption, bpm, keyscale, timesignature, language
    train/track-0001.lyrics.txt    only when the user supplied lyrics
    train/metadata.csv             File,BPM,Key,Caption (UTF-8, no BOM)
    valid/...                      the held-out split, when there is one (same layout)
    README.md, MANIFEST.sha256

Never a bare `track-0001.txt`: ACE-Step reads that as lyrics and marks the track sung.
The caption is in all three places because releases differ in what they read.

Rules re-stated from ace-step/ACE-Step-1.5@f30aee4:
- acestep/training/dataset_builder_modules/scan.py `scan_directory`: recursive os.walk
  over SUPPORTED_AUDIO_FORMATS (models.py); a sample without a caption stays unlabeled.
- audio_io.py `load_lyrics_file`: `<stem>.txt` is lyrics, and marks the track not instrumental.
- csv_metadata.py `load_csv_metadata`: every *.csv at the top of the scanned folder, opened
  as "utf-8" (a BOM hides the `File` header), delimiter sniffed from ", ; TAB", headers
  case-insensitive, `File` required, rows matched by audio basename; the only caption
  source at this commit.
- acestep/constants.py: VALID_KEYSCALES ("<A-G>[#|b|♯|♭] major|minor"),
  VALID_TIME_SIGNATURES (2, 3, 4, 6), BPM_MIN/BPM_MAX (30-300).
and from upstream b4a045b (read in the fork ifgcguitarclub/ACE-Step-1.5@ae802be,
same files): `<stem>.caption.txt`, `<stem>.lyrics.txt` and `<stem>.json` (`caption`,
`bpm`, `keyscale`, `timesignature`, `language`; any language but "instrumental" marks the
track sung).
"""

from __future__ import annotations

import csv
import io
import posixpath
from collections.abc import Iterator

from trainmode.export.formats.base import (
    AudioMember,
    Build,
    DatasetView,
    Member,
    checker,
    json_file,
    readme,
    splits_of,
    text,
)
from trainmode.export.rows import Row, dumps
from trainmode.ops.text import csv_cell, csv_value

NAME = "ace-step"
TITLE = "ACE-Step 1.5"
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".opus")
KEYSCALES = frozenset(
    f"{note}{accidental} {mode}"
    for note in "ABCDEFG"
    for accidental in ("", "#", "b", "♯", "♭")
    for mode in ("major", "minor")
)
TIME_SIGNATURES = ("2", "3", "4", "6")
CSV_NAME = "metadata.csv"


def bpm(row: Row) -> int | None:
    return round(row.facts.bpm) if row.facts.bpm and 30 <= row.facts.bpm <= 300 else None


def keyscale(row: Row) -> str | None:
    return row.facts.key if row.facts.key in KEYSCALES else None


def timesignature(row: Row) -> str | None:
    numerator = (row.facts.time_signature or "").split("/")[0]
    return numerator if numerator in TIME_SIGNATURES else None


def metas(row: Row) -> dict:
    """`<stem>.json`: null for what is unknown or outside ACE-Step's value sets."""
    out = {"caption": row.caption, "bpm": bpm(row), "keyscale": keyscale(row), "timesignature": timesignature(row)}
    if not row.lyrics:
        out["language"] = "instrumental"
    return out


def csv_text(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")  # quoted: the delimiter sniffs as ","
    writer.writerow(["File", "BPM", "Key", "Caption"])
    for row in rows:
        writer.writerow([f"{row.stem}{row.audio.suffix}", bpm(row) or "", keyscale(row) or "", csv_cell(row.caption)])
    return out.getvalue()


def members(rows: list[Row], build: Build) -> Iterator[Member]:
    groups = splits_of(rows)
    for split, split_rows in groups:
        for row in split_rows:
            yield AudioMember(f"{split}/{row.stem}{row.audio.suffix}", row)
            yield text(f"{split}/{row.stem}.caption.txt", row.caption + "\n")
            yield text(f"{split}/{row.stem}.json", dumps(metas(row)) + "\n")
            if row.lyrics:
                yield text(f"{split}/{row.stem}.lyrics.txt", row.lyrics.strip() + "\n")
        yield text(f"{split}/{CSV_NAME}", csv_text(split_rows))
    yield readme(TITLE, rows, build, TRAIN_NOTE)


TRAIN_NOTE = """## Train on it

Unzip inside the folder you start ACE-Step 1.5 from (newer releases refuse dataset paths
outside it). In the Gradio UI's LoRA Training tab, Dataset Builder: scan `train/` (not the
top folder: `valid/` would be scanned too), keep "all instrumental" ticked, check the
captions, save the dataset, preprocess it, then train.

Captions are in `metadata.csv` (read by every 1.5 release), `track-NNNN.caption.txt` and
`track-NNNN.json`. There is deliberately no `track-NNNN.txt`: ACE-Step reads that as lyrics.
"""


# ---- the checker -------------------------------------------------------------------------
def _rules(view: DatasetView) -> list[str]:
    """What ACE-Step 1.5's Dataset Builder reads (see the module docstring)."""
    audio = [n for n in view.names if n.lower().endswith(AUDIO_EXTENSIONS)]
    if not audio:
        return ["No audio file ACE-Step would scan."]
    problems: list[str] = []
    for folder in sorted({n.split("/")[0] if "/" in n else "" for n in audio}):
        in_folder = [n for n in audio if (n.split("/")[0] if "/" in n else "") == folder]
        problems += _folder_problems(view, folder, in_folder)
    return problems


def _folder_problems(view: DatasetView, folder: str, audio: list[str]) -> list[str]:
    captions, problems = _csv_captions(view, folder)
    names = [posixpath.basename(n) for n in audio]
    problems += [
        f"{folder or 'the top folder'}: {n} appears {names.count(n)} times; ACE-Step matches by file name."
        for n in sorted(set(names))
        if names.count(n) > 1
    ]
    for name in audio:
        stem = posixpath.splitext(name)[0]
        if view.exists(stem + ".txt"):
            problems.append(f"{stem}.txt is beside {name}: ACE-Step would train on it as lyrics.")
        caption = captions.get(posixpath.basename(name), "")
        if not caption:
            problems.append(f"{name} has no caption in the folder's CSV, so ACE-Step 1.5 leaves it unlabeled.")
        problems += _metas_problems(view, stem, caption)
    return problems


def _metas_problems(view: DatasetView, stem: str, caption: str) -> list[str]:
    problems: list[str] = []
    if view.exists(f"{stem}.caption.txt") and view.read_text(f"{stem}.caption.txt").strip() != caption:
        problems.append(f"{stem}.caption.txt differs from the CSV caption.")
    data = json_file(view, f"{stem}.json", problems) if view.exists(f"{stem}.json") else {}
    if not isinstance(data, dict):
        return problems + [f"{stem}.json is not a JSON object."]
    if data.get("caption") and str(data["caption"]).strip() != caption:
        problems.append(f"{stem}.json: its caption differs from the CSV caption.")
    if not view.exists(f"{stem}.lyrics.txt") and data.get("language") != "instrumental":
        problems.append(
            f'{stem}.json: a track without lyrics needs language "instrumental", or ACE-Step marks it sung.'
        )
    if data.get("keyscale") and data["keyscale"] not in KEYSCALES:
        problems.append(f"{stem}.json: keyscale {data['keyscale']!r} is not one ACE-Step knows.")
    if data.get("timesignature") and str(data["timesignature"]) not in TIME_SIGNATURES:
        problems.append(f"{stem}.json: timesignature {data['timesignature']!r} is not 2, 3, 4 or 6.")
    if data.get("bpm") and not (isinstance(data["bpm"], int) and 30 <= data["bpm"] <= 300):
        problems.append(f"{stem}.json: bpm {data['bpm']!r} is not a whole number from 30 to 300.")
    return problems


def _csv_captions(view: DatasetView, folder: str) -> tuple[dict[str, str], list[str]]:
    """{audio basename: caption} from the folder's top-level CSV files, read as the loader reads them."""
    names = view.files(folder, ".csv", recursive=False)
    if not names:
        return {}, [f"{folder or 'the top folder'} has no CSV: ACE-Step 1.5 (f30aee4) would find no captions."]
    captions: dict[str, str] = {}
    problems: list[str] = []
    for name in names:
        raw = view.read_bytes(name)
        if raw.startswith(b"\xef\xbb\xbf"):
            problems.append(f"{name} starts with a BOM, which hides its File column from ACE-Step.")
            continue
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{name} is not UTF-8.")
            continue
        try:
            dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
            reader = csv.DictReader(io.StringIO(content), dialect=dialect)
        except csv.Error:
            reader = csv.DictReader(io.StringIO(content))
        header = {h.lower(): h for h in reader.fieldnames or []}
        if "file" not in header or "caption" not in header:
            problems.append(f"{name} needs File and Caption columns (found {reader.fieldnames}).")
            continue
        for entry in reader:
            captions[(entry.get(header["file"]) or "").strip()] = csv_value(
                (entry.get(header["caption"]) or "").strip()
            )
    return captions, problems


check = checker(_rules)
