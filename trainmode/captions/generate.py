"""Write captions: the one generate path, for one set or many.

    results = generate_many([Job(summary, schema, key=row_id) for ...], writer,
                            max_workers=8, on_progress=lambda done, total, r: bar.progress(done / total))

Each result is a `Generation`: the caption and what the fact checker found in it, or
the error that stopped it. Captions are written on worker threads (the OpenAI client
is thread-safe and the work is waiting on the network); `on_progress` runs on the
calling thread, so a Streamlit page can update its widgets from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from trainmode.captions.factcheck import Finding, check_caption, check_variants
from trainmode.captions.writers.base import CaptionWriter, GeneratedCaption, Heard
from trainmode.errors import TrainModeError

DEFAULT_MAX_WORKERS = 8
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    summary: dict
    master_schema: dict = field(default_factory=dict)
    key: str | None = None  # the caller's id for this job (e.g. a queue entry id), echoed back
    artist_name: str | None = None  # for the fact check: captions must not name the artist
    heard: Heard = None  # the tagger's tags for this audio (Tags or its dict); None: not listened to
    audio: bytes | str | None = None  # the render (MP3/WAV bytes or path), for a writer that listens


@dataclass(frozen=True)
class Generation:
    """A generated caption and what the fact checker found in it, or why it failed."""

    job: Job
    caption: GeneratedCaption | None = None
    findings: list[Finding] = field(default_factory=list)
    variant_findings: dict[str, list[Finding]] = field(default_factory=dict)  # the same check on every variant
    error: str | None = None  # a user-facing message when writing failed
    index: int = 0  # position in the batch
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        """JSON-ready: what the CLI prints."""
        empty = {
            "text": None,
            "model": None,
            "version": None,
            "writer": None,
            "provenance": {},
            "metadata": {},
            "variants": {},
        }
        out = self.caption.to_dict() if self.caption else empty
        out["caption"] = out.pop("text")
        out["captions"] = out.pop("variants")
        return {
            "key": self.job.key,
            "ok": self.ok,
            "error": self.error,
            **out,
            "findings": [f.to_dict() for f in self.findings],
            "caption_findings": {name: [f.to_dict() for f in found] for name, found in self.variant_findings.items()},
        }


ProgressCallback = Callable[[int, int, Generation], None]


def generate_one(job: Job, writer: CaptionWriter, index: int = 0) -> Generation:
    """Write and fact-check one caption. Raises the writer's TrainModeError on failure."""
    started = time.monotonic()
    # Only what there is: a writer written before listening existed still works.
    extra = {k: v for k, v in (("heard", job.heard), ("audio", job.audio)) if v is not None}
    caption = writer.write(job.summary, job.master_schema, artist_name=job.artist_name, **extra)
    findings = check_caption(caption.text, job.summary, job.master_schema, artist_name=job.artist_name)
    by_variant = check_variants(caption.variants, job.summary, job.master_schema, artist_name=job.artist_name)
    return Generation(job, caption, list(findings), by_variant, index=index, elapsed_s=time.monotonic() - started)


def _isolated(job: Job, writer: CaptionWriter, index: int) -> Generation:
    started = time.monotonic()
    try:
        return generate_one(job, writer, index)
    except TrainModeError as exc:
        error = str(exc)
    except Exception as exc:  # a bug in one job must not cost the other 99 their captions
        log.error("caption job %d failed unexpectedly", index, exc_info=True)
        error = f"Unexpected {exc.__class__.__name__} while writing this caption (a bug: the details are in the log)."
    return Generation(job, error=error, index=index, elapsed_s=time.monotonic() - started)


def generate_many(
    jobs: Iterable[Job],
    writer: CaptionWriter,
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    on_progress: ProgressCallback | None = None,
) -> list[Generation]:
    """One Generation per job, in input order; at most `max_workers` captions in flight.

    A failed job has `.error` set and the others carry on. `on_progress(done, total,
    result)` is called on the calling thread as each job finishes; if it raises
    (a page being left), jobs not yet started are cancelled and the error propagates.
    """
    jobs = list(jobs)
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    results: list[Generation | None] = [None] * len(jobs)
    if not jobs:
        return []
    pool = ThreadPoolExecutor(max_workers=min(max_workers, len(jobs)), thread_name_prefix="trainmode-caption")
    try:
        futures: dict[Future, int] = {pool.submit(_isolated, job, writer, i): i for i, job in enumerate(jobs)}
        for done, future in enumerate(as_completed(futures), start=1):
            result = future.result()
            results[futures[future]] = result
            if on_progress:
                on_progress(done, len(jobs), result)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results  # type: ignore[return-value]  # every slot is filled once as_completed is exhausted
