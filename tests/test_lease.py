"""Lease owners and the heartbeat thread (trainmode/store/lease.py)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from dead_process import dead_owner_tag
from fake_supabase import FakeSupabase

from trainmode.errors import ExportBusyError
from trainmode.export.build import export_dataset
from trainmode.store import EmbeddedStore, lease
from trainmode.store import embedded as embedded_module
from trainmode.store.supabase.store import SupabaseStore


def test_an_owner_names_this_live_process_and_a_finished_one_is_dead():
    mine = lease.new_owner()
    assert mine.startswith(lease.owner_tag() + "-") and mine != lease.new_owner()  # a token per export
    assert not lease.is_dead(mine)
    assert lease.is_dead(dead_owner_tag() + "-token")


def test_a_reused_pid_other_hosts_and_garbage_are_not_taken_for_the_holder():
    tag = lease.owner_tag()
    started = tag.rsplit("s", 1)[1]
    reused = tag.replace(f"s{started}", f"s{int(started) + 1}")  # same pid, another process start
    assert lease.is_dead(reused)
    other_host = tag.replace(lease.host_id(), "0" * 8 if lease.host_id() != "0" * 8 else "1" * 8)
    assert not lease.is_dead(other_host)  # another machine: only its heartbeat can tell
    assert not lease.is_dead(None) and not lease.is_dead("") and not lease.is_dead("dataset.zip")
    assert not lease.is_dead(f"tm{lease.host_id()}p1s0")  # init: alive (no start time recorded)


class Beats:
    def __init__(self, answers):
        self.answers, self.calls = list(answers), 0
        self.done = threading.Event()

    def heartbeat_export(self, export_id):
        self.calls += 1
        if len(self.answers) == 1:
            self.done.set()
        return self.answers.pop(0) if self.answers else True


def test_the_heartbeat_renews_until_the_block_ends_and_notices_a_lost_lease():
    store = Beats([True, True, False])
    with lease.Heartbeat(store, "e1", every_s=0.001) as beat:
        assert store.done.wait(10)
    beat._thread.join(10)
    assert beat.lost and store.calls == 3  # it stopped at the first False
    idle = Beats([True] * 1000)
    with lease.Heartbeat(idle, "e2", every_s=3600) as beat:
        pass
    assert idle.calls == 0 and not beat.lost and not beat._thread.is_alive()


def test_owner_tags_are_safe_in_file_names():
    assert os.sep not in lease.owner_tag() and lease.owner_tag().isalnum()


def test_a_running_export_renews_its_lease(store, monkeypatch):
    monkeypatch.setattr(lease, "HEARTBEAT_S", 0.01)
    artist = store.ensure_artist("Ada")
    summary, _ = store.add_summary(artist["id"], "p1", "a.als", {})
    item_id = str(uuid.uuid4())
    base = f"artists/{artist['id']}/items/{item_id}"
    store.put_blob(f"{base}/audio.mp3", b"ID3" + b"\0" * 997, "audio/mpeg")
    store.insert_item(
        {
            "id": item_id,
            "artist_id": artist["id"],
            "als_summary_id": summary["id"],
            "parse_id": "p1",
            "audio_path": f"{base}/audio.mp3",
            "prompt_path": f"{base}/prompt.txt",
            "prompt_text": "warm",
            "audio_sha256": "ab" * 32,
            "audio_bytes": 1000,
        }
    )
    renewed = []

    def wait_for_a_heartbeat(progress):  # hold the export mid-run until its lease was renewed
        if progress.stage == "writing" and not renewed:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                [running] = store.list_exports(artist["id"])
                if running["heartbeat_at"] > running["created_at"]:
                    renewed.append(running)
                    return
                time.sleep(0.01)

    result = export_dataset(store, artist, on_progress=wait_for_a_heartbeat)
    assert renewed and renewed[0]["status"] == "building" and result.item_count == 1


# ---- one clock decides (#30) ---------------------------------------------------------------
class _FastDatetime(datetime):
    """This host's wall clock an hour ahead of everyone else's."""

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + timedelta(hours=1)


@pytest.fixture(params=["embedded", "supabase-fake"])
def lease_store(request, tmp_path):
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "data")
        yield s
        s.close()
    else:
        with FakeSupabase() as fake:
            fake.add_bucket("train-mode")
            s = SupabaseStore(fake.url, fake.key)
            yield s
            s.close()


def test_a_host_whose_clock_runs_an_hour_fast_cannot_take_over_a_live_export(lease_store, monkeypatch):
    """The live export holds its lease; a second host (another host id, its wall clock an hour
    ahead) must be told it is busy: the lease's age is the database's to measure, not this host's."""
    artist = lease_store.ensure_artist("Ada")
    first = lease_store.begin_export({"id": str(uuid.uuid4()), "artist_id": artist["id"], "zip_path": "exports/a.zip"})
    monkeypatch.setattr(lease, "host_id", lambda: "f" * 8 if first["lease_owner"][2:10] != "f" * 8 else "e" * 8)
    monkeypatch.setattr(embedded_module, "datetime", _FastDatetime)
    monkeypatch.setattr(time, "time", lambda real=time.time: real() + 3600)
    with pytest.raises(ExportBusyError, match="already running"):
        lease_store.begin_export({"id": str(uuid.uuid4()), "artist_id": artist["id"], "zip_path": "exports/b.zip"})
    assert lease_store.heartbeat_export(first["id"]) is True  # still its holder's


def test_a_failed_export_whose_failure_was_not_recorded_does_not_block_the_next_one(store, settings, monkeypatch):
    """A page's export fails and even marking it failed fails (the database was busy): the artist must
    not be "already running" for the lease's 30 s, since this very process knows it has stopped."""
    from trainmode.errors import DatasetError, StoreError
    from trainmode.export import formats
    from trainmode.ops.demo import DEMO_ARTIST, install_demo
    from trainmode.service import TrainMode

    install_demo(store, settings, echo=lambda *_: None)
    tm, artist = TrainMode(store, settings), store.find_artist(DEMO_ARTIST)
    real_check, real_fail = formats.require_valid, store.fail_export

    def refuse(*_args, **_kwargs):
        raise DatasetError("injected: the zip breaks its format")

    @contextmanager
    def locked():
        raise StoreError("injected: database is locked")
        yield

    def cannot_record(export_id, error):  # the real fail_export, its write refused
        with monkeypatch.context() as m:
            m.setattr(store, "_tx", locked)
            real_fail(export_id, error)

    monkeypatch.setattr(formats, "require_valid", refuse)
    monkeypatch.setattr(store, "fail_export", cannot_record)
    with pytest.raises(DatasetError):
        tm.export(artist)
    assert [e["status"] for e in store.list_exports(artist["id"])] == ["building"]  # the row says running
    monkeypatch.setattr(formats, "require_valid", real_check)
    monkeypatch.setattr(store, "fail_export", real_fail)
    started = time.monotonic()
    result = tm.export(artist)  # at once, not after 30 s
    assert result.item_count == 2 and time.monotonic() - started < lease.LEASE_S
    by_status = sorted(e["status"] for e in store.list_exports(artist["id"]))
    assert by_status == ["complete", "failed"]
    assert next(e for e in store.list_exports(artist["id"]) if e["status"] == "failed")["error"] == lease.ENDED_HERE
