"""How the export tests drive an export: through the door, as the pages and the CLI do,
and the zip alone without the export's bookkeeping; and which of its threads are still alive."""

import threading

from trainmode.export import build as export_mod
from trainmode.export import formats
from trainmode.export.formats.base import Build
from trainmode.service import TrainMode


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
