"""`ai-toolkit`: ACE-Step 1.5 LoRA training with ostris/ai-toolkit (issue 31).

    train/track-0001.mp3        the audio
    train/track-0001.txt        its caption file: a tagged document (<CAPTION>, <LYRICS>, <BPM>,
                                <KEYSCALE>, <TIMESIGNATURE>, <DURATION>, <LANGUAGE>)
    valid/...                   the held-out split, when there is one (the job config leaves it out)
    ai_toolkit_ace_step_15.yaml a ready-to-edit job config whose dataset is train/
    README.md, MANIFEST.sha256

Rules re-stated from ostris/ai-toolkit@27a03a9:
- extensions_built_in/audio_models/ace_step/ace_step_15_model.py L33-65 `parse_ace_step_caption`:
  each tag is `re.search(rf"<{name}>(.*?)</{name}>", text, re.DOTALL)`, stripped, "" when absent;
  BPM and DURATION go through `to_number` (float; "" -> 120 and 1.0; anything else that is not a
  number raises ValueError). Nothing checks the values; ACE-Step's own sets are re-stated from
  ace-step/ACE-Step-1.5 `acestep/constants.py` (upstream b4a045b): keyscales `<A-G>[#|b|♯|♭]
  major|minor`, time signatures 2, 3, 4, 6, BPM 30-300, VALID_LANGUAGES.
- ace_step_15_model.py L195-203 reads `caption`, `lyrics`, `bpm`, `duration`, `language` from the
  parsed dict, but `key` and `time_sig` (not `keyscale`, `timesignature`): at this commit every
  prompt says keyscale C and time signature 4/4 whatever the file says (an upstream bug). L210:
  the duration sizes the source latent, so it must be the file's.
- src/pipeline.py L46-62: the metas line is `- duration: {int(duration)} seconds`; the lyric text
  is `# Languages\n{language}\n\n# Lyric\n{lyrics}`.
- toolkit/data_loader.py L41 (audio extensions .mp3 .wav .flac .aac .ogg .m4a), L428-441 (a folder
  is walked recursively, hidden files skipped); toolkit/dataloader_mixins.py L343-368 (the caption is
  `<stem>` + `caption_ext`, "txt" by default), L382-459 `get_caption` (split on "," and re-joined with
  ", "; `caption_dropout_rate` blanks the whole file), L461-480 (audio: torchaudio, stereo, resampled
  to 48 kHz, never cut or padded).
- The job config is assembled from the UI's defaults (ui/src/app/jobs/new/jobConfig.ts L6-23 and
  L38-125, options.tsx L1313-1330, ui/src/helpers/defaultSamples.ts L53-143): ai-toolkit ships no
  ACE-Step example config.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import replace

import yaml

from trainmode.export.formats.ace_step import KEYSCALES, TIME_SIGNATURES, bpm, keyscale, timesignature
from trainmode.export.formats.base import (
    AudioMember,
    Build,
    DatasetView,
    Member,
    Report,
    checker,
    slug,
    splits_of,
    text,
)
from trainmode.export.formats.card import readme
from trainmode.export.rows import Row

NAME = "ai-toolkit"
TITLE = "ACE-Step 1.5 (ostris/ai-toolkit)"
AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".aac", ".ogg", ".m4a")
TAGS = ("CAPTION", "LYRICS", "BPM", "KEYSCALE", "TIMESIGNATURE", "DURATION", "LANGUAGE")
JOB = "ai_toolkit_ace_step_15.yaml"
INSTRUMENTAL = "[Instrumental]"  # ACE-Step 1.5's own lyric for an instrumental (acestep/inference.py L45)
LANGUAGES = frozenset(
    "ar az bg bn ca cs da de el en es fa fi fr he hi hr ht hu id is it ja ko la lt ms ne nl no pa pl pt ro ru "
    "sa sk sr sv sw ta te th tl tr uk ur vi yue zh unknown".split()
)  # acestep/constants.py L13-20 VALID_LANGUAGES
SAMPLE_RATE = 48000  # BaseAudioModel.sample_rate; the loader resamples every file to it


# ---- the caption file ----------------------------------------------------------------------
def song_bpm(row: Row) -> int | None:
    """The set's tempo, else the tempo heard in the render (a whole number in ACE-Step's 30-300)."""
    heard = row.heard.get("audio_bpm")
    if bpm(row) is None and isinstance(heard, (int, float)) and 30 <= heard <= 300:
        return round(heard)
    return bpm(row)


def song_key(row: Row) -> str:
    """The set's key (a clip's or part's: its sections'), as every format writes it; empty when the
    set shows none. Never the key heard in the render: nothing checks it against the set when the set
    has none (a related key is often heard instead), an empty KEYSCALE parses, and the model reads C
    at 27a03a9 anyway."""
    return keyscale(row) or ""


def heard_tempo_note(rows: list[Row]) -> list[str]:
    """The card's line on the files whose <BPM> is the tempo heard in the render (their set has none)."""
    heard = sum(bpm(r) is None and song_bpm(r) is not None for r in rows)
    if not heard:
        return []
    return [
        f"{heard} of the {len(rows)} files {'has' if heard == 1 else 'have'} no tempo in their set: their `<BPM>` is "
        "the tempo heard in the render (rounded), since ai-toolkit reads an empty BPM as 120."
    ]


