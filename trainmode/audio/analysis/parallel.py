"""Many MP3s at once: one process per core (essentia's analysis is single-threaded C++)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from trainmode.audio.analysis.measure import analyze_mp3
from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.errors import AudioError

FileProgress = Callable[[int, int, str], None]  # (files done, files in all, the name of the one just done)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _one(path: str | os.PathLike) -> AudioAnalysis | AudioError:
    """A refused file is a result, not a failure of the batch; a bug still raises."""
    try:
        return analyze_mp3(path)
    except AudioError as e:
        return e


def analyze_many(
    paths: Sequence[str | os.PathLike],
    max_workers: int | None = None,
    on_progress: FileProgress | None = None,
    names: Sequence[str] | None = None,
) -> list[AudioAnalysis | AudioError]:
    """analyze_mp3 for every path, in the same order; a file that is not a usable MP3 gives its
    AudioError in its place. Runs in up to `max_workers` processes (default: the usable cores).
    `on_progress(done, total, name)` is called as each file is done (`names`: what to call them)."""
    names = list(names) if names is not None else [os.path.basename(p) for p in paths]
    workers = min(len(paths), max_workers or available_cores())
    results: list[AudioAnalysis | AudioError | None] = [None] * len(paths)

    def done(i: int, result: AudioAnalysis | AudioError) -> None:
        results[i] = result
        if on_progress:
            on_progress(sum(r is not None for r in results), len(paths), names[i])

    if workers <= 1:
        for i, path in enumerate(paths):
            done(i, _one(path))
        return results
    # forkserver: workers start from a clean process, not a fork of a threaded app (Streamlit);
    # the server imports essentia and the tagger once (takes effect when this process starts its forkserver).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["trainmode.audio.analysis.warm"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_one, path): i for i, path in enumerate(paths)}
        for future in as_completed(futures):
            done(futures[future], future.result())
    return results
