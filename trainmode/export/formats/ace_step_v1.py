"""`ace-step-v1`: ACE-Step v1 LoRA training (convert2hf_dataset.py, then trainer.py).

    train/track-0001.mp3          the audio
    train/track-0001_prompt.txt   its tags, joined with ", "
    train/track-0001_lyrics.txt   its lyrics; `[inst]` for an instrumental; empty when sung, lyrics unknown
    valid/...                     the held-out split, when there is one (same layout)
    README.md, MANIFEST.sha256

Rules re-stated from ace-step/ACE-Step@d612523:
- convert2hf_dataset.py `create_dataset`: `data_dir.glob("*.mp3")` (flat, lower-case
  .mp3); both `NAME_prompt.txt` and `NAME_lyrics.txt` must exist or the track is silently
  skipped; `tags = prompt.split(", ")` (exactly comma + space).
- acestep/text2music_dataset.py `process`: the tags are shuffled and re-joined with ", ",
  then cut to 256 characters; so a sentence caption would be chopped and shuffled: the
  prompt file holds tags only (the caption's `tags` variant, else tags from the facts).
- acestep/models/lyrics_utils/vocab.json: the lyric tokenizer knows the structure tags below as
  single added tokens (`[inst]` is 6688); anything else in brackets, `[instrumental]` or
  `[Verse 1]` included, becomes [UNK] pieces (`[`, `]` are not in the vocabulary). Lines are
  lowercased first (lyric_tokenizer.py `multilingual_cleaners`), so `[Chorus]` is `[chorus]`.
  The shipped instrumental example writes `[inst]`
  (examples/default/input_params/output_20250426080407_0_input_params.json L3).
- text2music_dataset.py `tokenize_lyrics_map` L362-365: empty lyrics become the single token 0,
  what inference feeds for a song without lyrics (pipeline_ace_step.py L1516-1519): a sung track
  whose lyrics are unknown gets an empty lyrics file, not `[inst]`.
- text2music_dataset.py `process` L501-503: only the first 240 s of each file are trained on.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from trainmode.export.formats.base import (
    AudioMember,
    Build,
    DatasetView,
    Member,
    Report,
    checker,
    cut_seconds,
    splits_of,
    text,
)
from trainmode.export.formats.card import readme
from trainmode.export.rows import Row

NAME = "ace-step-v1"
TITLE = "ACE-Step v1"
INSTRUMENTAL = "[inst]"
PROMPT_LIMIT = 256
KEEPS_S = 240.0  # text2music_dataset.py L501-503: what v1 keeps of a file
MAX_SECONDS = KEEPS_S  # the export cuts longer tracks into parts (trainmode/export/parts.py)
# vocab.json's added tokens (ids 0-2, 259-6692), lowercased as the cleaners lowercase lyrics.
KNOWN_TAGS = frozenset(
    "[start] [intro] [verse] [chorus] [bridge] [outro] [end] [inst] [solo] [hook] [pre-chorus] [break] "
    "[stop] [unk] [space] [en] [de] [fr] [es] [it] [pt] [pl] [tr] [ru] [cs] [nl] [ar] [zh-cn] [ja] [hu] "
    "[ko] [hi]".split()
)
SYNONYMS = {"instrumental": "inst", "pre chorus": "pre-chorus", "prechorus": "pre-chorus", "interlude": "break"}
TAG = re.compile(r"\[[^\]\n]*\]")


def v1_tag(match: re.Match) -> str:
    """A lyric tag as a token ACE-Step v1 knows: `[Verse 2]` -> `[verse]`, `[Instrumental]` -> `[inst]`;
    a tag it cannot map is kept as written (the checker then names it)."""
    word = re.sub(r"[\s\d:.#-]+$", "", match.group(0)[1:-1].strip().lower()).strip()
    word = SYNONYMS.get(word, word)
    return f"[{word}]" if f"[{word}]" in KNOWN_TAGS else match.group(0)


def lyrics_text(row: Row) -> str:
    """The lyrics file: the user's lyrics with tags mapped to v1's tokens; `[inst]` for an
    instrumental; empty for a sung track whose lyrics are unknown (token 0, as at inference)."""
    if row.lyrics:
        return TAG.sub(v1_tag, row.lyrics.strip())
    return "" if row.facts.vocals else INSTRUMENTAL


def prompt(row: Row) -> str:
    """Tags joined with ", "; a comma inside a tag would split it, so it becomes a space."""
    tags = [" ".join(t.replace(",", " ").split()) for t in row.tags]
    return ", ".join(t for t in tags if t) or "music"


def members(rows: list[Row], build: Build) -> Iterator[Member]:
    for split, split_rows in splits_of(rows):
        for row in split_rows:
            yield AudioMember(f"{split}/{row.stem}.mp3", row)
            yield text(f"{split}/{row.stem}_prompt.txt", prompt(row) + "\n")
            yield text(f"{split}/{row.stem}_lyrics.txt", lyrics_text(row) + "\n")
    yield readme(TITLE, rows, build, TRAIN_NOTE)


TRAIN_NOTE = """## Train on it