def lyrics_and_language(row: Row) -> tuple[str, str]:
    """(LYRICS, LANGUAGE): the user's lyrics (language unknown unless the item says); `[Instrumental]`
    and `unknown` for an instrumental, as ACE-Step 1.5 writes them; for a sung track whose lyrics are
    unknown an empty LYRICS, so the lyric encoder reads no lyric rather than `[Instrumental]`."""
    if row.lyrics:
        return row.lyrics.strip(), "unknown"
    return ("", "unknown") if row.facts.vocals else (INSTRUMENTAL, "unknown")


def caption_file(row: Row) -> str:
    """The tagged document, laid out as ai-toolkit's own captioner writes it
    (extensions_built_in/captioner/AceStepCaptioner.py L259-265)."""
    lyrics, language = lyrics_and_language(row)
    tempo = song_bpm(row)
    return (
        f"<CAPTION>\n{row.caption.strip()}\n</CAPTION>\n"
        f"<LYRICS>\n{lyrics}\n</LYRICS>\n"
        f"<BPM>{tempo if tempo is not None else ''}</BPM>\n"
        f"<KEYSCALE>{song_key(row)}</KEYSCALE>\n"
        f"<TIMESIGNATURE>{timesignature(row) or ''}</TIMESIGNATURE>\n"
        f"<DURATION>{whole_seconds(row.duration_s) if row.duration_s else ''}</DURATION>\n"
        f"<LANGUAGE>{language}</LANGUAGE>\n"
    )


def whole_seconds(duration_s: float) -> int:
    """A file's length in whole seconds as ACE-Step 1.5 counts it (`int`, audio_io.py `get_audio_duration`;
    the model too reads `int(duration)`, src/pipeline.py L46-62), allowing for the 26 ms of a frame cut."""
    return int(duration_s + 0.05)


def _tag(document: str, name: str) -> str:
    match = re.search(rf"<{name}>(.*?)</{name}>", document, re.DOTALL)
    return match.group(1).strip() if match else ""


def parse_caption(document: str) -> dict:
    """ace_step_15_model.py `parse_ace_step_caption` (L33-65), re-stated: the same regex, strip and
    defaults; a BPM or DURATION that is not a number raises ValueError as `to_number` does."""

    def tag(name: str) -> str:
        return _tag(document, name)

    def to_number(value: str, default: float) -> float:
        if value == "":
            return default
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"Could not convert {value} to a number") from None

    return {
        "caption": tag("CAPTION"),
        "lyrics": tag("LYRICS"),
        "bpm": to_number(tag("BPM"), 120),
        "keyscale": tag("KEYSCALE"),
        "timesignature": tag("TIMESIGNATURE"),
        "duration": to_number(tag("DURATION"), 1.0),
        "language": tag("LANGUAGE"),
    }


# ---- the members ----------------------------------------------------------------------------
def members(rows: list[Row], build: Build) -> Iterator[Member]:
    groups = splits_of(rows)
    for split, split_rows in groups:
        for row in split_rows:
            yield AudioMember(f"{split}/{row.stem}{row.audio.suffix}", row)
            yield text(f"{split}/{row.stem}.txt", caption_file(row))
    first = groups[0][1][0]
    yield text(JOB, job_config(build.artist, first))
    yield readme(TITLE, rows, replace(build, notes=[*build.notes, *heard_tempo_note(rows)]), TRAIN_NOTE)


