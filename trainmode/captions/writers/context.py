"""Facts shared by every writer: caption metadata, stable fingerprints, the
context message a model reads, and caption clean-up."""

from __future__ import annotations

import hashlib
import json
import re

from trainmode.captions.factcheck import MAX_CHARS
from trainmode.captions.text import FILE_EXTENSIONS, artist_names, distinctive_stem, fits_tempo, strip_markdown
from trainmode.captions.writers.heard import Sound, as_tags, listen, provenance
from trainmode.sets.facts import (
    EVIDENCE,
    FAMILY_LABELS,
    SetFacts,
    audible_tracks,
    beats_per_bar,
    families_in,
    playing_track_names,
)

MAX_TRACK_LINES = 60
MAX_LOCATORS = 16
MAX_DEVICES_PER_TRACK = 8
MAX_FREE_TEXT = 600


def fingerprint(value) -> str:
    """SHA-256 of a canonical JSON rendering: the same facts, the same hash."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def caption_metadata(summary: dict) -> dict:
    """bpm / key / time_signature stored beside the caption (None when unknown)."""
    return SetFacts.from_summary(summary).caption_metadata()


# ---- names: keep instrument hints, drop file names, paths and artists ------------------
_EXTENSION = re.compile(r"\.(?:" + "|".join(FILE_EXTENSIONS) + r")$", re.I)
_LIVE_DEFAULT = re.compile(r"(?i)(?:\d+\s*-\s*)?(?:audio|midi|group|return|master|track)(?:\s*\d+)?")
_FILE_LIKE = re.compile(r"_|\d{4}|[A-Za-z]+\d{2,}[A-Za-z]|\d{2,}[A-Za-z]{2,}\d|#")


def clean_name(name: str, *, samples: list[str] = (), artists: list[str] = ()) -> str | None:
    """A track or locator name fit for a model to read, or None.

    Live names tracks after the sample dropped on them, so a name can carry a
    sample name, a producer's name or a path ('RYAN_X_melody_loop_guitar_02_140').
    Such names are reduced to the instrument words they contain ('guitar').
    """
    if not isinstance(name, str):
        return None
    name = name.strip()
    if re.match(r"(?:~|[A-Za-z]:)?[/\\]", name) or len(re.findall(r"[/\\]", name)) >= 2 or _EXTENSION.search(name):
        name = re.split(r"[/\\]", name)[-1]  # a path: keep the file name ("Kick/Snare" is not a path)
    name = re.sub(r"\[[^\]]*\]|\((?:\d+|freeze)\)", " ", name, flags=re.I)  # "[2020-05-24 002845]", "(Freeze)"
    name = re.sub(r"^(?:\d+\s*-\s*|\d+\s+)+", "", name.strip())  # Live's "12-" numbering
    file_like = bool(_EXTENSION.search(name))
    name = _EXTENSION.sub("", name).strip()
    stems = {stem.casefold() for s in samples if isinstance(s, str) and (stem := distinctive_stem(s))}
    file_like = file_like or bool(_FILE_LIKE.search(name)) or name.casefold() in stems
    for artist in artists:
        if re.search(rf"(?i)(?<!\w){re.escape(artist)}(?!\w)", name):
            name, file_like = re.sub(rf"(?i)(?<!\w){re.escape(artist)}(?!\w)", " ", name), True
    if file_like:
        name = " ".join(FAMILY_LABELS.get(f, f) for f in families_in(name))
    name = re.sub(r"\s+", " ", name).strip(" -_.,;:*|")
    if not name or _LIVE_DEFAULT.fullmatch(name) or not re.search(r"[A-Za-z]", name):
        return None
    return name[:40]


def _num(value) -> str:
    return f"{float(value):g}"


def _note_name(pitch) -> str:
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    return f"{names[int(pitch) % 12]}{int(pitch) // 12 - 2}"  # Live's convention: 60 = C3


def _tempo_line(facts: SetFacts) -> str:
    if facts.bpm is None and facts.tempo_low is None:
        return "tempo: unknown (do not state a tempo)"
    if not facts.tempo_changes:
        return f"tempo: {facts.bpm} BPM"
    span = f"changes between {facts.tempo_low} and {facts.tempo_high} BPM"
    if facts.bpm is None:
        return f"tempo: {span} (say the tempo changes; state no other BPM)"
    return f"tempo: mostly {facts.bpm} BPM, {span} (say the tempo changes)"


def _section_lines(facts: SetFacts, per_bar: float) -> list[str]:
    parts = []
    for section in facts.sections[:MAX_LOCATORS]:
        label = f"{section.name or 'section'} (bar {int(section.start_beat // per_bar) + 1})"
        if section.instruments:
            label += ": " + ", ".join(section.instruments)
        parts.append(label)
    return ["sections: " + "; ".join(parts)] if parts else []


def _set_lines(summary: dict, artists: list[str]) -> list[str]:
    facts = SetFacts.from_summary(summary)
    lines = ["SET FACTS", _tempo_line(facts)]
    if facts.meter_changes:
        lines.append(f"time signature: changes ({', '.join(facts.meters)})")
    else:
        lines.append(f"time signature: {facts.meter or 'unknown (do not state one)'}")
    lines.append(f"key: {facts.key or 'undetermined (do not state a key)'}")
    if facts.instruments:
        lines.append("instruments, longest-playing first: " + ", ".join(facts.instruments))
    length = summary.get("length") or {}
    if length.get("bars"):
        lines.append(f"length: {_num(round(float(length['bars']), 1))} bars")
    # Only the tracks that play in the arrangement: session-only tracks are in no render.
    parts = [f"{n} {label}" for n, label in ((facts.audio_tracks, "audio"), (facts.midi_tracks, "MIDI")) if n]
    if parts:
        lines.append("tracks: " + ", ".join(parts))
    notes = summary.get("notes") or {}
    if (
        facts.has_arrangement
        and notes.get("count")
        and notes.get("pitch_min") is not None
        and notes.get("pitch_max") is not None
    ):
        lines.append(
            f"MIDI notes: {notes['count']}, range {_note_name(notes['pitch_min'])} to {_note_name(notes['pitch_max'])}"
        )
    lines += _section_lines(facts, beats_per_bar(facts.meter))
    samples = summary.get("samples") or []
    lines += _track_lines(summary, samples, artists)
    hints = [f for f in EVIDENCE if any(f in families_in(s) for s in samples if isinstance(s, str))]
    if hints:
        lines.append(
            "instrument words in sample names (samples may be unused): "
            + ", ".join(FAMILY_LABELS.get(h, h) for h in hints)
        )
    return lines


def _track_lines(summary: dict, samples: list[str], artists: list[str]) -> list[str]:
    rendered: dict[str, int] = {}
    playing = playing_track_names(summary)  # v2: what plays in the arrangement; v1 cannot say
    # Muted tracks are not in the render; effect returns say nothing about instrumentation.
    for track in audible_tracks(summary):
        if playing is not None and track.get("name") not in playing and track.get("type") != "group":
            continue
        name = clean_name(track.get("name") or "", samples=samples, artists=artists) or "(unnamed)"
        devices = list(
            dict.fromkeys(
                d
                for d in [*(track.get("devices") or []), *(track.get("plugins") or [])]
                if isinstance(d, str) and not re.search(r"[/\\]", d)
            )
        )[:MAX_DEVICES_PER_TRACK]
        line = f"- {name} [{track.get('type') or 'track'}]" + (f": {', '.join(devices)}" if devices else "")
        if name == "(unnamed)" and not devices:
            continue
        rendered[line] = rendered.get(line, 0) + 1
    lines = [line + (f" (x{n})" if n > 1 else "") for line, n in rendered.items()]
    if not lines:
        return []
    more = len(lines) - MAX_TRACK_LINES
    return ["tracks (name [type]: devices and plugins):", *lines[:MAX_TRACK_LINES]] + (
        [f"- ... and {more} more"] if more > 0 else []
    )


def _profile_lines(master_schema: dict) -> list[str]:
    lines = ["ARTIST PROFILE"]
    labels = {
        "genres": "genres the artist uses (name one only where the audio supports it)",
        "moods": "moods the artist uses (name one only where the audio supports it)",
        "instruments": "instruments the artist often plays (name one only if the set has it)",
        "keys": "usual keys",
        "meters": "usual meters",
    }
    for field in ("genres", "moods", "instruments", "descriptors", "keys", "meters"):
        values = [v.strip() for v in master_schema.get(field) or [] if isinstance(v, str) and v.strip()]
        if values:
            lines.append(f"{labels.get(field, field)}: {', '.join(values)}")
    tempo_range = master_schema.get("tempo_range")
    if isinstance(tempo_range, list) and len(tempo_range) == 2:
        lines.append(f"usual tempo range: {_num(tempo_range[0])}-{_num(tempo_range[1])} BPM")
    notes = master_schema.get("notes")
    if isinstance(notes, str) and notes.strip():
        lines.append("notes: " + re.sub(r"\s+", " ", notes.strip())[:MAX_FREE_TEXT])
    # Fields the artist added: kept, minus anything naming the artist.
    known = {
        "genres",
        "moods",
        "instruments",
        "descriptors",
        "keys",
        "meters",
        "tempo_range",
        "notes",
        "artist",
        "artist_name",
        "name",
        "aliases",
    }
    for field in sorted(k for k in master_schema if k not in known):
        value = json.dumps(master_schema[field], sort_keys=True, ensure_ascii=False)
        lines.append(f"{field}: {value[:MAX_FREE_TEXT]}")
    return lines if len(lines) > 1 else []


def heard_sound(summary: dict, master_schema: dict, tags, artists: list[str]) -> Sound:
    """What the context tells the model it may say of the sound (heard.py's rules over `tags`)."""
    profile = {
        f: [v for v in master_schema.get(f) or [] if isinstance(v, str) and v.strip()] for f in ("genres", "moods")
    }
    profile = {
        f: [v for v in vs if not any(a.casefold() in v.casefold() for a in artists)] for f, vs in profile.items()
    }
    facts = SetFacts.from_summary(summary)
    return listen(tags, list(facts.instruments), profile, facts.bpm)


def _heard_lines(summary: dict, master_schema: dict, heard, artists: list[str]) -> list[str]:
    """What the tagger heard, and what follows from it for this caption (heard.py's rules)."""
    tags = as_tags(heard)
    if tags is None:
        return ["HEARD IN THE AUDIO", "nothing: nobody listened to this track (state no mood)"]

    def ranked(pairs) -> str:
        return ", ".join(f"{t} ({p:.2f})" for t, p in pairs) or "none confidently heard"

    facts = SetFacts.from_summary(summary)
    sound = heard_sound(summary, master_schema, tags, artists)
    v = tags.vocals
    vocals = {True: f"heard ({v.gender + ', ' if v.gender else ''}{v.probability:.2f})", False: "none heard"}
    lines = [
        f"HEARD IN THE AUDIO (music tagger {tags.model}; confidently heard tags, probability in brackets)",
        f"genres: {ranked(tags.genre)}",
        f"moods: {ranked([(t, p) for t, p in tags.mood if fits_tempo(t, facts.bpm)])}",
        f"instruments: {ranked(tags.instrument)}",
        f"vocals: {vocals.get(v.present, 'unsure')}",
        "use for genre and mood: " + (", ".join(sound.genres + sound.moods) or "none"),
    ]
    if sound.hidden:
        lines.append("in the set but not heard (do not name): " + ", ".join(sorted(sound.hidden)))
    return lines


def context_heard(summary: dict, master_schema: dict | None, heard, artist_name: str | None = None) -> dict | None:
    """The `heard` provenance of a caption written from build_context: the tagger and the tags the
    context told the model to use (heard.provenance); None when nobody listened."""
    master_schema = master_schema or {}
    tags = as_tags(heard)
    sound = heard_sound(summary, master_schema, tags, artist_names(master_schema, artist_name)) if tags else None
    return provenance(tags, sound) if sound else None


def build_context(
    summary: dict, master_schema: dict | None = None, *, artist_name: str | None = None, heard=None
) -> str:
    """The user message for a caption model: facts only, same input -> same bytes.

    Sample names and paths are left out, names that look like file names are
    reduced to instrument words, and the artist's name is removed. `heard`: the
    tagger's tags for this audio (see writers/heard.py), or None.
    """
    master_schema = master_schema or {}
    artists = artist_names(master_schema, artist_name)
    lines = _set_lines(summary, artists) + [""] + _heard_lines(summary, master_schema, heard, artists)
    lines += [""] + _profile_lines(master_schema)
    lines.append("")
    lines.append("Write the three caption variants for this track.")
    text = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    for artist in artists:  # a profile's free text may name the artist too
        text = re.sub(rf"(?i)(?<!\w){re.escape(artist)}(?!\w)", "the artist", text)
    return text


# ---- the model's answer -------------------------------------------------------------------
_QUOTES = "\"'`“”‘’«»"


def clean_caption(text: str, limit: int = MAX_CHARS) -> str:
    """One line of caption from a model's reply: no labels, quotes or markdown, <= limit chars."""
    text = (text or "").strip()
    text = re.sub(r"^```\w*\s*|\s*```$", "", text)
    if text.startswith("{"):
        try:
            value = json.loads(text)
            text = str(value.get("caption") or "") if isinstance(value, dict) else text
        except ValueError:
            pass
    text = re.sub(r"^\W*(?:caption|prompt|description)\s*\W*:\W*", "", strip_markdown(text), flags=re.I)
    text = re.sub(r"[*_#]{2,}|^[#>\-*]\s+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end >= limit // 2:  # end on a full sentence when one is long enough
        return cut[: sentence_end + 1]
    return cut[: cut.rfind(" ")].rstrip(" ,;:-–—") if " " in cut else text[:limit]
