"""`ace-step-v1`: ACE-Step v1 LoRA training (convert2hf_dataset.py, then trainer.py).

    train/track-0001.mp3          the audio
    train/track-0001_prompt.txt   its tags, joined with ", "
    train/track-0001_lyrics.txt   its lyrics; `[instrumental]` without lyrics and vocals
    valid/...                     the held-out split, when there is one (same layout)
    README.md, MANIFEST.sha256

Rules re-stated from ace-step/ACE-Step@d612523:
- convert2hf_dataset.py `create_dataset`: `data_dir.glob("*.mp3")` (flat, lower-case
  .mp3); both `NAME_prompt.txt` and `NAME_lyrics.txt` must exist or the track is silently
  skipped; `tags = prompt.split(", ")` (exactly comma + space).
- acestep/text2music_dataset.py `process`: the tags are shuffled and re-joined with ", ",
  then cut to 256 characters; so a sentence caption would be chopped and shuffled: the
  prompt file holds tags only (the caption's `tags` variant, else tags from the facts).
- `[instrumental]` is what the UI (acestep/ui/components.py) tells users to write for
  instrumental music.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from trainmode.export.formats.base import AudioMember, Build, DatasetView, Member, checker, readme, splits_of, text
from trainmode.export.rows import Row

NAME = "ace-step-v1"
TITLE = "ACE-Step v1"
INSTRUMENTAL = "[instrumental]"
PROMPT_LIMIT = 256


def prompt(row: Row) -> str:
    """Tags joined with ", "; a comma inside a tag would split it, so it becomes a space."""
    tags = [" ".join(t.replace(",", " ").split()) for t in row.tags]
    return ", ".join(t for t in tags if t) or "music"


def members(rows: list[Row], build: Build) -> Iterator[Member]:
    for split, split_rows in splits_of(rows):
        for row in split_rows:
            yield AudioMember(f"{split}/{row.stem}.mp3", row)
            yield text(f"{split}/{row.stem}_prompt.txt", prompt(row) + "\n")
            # A sung track (a vocal track plays in its set) whose words are unknown is not instrumental.
            words = row.lyrics or ("" if row.facts.vocals else INSTRUMENTAL)
            yield text(f"{split}/{row.stem}_lyrics.txt", words.strip() + "\n")
    yield readme(TITLE, rows, build, TRAIN_NOTE)


TRAIN_NOTE = """## Train on it

From an ACE-Step v1 checkout, turn `train/` into the Hugging Face dataset its trainer loads,
then train a LoRA on it:

```bash
python convert2hf_dataset.py --data_dir /path/to/unzipped/train --repeat_count 100 --output_name trainmode_lora
python trainer.py --dataset_path ./trainmode_lora --exp_name trainmode --lora_config_path config/zh_rap_lora_config.json
```

Each `track-NNNN_prompt.txt` holds comma-separated tags (ACE-Step v1 shuffles them), each
`track-NNNN_lyrics.txt` the lyrics or `[instrumental]`.
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


check = checker(_rules)