# The UI's defaults for an ACE-Step 1.5 job (jobConfig.ts L70-116 with options.tsx L1313-1330's overrides).
TRAIN = {
    "batch_size": 1,
    "steps": 3000,
    "gradient_accumulation": 1,
    "train_unet": True,
    "train_text_encoder": False,
    "gradient_checkpointing": True,
    "noise_scheduler": "flowmatch",
    "timestep_type": "linear",
    "optimizer": "adamw8bit",
    "lr": 0.0001,
    "dtype": "bf16",
    "unload_text_encoder": False,
}
MODEL = {
    "name_or_path": "ostris/ace_step_1.5_ComfyUI_files/ace_step_1.5_base_aio.safetensors",
    "arch": "ace_step_15",
    "quantize": True,
    "qtype": "qfloat8",
    "quantize_te": True,
    "qtype_te": "qfloat8",
    "low_vram": True,
}


def job_config(artist: str, sample: Row) -> str:
    """The job YAML: the UI's defaults for ACE-Step 1.5, the dataset being train/, one sample prompt
    made from the first training file's caption file."""
    name = f"trainmode_{slug(artist)}_ace_step_15"
    process = {
        "type": "diffusion_trainer",
        "training_folder": "output",
        "device": "cuda",
        "trigger_word": None,
        "network": {"type": "lora", "linear": 32, "linear_alpha": 32},
        "save": {"dtype": "bf16", "save_every": 250, "max_step_saves_to_keep": 4},
        "datasets": [
            {
                "folder_path": "/path/to/unzipped/train",
                "caption_ext": "txt",
                "caption_dropout_rate": 0.0,
                "shuffle_tokens": False,
                "token_dropout_rate": 0.0,
                "num_repeats": 1,
            }
        ],
        "train": dict(TRAIN),
        "model": dict(MODEL),
        "sample": {
            "sampler": "flowmatch",
            "sample_every": 250,
            "samples": [{"prompt": caption_file(sample)}],
            "seed": 42,
            "walk_seed": True,
            "guidance_scale": 4,
            "sample_steps": 30,
        },
    }
    body = yaml.dump(
        {"job": "extension", "config": {"name": name, "process": [process]}, "meta": {"name": name, "version": "1.0"}},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return JOB_HEADER + body


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the sample prompt) as `|` blocks, as a person would write them."""


_Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None),
)


JOB_HEADER = """\
# ai-toolkit job for ACE-Step 1.5, written by Train Mode. Assembled from ai-toolkit's UI defaults
# for ACE-Step 1.5 (ostris/ai-toolkit@27a03a9 ui/src/app/jobs/new/options.tsx L1313-1330,
# jobConfig.ts L6-23 and L38-125): ai-toolkit ships no ACE-Step example config, so this is not one.
# Edit folder_path to the absolute path of this dataset's train/ folder, then:
#     python run.py /path/to/this/ai_toolkit_ace_step_15.yaml
# Differences from the UI's defaults, on purpose: caption_dropout_rate 0 (ai-toolkit's dropout
# blanks the whole tagged caption file, so the model would read BPM 120 and a 1 s duration for a
# whole song), shuffle_tokens and token_dropout_rate off (they split the file on commas).
"""

TRAIN_NOTE = f"""## Train on it

Point ai-toolkit at `train/` (not the top folder: it walks folders recursively, and `valid/`
would be trained on too). `{JOB}` is a ready-to-edit job config: set `folder_path` to the
absolute path of `train/`, then run `python run.py {JOB}` from an ai-toolkit checkout, or paste
its values into the UI's ACE-Step 1.5 job.

Each audio file has a caption file of the same name (`.txt`) holding a tagged document, which
ai-toolkit's ACE-Step 1.5 model parses (`parse_ace_step_caption`): `<CAPTION>` the caption,
`<LYRICS>` the lyrics (`[Instrumental]` for an instrumental, empty for a sung track whose lyrics
are unknown), `<BPM>` the tempo, `<KEYSCALE>`, `<TIMESIGNATURE>` (the numerator), `<DURATION>`
the whole seconds of that file, `<LANGUAGE>`. ai-toolkit resamples every file to 48 kHz stereo
and encodes it whole (no cut, no padding).

