"""`ace-step`: ACE-Step 1.5 LoRA training (its Gradio Dataset Builder scans a folder).

    train/track-0001.mp3           the audio
    train/track-0001.caption.txt   its caption
    train/track-0001.json          caption, bpm, keyscale, timesignature, language
    train/track-0001.lyrics.txt    its lyrics, only when the user supplied them
    train/track-0001.txt           the same lyrics (what f30aee4 reads), only then
    train/metadata.csv             File,BPM,Key,Caption (UTF-8, no BOM)
    valid/...                      the held-out split, when there is one (same layout)
    README.md, MANIFEST.sha256

A bare `track-0001.txt` only ever holds lyrics: ACE-Step reads it as lyrics and marks the
track sung. The caption is in all three places because releases differ in what they read.
A sung track whose lyrics are unknown is left out (counted in the card): ACE-Step 1.5 has no
"sung, lyrics unknown"; preprocess.py (f30aee4 L117/L174, `sample.lyrics if sample.lyrics else
"[Instrumental]"`) would train its singing under the `[Instrumental]` lyric. ACE-Step keeps the
first 240 s of a file (preprocess.py L27-33 `max_duration: float = 240.0`, preprocess_audio.py
L4-21), and its metas give the whole file's duration: the export cuts longer tracks into parts.

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
    Report,
    checker,
    cut_seconds,
    json_file,
    splits_of,
    text,
)
from trainmode.export.formats.card import readme
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
KEEPS_S = 240.0  # preprocess.py L27-33: what ACE-Step 1.5 keeps of a file
MAX_SECONDS = KEEPS_S  # the export cuts longer tracks into parts (trainmode/export/parts.py)
SUNG_UNKNOWN = (
    "sung tracks whose lyrics are unknown, left out: ACE-Step 1.5 trains a track without lyrics under the "
    "`[Instrumental]` lyric (preprocess.py L117/L174); attach their lyrics (`save --lyrics-file`) to export them"
)


def leaves_out(row: Row) -> str | None:
    """Why `row` cannot be in this format's export (None: it can)."""
    return SUNG_UNKNOWN if row.facts.vocals and not row.lyrics else None


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
    if row.facts.genres:  # the dataset builder's `genre` label: the genres the caption states, as heard
        out["genre"] = ", ".join(row.facts.genres)
    if not row.lyrics:  # sung (a vocal track plays in the set) but its words unknown: not instrumental
        out["language"] = "unknown" if row.facts.vocals else "instrumental"
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
                yield text(f"{split}/{row.stem}.txt", row.lyrics.strip() + "\n")
        yield text(f"{split}/{CSV_NAME}", csv_text(split_rows))
    yield readme(TITLE, rows, build, TRAIN_NOTE)


TRAIN_NOTE = """## Train on it

Unzip inside the folder you start ACE-Step 1.5 from (newer releases refuse dataset paths
outside it). In the Gradio UI's LoRA Training tab, Dataset Builder: scan `train/` (not the
top folder: `valid/` would be scanned too), keep "all instrumental" ticked, check the
captions, save the dataset, preprocess it, then train.

Captions are in `metadata.csv` (read by every 1.5 release), each `.caption.txt` and each
`.json`. Lyrics, when the user attached them, are in `.lyrics.txt` and the same in `.txt`
(older 1.5 releases read only that); a `.txt` never holds a caption, since ACE-Step reads it as
lyrics. Sung tracks whose lyrics are unknown are left out (see "Left out" above). ACE-Step keeps
the first 240 s of each file: longer tracks are cut into parts of at most 240 s, each with its
own caption, so that what the captions and metas say is what the model hears.
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
        if view.exists(stem + ".txt") and not _same_lyrics(view, stem):
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
    if not view.exists(f"{stem}.lyrics.txt") and not data.get("language"):
        problems.append(
            f'{stem}.json: a track without lyrics needs a language: "instrumental", or "unknown" when it is sung.'
        )
    if data.get("keyscale") and data["keyscale"] not in KEYSCALES:
        problems.append(f"{stem}.json: keyscale {data['keyscale']!r} is not one ACE-Step knows.")
    if data.get("timesignature") and str(data["timesignature"]) not in TIME_SIGNATURES:
        problems.append(f"{stem}.json: timesignature {data['timesignature']!r} is not 2, 3, 4 or 6.")
    if data.get("bpm") and not (isinstance(data["bpm"], int) and 30 <= data["bpm"] <= 300):
        problems.append(f"{stem}.json: bpm {data['bpm']!r} is not a whole number from 30 to 300.")
    return problems


def _same_lyrics(view: DatasetView, stem: str) -> bool:
    """`<stem>.txt` holds the lyrics of `<stem>.lyrics.txt` (written for releases that read only `.txt`)."""
    lyrics = f"{stem}.lyrics.txt"
    return view.exists(lyrics) and view.read_text(lyrics).strip() == view.read_text(f"{stem}.txt").strip() != ""


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


def _sees(view: DatasetView, report: Report) -> None:
    """The seconds ACE-Step cuts past 240 s, and what it makes of the audio and the lyrics."""
    audio = [n for n in view.names if n.lower().endswith(AUDIO_EXTENSIONS)]
    stems = [posixpath.splitext(n)[0] for n in audio]
    sung = sum(view.exists(f"{s}.lyrics.txt") or view.exists(f"{s}.txt") for s in stems)
    cut_seconds(view, audio, KEEPS_S, "ACE-Step 1.5 (preprocess.py max_duration)", report)
    report.sees.append(
        f"{len(audio)} files, resampled to 48 kHz stereo; {sung} with lyrics (sung), {len(audio) - sung} trained "
        "under the `[Instrumental]` lyric; each metas' duration is the file's whole seconds."
    )


check, inspect = checker(_rules, _sees)
