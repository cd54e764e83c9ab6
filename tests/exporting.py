"""How the export tests drive an export: through the door, as the pages and the CLI do,
and the zip alone without the export's bookkeeping; and which of its threads are still alive."""

import gzip
import re
import threading
from pathlib import Path

from trainmode.export import build as export_mod
from trainmode.export import formats
from trainmode.export.formats.base import Build
from trainmode.ops import demo
from trainmode.ops.demo import DemoSet
from trainmode.service import SaveRequest, TrainMode


def export_artist(store, settings, artist, **kwargs):
    return TrainMode(store, settings).export(artist, **kwargs)


def build_zip(store, artist, items, target, *, format="hf", split=None, max_workers=4) -> export_mod.Written:
    """The export's zip for `items` at `target`, without the export's bookkeeping: its size,
    SHA-256 and members."""
    rows = export_mod.export_rows(store, artist, items, split=split)
    return export_mod.write_dataset(
        store,
        formats.get_format(format),
        rows,
        Build(rows[0].artist),
        target,
        export_mod.Progress(None, rows),
        max_workers=max_workers,
    )


def export_threads() -> list[threading.Thread]:
    """The export's threads still alive: fetching, making audio ready, hashing, heartbeat."""
    return [t for t in threading.enumerate() if t.name.startswith("export-")]


def save_render(tm: TrainMode, folder: Path, artist_name: str, s: DemoSet, mp3: bytes, *, empty: bool = False):
    """Import `s` for `artist_name` and save `mp3` as its ready item (offline caption, confirmed);
    `empty`: the set has no locators and no arrangement clips, so no sections to cut clips at."""
    xml = demo.als_xml(s)
    if empty:
        xml = re.sub(r"<Locators><Locators>.*?</Locators></Locators>", "<Locators><Locators /></Locators>", xml)
        xml = re.sub(r"<(MidiClip|AudioClip) .*?</\1>", "", xml, flags=re.S)
    als, audio = folder / f"{demo.slug(s.name)}.als", folder / f"{demo.slug(s.name)}.mp3"
    als.write_bytes(gzip.compress(xml.encode("utf-8"), mtime=0))
    audio.write_bytes(mp3)
    tm.import_sets(artist_name, [(als.name, als)])
    artist = tm.artist(artist_name)
    if not tm.master_schema(artist):
        tm.save_master_schema(artist, demo.DEMO_SCHEMA)
    row = tm.find_set(artist, als.name)
    gen = tm.generate_caption(artist, row, writer_name="offline")
    request = SaveRequest(
        audio=audio,
        audio_name=audio.name,
        caption=gen.caption.text,
        generated=gen.caption,
        findings=gen.findings,
        confirm=True,
    )
    tm.save(artist, row, request)
    return artist
