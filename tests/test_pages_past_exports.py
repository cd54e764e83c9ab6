"""AppTest on the Supabase backend (its fake, tests/conftest.py `supabase`), #29: the Export page tells
past exports apart from their rows (an export made before the rows recorded it, from its zip in
Storage), and the Browse page shows a past export's rows with a player, reading the zip in place."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_pages import TIMEOUT, goto
from tests.conftest import ROOT
from trainmode.config import load_settings
from trainmode.ops.demo import DEMO_ARTIST
from trainmode.service import TrainMode

pytestmark = pytest.mark.slow  # AppTest runs the whole app for each step

DETAILS = ("format", "clips", "window_s", "split", "row_count", "valid_count")


def test_past_exports_on_supabase_are_told_apart_and_their_rows_play(supabase):
    tm = TrainMode.open(load_settings())
    tm.install_demo(echo=lambda *_: None)
    artist = tm.artist(DEMO_ARTIST)
    clips = tm.export(artist, format="audiocraft", clips="sections", by="kim")
    old = tm.export_everything(artist, format="hf")
    next(e for e in supabase.tables["exports"] if e["id"] == old.export_id).update(dict.fromkeys(DETAILS))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["artist"] = DEMO_ARTIST
    at.run()

    goto(at, "export")
    history = at.dataframe[-1].value
    assert sorted(zip(history["format"], history["rows"], history["split"], history["by"], strict=True)) == [
        ("audiocraft", "4 section clips of 2 items", "no validation split", "kim"),
        ("hf", "2 tracks", "no validation split", ""),  # made "before": read from its zip in Storage
    ]
    label = next(s for s in at.selectbox if s.label == "A past export").format_func(clips.export_id)
    assert " by kim — audiocraft, 4 section clips of 2 items, no validation split, " in label

    goto(at, "browse")
    at.segmented_control(key="browse_what").set_value("A past export")
    at.run()
    at.selectbox(key="browse_export").select(clips.export_id)
    at.run()
    assert not at.exception and not at.error and not at.info  # no "not on this machine"
    rows = [m.value for m in at.markdown if m.value.endswith("· train")]
    assert len(rows) == 4 and all("clip-000" in r for r in rows)
    assert all('"description"' in c.value for c in at.code)  # each clip's sidecar, read from Storage
    first = rows[0].split("**")[1].replace("\\", "")
    at.toggle(key=f"browse_row_play_{clips.export_id}_{first}").set_value(True)
    at.run()
    [player] = at.get("audio")
    assert not at.exception and player.proto.url  # the clip's MP3, read out of the zip
    reads = supabase.find("GET", f"/storage/v1/object/sign/train-mode/{clips.zip_path}")
    assert reads and all("range" in r.headers for r in reads)  # never the whole zip
