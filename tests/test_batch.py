"""Batch generation: bounded concurrency, input order, isolated failures, progress."""

from __future__ import annotations

import re
import threading

import pytest
from fake_openai import GOOD_KEY, FakeOpenAI, Reply, captions_json

from trainmode.captions.generate import Job, generate_many, generate_one
from trainmode.captions.writers.openai_writer import OpenAIWriter
from trainmode.errors import WriterError


def job(bpm: int) -> Job:
    summary = {
        "schema_version": 1,
        "tempo": {"bpm": float(bpm)},
        "time_signature": "4/4",
        "tracks": [{"name": "Drums", "type": "midi", "devices": ["Drum Rack"]}],
    }
    return Job(summary, {"genres": ["techno"]}, key=f"set-{bpm}", artist_name="Nova Lane")


def echo_tempo(context: str) -> str:
    """A model that writes the set's tempo back; 'tempo: 13x' sets get an empty answer."""
    bpm = re.search(r"tempo: (\d+) BPM", context).group(1)
    if bpm.startswith("13"):
        return ""
    return captions_json(
        f"Hypnotic techno at {bpm} BPM with relentless drums and little else, a kick that never lets up, "
        "hi-hats ticking over it and a dry, punchy low end.",
        f"Hypnotic techno at {bpm} BPM.",
        ["techno", "drums", f"{bpm} bpm", "4/4", "hypnotic"],
    )


@pytest.fixture
def fake():
    with FakeOpenAI(default=Reply(caption=echo_tempo, latency=0.15)) as server:
        yield server


@pytest.fixture
def writer(fake):
    return OpenAIWriter(GOOD_KEY, base_url=fake.base_url, max_retries=0)


def test_concurrency_is_bounded_and_order_kept(fake, writer):
    jobs = [job(100 + i) for i in range(12)]
    results = generate_many(jobs, writer, max_workers=3)
    assert 2 <= fake.max_in_flight <= 3
    assert [r.index for r in results] == list(range(12))
    assert [r.job.key for r in results] == [j.key for j in jobs]
    assert [r.caption.metadata["bpm"] for r in results] == [100.0 + i for i in range(12)]
    assert all(f"at {100 + i} BPM" in r.caption.text for i, r in enumerate(results))
    assert all(r.ok and r.findings == [] for r in results)
    assert all(r.variant_findings == {"detailed": [], "short": [], "tags": []} for r in results)


def test_a_failed_job_does_not_stop_the_others(fake, writer):
    jobs = [job(bpm) for bpm in (120, 130, 140)]  # 130 gets an empty answer
    results = generate_many(jobs, writer, max_workers=2)
    assert [r.ok for r in results] == [True, False, True]
    assert "without a usable caption" in results[1].error and results[1].caption is None
    assert results[1].to_dict()["error"] == results[1].error


def test_progress_is_reported_on_the_calling_thread(writer):
    calls = []
    generate_many(
        [job(100 + i) for i in range(5)],
        writer,
        max_workers=2,
        on_progress=lambda done, total, r: calls.append((done, total, r.job.key, threading.get_ident())),
    )
    assert [(done, total) for done, total, _, _ in calls] == [(i, 5) for i in range(1, 6)]
    assert sorted(key for _, _, key, _ in calls) == sorted(f"set-{100 + i}" for i in range(5))
    assert {ident for *_, ident in calls} == {threading.get_ident()}


def test_a_failing_progress_callback_cancels_what_has_not_started(fake, writer):
    def stop(done, total, result):
        raise KeyboardInterrupt  # e.g. the page is being left

    with pytest.raises(KeyboardInterrupt):
        generate_many([job(100 + i) for i in range(20)], writer, max_workers=2, on_progress=stop)
    assert len(fake.requests) < 20


def test_findings_ride_along_with_each_result(fake, writer):
    fake.default = Reply(caption="Nova Lane's techno at 150 BPM with relentless drums and a saxophone solo.")
    [result] = generate_many([job(120)], writer)
    assert {f["code"] for f in result.to_dict()["findings"]} == {
        "artist_name",
        "tempo_mismatch",
        "unsupported_instrument",
    }


def test_generate_one_raises_for_a_single_caption(fake, writer):
    with pytest.raises(WriterError, match="usable caption"):
        generate_one(job(130), writer)
    assert generate_one(job(120), writer).to_dict()["caption"].startswith("Hypnotic techno at 120 BPM")


def test_unexpected_errors_are_isolated_too_and_logged_as_bugs(caplog):
    class Flaky:
        name = "flaky"

        def write(self, summary, master_schema, *, artist_name=None):
            raise RuntimeError("bug")

    [result] = generate_many([job(120)], Flaky())
    assert result.error == "Unexpected RuntimeError while writing this caption (a bug: the details are in the log)."
    [record] = [r for r in caplog.records if r.name == "trainmode.captions.generate"]
    assert record.levelname == "ERROR" and "RuntimeError: bug" in caplog.text  # the traceback is kept
    assert generate_many([], Flaky()) == []
