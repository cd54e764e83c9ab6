"""Save a training item: one MP3 + its caption -> audio.mp3, caption text file, a `ready` row.

The caption's fact check, the MP3's probe (SHA-256, duration) and its audio analysis (tempo,
key, loudness...) are done once, by whoever made them (the Train queue keeps all three); this
module reuses them and only computes what it was not given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from trainmode.audio import seek as mp3seek
from trainmode.audio.analysis import AudioAnalysis, Verdict, analyze_mp3
from trainmode.audio.check import item_audio, judge, needs_confirmation
from trainmode.audio.listen import section_spans, with_section_tags
from trainmode.audio.probe import AudioInfo, probe_mp3
from trainmode.captions.factcheck import Finding, check_caption
from trainmode.captions.text import strip_markdown
from trainmode.captions.writers.base import GeneratedCaption
from trainmode.clips.plan import proposed_offset
from trainmode.errors import ConfirmationRequired, DuplicateError, StoreError, TrainModeError, ValidationError
from trainmode.ops import text
from trainmode.ops.text import required_text
from trainmode.sets.facts import training_blocker
from trainmode.store import Store, new_id
from trainmode.store.rows import CAPTION, CAPTION_PATH, caption_of, caption_path
from trainmode.train.uploads import spill_to_temp

MAX_CAPTION_CHARS = 2000
MAX_LYRICS_CHARS = 20000
log = logging.getLogger(__name__)
AudioSource = bytes | str | Path | BinaryIO


@dataclass(frozen=True)
class SaveResult:
    item: dict
    duplicate: bool = False  # the same audio (SHA-256) was already saved for this artist


def is_blocking(finding: Finding) -> bool:
    """Findings a confirmation cannot override (an artist name, a sample file, a path or URL)."""
    return finding.blocking


def clean_lyrics(lyrics: str | None) -> str | None:
    """Lyrics as stored: line breaks kept (they are the song's lines), trailing spaces and blank
    edges gone; None for none. Refused over MAX_LYRICS_CHARS."""
    if lyrics is None:
        return None
    lines = [line.rstrip() for line in lyrics.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines).strip()
    if len(text) > MAX_LYRICS_CHARS:
        raise ValidationError(f"The lyrics are {len(text)} characters; at most {MAX_LYRICS_CHARS} can be saved.")
    return text or None


def clean_caption_text(caption: str) -> str:
    return required_text(
        strip_markdown(caption or ""),
        what="caption",
        limit=MAX_CAPTION_CHARS,
        when_empty="generate one or type it before saving",
    )


def confirmation_reasons(findings: list[Finding], verdict: Verdict) -> list[str]:
    """What the user must confirm before saving: fact-check findings, and the reasons of an audio
    verdict `mismatch` (another tempo, a length far from the set's, an unrelated key)."""
    blocking = [f.message for f in findings if is_blocking(f)]
    if blocking:
        raise ValidationError("This caption cannot be saved: " + " ".join(blocking) + " Edit it first.")
    return [f.message for f in findings] + needs_confirmation(verdict)


def confirmation_message(findings: list[Finding], verdict: Verdict) -> str:
    """ "Please confirm before saving: <findings> The audio does not sound like its set: <reasons>"."""
    parts = [f.message for f in findings]
    if needs_confirmation(verdict):
        parts.append("The audio does not sound like its set: " + " ".join(needs_confirmation(verdict)))
    return "Please confirm before saving: " + " ".join(parts)


@contextmanager
def _as_local_file(audio: AudioSource, workdir: str | None) -> Iterator[Path]:
    """A path for the audio. Uploads (bytes, BytesIO/UploadedFile) are spilled to a
    temp file so that storage backends get a path, never a BytesIO."""
    if isinstance(audio, (str, Path)):
        yield Path(audio)
        return
    path = spill_to_temp(audio, workdir)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class SaveRequest:
    """What to save. `findings` are the fact check of exactly `caption`, `info` the probe and
    `analysis` the audio analysis of exactly `audio`, when the caller has them already (None: done here)."""

    audio: AudioSource
    audio_name: str
    caption: str
    generated: GeneratedCaption | None = None
    findings: list[Finding] | None = None
    info: AudioInfo | None = None
    confirm: bool = False
    by: str | None = None  # who saves it (training_items.created_by)
    analysis: AudioAnalysis | None = None
    lyrics: str | None = None  # the song's lyrics, when the user has them (item metadata `lyrics`)


def save_item(store: Store, artist: dict, summary_row: dict, request: SaveRequest) -> SaveResult:
    """Validate the MP3, store audio.mp3 + the caption, insert the `ready` row.

    Fact-check findings or an audio verdict `mismatch` (the render does not sound like its set)
    raise ConfirmationRequired unless confirmed; blocking findings are refused even then.
    The measurements and the verdict go into metadata["audio"]. Any failure leaves no row and no file.
    """
    caption = clean_caption_text(request.caption)
    blocker = training_blocker(summary_row.get("summary"))
    if blocker:
        raise ValidationError(f"{summary_row.get('als_filename') or 'This set'} cannot make a training item. {blocker}")
    lyrics = clean_lyrics(request.lyrics)
    with _as_local_file(request.audio, store.temp_dir()) as path:
        info = request.info or probe_mp3(path, name=request.audio_name)
        existing = store.find_item_by_audio(artist["id"], info.sha256)
        if existing:
            return SaveResult(existing, duplicate=True)
        master_schema = store.get_master_schema(artist["id"])
        findings = request.findings
        if findings is None:
            findings = check_caption(caption, summary_row["summary"], master_schema, artist_name=artist["name"])
        spans = section_spans(summary_row["summary"], info.duration_s)  # tagged with the whole render
        analysis = request.analysis or analyze_mp3(path, name=request.audio_name, spans=spans)
        verdict = judge(analysis, summary_row["summary"])
        reasons = confirmation_reasons(findings, verdict)
        if reasons and not request.confirm:
            raise ConfirmationRequired(confirmation_message(findings, verdict), reasons)
        item = _item_row(artist, summary_row, info, request, caption, findings)
        analysis = with_section_tags(analysis, path, spans, request.audio_name)  # listened to before pairing
        item["metadata"] = {
            **item["metadata"],
            "audio": item_audio(analysis, verdict, request.confirm),
            **seek_table(path),
            **_offset(analysis, summary_row["summary"]),
            **({"lyrics": lyrics} if lyrics else {}),
        }
        try:
            _store_item(store, item, path)
        except DuplicateError:  # saved by a concurrent run since the check above; our files are undone
            return SaveResult(store.find_item_by_audio(artist["id"], info.sha256), duplicate=True)
    return SaveResult(store.get_item(item["id"]) or item)


def _offset(analysis: AudioAnalysis, summary: dict) -> dict:
    """The clip offset the render's lead-in proposes (docs/clips.md), when it has one; the user
    can change it on the Train page or with `clips --offset`."""
    offset = proposed_offset(analysis.silence_start_s, summary, analysis.duration_s)
    return {"clip_offset_s": offset} if offset else {}


def _item_row(
    artist: dict, summary_row: dict, info: AudioInfo, request: SaveRequest, caption: str, findings: list[Finding]
) -> dict:
    """The training_items row (the caption goes under rows.CAPTION and CAPTION_PATH)."""
    item_id, generated = new_id(), request.generated
    base = f"artists/{artist['id']}/items/{item_id}"
    return {
        "id": item_id,
        "artist_id": artist["id"],
        "als_summary_id": summary_row["id"],
        "parse_id": summary_row["parse_id"],
        "audio_path": f"{base}/audio.mp3",
        CAPTION_PATH: f"{base}/prompt.txt",
        CAPTION: caption,
        "status": "ready",
        "prompt_model": generated.model if generated else None,
        "prompt_version": generated.version if generated else None,
        "prompt_writer": generated.writer if generated else "manual",
        "prompt_edited": bool(generated) and caption != generated.text.strip(),
        "provenance": generated.provenance if generated else {"writer": "manual"},
        "findings": [f.to_dict() for f in findings],
        "metadata": _metadata(generated),
        "audio_sha256": info.sha256,
        "audio_duration_s": round(info.duration_s, 3),
        "audio_bytes": info.bytes,
        "audio_filename": text.file_name(request.audio_name),
        "created_by": request.by,
    }


def _metadata(generated: GeneratedCaption | None) -> dict:
    """The writer's facts beside the caption, and its variants under "captions" for the export."""
    if generated is None:
        return {}
    variants = {name: text.one_line(value) for name, value in generated.variants.items()}
    return {**generated.metadata, "captions": variants} if variants else generated.metadata


def seek_table(path: Path) -> dict:
    """{"frames": the render's seek table} for the item's metadata, so that an export cuts its clips
    without scanning it (trainmode/audio/seek.py); {} when its frames cannot be indexed (the export
    then scans it and says why it cannot be cut)."""
    with open(path, "rb") as fh:
        try:
            return {"frames": mp3seek.make(fh)}
        except ValidationError:
            return {}


def _store_item(store: Store, item: dict, audio_file: Path) -> None:
    written: list[str] = []
    try:
        store.put_blob(item["audio_path"], audio_file, "audio/mpeg")
        written.append(item["audio_path"])
        store.put_blob(caption_path(item), (caption_of(item) + "\n").encode("utf-8"), "text/plain; charset=utf-8")
        written.append(caption_path(item))
        store.insert_item(item)
    except BaseException as exc:
        _undo(store, written)  # a failed save leaves nothing behind
        if isinstance(exc, OSError):
            raise StoreError(f"Saving failed: {exc.strerror or exc}. Nothing was saved.") from None
        raise


def _undo(store: Store, paths: list[str]) -> None:
    for path in paths:
        try:
            store.delete_blob(path)
        except (TrainModeError, OSError):
            log.warning("could not remove %s after a failed save; it is an orphan now", path, exc_info=True)
