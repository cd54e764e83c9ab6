"""The dataset card every format carries (issue 26): what is in the zip, under which rights, how it
was made, what was left out and why, and what a trainer should know before training on it.

`readme(...)` is the README.md of a trainer's layout (its "train on it" note after the shared
sections); the `hf` format puts the same sections into its Hugging Face dataset card.
"""

from __future__ import annotations

from collections import Counter

from trainmode import __version__
from trainmode.export.formats.base import Build, TextMember, splits_of, text
from trainmode.export.rows import Row


def limitations(rows: list[Row]) -> list[str]:
    """What a trainer should know, written from what this export holds: how its captions were
    made (from what was heard, or from the set alone), where bpm and key come from, vocals."""
    word = noun(rows)
    heard = sum(r.listening.captioned is not False for r in rows)
    alone = len(rows) - heard
    measured = any(r.heard.get("audio_verdict") for r in rows)
    lines = []
    if heard:
        lines.append(
            "Genres and moods in the captions are only what the music tagger heard confidently in the render (a "
            "clip's or part's: in its sections), in the artist profile's words where one matches; the instruments "
            "are the Live set's (named as heard where the tagger hears them, left out where it clearly does not), "
            "and tempo, key and structure are the set's, so an instrument played outside the set (a bounce, a live "
            "take re-amped elsewhere) is not named."
        )
    if alone:
        verb = "has" if alone == 1 else "have"
        lines.append(
            f"{alone} of the {len(rows)} {word} {verb} captions not written from what was heard (from the Live set "
            "alone, or typed by hand): their genres and moods were not taken from the render, and a sound made "
            "outside the set is not described."
        )
    lines.append(
        "`bpm`, `key` and the meter are the set's (a clip's or part's: those of its sections), `key` empty where "
        "their notes show no clear key; the key heard in the render is never used. "
        + (
            "The renders were measured (tempo, key, loudness) and checked against their sets, and items whose "
            "audio did not clearly match are counted above."
            if measured
            else "The renders were not measured against their sets."
        )
    )
    lines.append(
        "Vocals and lyrics: a track counts as sung only when its set or its tags say so; lyrics are "
        "exactly what the user attached, never transcribed."
    )
    if any(r.heard.get("tags_genre") is not None for r in rows):
        lines.append(
            "The `tags_genre`, `tags_mood` and `tags_instrument` fields (where the format has them) are the music "
            'tagger\'s own words, not checked against the set: they may name what the set does not play ("synth" '
            'heard in a guitar render, "techno" over no drums). The captions and the genre, mood and instrument '
            "fields are checked; train on those."
        )
    return lines


def noun(rows: list[Row], count: int | None = None) -> str:
    """'clips' when the rows are clips of renders, 'files' when long tracks were cut into parts,
    else 'tracks' (singular for one)."""
    return stems_noun([r.stem for r in rows], count)


def stems_noun(stems: list[str], count: int | None = None) -> str:
    """The one word for rows named `stems` (the card's, the Export page's): 'clips' when any is a
    clip of a render, 'files' when long tracks were cut into parts, else 'tracks' (singular for one)."""
    word = "clip" if any(s.startswith("clip-") for s in stems) else "track"
    word = "file" if word == "track" and any("-part-" in s for s in stems) else word
    return word if count == 1 else word + "s"


def stem_pattern(rows: list[Row]) -> str:
    """How the files are named: `clip-NNNN-NN` (render, clip), `track-NNNN-part-N` or `track-NNNN`."""
    base = "clip-NNNN-NN" if any(r.stem.startswith("clip-") for r in rows) else "track-NNNN"
    return base + "[-part-N]" if any("-part-" in r.stem for r in rows) else base


def duration_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def readme(title: str, rows: list[Row], build: Build, body: str, name: str = "README.md") -> TextMember:
    """README.md for a trainer's layout: what is in it, the card's sections, then how to train on it."""
    total = sum(r.duration_s or 0 for r in rows)
    counts = ", ".join(f"{len(split_rows)} in `{split}/`" for split, split_rows in splits_of(rows))
    clips = build.clips + "\n\n" if build.clips else ""
    return text(
        name,
        f"""# {build.artist} — Train Mode dataset for {title}

{len(rows)} {noun(rows, len(rows))} ({counts}), {total:.0f} s of audio, each with a caption for
text-to-music training, made with Train Mode from the artist's Ableton Live sets. Files are named
`{stem_pattern(rows)}`. `MANIFEST.sha256` holds the SHA-256 of every other file: check them with
`sha256sum -c MANIFEST.sha256`.

{clips}{sections(rows, build)}
{body.strip()}
""",
    )


