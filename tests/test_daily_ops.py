"""Daily operations through the door, on both backends: change a saved caption, delete an
item / a set / an export / an artist (rows and files), re-export everything."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from fake_supabase import FakeSupabase

from trainmode.errors import NotFoundError, ValidationError
from trainmode.service import SaveRequest, TrainMode
from trainmode.store import EmbeddedStore
from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES
from trainmode.store.supabase.store import SupabaseStore


@pytest.fixture(params=["embedded", "supabase-fake"])
def tm(request, data_dir, settings):
    if request.param == "embedded":
        store = EmbeddedStore(data_dir)
        yield TrainMode(store, settings)
        store.close()
        return
    with FakeSupabase() as fake:
        fake.add_bucket("train-mode", file_size_limit=50 * 1024 * 1024, allowed_mime_types=ALLOWED_MIME_TYPES)
        store = SupabaseStore(fake.url, fake.key)
        store.fake = fake
        yield TrainMode(store, settings)
        store.close()


def blob_exists(tm: TrainMode, path: str) -> bool:
    try:
        with tm.store.open_blob(path) as fh:
            fh.read(1)
        return True
    except NotFoundError:
        return False


@pytest.fixture
def saved(tm, demo_files):
    """Ada with the demo sets and two saved items."""
    tm.import_sets("Ada", [(als.name, als) for _, als, _ in demo_files])
    ada = tm.artist("Ada")
    items = []
    for _, als, mp3 in demo_files[:2]:
        row = tm.find_set(ada, als.name)
        items.append(
            tm.save(ada, row, SaveRequest(audio=mp3, audio_name=mp3.name, caption="A calm track.", confirm=True)).item
        )
    return ada, items


@pytest.mark.slow
def test_a_saved_caption_can_be_updated_and_is_marked_edited(tm, saved):
    ada, (item, _) = saved
    updated = tm.update_caption(ada, item["id"], "A darker track with pads.")
    assert updated["prompt_text"] == "A darker track with pads." and updated["prompt_edited"]
    with tm.store.open_blob(item["prompt_path"]) as fh:
        assert fh.read().decode().strip() == "A darker track with pads."
    with pytest.raises(ValidationError):
        tm.update_caption(ada, item["id"], "   ")


def test_deleting_an_item_deletes_its_files(tm, saved):
    ada, (item, other) = saved
    tm.delete_item(ada, item["id"])
    assert [i["id"] for i in tm.list_items(ada)] == [other["id"]]
    assert not blob_exists(tm, item["audio_path"]) and not blob_exists(tm, item["prompt_path"])
    assert blob_exists(tm, other["audio_path"])
    with pytest.raises(NotFoundError):
        tm.delete_item(ada, item["id"])


def test_a_set_in_use_is_refused_unless_its_items_go_with_it(tm, saved):
    ada, (item, _) = saved
    with pytest.raises(ValidationError, match="used by 1 training item"):
        tm.delete_set(ada, item["parse_id"])
    assert tm.delete_set(ada, item["parse_id"], with_items=True) == 1
    assert item["parse_id"] not in {r["parse_id"] for r in tm.list_sets(ada)}
    assert not blob_exists(tm, item["audio_path"])
    unused = next(r for r in tm.list_sets(ada) if r["parse_id"] not in {i["parse_id"] for i in tm.list_items(ada)})
    assert tm.delete_set(ada, unused["parse_id"]) == 0


def test_re_export_all_builds_a_second_dataset_with_every_item(tm, saved):
    ada, items = saved
    first = tm.export(ada)
    assert first.item_count == 2 and not tm.list_items(ada, status="ready")
    tm.update_caption(ada, items[0]["id"], "Edited after the export.")
    second = tm.export_everything(ada)
    assert second.item_count == 2 and second.export_id != first.export_id
    assert len(tm.list_exports(ada)) == 2
    assert {i["export_id"] for i in tm.list_items(ada)} == {second.export_id}
    if second.local_path:
        with zipfile.ZipFile(second.local_path) as zf:
            assert any("Edited after the export." in zf.read(n).decode() for n in zf.namelist() if n.endswith(".txt"))


def test_deleting_an_export_makes_its_items_ready_again(tm, saved):
    ada, _ = saved
    result = tm.export(ada)
    tm.delete_export(ada, result.export_id)
    assert not tm.list_exports(ada) and not blob_exists(tm, result.zip_path)
    assert len(tm.list_items(ada, status="ready")) == 2


def test_deleting_an_artist_needs_its_name_and_takes_everything(tm, saved, demo_files):
    ada, items = saved
    export = tm.export(ada)
    _, als, mp3 = demo_files[2]
    queue = []
    entry = tm.add_to_queue(
        queue,
        ada,
        tm.find_set(ada, als.name),
        mp3.read_bytes(),
        name=mp3.name,
        info=tm.measure_upload(mp3, mp3.name),
        pairing="same name",
    )
    tm.save_draft(ada, queue)
    with pytest.raises(ValidationError, match="Type the artist's name"):
        tm.delete_artist(ada, "Ad")
    tm.delete_artist(ada, "ada")
    assert tm.list_artists() == []
    assert not tm.list_items(ada) and not tm.list_sets(ada) and not tm.list_exports(ada)
    assert not any(blob_exists(tm, p) for i in items for p in (i["audio_path"], i["prompt_path"]))
    assert not blob_exists(tm, export.zip_path) and not blob_exists(tm, entry.draft_blob)
    assert tm.store.get_draft(ada["id"]) is None
    tm.create_artist("Ada")  # the name is free again


def queued(tm: TrainMode, ada: dict, demo_files, by: str | None = None):
    """A queue holding the third demo MP3, paired with its set: (queue, entry)."""
    _, als, mp3 = demo_files[2]
    queue = []
    entry = tm.add_to_queue(
        queue,
        ada,
        tm.find_set(ada, als.name),
        mp3.read_bytes(),
        name=mp3.name,
        info=tm.measure_upload(mp3, mp3.name),
        pairing="same name",
        by=by,
    )
    return queue, entry


def test_a_queue_draft_is_restored_with_its_mp3s_and_discarded_with_them(tm, saved, demo_files):
    ada, _ = saved
    mp3 = demo_files[2][2]
    queue, entry = queued(tm, ada, demo_files, by="kim")
    tm.generate_entries(queue, ada)
    entry.caption = "My own words for it."
    tm.save_draft(ada, queue, by="kim")
    blob = entry.draft_blob
    assert blob and blob_exists(tm, blob)

    restored, when = tm.restore_draft(ada)  # a reload, another browser
    [again] = restored
    assert when and again.id == entry.id and again.state == "review" and again.caption == "My own words for it."
    assert again.by == "kim" and again.audio == entry.audio and again.generated == entry.generated
    with open(again.audio_path, "rb") as fh:
        assert fh.read() == mp3.read_bytes()
    again.confirmed = True  # "Save anyway" (a non-blocking finding)
    tm.save_entries(restored, ada)
    assert again.state == "saved", again.error
    assert tm.store.get_item(again.item_id)["created_by"] == "kim"
    tm.save_draft(ada, restored)
    assert not blob_exists(tm, blob)  # a saved entry needs no draft MP3
    tm.discard_draft(ada)
    assert tm.restore_draft(ada) == ([], None)


def test_a_restored_draft_keeps_its_audio_verdict_and_is_not_listened_to_again(tm, saved, demo_files, monkeypatch):
    from trainmode.train import save as saving

    ada, _ = saved
    queue, entry = queued(tm, ada, demo_files)
    tm.generate_entries(queue, ada)
    tm.save_draft(ada, queue)

    [again], _ = tm.restore_draft(ada)  # a reload: the verdict is shown again
    assert again.analysis is not None and again.verdict is not None
    assert again.verdict.verdict == entry.verdict.verdict
    assert again.analysis.bpm == pytest.approx(entry.analysis.bpm, abs=0.01)

    def listened(*_args, **_kwargs):
        raise AssertionError("save listened to the MP3 again")

    monkeypatch.setattr(saving, "analyze_mp3", listened)
    again.confirmed = True
    tm.save_entries([again], ada)
    assert again.state == "saved", again.error
    heard = tm.store.get_item(again.item_id)["metadata"]["audio"]
    assert heard["bpm"] == pytest.approx(entry.analysis.bpm, abs=0.01)


def test_drafts_older_than_a_week_are_swept(tm, saved, demo_files):
    from datetime import UTC, datetime, timedelta

    from trainmode.train import drafts

    ada, _ = saved
    queue, entry = queued(tm, ada, demo_files)
    tm.save_draft(ada, queue)
    assert drafts.sweep(tm.store, datetime.now(UTC) + timedelta(days=6)) == 0
    assert Path(entry.audio_path).exists()
    assert drafts.sweep(tm.store, datetime.now(UTC) + timedelta(days=8)) == 1
    assert tm.restore_draft(ada) == ([], None) and not blob_exists(tm, entry.draft_blob)
    assert not Path(entry.audio_path).exists()  # the spilled upload of a long-closed tab


def test_exports_record_who_exported(tm, saved):
    ada, _ = saved
    result = tm.export(ada, by="kim")
    assert [e["created_by"] for e in tm.list_exports(ada)] == ["kim"] and result.item_count == 2


def test_the_cli_records_by_or_user(data_dir, demo_files, monkeypatch):
    from trainmode import cli

    (_, als, mp3), (_, als2, mp3_2) = demo_files[:2]
    monkeypatch.setenv("USER", "ops-bot")
    assert cli.main(["import", "--artist", "Cy", str(als), str(als2)]) == 0
    assert cli.main(["save", "--artist", "Cy", "--als", als.name, "--audio", str(mp3), "--generate", "--force"]) == 0
    assert (
        cli.main(
            [
                "save",
                "--artist",
                "Cy",
                "--als",
                als2.name,
                "--audio",
                str(mp3_2),
                "--generate",
                "--force",
                "--by",
                "Kim",
            ]
        )
        == 0
    )
    assert cli.main(["export", "--artist", "Cy", "--by", "Lee"]) == 0
    store = EmbeddedStore(data_dir)
    cy = store.find_artist("Cy")["id"]
    assert sorted(i["created_by"] for i in store.list_items(cy)) == ["Kim", "ops-bot"]
    assert [e["created_by"] for e in store.list_exports(cy)] == ["Lee"]
    store.close()
