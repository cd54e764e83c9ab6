"""Dataset rows: what every export format is made from, whatever its layout.

A `Row` is one audio file to train on with its caption, caption variants and facts: a ready
training item, or with `--clips` a section clip of one (trainmode/export/clip_rows.py), whose
`parent_id` names the item it was cut from. The formats in `trainmode/export/formats/` read
rows only, never items, summaries or the store.

Everything here is a pure function of the items, so the same items give the same
rows, and the same rows give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace

from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.audio.listen import TAG_FIELDS, item_tags, tag_fields
from trainmode.captions.text import artist_names
from trainmode.captions.writers.heard import as_tags, listen
from trainmode.captions.writers.offline import MAX_PROFILE
from trainmode.captions.writers.offline import _profile as writer_profile
from trainmode.errors import ValidationError
from trainmode.ops import text as clean_text
from trainmode.sets.facts import SetFacts
from trainmode.store.rows import caption_of

SPLITS = ("train", "valid")


@dataclass(frozen=True)
class Facts:
    """What the set (a clip's or part's: its sections) and its caption say about one row's audio."""

    bpm: float | None = None
    key: str | None = None  # "A minor", None when the set does not show it clearly
    time_signature: str | None = None  # "4/4"
    instruments: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()  # what the caption states of what was heard (stated_sound), in its words
    moods: tuple[str, ...] = ()
    vocals: bool | None = None  # sung: from the item's tags, else the set's facts; None when nobody knows


@dataclass(frozen=True)
class Listening:
    """What the music tagger heard in a row's audio, and whether its caption was written from it.

    `tags` are the stored Tags (Tags.to_dict()) of the row's own audio: the whole render's for a
    track, its section's for a clip, its sections' for a part (parts.py); None when not tagged.
    `captioned` is True when the caption was written with them, False when written from the set
    alone (or typed by hand), None when its writer does not record it (the OpenAI writer's
    provenance has no `heard`)."""

    tags: dict | None = None
    captioned: bool | None = False

    @property
    def caption_tags(self) -> dict | None:
        """The tags the caption may state genres and moods from: None when written without them."""
        return None if self.captioned is False else self.tags


@dataclass(frozen=True)
class ClipCut:
    """The part of a blob a clip row holds: cut at MP3 frames while the zip is written."""

    start_s: float
    end_s: float
    to_end: bool  # the last clip of its render: up to the file's last frame
    approx_bytes: int = 0  # its share of the render's bytes, for progress


@dataclass(frozen=True)
class AudioSource:
    """Where a row's audio comes from: a blob in the store, copied byte for byte (or the
    frames of `cut` in it, see trainmode/audio/frames.py)."""

    path: str  # blob path
    sha256: str | None  # of those bytes, measured when the item was saved (None for a clip)
    bytes: int | None
    suffix: str = ".mp3"
    cut: ClipCut | None = None
    frames: dict | None = field(default=None, compare=False, repr=False)  # the render's seek table (mp3seek.py)


@dataclass(frozen=True)
class Row:
    item_id: str
    audio: AudioSource
    stem: str  # "track-0001": every member of this row starts with it
    caption: str
    captions: dict[str, str]  # variants by name: detailed, short, tags (comma-separated)
    facts: Facts
    duration_s: float | None
    split: str  # one of SPLITS
    artist: str  # the artist as the dataset shows it (see artist_label)
    parent_id: str | None = None  # the item a clip was cut from; None for a whole item
    lyrics: str | None = None  # only when the user supplied lyrics (item metadata `lyrics`)
    source: dict = field(default_factory=dict)  # source_set, prompt_edited, provenance
    heard: dict = field(default_factory=dict)  # the render's measurements: AUDIO_FIELDS
    listening: Listening = field(default_factory=Listening)  # the tags of its audio, for the card and genres

    @property
    def tags(self) -> list[str]:
        """Short descriptors: the captions' `tags` variant when there is one, else the facts."""
        variant = self.captions.get("tags")
        if isinstance(variant, str) and variant.strip():
            return _unique(t for t in variant.split(","))
        return facts_tags(self.facts)


# ---- facts --------------------------------------------------------------------------
def cut_audio(row: Row, start_s: float, end_s: float, last: bool) -> AudioSource:
    """The row's audio cut to [start_s, end_s) of its render (a clip or a part): no checksum or
    size of its own until the zip is written, the render's bytes shared out for progress. Only
    the last cut of a render runs to its last frame, and a cut of a cut keeps its parent's end."""
    parent = row.audio.cut
    share = (parent.approx_bytes if parent else row.audio.bytes or 0) * (end_s - start_s) / (row.duration_s or 1)
    to_end = last and (parent.to_end if parent else True)
    return replace(row.audio, sha256=None, bytes=None, cut=ClipCut(start_s, end_s, to_end, int(share)))


