"""Issue 20: the Train page pairs, labels and judges uploads from the narrow set rows (as the
Library reads them); a set's whole summary crosses the network only once an upload is queued
with it, once per set until a write, on the Supabase fake with many sets."""

import pytest
from fake_supabase import FakeSupabase

from tests.apptest_pages import app, click, goto, queue, upload
from trainmode.config import load_settings
from trainmode.service import TrainMode

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step

FILLERS = 60


def whole_summary_reads(fake: FakeSupabase, since: int) -> list[str]:
    """Which als_summaries rows the fake answered whole from request `since` on: each read's
    parse_id filter, or "every set" for a listing."""
    return [
        r.query.get("parse_id", ["every set"])[0].removeprefix("eq.")
        for r in fake.requests[since:]
        if r.method == "GET" and r.path == "/rest/v1/als_summaries"
    ]


def test_the_train_page_reads_whole_summaries_only_of_the_sets_it_queues(supabase, demo_files):
    tm = TrainMode.open(load_settings())
    tm.import_sets("Ada", [(als.name, als) for _, als, _ in demo_files])
    ada = tm.artist("Ada")
    template = tm.find_set(ada, demo_files[0][1].name)["summary"]
    for index in range(FILLERS):  # look-alikes that no upload is named after
        tm.store.add_summary(ada["id"], f"{index:032x}", f"filler_{index:02d}.als", template)
    whole = {r["parse_id"]: r for r in tm.list_sets(ada)}
    at = goto(app(), "train")
    start = len(supabase.requests)
    upload(at, [mp3 for _, _, mp3 in demo_files])
    at.run()
    pickers = [s for s in at.selectbox if s.label.startswith("Set for ")]
    paired = [s.value for s in pickers]
    assert [whole[p]["als_filename"] for p in paired] == [als.name for _, als, _ in demo_files]
    assert all(len(s.options) == 1 + len(whole) for s in pickers)  # every set offered, none read whole
    label = pickers[0].format_func(paired[0])
    assert label.startswith(f"{demo_files[0][1].name} — ") and "BPM" in label
    assert whole_summary_reads(supabase, start) == []

    click(at, "Add to queue")
    entries = queue(at)
    for entry in entries:  # the verdict judged from the narrow row is the one the whole summary gives
        assert entry.verdict == tm.audio_verdict(entry.analysis, whole[entry.parse_id])
    assert whole_summary_reads(supabase, start) == []
    click(at, "Generate all")
    assert all(e.state == "review" and e.caption for e in entries)
    assert sorted(whole_summary_reads(supabase, start)) == sorted(paired)  # the queued sets, once each
    at.run()
    at.run()
    assert len(whole_summary_reads(supabase, start)) == len(paired)  # kept between reruns
    click(at, "Save all reviewed")
    assert {i["parse_id"] for i in tm.list_items(ada)} == set(paired)
    assert len(whole_summary_reads(supabase, start)) == len(paired)
