"""The three operations the pages and the CLI call, mirroring the original routes:

  generate_prompt     — POST /api/train         (artist, parse id) -> caption + provenance
  save_training_item  — POST /api/train/save    audio + caption -> training_items row
  export_artist       — POST /api/train/export  ready items -> dataset.zip

Pages never reach past these into storage or OpenAI.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from . import formats
from .audio import AudioInfo, duration_mismatch, probe_mp3
from .batch import Job, generate_one
from .config import Settings
from .errors import ConfirmationRequired, StoreError, TrainModeError, ValidationError
from .files import spill_to_temp
from .export import ExportResult, ProgressFn, export_dataset
from .factcheck import check_caption
from .store import Store, new_id
from .writers import GeneratedPrompt, get_writer

MAX_PROMPT_CHARS = 2000


@dataclass(frozen=True)
class Generation:
    """A generated caption and what the fact checker found in it."""
    prompt: GeneratedPrompt
    findings: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**self.prompt.to_dict(), "findings": self.findings}


@dataclass(frozen=True)
class SaveResult:
    item: dict
    duplicate: bool = False   # the same audio (SHA-256) was already saved for this artist


def findings_for(caption: str, summary: dict, master_schema: dict, artist_name: str | None = None) -> list[dict]:
    return [f.to_dict() for f in check_caption(caption, summary, master_schema, artist_name=artist_name)]


def generate_prompt(store: Store, settings: Settings, artist: dict, summary_row: dict,
                    writer_name: str | None = None) -> Generation:
    job = Job(summary_row["summary"], store.get_master_schema(artist["id"]), artist_name=artist["name"])
    result = generate_one(job, get_writer(settings, writer_name))  # the same write + check as a batch
    return Generation(result.prompt, [f.to_dict() for f in result.findings])


@contextmanager
def _as_local_file(audio: bytes | str | Path | BinaryIO, workdir: str | None) -> Iterator[Path]:
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


def check_before_save(info: AudioInfo, prompt_text: str, summary: dict, master_schema: dict,
                      artist_name: str | None) -> tuple[list[dict], list[str]]:
    """(fact-check findings, reasons that need a confirmation)."""
    findings = findings_for(prompt_text, summary, master_schema, artist_name)
    reasons = [f["message"] for f in findings]
    mismatch = duration_mismatch(info.duration_s, (summary.get("length") or {}).get("seconds"))
    if mismatch:
        reasons.append(mismatch)
    return findings, reasons


def save_training_item(store: Store, artist: dict, summary_row: dict, *,
                       audio: bytes | str | Path | BinaryIO, audio_name: str, prompt_text: str,
                       generated: GeneratedPrompt | None = None, confirm: bool = False) -> SaveResult:
    """Validate the MP3, store audio.mp3 + prompt.txt, insert the `ready` row.

    Fact-check findings or a duration far from the set's length raise
    ConfirmationRequired unless `confirm`. Any failure leaves no row and no file.
    """
    prompt_text = (prompt_text or "").strip()
    if not prompt_text:
        raise ValidationError("The prompt is empty: generate one or type it before saving.")
    if len(prompt_text) > MAX_PROMPT_CHARS:
        raise ValidationError(f"The prompt is {len(prompt_text)} characters; keep it under {MAX_PROMPT_CHARS}.")
    with _as_local_file(audio, store.temp_dir()) as path:
        info = probe_mp3(path, name=audio_name)
        existing = store.find_item_by_audio(artist["id"], info.sha256)
        if existing:
            return SaveResult(existing, duplicate=True)
        master_schema = store.get_master_schema(artist["id"])
        findings, reasons = check_before_save(info, prompt_text, summary_row["summary"], master_schema, artist["name"])
        if reasons and not confirm:
            raise ConfirmationRequired("Please confirm before saving: " + " ".join(reasons), reasons)
        item = _item_row(artist, summary_row, info, audio_name, prompt_text, generated, findings)
        _store_item(store, item, path)
    return SaveResult(store.get_item(item["id"]) or item)


def _item_row(artist, summary_row, info: AudioInfo, audio_name, prompt_text, generated, findings) -> dict:
    item_id = new_id()
    base = f"artists/{artist['id']}/items/{item_id}"
    return {
        "id": item_id,
        "artist_id": artist["id"],
        "als_summary_id": summary_row["id"],
        "parse_id": summary_row["parse_id"],
        "audio_path": f"{base}/audio.mp3",
        "prompt_path": f"{base}/prompt.txt",
        "prompt_text": prompt_text,
        "status": "ready",
        "prompt_model": generated.model if generated else None,
        "prompt_version": generated.version if generated else None,
        "prompt_writer": generated.writer if generated else "manual",
        "prompt_edited": bool(generated) and prompt_text != generated.prompt.strip(),
        "provenance": generated.provenance if generated else {"writer": "manual"},
        "findings": findings,
        "metadata": generated.metadata if generated else {},
        "audio_sha256": info.sha256,
        "audio_duration_s": round(info.duration_s, 3),
        "audio_bytes": info.bytes,
        "audio_filename": Path(audio_name).name,
    }


def _store_item(store: Store, item: dict, audio_file: Path) -> None:
    written: list[str] = []
    try:
        store.put_blob(item["audio_path"], audio_file, "audio/mpeg")
        written.append(item["audio_path"])
        store.put_blob(item["prompt_path"], (item["prompt_text"] + "\n").encode("utf-8"), "text/plain; charset=utf-8")
        written.append(item["prompt_path"])
        store.insert_item(item)
    except BaseException as exc:
        # Undo the files: a failed save leaves nothing behind.
        for path in written:
            try:
                store.delete_blob(path)
            except TrainModeError:
                pass
        if isinstance(exc, OSError):
            raise StoreError(f"Saving failed: {exc.strerror or exc}. Nothing was saved.") from None
        raise


def check_dataset(path: str | Path, format_name: str) -> list[str]:
    """The problems a trainer would have with a dataset zip or folder (empty: none)."""
    return formats.check_dataset(path, format_name)


def export_artist(store: Store, settings: Settings, artist: dict, *, on_progress: ProgressFn | None = None,
                  format: str = "hf", split: float | None = None, artist_name: bool = False) -> ExportResult:
    return export_dataset(store, artist, on_progress=on_progress, expires_s=settings.signed_url_expiry_s,
                          format=format, split=split, artist_name=artist_name)