def set_facts(summary: dict, master_schema: dict) -> dict:
    """bpm, key, time_signature, instruments and vocals of a set: the one place export facts come from.

    Instruments are what plays in the set's arrangement: its instrument families (drums, bass,
    synth ...), longest playing first, as trainmode.sets.facts ranks them. The artist profile's
    instruments are never added: an artist who often plays drums did not necessarily play them
    here. Devices and plug-ins are never instruments."""
    facts = SetFacts.from_summary(summary)
    return {**facts.caption_metadata(), "instruments": _unique(facts.instrument_labels), "vocals": facts.vocals}


def row_facts(item: dict, summary: dict, master_schema: dict) -> Facts:
    """bpm/key/meter come from the item (what the caption was written from), else from
    its set's summary (items captioned by hand); genres and moods are those its caption states."""
    facts = set_facts(summary, master_schema)
    written = item.get("metadata") or {}
    for name in ("bpm", "key", "time_signature"):
        if written.get(name) is not None:
            facts[name] = written[name]
    genres, moods = stated_sound(caption_of(item), item_listening(item).caption_tags, summary, master_schema)
    return Facts(
        bpm=_number(facts["bpm"]),
        key=facts["key"],
        time_signature=facts["time_signature"],
        instruments=tuple(facts["instruments"]),
        genres=genres,
        moods=moods,
        vocals=sung(item, facts["vocals"]),
    )


# Writers whose provenance does not say whether they were given the heard tags.
UNRECORDED_WRITERS = ("openai",)


def item_listening(item: dict) -> Listening:
    """The whole render's stored tags, and whether the item's caption was written with them: its
    provenance's `heard` says so (the offline writer records it, None when it had no tags); a caption
    typed by hand or by a writer that never listened was not; an OpenAI caption's is not recorded."""
    made, tags = item.get("provenance") or {}, item_tags(item)
    if "heard" in made:
        captioned: bool | None = made["heard"] is not None
    else:  # a render never tagged could not have been described from its tags
        captioned = None if made.get("writer") in UNRECORDED_WRITERS and tags is not None else False
    return Listening(tags, captioned)