From an ACE-Step v1 checkout, turn `train/` into the Hugging Face dataset its trainer loads,
then train a LoRA on it:

```bash
python convert2hf_dataset.py --data_dir /path/to/unzipped/train --repeat_count 100 --output_name trainmode_lora
python trainer.py --dataset_path ./trainmode_lora --exp_name trainmode --lora_config_path config/zh_rap_lora_config.json
```

Each `_prompt.txt` holds comma-separated tags (ACE-Step v1 shuffles them), each `_lyrics.txt`
the lyrics (tags such as `[Verse 2]` written as v1's own `[verse]` token), `[inst]` for an
instrumental (v1's token; `[instrumental]` is not one), or nothing for a sung track whose lyrics
are unknown (v1 then feeds token 0, as it does at inference without lyrics). ACE-Step v1 trains
on the first 240 s of a file: longer tracks are cut into parts of at most 240 s.
"""


# ---- the checker -------------------------------------------------------------------------
def _rules(view: DatasetView) -> list[str]:
    """What convert2hf_dataset.py and the v1 trainer need (see the module docstring)."""
    audio = [n for n in view.names if posixpath.splitext(n)[1].lower() in (".mp3", ".wav", ".flac", ".ogg")]
    if not audio:
        return ["No .mp3 file for convert2hf_dataset.py to find."]
    problems: list[str] = []
    for name in audio:
        stem, suffix = posixpath.splitext(name)
        if suffix != ".mp3":
            problems.append(f"{name}: convert2hf_dataset.py only finds lower-case .mp3 files.")
            continue
        for part in ("_prompt.txt", "_lyrics.txt"):
            if not view.exists(stem + part):
                problems.append(f"{stem}{part} is missing, so convert2hf_dataset.py skips {name}.")
        if view.exists(stem + "_prompt.txt"):
            problems += _prompt_problems(stem + "_prompt.txt", view.read_text(stem + "_prompt.txt").strip())
    folders = {posixpath.dirname(n) for n in audio}
    if any(posixpath.dirname(f) for f in folders):
        problems.append("Audio is nested more than one folder deep; convert2hf_dataset.py does not recurse.")
    return problems


def _prompt_problems(name: str, prompt_text: str) -> list[str]:
    tags = prompt_text.split(", ")
    problems = [f'{name} is empty: ACE-Step trains it as just "music".'] if not prompt_text else []
    if "\n" in prompt_text or any("," in t for t in tags):
        problems.append(f'{name} must be tags joined by ", " on one line (ACE-Step splits on exactly that).')
    if len(prompt_text) > PROMPT_LIMIT:
        problems.append(f"{name} is {len(prompt_text)} characters; ACE-Step cuts prompts at {PROMPT_LIMIT}.")
    return problems


def unknown_tags(lyrics: str) -> list[str]:
    """The bracketed tags of `lyrics` that v1's lyric tokenizer turns into [UNK] pieces."""
    return [t for t in TAG.findall(lyrics.lower()) if t not in KNOWN_TAGS]


def _sees(view: DatasetView, report: Report) -> None:
    """Lyric tags its tokenizer does not know (a problem when they are all the file says), the
    seconds it cuts past 240 s, and what it does with the audio."""
    lyric_files = [n for n in view.names if n.endswith("_lyrics.txt")]
    for name in lyric_files:
        lyrics = view.read_text(name).strip()
        unknown = unknown_tags(lyrics)
        if not unknown:
            continue
        counts = ", ".join(f"{t} (x{unknown.count(t)})" for t in dict.fromkeys(unknown))
        if not TAG.sub("", lyrics.lower()).strip():
            report.problems.append(
                f"{name} is only {counts}, which ACE-Step v1's lyric tokenizer does not know: it trains on "
                "[UNK] pieces (vocab.json; an instrumental is `[inst]`)."
            )
        else:
            report.warnings.append(f"{name}: tags ACE-Step v1's lyric tokenizer does not know: {counts}.")
    audio = [n for n in view.names if n.endswith(".mp3")]
    empty = sum(1 for n in lyric_files if not view.read_text(n).strip())
    cut_seconds(view, audio, KEEPS_S, "ACE-Step v1 (text2music_dataset.py L501-503)", report)
    report.sees.append(
        f"{len(audio)} files: resampled to 48 kHz stereo, the first {KEEPS_S:g} s of each trained on; "
        f"{empty} with empty lyrics (token 0: sung, lyrics unknown)."
    )


check, inspect = checker(_rules, _sees)
