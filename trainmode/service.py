"""The one door: every operation a page or the CLI performs is a method of `TrainMode`.

    tm = TrainMode.open()                       # settings from the environment, the store they name
    artist = tm.create_artist("Nova Lane")
    tm.import_sets(artist["name"], [("song.als", Path("song.als"))])
    row = tm.find_set(artist, "song.als")
    generation = tm.generate_caption(artist, row)
    tm.save(artist, row, SaveRequest(audio=Path("song.mp3"), audio_name="song.mp3",
                                     caption=generation.caption.text, generated=generation.caption,
                                     findings=generation.findings))
    tm.export(artist)

Pages and the CLI import this module, `trainmode.errors` and at most one display module
(tests/test_code_shape.py enforces it); everything else in the package is internal.
The names re-exported below (QueueEntry, SaveRequest, counts, ...) are the shapes and pure
helpers they may use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from trainmode.audio.analysis import AudioAnalysis, Verdict, analyze_mp3, audio_warnings
from trainmode.audio.check import MeasuredUpload, judge, judge_row, measure_uploads, row_reference, verdict_line
from trainmode.audio.listen import section_spans
from trainmode.audio.probe import AudioInfo, duration_mismatch, probe_mp3
from trainmode.captions.factcheck import VARIANT_RULES
from trainmode.captions.generate import Generation, Job, generate_many
from trainmode.captions.report import artist_report
from trainmode.captions.writers import get_writer
from trainmode.clips import review as clip_review
from trainmode.clips.plan import WINDOW_RANGE_S, WINDOW_S
from trainmode.config import Settings, load_settings
from trainmode.errors import NotFoundError, TrainModeError, WriterError
from trainmode.export import formats
from trainmode.export.build import ExportProgress, ExportResult, ProgressFn, export_dataset
from trainmode.export.history import ExportDetails, ExportZips, details_of, needs_zip
from trainmode.export.rows import split_of
from trainmode.ops import backups
from trainmode.ops.doctor import damaged_text, doctor_command, sweep_at_startup
from trainmode.ops.logs import log_file, setup_logging
from trainmode.ops.text import counted
from trainmode.ops.text import for_terminal as shown
from trainmode.sets import importing as library
from trainmode.sets.importing import ImportResult
from trainmode.sets.profile import EXAMPLE_MASTER_SCHEMA, derive_master_schema, parse_master_schema
from trainmode.store import Store, open_store
from trainmode.store.reads import ReadCache
from trainmode.store.rows import Artist, Export, Item, SetRecord, SetRow, caption_of
from trainmode.tables import browse_row
from trainmode.train import drafts, work_queue
from trainmode.train import items as deleting
from trainmode.train.lyrics import as_item, sung_without_lyrics
from trainmode.train.pairing import Pairing, SetIndex, pair_uploads
from trainmode.train.save import MAX_LYRICS_CHARS, SaveRequest, SaveResult, clean_lyrics, save_item
from trainmode.train.work_queue import Progress, QueueEntry, counts, progress, recover, saveable

__all__ = [
    "TrainMode",
    "Settings",
    "AudioAnalysis",
    "AudioInfo",
    "Generation",
    "ImportResult",
    "MeasuredUpload",
    "Pairing",
    "QueueEntry",
    "SaveRequest",
    "SaveResult",
    "Verdict",
    "ExportProgress",
    "ExportResult",
    "ExportDetails",
    "counts",
    "progress",
    "recover",
    "saveable",
    "caption_of",
    "Artist",
    "SetRow",
    "SetRecord",
    "Item",
    "Export",
    "verdict_line",
    "load_settings",
    "log_file",
    "setup_logging",
    "shown",
    "VARIANT_RULES",
    "counted",
    "parse_master_schema",
    "EXAMPLE_MASTER_SCHEMA",
    "WINDOW_S",
    "WINDOW_RANGE_S",
    "MAX_LYRICS_CHARS",
]


class TrainMode:
    """Train Mode's operations over one store, with the settings they need."""

    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings
        self.reads = ReadCache(store)  # what pages read on every rerun, until a write changes it
        self._pair_index: tuple[list[SetRow | SetRecord], SetIndex] | None = None
        self.zips = ExportZips(store)  # past exports' zips, read where they are stored
        try:
            self.log_path: Path | None = setup_logging(settings.data_dir)
        except OSError as exc:  # a read-only data dir still works; tracebacks then go to stderr only
            logging.getLogger(__name__).warning("no log file under %s: %s", settings.data_dir, exc.strerror)
            self.log_path = None

    @classmethod
    def open(cls, settings: Settings | None = None, *, sweep: bool = True, new_database: bool = False) -> TrainMode:
        """Load the settings (unless given) and open the store they name. `sweep=False` leaves
        the start-up sweep out (doctor reports first); `new_database` lets the embedded backend
        start an empty database beside saved files (see EmbeddedStore)."""
        settings = settings or load_settings()
        store = open_store(settings, new_database=new_database)
        if sweep:
            sweep_at_startup(store)  # what crashed runs left: dead processes' temp files, day-old uploads
        return cls(store, settings)

    def doctor(self, *, fix: bool = False, echo: Callable[[str], object] = print) -> int:
        """Report (and with `fix`, remove) what crashes left behind; 0 when nothing is left to fix."""
        return doctor_command(self.store, fix=fix, echo=echo)

    @staticmethod
    def damage_report(settings: Settings, exc: Exception) -> str:
        """What doctor says about a database too damaged to open: the error, and the backups to restore."""
        return damaged_text([str(exc)], settings.data_dir)

    def describe(self) -> str:
        return self.store.describe()

    # ---- artists ------------------------------------------------------------------
    def list_artists(self) -> list[Artist]:
        return list(self.reads.call("artists", self.store.list_artists))

    def create_artist(self, name: str) -> Artist:
        """Select the artist called `name` (any case), or create it."""
        return library.create_artist(self.store, name)

    def artist(self, name: str) -> Artist:
        """The artist called `name`; NotFoundError if there is none."""
        return library.require_artist(self.store, name)

    # ---- sets and the profile -------------------------------------------------------
    def list_sets(self, artist: Artist) -> list[SetRecord]:
        """Every set with its whole summary (kept until a write): deriving the profile needs them all."""
        return self.reads.call("als_summaries", self.store.list_summaries, artist["id"])

    def list_set_rows(self, artist: Artist) -> list[SetRow]:
        """The pages' narrow view of the sets (trainmode/store/set_rows.py): pairing, labels, verdicts."""
        return self.reads.call("als_summaries", self.store.list_set_rows, artist["id"])

    def set_summary(self, artist: Artist, parse_id: str) -> SetRecord | None:
        """One set's whole row (None when gone), fetched once until a write: only for sets in use."""
        return self.reads.call("als_summaries", self.store.get_summary, artist["id"], parse_id)

    def find_set(self, artist: Artist, parse_id_or_filename: str) -> SetRecord:
        return library.require_summary(self.store, artist, parse_id_or_filename)

    def import_sets(
        self,
        artist_name: str,
        sources: Iterable[tuple[str, bytes | str | Path | BinaryIO]],
        on_progress: Callable[[int, ImportResult], None] | None = None,
    ) -> list[ImportResult]:
        return library.import_sets(self.store, artist_name, sources, on_progress)

    def master_schema(self, artist: Artist) -> dict:
        return self.reads.call("artist_profiles", self.store.get_master_schema, artist["id"])

    def save_master_schema(self, artist: Artist, master_schema: dict) -> None:
        library.save_master_schema(self.store, artist["id"], master_schema)

    @staticmethod
    def derive_master_schema(set_rows: list[SetRecord], current: dict | None = None) -> dict:
        """Tempo range, keys, meters and instruments from the artist's sets; the words stay."""
        return derive_master_schema([r["summary"] for r in set_rows], current)

    # ---- one caption ------------------------------------------------------------------
    def generate_caption(
        self, artist: Artist, set_row: SetRecord, writer_name: str | None = None, heard: dict | None = None
    ) -> Generation:
        """Write and fact-check one caption (`heard`: the render's tags, which lead it); raises the
        writer's error if it failed."""
        writer = get_writer(self.settings, writer_name)
        job = Job(
            set_row["summary"],
            self.master_schema(artist),
            key=set_row["parse_id"],
            artist_name=artist["name"],
            heard=heard,
        )
        [result] = generate_many([job], writer)  # the one generate path: a single caption is a batch of one
        if not result.ok:
            raise WriterError(result.error)
        return result

    # ---- section clips (docs/clips.md) ---------------------------------------------------
    def plan_clips(
        self,
        artist: Artist,
        set_row: SetRecord,
        *,
        item: Item | None = None,
        mode: str = "sections",
        window_s: float = WINDOW_S,
        duration_s: float | None = None,
        offset_s: float | None = None,
        writer_name: str | None = "offline",
    ) -> list[dict]:
        """The clips of the set's saved item (or of `item`; or, with `duration_s` and no item, of
        a render not saved yet), windows of at most `window_s` in mode 'windows': [{index, name,
        start_s, end_s, caption, variants, findings, edited, dropped, saved}]; captions stored with
        the item for the same span, else written by the writer."""
        if item is None and duration_s is None:
            item = clip_review.saved_item(self.store, artist, set_row)
        return clip_review.planned_clips(
            self.store,
            get_writer(self.settings, writer_name),
            artist,
            set_row,
            item,
            mode=mode,
            window_s=window_s,
            duration_s=duration_s,
            offset_s=offset_s,
        )

    def saved_item(self, artist: Artist, set_row: SetRow | SetRecord) -> Item:
        """The newest saved training item of a set (NotFoundError when it has none)."""
        return clip_review.saved_item(self.store, artist, set_row)

    def item_clips(
        self, artist: Artist, item_id: str, mode: str = "sections", window_s: float = WINDOW_S
    ) -> tuple[Item, list[dict]]:
        """A saved item and its clips (see plan_clips) for the Train page, which asks on every rerun:
        kept until the item, its clips, its set or the profile change."""

        def set_row_of(parse_id: str) -> SetRecord:
            return self.set_summary(artist, parse_id) or self.find_set(artist, parse_id)

        return self.reads.get(
            ("item_clips", item_id, mode, window_s),
            lambda: clip_review.item_and_clips(
                self.store, get_writer(self.settings, "offline"), artist, item_id, set_row_of, mode, window_s
            ),
            clip_review.READS,
        )

    def clip_audio(self, item: Item, clip: dict) -> bytes:
        """One clip's MP3, cut frame-exact from the item's render (for a player)."""
        return clip_review.clip_audio(self.store, item, clip)

    def set_clip_offset(self, item: Item, offset_s: float) -> Item:
        """Where beat 0 of the arrangement is in the item's render (seconds of lead-in); every cut moves."""
        return clip_review.set_offset(self.store, item, offset_s)

    def save_clips(
        self,
        item: Item,
        clips: list[dict],
        mode: str = "sections",
        artist: Artist | None = None,
        window_s: float = WINDOW_S,
    ) -> list[dict]:
        """Store an item's reviewed clips (edited or dropped captions, each fact-checked against
        its span, planned at `window_s` for window clips; a URL, path or the `artist`'s name
        refuses them all); the export uses each for the clip of its span."""
        name = artist["name"] if artist else None
        return clip_review.save_reviewed(self.store, item, clips, mode, name, window_s)

    def save(self, artist: Artist, set_row: SetRecord, request: SaveRequest) -> SaveResult:
        """Save one item; ConfirmationRequired for findings or an audio `mismatch` unless `request.confirm`."""
        return save_item(self.store, artist, set_row, request)

    @staticmethod
    def check_render(
        set_row: SetRecord, source: BinaryIO | bytes | str | Path, name: str | None = None
    ) -> tuple[AudioAnalysis, Verdict]:
        """Listen to an MP3 (tagging the set's sections too) and judge it against the set; hand the
        analysis to `SaveRequest(analysis=)`."""
        duration = probe_mp3(source, name=name).duration_s
        analysis = analyze_mp3(source, name=name, spans=section_spans(set_row["summary"], duration))
        return analysis, judge(analysis, set_row["summary"])

    def list_items(self, artist: Artist, status: str | None = None) -> list[Item]:
        return list(self.reads.call("training_items", self.store.list_items, artist["id"], status))

    def list_item_rows(self, artist: Artist) -> list[Item]:
        """The items as tables show them (Store.ITEM_ROW_COLUMNS); the same list until a write changes them."""
        return self.reads.call("training_items", self.store.list_item_rows, artist["id"])

    def item_page(self, artist: Artist, offset: int, limit: int) -> tuple[list[Item], int]:
        """(at most `limit` item rows from `offset`, how many items there are): Store.item_row_page."""
        return self.reads.call("training_items", self.store.item_row_page, artist["id"], offset, limit)

    def count_set_items(self, artist: Artist, set_id: str) -> int:  # items made from the set with that row id
        return self.reads.call("training_items", self.store.count_items, artist["id"], set_id)

    def captions_report(self, artist: Artist) -> dict:
        """Variety and faithfulness of the saved captions, then of each stored variant."""
        return self.reads.call("training_items", artist_report, self.store, artist["id"])  # made again after a write

    def update_caption(self, artist: Artist, item_id: str, caption: str) -> Item:
        """A saved item's caption replaced (prompt_edited set, its caption file rewritten)."""
        return deleting.update_caption(self.store, artist, item_id, caption)

    def set_lyrics(self, artist: Artist, item_id: str, lyrics: str | None) -> dict:
        """Attach the song's lyrics to a saved item, replace them, or remove them (None or blank)."""
        return deleting.set_lyrics(self.store, artist, item_id, lyrics)

    def item_sung_without_lyrics(self, artist: Artist, item: Item) -> str | None:
        """Who says a saved item is sung while it has no lyrics (the tagger, the item, its set), or
        None: such an item is left out of ACE-Step 1.5 exports (trainmode/train/lyrics.py)."""
        return sung_without_lyrics(item, (self.set_summary(artist, item["parse_id"]) or {}).get("summary"))

    def delete_item(self, artist: Artist, item_id: str) -> None:
        """The item's row, its audio and its caption file."""
        deleting.delete_item(self.store, artist, item_id)

    def delete_set(self, artist: Artist, parse_id: str, *, with_items: bool = False) -> int:
        """Refused while items use the set, unless `with_items`; returns how many items went."""
        return deleting.delete_set(self.store, artist, parse_id, with_items=with_items)

    def delete_artist(self, artist: Artist, typed_name: str) -> None:
        """The artist with everything (rows and files), once its name is typed."""
        deleting.delete_artist(self.store, artist, typed_name)

    # ---- the Train queue ----------------------------------------------------------------
    @staticmethod
    def measure_upload(upload: BinaryIO | bytes | str | Path, name: str) -> AudioInfo:
        """Probe an MP3 once (SHA-256, duration); AudioError names what a non-MP3 really is."""
        return probe_mp3(upload, name=name)

    def measure_uploads(
        self,
        uploads: list[tuple[str, BinaryIO | bytes | str | Path]],
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> list[MeasuredUpload]:
        """Probe each upload and listen to the valid ones, in parallel: one `MeasuredUpload` (info,
        analysis or the error) per upload, in order, for `pair_measured` and `add_to_queue` to reuse.
        `on_progress(done, total, name)` after each file is listened to (for a progress bar)."""
        return measure_uploads(uploads, self.store.temp_dir(), on_progress=on_progress)

    def pair(
        self,
        uploads: list[tuple[str, float | None]],
        set_rows: list[SetRow | SetRecord],
        analyses: list[AudioAnalysis | None] | None = None,
    ) -> list[Pairing]:
        """Uploads paired with sets; the sets' normalised names are made once per list of sets."""
        if self._pair_index is None or self._pair_index[0] is not set_rows:
            self._pair_index = (set_rows, SetIndex(set_rows))
        return pair_uploads(uploads, self._pair_index[1], analyses)

    def pair_measured(self, measured: list[MeasuredUpload], set_rows: list[SetRow | SetRecord]) -> list[Pairing]:
        """Pairings by name, then length and tempo, with `why`, `why_for(parse_id)` and the audio `verdict`."""
        return self.pair(
            [(m.name, m.info.duration_s if m.info else None) for m in measured],
            set_rows,
            [m.analysis for m in measured],
        )

    @staticmethod
    def audio_verdict(analysis: AudioAnalysis, set_row: SetRow | SetRecord) -> Verdict:
        """The render against a set: matches | doubtful | mismatch, with reasons."""
        return judge_row(analysis, set_row)

    @staticmethod
    def length_mismatch(info: AudioInfo, set_row: SetRow | SetRecord) -> str | None:
        """The warning Save would raise for this pairing (an MP3 far from the set's length), now."""
        return duration_mismatch(info.duration_s, row_reference(set_row)[2])

    def add_to_queue(
        self,
        queue: list[QueueEntry],
        artist: Artist,
        set_row: SetRow | SetRecord,
        upload: BinaryIO | bytes,
        *,
        name: str,
        info: AudioInfo,
        pairing: str,
        analysis: AudioAnalysis | None = None,
        by: str | None = None,
    ) -> QueueEntry:
        """A queue entry for the upload; it is listened to here unless `analysis` is given, and the
        entry keeps the analysis and its verdict against `set_row` (save reuses both)."""
        path = work_queue.spill_upload(upload, self.store.temp_dir())
        try:
            analysis = analysis or analyze_mp3(path, name=name)
        except BaseException:
            Path(path).unlink(missing_ok=True)  # no entry, so nothing else would remove it
            raise
        entry = QueueEntry(
            artist_id=artist["id"],
            parse_id=set_row["parse_id"],
            als_filename=set_row["als_filename"],
            audio_name=name,
            audio_path=path,
            audio=info,
            pairing=pairing,
            analysis=analysis,
            verdict=judge_row(analysis, set_row),
            by=by,
        )
        queue.append(entry)
        return entry

    def generate_entries(
        self, entries: list[QueueEntry], artist: Artist, *, on_progress: Progress | None = None
    ) -> None:
        """Captions for the entries; a writer that cannot be set up raises before any entry moves."""
        if not entries:
            return
        writer = get_writer(self.settings)
        work_queue.generate(
            entries, writer, self.master_schema(artist), artist, self._sets_of(artist, entries), on_progress=on_progress
        )

    def save_entries(self, entries: list[QueueEntry], artist: Artist, *, on_progress: Progress | None = None) -> None:
        work_queue.save(entries, self.store, artist, self._sets_of(artist, entries), on_progress=on_progress)

    def retry_entries(self, entries: list[QueueEntry], artist: Artist, *, on_progress: Progress | None = None) -> None:
        """Repeat the step each failed entry failed at: writing its caption, or saving it."""
        failed = [e for e in entries if e.state == "failed"]
        again = [e for e in failed if e.failed_step == "saving"]
        for entry in again:
            work_queue.move(entry, "review")
        self.generate_entries([e for e in failed if e not in again], artist, on_progress=on_progress)
        self.save_entries(again, artist, on_progress=on_progress)

    def update_entry_caption(self, entry: QueueEntry, artist: Artist) -> None:
        """An entry whose MP3 was saved before: its caption replaces the saved one, once confirmed
        when it has findings (else `entry.needs_confirmation` is set and nothing changes)."""
        if not work_queue.confirmed_for_update(entry):
            return
        item = self.update_caption(artist, entry.item_id, entry.caption)
        if entry.lyrics:  # pasted here for the MP3 saved earlier: they go onto its item too
            item = self.set_lyrics(artist, entry.item_id, entry.lyrics)
        work_queue.caption_updated(entry, item)

    @staticmethod
    def remove_entry(queue: list[QueueEntry], entry_id: str) -> None:
        work_queue.remove(queue, entry_id)

    @staticmethod
    def set_entry_lyrics(entry: QueueEntry, lyrics: str | None) -> None:
        """The lyrics pasted for a queue entry (blank: none); saved with its item, kept in the draft."""
        entry.lyrics = clean_lyrics(lyrics) or ""

    def entry_sung_without_lyrics(self, artist: Artist, entry: QueueEntry) -> str | None:
        """item_sung_without_lyrics of the item the entry would be saved as."""
        return self.item_sung_without_lyrics(artist, as_item(entry))

    def edit_entry(self, entry: QueueEntry, text: str, artist: Artist, master_schema: dict) -> None:
        """Keep the user's caption and fact-check it (once, here) against its set's summary."""
        work_queue.edit(entry, text, self._summary_of(artist, entry), master_schema, artist["name"])

    def edit_entry_variant(self, entry: QueueEntry, name: str, text: str, artist: Artist, master_schema: dict) -> None:
        """Keep the user's text of one caption variant (detailed, short, tags) and check it; Save stores it."""
        work_queue.edit_variant(entry, name, text, self._summary_of(artist, entry), master_schema, artist["name"])

    def use_variant(self, entry: QueueEntry, name: str, artist: Artist, master_schema: dict) -> None:
        """The variant `name` (as edited) becomes the entry's caption, checked as a caption."""
        self.edit_entry(entry, entry.variants[name], artist, master_schema)

    def _summary_of(self, artist: Artist, entry: QueueEntry) -> dict:
        return (self.set_summary(artist, entry.parse_id) or {}).get("summary") or {}

    # ---- the queue's draft in the store (trainmode/train/drafts.py) ---------------------------
    def save_draft(self, artist: Artist, entries: list[QueueEntry], by: str | None = None) -> None:
        """The artist's queue written to the store (new MP3s uploaded once); empty: discarded."""
        drafts.save(self.store, artist, entries, by)

    def restore_draft(self, artist: Artist) -> tuple[list[QueueEntry], str | None]:
        """The artist's saved queue (entries, when it last changed), or ([], None)."""
        return drafts.restore(self.store, artist, lambda p: self.set_summary(artist, p), self.master_schema(artist))

    def discard_draft(self, artist: Artist) -> None:
        drafts.discard(self.store, artist)

    def sweep_drafts(self) -> int:
        """Drafts untouched for a week go (rows and MP3s); returns how many."""
        return drafts.sweep(self.store)

    @staticmethod
    def draft_fingerprint(entries: list[QueueEntry]) -> str:
        return drafts.fingerprint(entries)

    # ---- one artist's queue shared by a team (#29): per-entry versions, trainmode/train/drafts.py ----
    @staticmethod
    def queue_sync() -> drafts.Synced:
        """What one session knows of the stored queue; hand the same object to pull_queue and push_queue."""
        return drafts.Synced()

    def pull_queue(self, artist: Artist, queue: list[QueueEntry], synced: drafts.Synced) -> tuple[set[str], list[str]]:
        """The artist's entries in `queue` brought up to the stored queue (others' changes, removals and
        new entries; a change made here to an entry someone else changed is dropped): (ids refreshed, notes)."""
        return drafts.pull(
            self.store, artist, queue, synced, lambda p: self.set_summary(artist, p), self.master_schema(artist)
        )

    def push_queue(
        self, artist: Artist, queue: list[QueueEntry], synced: drafts.Synced, by: str | None = None
    ) -> list[str]:
        """Store the entries this session changed or removed, each only if nobody changed it first
        (compare-and-set); returns notes on what was refused."""
        return drafts.push(self.store, artist, queue, synced, by)

    def _sets_of(self, artist: Artist, entries: list[QueueEntry]) -> dict[str, SetRecord]:
        return {e.parse_id: row for e in entries if (row := self.set_summary(artist, e.parse_id))}

    # ---- export -------------------------------------------------------------------------
    def export(
        self,
        artist: Artist,
        *,
        on_progress: ProgressFn | None = None,
        format: str = formats.DEFAULT,
        split: float | None = None,
        artist_name: bool = False,
        by: str | None = None,
        clips: str = "none",
        window_s: float = WINDOW_S,
    ) -> ExportResult:
        """Pack the ready items in `format` (see trainmode.export.formats), checked before it is stored;
        `by` is recorded as who exported; `clips` ('sections', 'windows') exports each item's
        section clips as the rows instead of the whole tracks, window clips of at most `window_s`
        (WINDOW_RANGE_S; another length with another mode is refused)."""
        result = export_dataset(
            self.store,
            artist,
            on_progress=on_progress,
            expires_s=self.settings.signed_url_expiry_s,
            format=format,
            split=split,
            artist_name=artist_name,
            clips=clips,
            window_s=window_s,
            license=self.settings.license,
        )
        if by:
            self.store.update_row("exports", result.export_id, {"created_by": by})
        return result

    def export_everything(
        self, artist: Artist, *, on_progress: ProgressFn | None = None, by: str | None = None, **options
    ) -> ExportResult:
        """Re-export all: a new dataset of every `ready` and `exported` item (after edits)."""
        deleting.unexport(self.store, self.list_items(artist, status="exported"))
        return self.export(artist, on_progress=on_progress, by=by, **options)

    @staticmethod
    def export_formats() -> dict[str, str]:
        """The dataset formats an export can write: {name: title}, the default first."""
        return {name: fmt.TITLE for name, fmt in formats.FORMATS.items()}

    def delete_export(self, artist: Artist, export_id: str) -> None:
        """The export's row and zip go; its items are `ready` again."""
        deleting.delete_export(self.store, artist, export_id)
        self.zips.forget(export_id)

    def list_exports(self, artist: Artist) -> list[Export]:
        return list(self.reads.call("exports", self.store.list_exports, artist["id"]))

    def export_download(self, export: Export) -> tuple[str, Path | None]:
        """(URL or path to hand the user, the zip's local file if the backend keeps one)."""
        path = export["zip_path"]
        return self.store.blob_url(path, self.settings.signed_url_expiry_s), self.store.local_path(path)

    # ---- what the Export page tells apart (#29) ---------------------------------------------
    @staticmethod
    def split_counts(items: list[dict], split: float | None) -> dict[str, int]:
        """How many of `items` an export with this train share puts on each side: {train, valid}."""
        sides = [split_of(i["id"], split) for i in items]
        return {"train": sides.count("train"), "valid": sides.count("valid")}

    def export_details(self, export: Export) -> ExportDetails:
        """What a past export holds (format, clips, split, rows) from its row; for an export made before
        its row recorded that, from its zip, read once ('?' where the zip cannot be read)."""
        contents = None
        if needs_zip(export):
            try:
                contents = self.zips.contents(export)
            except TrainModeError as exc:
                logging.getLogger(__name__).info("export %s: %s", export["id"], exc)
        return details_of(export, contents)

    # ---- browsing the dataset (pages/browse.py, #29) -----------------------------------------
    def browse_items(self, artist: dict) -> tuple[list[dict], dict[str, dict]]:
        """(each item's browse_row, the whole items by id), made once until a write changes the items:
        the Browse page filters and pages through thousands of them on every rerun."""
        return self.reads.call("training_items", self._browse_items, artist["id"])

    def _browse_items(self, artist_id: str) -> tuple[list[dict], dict[str, dict]]:
        items = self.store.list_items(artist_id)
        return [browse_row(i) for i in items], {i["id"]: i for i in items}

    def export_rows(self, export: Export, offset: int, limit: int) -> tuple[list[dict], int] | None:
        """A page of a complete export's rows as the trainer reads them: [{audio, split, sidecars:
        {name: text}}] and how many rows there are, read where the zip is stored (on Supabase, its
        directory and these rows' files only); None for an export that is not complete."""
        return self.zips.rows(export, offset, limit)

    def export_member(self, export: Export, name: str) -> bytes:
        """One file of an export's zip (a row's audio, for a player), read where the zip is stored."""
        return self.zips.member(export, name)

    def recaption_clips(
        self, artist: dict, item_id: str, mode: str = "sections", window_s: float = WINDOW_S
    ) -> list[dict]:
        """A saved item's clip captions (window clips of at most `window_s`) written again by the
        writer from what plays in each clip (edits and drops undone) and stored, through the same
        rules as reviewed ones."""
        item = self.store.get_item(item_id)
        if item is None:
            raise NotFoundError("That training item no longer exists.")
        set_row = self.set_summary(artist, item["parse_id"]) or self.find_set(artist, item["parse_id"])
        fresh = clip_review.planned_clips(
            self.store,
            get_writer(self.settings),
            artist,
            set_row,
            item,  # for what was heard in each clip; its length and offset cut them as the panel does
            mode=mode,
            window_s=window_s,
            keep_stored=False,  # written again: edits and drops undone
        )
        return self.save_clips(item, fresh, mode, artist=artist, window_s=window_s)

    def item_audio(self, item: dict) -> bytes:
        """A saved item's MP3 (for a player)."""
        with self.store.open_blob(item["audio_path"]) as fh:
            return fh.read()

    # ---- setup and tools ----------------------------------------------------------------
    def install_demo(self, echo: Callable[[str], object] = print) -> dict:
        from trainmode.ops.demo import install_demo  # the demo synthesises audio: numpy and lameenc only when asked

        return install_demo(self.store, self.settings, echo=echo)

    @staticmethod
    def summarize(path: Path):
        """Parse one .als file (no store needed): a ParsedSet."""
        from trainmode.sets.als import parse_als

        return parse_als(Path(path), filename=Path(path).name)

    @staticmethod
    def setup_supabase(
        settings: Settings, *, file_size_limit: int | None = None, echo: Callable[[str], object] = print
    ) -> list[str]:
        from trainmode.store.supabase.setup import setup_supabase  # supabase-py only for this backend

        return setup_supabase(settings, file_size_limit=file_size_limit, echo=echo)

    @staticmethod
    def analyze(source: BinaryIO | bytes | str | Path, name: str | None = None) -> tuple[AudioAnalysis, list[str]]:
        """Listen to an MP3 (tempo, key, loudness, peak, silence, clipping) and say what looks wrong."""
        analysis = analyze_mp3(source, name=name)
        return analysis, audio_warnings(analysis)

    @staticmethod
    def check_supabase(settings: Settings) -> list:
        """Read-only readiness checks of the Supabase project, one `Check` per line."""
        from trainmode.store.supabase.check import check_supabase  # supabase-py only for this backend

        return check_supabase(settings)

    @staticmethod
    def backup(settings: Settings, *, keep: int = backups.KEEP_BACKUPS) -> Path:
        """A backup of the embedded database under <data dir>/backups/ (the newest `keep` stay)."""
        return backups.backup_now(settings, keep=keep)

    @staticmethod
    def list_backups(settings: Settings) -> list[Path]:
        """The embedded database's backups, newest first."""
        return backups.list_backups(settings.data_dir)

    @staticmethod
    def restore_backup(settings: Settings, which: str = "latest") -> tuple[Path, Path | None]:
        """Put a backup back as the database: (the backup, where the replaced database was kept)."""
        return backups.restore(settings, which)

    @staticmethod
    def check_dataset(path: str | Path, format_name: str) -> list[str]:
        """The problems a trainer would have with a dataset zip or folder (empty: none)."""
        return formats.check_dataset(path, format_name)

    @staticmethod
    def dataset_report(path: str | Path, format_name: str) -> formats.Report:
        """What the format's trainer would make of a dataset zip or folder: `problems` (it would refuse
        it or train on nothing), `warnings` with their numbers, and what it `sees` (batches, cuts ...)."""
        return formats.dataset_report(path, format_name)
