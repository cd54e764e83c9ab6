"""The Train queue's state machine and upload spilling."""

import io
from pathlib import Path

import pytest

from trainmode.errors import ValidationError
from trainmode.train import work_queue as q


def entry(tmp_path, name="a.mp3"):
    path = q.spill_upload(io.BytesIO(b"ID3 data"), str(tmp_path))
    return q.QueueEntry(artist_id="a1", parse_id="p1", als_filename="a.als", audio_name=name, audio_path=path)


def test_an_upload_is_spilled_to_a_file_not_kept_in_the_queue(tmp_path):
    e = entry(tmp_path)
    assert Path(e.audio_path).read_bytes() == b"ID3 data"
    assert not any(isinstance(v, (bytes, io.IOBase)) for v in vars(e).values())


def test_the_happy_path_and_progress(tmp_path):
    queue = [entry(tmp_path), entry(tmp_path, "b.mp3")]
    first = queue[0]
    for state in ("generating", "review", "saving", "saved"):
        q.move(first, state)
    assert q.counts(queue)["saved"] == 1 and q.progress(queue) == 0.5


def test_a_failure_keeps_its_message_and_can_be_retried(tmp_path):
    e = entry(tmp_path)
    q.move(e, "generating")
    q.move(e, "failed", error="OpenAI timed out")
    assert e.error == "OpenAI timed out"
    q.move(e, "generating")
    assert e.error is None


def test_impossible_moves_are_refused(tmp_path):
    e = entry(tmp_path)
    with pytest.raises(ValidationError, match="pending to saved"):
        q.move(e, "saved")
    q.move(e, "generating"), q.move(e, "review"), q.move(e, "saving"), q.move(e, "saved")
    with pytest.raises(ValidationError):
        q.move(e, "pending")


def test_removing_an_entry_deletes_its_spilled_upload(tmp_path):
    queue = [entry(tmp_path)]
    path = Path(queue[0].audio_path)
    q.remove(queue, queue[0].id)
    assert queue == [] and not path.exists()
