"""The Train queue: one `QueueEntry` per (set, MP3) pair, kept in st.session_state so it
survives page switches and reruns.

States: pending -> generating -> review -> saving -> saved, and failed from
generating or saving (retry repeats the step that failed). Uploaded bytes never sit
in the queue: they are spilled to a temp file, the entry keeps only the path, the
`AudioInfo` and the `AudioAnalysis` measured once when the file was added (with the audio
verdict against its set), and the file goes once the item is saved or the entry removed.

The actions below (generate, save, retry, edit) are what the Train page's buttons
call (through `TrainMode`); they move entries and never raise for one entry's failure.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from trainmode.audio.analysis import AudioAnalysis, Verdict
from trainmode.audio.check import needs_confirmation
from trainmode.audio.probe import AudioInfo
from trainmode.captions.factcheck import Finding, check_caption, check_variants
from trainmode.captions.generate import DEFAULT_MAX_WORKERS, Generation, Job, generate_many
from trainmode.captions.writers.base import CaptionWriter, GeneratedCaption
from trainmode.errors import ConfirmationRequired, TrainModeError, ValidationError
from trainmode.sets.facts import training_blocker
from trainmode.store import Store
from trainmode.store.rows import caption_of
from trainmode.train.items import set_lyrics
from trainmode.train.save import SaveRequest, is_blocking, save_item
from trainmode.train.uploads import spill_to_temp

log = logging.getLogger(__name__)

TRANSITIONS = {
    "pending": {"generating", "review"},
    "generating": {"review", "failed"},
    "review": {"generating", "saving", "review"},
    "saving": {"saved", "failed", "review"},
    "failed": {"pending", "generating", "review"},
    "saved": set(),
}
STATES = tuple(TRANSITIONS)


@dataclass
class QueueEntry:
    """One MP3 paired with one set, on its way to a saved training item."""

    artist_id: str
    parse_id: str
    als_filename: str
    audio_name: str
    audio_path: str  # the spilled upload (a temp file owned by the entry)
    audio: AudioInfo | None = None  # measured once when added: save reuses it
    pairing: str = ""  # why this set ("same name", "picked by hand", ...)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = "pending"
    caption: str = ""  # the text the user sees and edits
    generated: GeneratedCaption | None = None
    findings: list[Finding] = field(default_factory=list)  # the fact check of `caption`
    variants: dict[str, str] = field(default_factory=dict)  # detailed/short/tags as generated, then as edited
    variant_findings: dict[str, list[Finding]] = field(default_factory=dict)  # the fact check of each variant
    error: str | None = None
    failed_step: str | None = None
    note: str | None = None
    item_id: str | None = None
    needs_confirmation: list[str] = field(default_factory=list)
    confirmed: bool = False
    by: str | None = None  # who added it (saved as the item's created_by)
    draft_blob: str | None = None  # its MP3 in the store's draft (trainmode/train/drafts.py)
    analysis: AudioAnalysis | None = None  # listened to once when added: save reuses it
    verdict: Verdict | None = None  # the audio against its set: matches | doubtful | mismatch, reasons, warnings
    version: int = 0  # its version in the stored draft (0: not stored yet); trainmode/train/drafts.py
    changed_by: str | None = None  # who stored that version
    lyrics: str = ""  # the song's lyrics, pasted by the user: saved with the item

    @property
    def duration_s(self) -> float | None:
        return self.audio.duration_s if self.audio else None

    @property
    def blocked(self) -> bool:
        """A finding no confirmation can override: the caption must be edited before saving."""
        return any(is_blocking(f) for f in [*self.findings, *(f for v in self.variant_findings.values() for f in v)])

    @property
    def to_confirm(self) -> list[str]:
        """What Save (or Update its caption) will ask the user to confirm, known before they click:
        the caption's fact-check findings and, for a new item, an audio mismatch's reasons. Save
        all counts without these, and the page asks up front (also after a reload)."""
        if self.needs_confirmation:  # what the last save was told: the final word
            return self.needs_confirmation
        audio = needs_confirmation(self.verdict) if self.verdict and not self.item_id else []
        return [f.message for f in self.findings] + audio

    @property
    def edited(self) -> bool:
        return self.generated is not None and self.caption.strip() != self.generated.text.strip()


ALREADY_SAVED = (
    "This MP3 was already saved, with another caption. Update the saved item's caption with "
    "this one, or remove it from the queue."
)
Progress = Callable[[int, int, QueueEntry], None]  # (done, total, entry just finished)


def spill_upload(upload: BinaryIO | bytes, folder: str | None) -> str:
    """Copy an upload to a temp file and return its path (the queue keeps paths, not bytes)."""
    folder_path = Path(folder or tempfile.gettempdir()) / "uploads"
    folder_path.mkdir(parents=True, exist_ok=True)
    return str(spill_to_temp(upload, folder_path))


def move(entry: QueueEntry, state: str, **changes) -> QueueEntry:
    if state not in TRANSITIONS[entry.state]:
        raise ValidationError(f"{entry.audio_name}: cannot go from {entry.state} to {state}.")
    if state == "failed":
        changes.setdefault("failed_step", entry.state)  # what a retry repeats
    for name, value in changes.items():
        setattr(entry, name, value)
    entry.state = state
    if state != "failed":
        entry.error = None
    return entry


def find(queue: list[QueueEntry], entry_id: str) -> QueueEntry | None:
    return next((e for e in queue if e.id == entry_id), None)


def _drop_upload(entry: QueueEntry) -> None:
    try:
        Path(entry.audio_path).unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove the spilled upload %s", entry.audio_path, exc_info=True)


def remove(queue: list[QueueEntry], entry_id: str) -> None:
    entry = find(queue, entry_id)
    if entry:
        queue.remove(entry)
        if entry.state != "saved":
            _drop_upload(entry)


def counts(queue: list[QueueEntry]) -> dict[str, int]:
    return {state: sum(1 for e in queue if e.state == state) for state in STATES}


def progress(queue: list[QueueEntry]) -> float:
    """Share of the batch that is done (saved) — for the batch progress bar."""
    return counts(queue)["saved"] / len(queue) if queue else 0.0


def saveable(queue: list[QueueEntry]) -> list[QueueEntry]:
    """Reviewed entries that need no (further) confirmation: what "save all" saves."""
    return [
        e
        for e in queue
        if e.state == "review" and not e.blocked and not e.item_id and (not e.to_confirm or e.confirmed)
    ]


def recover(queue: list[QueueEntry]) -> None:
    """A run cut short (the user left the page mid-batch) leaves entries half-way:
    nothing is running at the start of a rerun, so put them where a user can act."""
    for entry in queue:
        if entry.state == "generating":
            move(entry, "failed", error="Interrupted before the caption was written: retry it.")
        elif entry.state == "saving":
            move(entry, "review")  # saving again is safe: the same audio is found, not stored twice


# ---- actions ------------------------------------------------------------------------
def _missing_set(entry: QueueEntry) -> str:
    return f"The set {entry.als_filename} is no longer in the library."


def generate(
    entries: list[QueueEntry],
    writer: CaptionWriter,
    master_schema: dict,
    artist: dict,
    summaries: dict[str, dict],
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    on_progress: Progress | None = None,
) -> None:
    """Write captions for `entries` a few at a time; each ends in review or failed."""
    by_id, jobs = {}, []
    for entry in entries:
        move(entry, "generating")
        row = summaries.get(entry.parse_id)
        if row is None or training_blocker(row.get("summary")):
            move(entry, "failed", error=_missing_set(entry) if row is None else training_blocker(row["summary"]))
            continue
        by_id[entry.id] = entry
        # What listening heard in this upload leads the caption (#27); its audio, for a writer that listens.
        jobs.append(
            Job(
                row["summary"],
                master_schema,
                key=entry.id,
                artist_name=artist["name"],
                heard=entry.analysis.whole_tags if entry.analysis else None,
                audio=entry.audio_path,
            )
        )

    def finished(done: int, total: int, result: Generation) -> None:
        entry = by_id[result.job.key]
        if result.ok:
            move(
                entry,
                "review",
                caption=result.caption.text,
                generated=result.caption,
                findings=result.findings,
                variants=dict(result.caption.variants),
                variant_findings=dict(result.variant_findings),
                needs_confirmation=[],
                confirmed=False,
            )
        else:
            move(entry, "failed", error=result.error)
        if on_progress:
            on_progress(done, total, entry)

    generate_many(jobs, writer, max_workers=max_workers, on_progress=finished)


def save(
    entries: list[QueueEntry],
    store: Store,
    artist: dict,
    summaries: dict[str, dict],
    *,
    on_progress: Progress | None = None,
) -> None:
    """Store each reviewed entry as a training item, one after the other."""
    for done, entry in enumerate(entries, start=1):
        _save_one(entry, store, artist, summaries)
        if on_progress:
            on_progress(done, len(entries), entry)


def _save_one(entry: QueueEntry, store: Store, artist: dict, summaries: dict[str, dict]) -> None:
    move(entry, "saving")
    generated = entry.generated
    if generated and entry.variants:
        generated = replace(generated, variants=dict(entry.variants))  # the variants as the user left them
    request = SaveRequest(
        audio=entry.audio_path,
        audio_name=entry.audio_name,
        caption=entry.caption,
        generated=generated,
        findings=entry.findings,
        info=entry.audio,
        confirm=entry.confirmed,
        by=entry.by,
        analysis=entry.analysis,
        lyrics=entry.lyrics or None,
    )
    try:
        row = summaries.get(entry.parse_id)
        if row is None:
            raise ValidationError(_missing_set(entry))
        result = save_item(store, artist, row, request)
        if result.duplicate and entry.lyrics:  # pasted for an MP3 saved earlier: onto its item, as the CLI does
            result = replace(result, item=set_lyrics(store, artist, result.item["id"], entry.lyrics))
    except ConfirmationRequired as exc:
        move(entry, "review", needs_confirmation=exc.reasons, confirmed=False)
        return
    except TrainModeError as exc:
        move(entry, "failed", error=str(exc))
        return
    if result.duplicate and caption_of(result.item).strip() != entry.caption.strip():
        # Never "saved" while the store keeps the old text; replacing it is another yes (#29).
        move(entry, "review", item_id=result.item["id"], needs_confirmation=[], confirmed=False, note=ALREADY_SAVED)
        return
    move(
        entry,
        "saved",
        item_id=result.item["id"],
        needs_confirmation=[],
        note="Already saved earlier (the same audio)." if result.duplicate else None,
    )
    _drop_upload(entry)  # the store has its own copy now


def confirmed_for_update(entry: QueueEntry) -> bool:
    """Replacing a saved item's caption asks for the confirmation Save asks for (#29): with
    fact-check findings, False (and the reasons set on the entry) until the user confirms."""
    reasons = [f.message for f in entry.findings]
    if reasons and not entry.confirmed:
        entry.needs_confirmation = reasons
        return False
    return True


def caption_updated(entry: QueueEntry, item: dict) -> None:
    """The entry's caption replaced the saved item's (see TrainMode.update_entry_caption)."""
    move(entry, "saving")
    move(entry, "saved", item_id=item["id"], note="Caption updated on the item saved earlier.")
    _drop_upload(entry)


def edit(entry: QueueEntry, text: str, summary: dict, master_schema: dict, artist_name: str | None) -> None:
    """Keep the user's caption and check it once; an earlier confirmation was for the old text."""
    entry.caption = text
    entry.findings = list(check_caption(text, summary, master_schema, artist_name=artist_name))
    entry.needs_confirmation, entry.confirmed = [], False


def edit_variant(
    entry: QueueEntry, name: str, text: str, summary: dict, master_schema: dict, artist_name: str | None
) -> None:
    """Keep the user's text of one variant and check it by that variant's rules; it is saved with the item."""
    entry.variants = {**entry.variants, name: text}
    entry.variant_findings = {
        **entry.variant_findings,
        **check_variants({name: text}, summary, master_schema, artist_name=artist_name),
    }
    entry.needs_confirmation, entry.confirmed = [], False
