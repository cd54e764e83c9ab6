"""AppTest: lyrics on the Train page (kept in the queue's draft, saved with the item, in the ACE-Step
export's lyrics file), the 🎤 hint on a sung track without lyrics, and a saved item's lyrics
edited and removed on the Browse page."""

from __future__ import annotations

import zipfile

import pytest

from tests.als_synth import audio_clip, device, live_set, midi_clip, track
from tests.apptest_pages import app, badges, button, click, goto, queue, train_page_with, upload
from trainmode.sets.importing import import_sets

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step

LYRICS = "[Verse]\nNeon on the water\nWe drive until the morning\n\n[Chorus]\nNight drive"
SUNG = "🎤 Sung"


def box(at, entry):
    return at.text_area(key=f"lyrics_{entry.id}")


def ace_step_lyrics(at, store) -> dict[str, str]:
    """Export the ready items for ACE-Step 1.5 on the Export page: its lyrics files by name."""
    goto(at, "export")
    at.selectbox(key="export_format").set_value("ace-step")
    at.run()
    click(at, "Export")
    [export] = [e for e in store.list_exports(store.find_artist("Ada")["id"]) if e["status"] == "complete"][-1:]
    with zipfile.ZipFile(store.local_path(export["zip_path"])) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist() if n.endswith(".lyrics.txt")}


def test_typed_lyrics_survive_a_rerun_and_a_reload_and_reach_the_ace_step_export(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    [entry] = queue(at)
    assert box(at, entry).value == "" and box(at, entry).label == "Lyrics (optional)"
    box(at, entry).input(LYRICS + "  \n")
    at.run()
    assert entry.lyrics == LYRICS  # kept on the entry as typed (trailing blanks go, as when saved)
    at.run()  # a rerun
    assert box(at, entry).value == LYRICS
    again = goto(app(), "train")  # a new session: the queue comes back from the draft
    [restored] = queue(again)
    assert restored.lyrics == LYRICS and box(again, restored).value == LYRICS
    click(again, "Save")
    assert badges(again) == ["✅ saved"]
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert item["metadata"]["lyrics"] == LYRICS
    assert not [t for t in again.text_area if t.key == f"lyrics_{restored.id}"]  # saved: shown, not edited here
    assert ace_step_lyrics(again, store) == {"train/track-0001.lyrics.txt": LYRICS + "\n"}


def test_cleared_lyrics_are_gone_from_the_draft_and_the_item(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    [entry] = queue(at)
    box(at, entry).input(LYRICS)
    at.run()
    box(at, entry).input("")
    at.run()
    assert entry.lyrics == ""
    [restored] = queue(goto(app(), "train"))
    assert restored.lyrics == ""
    click(at, "Save")
    [item] = store.list_items(store.find_artist("Ada")["id"])
    assert "lyrics" not in item["metadata"]
    assert ace_step_lyrics(at, store) == {}


@pytest.fixture
def sung_set(artist_with_sets, tmp_path, store):
    """'sung.als' for Ada: drums and a vocal track playing in the arrangement."""
    kicks = [(36, float(b), 0.25) for b in range(32)]
    data = live_set(
        [
            track("midi", "Drums", id=1, devices=device("DrumGroupDevice"), arrangement=midi_clip(0, 32, kicks)),
            track("audio", "Lead Vox", id=2, arrangement=audio_clip(0, 32)),
        ],
        bpm=124.0,
    )
    (tmp_path / "sung.als").write_bytes(data)
    [result] = import_sets(store, "Ada", [("sung.als", tmp_path / "sung.als")])
    assert result.status == "imported"


def test_a_sung_track_without_lyrics_says_what_ace_step_does_with_it(sung_set, demo_files, tmp_path):
    sung, plain = tmp_path / "sung.mp3", demo_files[0][2]
    sung.write_bytes(plain.read_bytes()[:-1000])  # the demo render (no voice the tagger is sure of), another file
    at = app()
    goto(at, "train")
    upload(at, [sung, plain])
    click(at, "Add to queue")
    assert not [c for c in at.caption if c.value.startswith(SUNG)]  # with the caption, when the set is read
    click(at, "Generate all")
    hints = [c.value for c in at.caption if c.value.startswith(SUNG)]
    assert hints == [
        "🎤 Sung (a vocal track plays in its set) and no lyrics yet: an ACE-Step 1.5 export leaves it out (its "
        "preprocessing would train the singing under the `[Instrumental]` lyric), ACE-Step v1 and ai-toolkit "
        "exports train it with empty lyrics. Paste its lyrics below to train it with its words."
    ]  # for sung.mp3 only: Night Drive has no vocal track
    entry = next(e for e in queue(at) if e.audio_name == "sung.mp3")
    box(at, entry).input("la la la")
    at.run()
    assert not [c for c in at.caption if c.value.startswith(SUNG)]


def test_a_saved_items_lyrics_are_edited_and_removed_on_the_browse_page(artist_with_sets, demo_files, store):
    at = train_page_with([demo_files[0][2]])
    click(at, "Generate")
    click(at, "Save")
    [item] = store.list_items(store.find_artist("Ada")["id"])
    goto(at, "browse")
    at.toggle(key=f"browse_lyrics_on_{item['id']}").set_value(True)
    at.run()
    [area] = [t for t in at.text_area if t.key.startswith(f"browse_lyrics_{item['id']}_")]
    assert area.value == "" and not [b for b in at.button if b.label == "Remove lyrics"]
    area.input(LYRICS)
    click(at, "Save lyrics")
    assert store.get_item(item["id"])["metadata"]["lyrics"] == LYRICS
    [area] = [t for t in at.text_area if t.key.startswith(f"browse_lyrics_{item['id']}_")]
    assert area.value == LYRICS and any("5 lines saved" in c.value for c in at.caption)
    assert ace_step_lyrics(at, store) == {"train/track-0001.lyrics.txt": LYRICS + "\n"}
    goto(at, "browse")
    at.toggle(key=f"browse_lyrics_on_{item['id']}").set_value(True)  # a page switch folded it away
    at.run()
    assert any("Re-export all" in c.value for c in at.caption)  # exported: the next export needs Re-export all
    click(at, "Remove lyrics")
    assert "lyrics" not in store.get_item(item["id"])["metadata"]
    assert not [b for b in at.button if b.label == "Remove lyrics"]
    button(at, "Save lyrics")  # still offered, for new lyrics