def stated_sound(
    caption: str, tags: dict | None, summary: dict, master_schema: dict
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(genres, moods) that `caption` states of its audio: those the writers may state for these
    tags, this set and this profile (heard.py `listen`, with the offline writer's profile words, so
    its rules apply: heard and supported, in the artist's words), kept only where the caption says
    them (a hand edit may have taken one out). No tags: only the profile's one genre, if any."""
    facts = SetFacts.from_summary(summary)
    schema = master_schema or {}
    artists = artist_names(schema)
    profile = {f: writer_profile(schema, f, MAX_PROFILE, artists) for f in ("genres", "moods")}
    sound = listen(as_tags(tags), list(facts.instruments), profile, facts.bpm)
    said = _words(caption)
    return tuple(g for g in sound.genres if _words(g) in said), tuple(m for m in sound.moods if _words(m) in said)


def _words(text: str) -> str:
    """Lower-case words between spaces, so that a phrase is found whole ("hip-hop" in "Hip hop beats")."""
    return " " + " ".join(re.findall(r"[a-z0-9&]+", text.casefold())) + " "


def sung(item: dict, set_vocals: bool | None) -> bool | None:
    """Whether the item's audio is sung: lyrics say yes; then the item's own `vocals` (the user's),
    then what the tagger heard in the render (a voice or none; unsure says nothing), then the set's
    facts (`SetFacts.vocals`: a vocal track plays in the arrangement); None when nothing says."""
    if lyrics_of(item):
        return True
    own = (item.get("metadata") or {}).get("vocals")
    if isinstance(own, bool):
        return own
    heard = tag_fields(item_tags(item))["vocals_heard"]
    return heard if isinstance(heard, bool) else set_vocals


def lyrics_of(item: dict) -> str | None:
    """The lyrics the user attached to the item (metadata `lyrics`), or None."""
    lyrics = (item.get("metadata") or {}).get("lyrics")
    return lyrics.strip() if isinstance(lyrics, str) and lyrics.strip() else None


def facts_tags(facts: Facts) -> list[str]:
    """Tags derived from the facts: genres, moods, instruments, tempo and key."""
    tempo = [f"{facts.bpm:g} bpm"] if facts.bpm else []
    key = [facts.key] if facts.key else []
    return _unique([*facts.genres, *facts.moods, *facts.instruments, *tempo, *key])


# ---- rows ---------------------------------------------------------------------------
def member_stem(index: int) -> str:
    return f"track-{index:04d}"


def artist_label(artist: dict, *, real_name: bool = False) -> str:
    """The artist as a dataset shows it: an opaque id (the same for every export of the
    artist, unrelated to the name) unless the user opts in to the real name."""
    if real_name:
        return one_line(artist["name"])
    return "artist-" + hashlib.sha256(f"trainmode-artist:{artist['id']}".encode()).hexdigest()[:12]


def split_of(item_id: str, ratio: float | None) -> str:
    """`train` or `valid`, from a hash of the item id: the same item always on the same side."""
    if ratio is None:
        return "train"
    return "train" if split_point(item_id) < ratio else "valid"


def split_point(item_id: str) -> float:
    """Where an item falls in [0, 1): items below the ratio train."""
    return int(hashlib.sha256(f"trainmode-split:{item_id}".encode()).hexdigest()[:13], 16) / 16**13


def check_ratio(ratio: float | None) -> None:
    if ratio is not None and not 0 < ratio <= 1:
        raise ValidationError(
            f"The split ratio must be above 0 and at most 1 (the share of items to train on), not {ratio:g}."
        )


def rows_for(
    items: list[dict], summaries: dict[str, dict], master_schema: dict, *, artist: str, ratio: float | None = None
) -> list[Row]:
    """One row per item, in item order. `summaries` maps summary id -> summary."""
    check_ratio(ratio)
    rows = [
        row_for(
            index,
            item,
            summaries.get(item.get("als_summary_id"), {}),
            master_schema,
            artist=artist,
            split=split_of(item["id"], ratio),
        )
        for index, item in enumerate(items, 1)
    ]
    if rows and not any(r.split == "train" for r in rows):
        raise ValidationError(
            f"With a split of {ratio:g}, none of the {len(rows)} items falls on the training side. "
            "Use a larger split ratio or export more items."
        )
    return rows


def row_for(index: int, item: dict, summary: dict, master_schema: dict, *, artist: str, split: str = "train") -> Row:
    captions = (item.get("metadata") or {}).get("captions")
    captions = captions if isinstance(captions, dict) else {}
    return Row(
        item_id=item["id"],
        audio=AudioSource(
            item["audio_path"],
            item.get("audio_sha256"),
            item.get("audio_bytes"),
            frames=(item.get("metadata") or {}).get("frames"),
        ),
        stem=member_stem(index),
        caption=one_line(caption_of(item)),
        captions={k: one_line(v) for k, v in captions.items() if isinstance(v, str) and one_line(v)},
        facts=row_facts(item, summary, master_schema),
        duration_s=_number(item.get("audio_duration_s")),
        split=split,
        artist=artist,
        lyrics=lyrics_of(item),
        source={
            "source_set": item.get("parse_id"),
            "prompt_edited": bool(item.get("prompt_edited")),
            "provenance": item.get("provenance") or {},
        },
        heard=heard(item),
        listening=item_listening(item),
    )


# What the render was measured to be (trainmode.audio.analysis), flat: the same keys on every row,
# null for items saved before they were listened to (audiofolder wants one type per column).
AUDIO_FIELDS = (
    "audio_bpm",
    "audio_bpm_confidence",
    "audio_key",
    "audio_key_strength",
    "loudness_lufs",
    "loudness_range_lu",
    "peak_dbfs",
    "silence_start_s",
    "silence_end_s",
    "clipped_ratio",
    "audio_mono",
    "audio_analyzer",
    "audio_verdict",
    "confirmed_despite_doubt",
    *TAG_FIELDS,  # what the tagger heard (trainmode/audio/listen.py); a clip's: its section's
)


def heard(item: dict) -> dict:
    """The item's `metadata.audio` as export fields, with the verdict against its set."""
    audio = (item.get("metadata") or {}).get("audio")
    if not isinstance(audio, dict):
        return dict.fromkeys(AUDIO_FIELDS)
    doubted = audio.get("verdict") not in (None, "matches")
    return {
        **AudioAnalysis.from_dict(audio).export_fields(),
        "audio_verdict": audio.get("verdict"),
        "confirmed_despite_doubt": bool(doubted and audio.get("confirmed")),
        **tag_fields(item_tags(item)),
    }


# ---- small helpers the formats share --------------------------------------------------
def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def one_line(text: str) -> str:
    """One clean line: no line breaks or control characters (trainmode/ops/text.py)."""
    return clean_text.one_line(text)


def _number(value) -> float | None:
    """bpm/duration are always floats (or null) so every line of a table has one type."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _unique(values) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        value = one_line(value)
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out