def sections(rows: list[Row], build: Build) -> str:
    """The card's shared sections: rights, provenance, contents per split, left out, limitations."""
    limits = [*build.notes, *limitations(rows)]
    return f"""## Rights

Licence: {build.license}. The audio, the Live sets it was rendered from and the captions come
from the artist; train on this dataset only within those rights (Train Mode's setting
`TRAINMODE_LICENSE` wrote this line).

## Provenance

{provenance(rows)}

## Contents

| split | {noun(rows)} | seconds | duration |
|---|---|---|---|
{split_table(rows)}

{verdicts(rows)} {vocals(rows)}

## Left out

{left_out(build)}

## Known limitations

{chr(10).join(f"- {line}" for line in limits)}
"""


def provenance(rows: list[Row]) -> str:
    """Who wrote the captions (writer and model, how many each), hand edits, and what was heard."""
    writers: Counter = Counter()
    for row in rows:
        made = row.source.get("provenance") or {}
        writer = made.get("writer") or "manual"
        model = made.get("model")
        version = made.get("version")
        writers[f"{writer}" + (f" ({model}" + (f", prompt {version}" if version else "") + ")" if model else "")] += 1
    edited = sum(bool(row.source.get("prompt_edited")) for row in rows)
    written = ", ".join(f"{n} by {who}" for who, n in sorted(writers.items(), key=lambda kv: (-kv[1], kv[0])))
    return (
        f"Made with Train Mode {__version__} from the artist's Ableton Live sets and the MP3s rendered "
        f"from them. Captions: {written or 'none'}{' (`manual`: typed by hand)' if writers['manual'] else ''}; "
        f"{edited} edited by hand after "
        f"they were written. {listened(rows)} Audio is copied byte for byte from the saved renders "
        "(clips and parts are cut at MPEG frame boundaries, never re-encoded)."
    )


def tagger(tags: dict) -> str:
    return " ".join(str(tags[k]) for k in ("model", "version") if tags.get(k)) or "a music tagger"


def listened(rows: list[Row]) -> str:
    """Which tagger heard the audio, and how many captions were written with what it heard (a
    clip's or part's: its sections'), from the set alone, or by a writer that does not record it."""
    word = noun(rows)
    heard = Counter(tagger(r.listening.tags) for r in rows if r.listening.tags is not None)
    if not heard:
        return f"Listening: no music tagger heard any of the {len(rows)} {word}; captions come from the Live sets."
    by = next(iter(heard)) if len(heard) == 1 else ", ".join(f"{who} ({n})" for who, n in sorted(heard.items()))
    counts = Counter(r.listening.captioned for r in rows)
    said = {
        True: "written with what it heard (genre, mood, instruments, vocals)",
        False: "written from the Live set alone or typed by hand",
        None: "by a writer that does not record whether it was given what was heard (openai)",
    }
    captions = ", ".join(f"{counts[k]} {text}" for k, text in said.items() if counts[k])
    where = " (a clip or part: in its sections)" if any(r.parent_id for r in rows) else ""
    return (
        f"Listening: the music tagger{'s' if len(heard) > 1 else ''} {by} heard {sum(heard.values())} of the "
        f"{len(rows)} {word}{where}; of the {len(rows)} captions: {captions}."
    )


def split_table(rows: list[Row]) -> str:
    lines = []
    for split, split_rows in splits_of(rows):
        seconds = sum(r.duration_s or 0 for r in split_rows)
        lines.append(f"| `{split}` | {len(split_rows)} | {seconds:.1f} | {duration_text(seconds)} |")
    return "\n".join(lines)


VERDICTS = ("matches", "doubtful", "mismatch", "not measured")


def verdicts(rows: list[Row]) -> str:
    """How the renders compared with their sets (a clip's verdict is its render's)."""
    counts = Counter(r.heard.get("audio_verdict") or "not measured" for r in rows)
    confirmed = sum(bool(r.heard.get("confirmed_despite_doubt")) for r in rows)
    order = sorted(counts, key=lambda k: (VERDICTS.index(k) if k in VERDICTS else len(VERDICTS), k))
    listed = ", ".join(f"{counts[k]} {k}" for k in order)
    return (
        f"Audio against its set: {listed or 'nothing'}; {confirmed} saved over a mismatch (someone confirmed "
        "it; a doubtful render is saved without a question)."
    )


def vocals(rows: list[Row]) -> str:
    sung = sum(bool(r.lyrics) for r in rows)
    unknown = sum(bool(r.facts.vocals) and not r.lyrics for r in rows)
    return (
        f"Vocals: {sung} with lyrics, {unknown} sung with lyrics unknown, "
        f"{len(rows) - sung - unknown} instrumental (or not known to be sung)."
    )


def left_out(build: Build) -> str:
    if not build.left_out:
        return "Nothing: every ready item is in the dataset."
    return "\n".join(f"- {n}: {reason}" for reason, n in build.left_out.items())