At ai-toolkit 27a03a9 the model reads the key and the time signature under other names than the
parser gives them, so every prompt says keyscale C and time signature 4/4 whatever the file says;
the files hold the right values for when that is fixed. Keep `caption_dropout_rate` at 0 and
`shuffle_tokens` off (see the comments in the job config).
"""


# ---- the checker ----------------------------------------------------------------------------
def _rules(view: DatasetView) -> list[str]:
    """Every audio file's caption file, read with parse_ace_step_caption's rules (module docstring)."""
    audio = [
        n
        for n in view.names
        if n.lower().endswith(AUDIO_EXTENSIONS) and not any(p.startswith(".") for p in n.split("/"))
    ]
    if not audio:
        return ["No audio file ai-toolkit would load (.mp3 .wav .flac .aac .ogg .m4a)."]
    problems: list[str] = []
    for name in audio:
        caption = posixpath.splitext(name)[0] + ".txt"
        if not view.exists(caption):
            problems.append(f"{caption} is missing: ai-toolkit trains {name} with an empty caption (BPM 120, 1 s).")
            continue
        problems += caption_problems(caption, view.read_text(caption), view.sound(name))
    return problems


def caption_problems(name: str, document: str, sound) -> list[str]:
    """What parse_ace_step_caption and the model would make of one caption file."""
    missing = [t for t in TAGS if not re.search(rf"<{t}>(.*?)</{t}>", document, re.DOTALL)]
    if missing:
        return [f"{name} lacks <{'>, <'.join(missing)}>: the parser reads them as empty (BPM 120, duration 1 s)."]
    try:
        parsed = parse_caption(document)
    except ValueError as exc:
        return [f"{name}: {exc}; parse_ace_step_caption raises and the file cannot be trained on."]
    problems = []
    if not parsed["caption"]:
        problems.append(f"{name}: <CAPTION> is empty.")
    if not _tag(document, "BPM"):
        problems.append(f"{name}: <BPM> is empty, so ai-toolkit uses 120.")
    elif not 30 <= parsed["bpm"] <= 300:
        problems.append(f"{name}: BPM {parsed['bpm']:g} is outside ACE-Step's 30-300.")
    if parsed["keyscale"] and parsed["keyscale"] not in KEYSCALES:
        problems.append(f"{name}: KEYSCALE {parsed['keyscale']!r} is not one of ACE-Step's keyscales.")
    if parsed["timesignature"] and parsed["timesignature"] not in TIME_SIGNATURES:
        problems.append(f"{name}: TIMESIGNATURE {parsed['timesignature']!r} is not 2, 3, 4 or 6.")
    if parsed["language"] not in LANGUAGES:
        problems.append(f"{name}: LANGUAGE {parsed['language']!r} is not one ACE-Step knows.")
    if not _tag(document, "DURATION"):
        problems.append(f"{name}: <DURATION> is empty, so ai-toolkit uses 1 s for the whole file.")
    elif sound is not None and abs(parsed["duration"] - sound.duration_s) >= 1.1:
        problems.append(
            f"{name}: DURATION {parsed['duration']:g} s, but its audio is {sound.duration_s:.1f} s "
            "(the duration sizes the model's latent)."
        )
    return problems


def _sees(view: DatasetView, report: Report) -> None:
    """What ai-toolkit does with the audio and the caption files."""
    audio = [n for n in view.names if n.lower().endswith(AUDIO_EXTENSIONS)]
    sounds = [s for n in audio if (s := view.sound(n))]
    commas = sum(view.read_text(n).count(",") for n in view.names if n.endswith(".txt") and view.exists(n))
    folders = sorted({n.split("/")[0] for n in audio if "/" in n})
    longest = max((s.duration_s for s in sounds), default=0.0)
    report.sees.append(
        f"{len(audio)} files in {', '.join(f'{f}/' for f in folders) or 'the top folder'}: resampled to "
        f"{SAMPLE_RATE} Hz stereo and encoded whole, no cut (the longest is {longest:.1f} s); "
        "point folder_path at train/ only."
    )
    report.sees.append(
        "Key and time signature: parsed, but at 27a03a9 the model reads them as `key`/`time_sig`, so every "
        "prompt says keyscale C, 4/4 (ace_step_15_model.py L199-200)."
    )
    if commas:
        report.sees.append(
            f"get_caption splits each caption file on commas and re-joins them with ', ': the {commas} commas "
            "reach the model followed by two spaces; with shuffle_tokens or token_dropout_rate the tags break."
        )


check, inspect = checker(_rules, _sees)
