"""Generate many captions at once: bounded concurrency, one failure never stops the rest.

    results = generate_many([Job(summary, schema, key=row_id) for ...], writer,
                            max_workers=8, on_progress=lambda done, total, r: bar.progress(done / total))
    results = retry_failed(results, writer)   # only the failed ones run again

Captions are written on worker threads (the OpenAI client is thread-safe and the
work is waiting on the network); `on_progress` runs on the calling thread, so a
Streamlit page can update its widgets from it.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from .errors import TrainModeError, WriterError
from .factcheck import Finding, check_caption, check_variants
from .writers.base import GeneratedCaption, PromptWriter

DEFAULT_MAX_WORKERS = 8
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    summary: dict
    master_schema: dict = field(default_factory=dict)
    key: str | None = None          # the caller's id for this job (e.g. an als_summaries id), echoed back
    artist_name: str | None = None  # for the fact check: captions must not name the artist


@dataclass(frozen=True)
class JobResult:
    index: int                       # position in the input
    job: Job
    prompt: GeneratedCaption | None = None
    findings: list[Finding] = field(default_factory=list)
    variant_findings: dict[str, list[Finding]] = field(default_factory=dict)  # the same check on every variant
    error: str | None = None         # a user-facing message when the job failed
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        """JSON-ready: what the CLI prints and a page shows."""
        out = {"key": self.job.key, "ok": self.ok, "error": self.error}
        out.update(self.prompt.to_dict() if self.prompt else
                   {"text": None, "model": None, "version": None, "writer": None, "provenance": {}, "metadata": {},
                    "variants": {}})
        out["findings"] = [f.to_dict() for f in self.findings]
        out["variant_findings"] = {k: [f.to_dict() for f in v] for k, v in self.variant_findings.items()}
        return out


ProgressCallback = Callable[[int, int, JobResult], None]


def generate_one(job: Job, writer: PromptWriter, index: int = 0) -> JobResult:
    """Write and fact-check one caption. Raises the writer's TrainModeError on failure."""
    started = time.monotonic()
    prompt = writer.write(job.summary, job.master_schema, artist_name=job.artist_name)
    findings = check_caption(prompt.text, job.summary, job.master_schema, artist_name=job.artist_name)
    by_variant = check_variants(prompt.variants, job.summary, job.master_schema, artist_name=job.artist_name)
    return JobResult(index, job, prompt, findings, by_variant, elapsed_s=time.monotonic() - started)


def _isolated(job: Job, writer: PromptWriter, index: int) -> JobResult:
    started = time.monotonic()
    try:
        return generate_one(job, writer, index)
    except TrainModeError as exc:
        error = str(exc)
    except Exception as exc:  # a bug in one job must not cost the other 99 their captions
        log.debug("caption job %d failed", index, exc_info=True)
        error = str(WriterError(f"Unexpected {exc.__class__.__name__} while writing this caption; try it again."))
    return JobResult(index, job, error=error, elapsed_s=time.monotonic() - started)


def generate_many(jobs: Iterable[Job], writer: PromptWriter, *, max_workers: int = DEFAULT_MAX_WORKERS,
                  on_progress: ProgressCallback | None = None) -> list[JobResult]:
    """One JobResult per job, in input order; at most `max_workers` captions in flight.

    A failed job has `.error` set and the others carry on. `on_progress(done, total,
    result)` is called on the calling thread as each job finishes; if it raises
    (a page being left), jobs not yet started are cancelled and the error propagates.
    """
    jobs = list(jobs)
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    results: list[JobResult | None] = [None] * len(jobs)
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


def retry_failed(results: list[JobResult], writer: PromptWriter, *, max_workers: int = DEFAULT_MAX_WORKERS,
                 on_progress: ProgressCallback | None = None) -> list[JobResult]:
    """Run the failed jobs again; successes are kept. Same order as `results`."""
    failed = [pos for pos, r in enumerate(results) if not r.ok]

    def renumber(r: JobResult) -> JobResult:  # back to the index of the original run
        return replace(r, index=results[failed[r.index]].index)

    retried = generate_many([results[pos].job for pos in failed], writer, max_workers=max_workers,
                            on_progress=(lambda d, t, r: on_progress(d, t, renumber(r))) if on_progress else None)
    merged = list(results)
    for result in retried:
        merged[failed[result.index]] = renumber(result)
    return merged
