"""Which tables each write of a Store changes, so the read cache (trainmode/store/reads.py) drops only
what a write could have changed: saving an item or editing a caption keeps the Library's set
rows, importing a set keeps the items.

Every write moves the generation of each table it changes (also after a failure: part of it may
have landed).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

TABLES = ("artists", "artist_profiles", "als_summaries", "training_items", "exports", "queue_drafts", "training_clips")
# Deleting rows of a table also removes or changes rows of these (the schema's `on delete
# cascade` references; an export's items are unlinked with it).
GOES_WITH = {
    "artists": TABLES,
    "training_items": ("training_items", "training_clips"),
    "exports": ("exports", "training_items"),
}


def _named(table: str, *_args, **_kwargs) -> tuple[str, ...]:
    return (table,)


def _deleted(table: str, *_args, **_kwargs) -> tuple[str, ...]:
    return GOES_WITH.get(table, (table,))


# Store method -> the tables it changes (or a function of its arguments giving them).
WRITES: dict[str, tuple[str, ...] | Callable[..., tuple[str, ...]]] = {
    "ensure_artist": ("artists", "artist_profiles"),
    "set_master_schema": ("artist_profiles",),
    "add_summary": ("als_summaries",),
    "insert_item": ("training_items",),
    "update_row": _named,
    "delete_rows": _deleted,
    "begin_export": ("exports",),
    "_complete_export": ("exports", "training_items"),
    "fail_export": ("exports",),
    "save_clips": ("training_clips",),
}
_COUNTER = itertools.count(1)  # next() is atomic: no two writes share a generation


def changes_rows(method: Callable, tables) -> Callable:
    """`method` that, when it returns or fails, moves the store's generations of `tables`."""

    @functools.wraps(method)
    def write(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            stamp = next(_COUNTER)
            touched = tables(*args, **kwargs) if callable(tables) else tables
            per_table = self.__dict__.setdefault("_table_generations", {})
            for table in touched:
                per_table[table] = stamp

    return write


def generation_of(store, tables: tuple[str, ...]) -> tuple[int, ...]:
    """The generations of `tables` in `store`: the same until a write changes one of them."""
    per_table = store.__dict__.get("_table_generations", {})
    return tuple(per_table.get(t, 0) for t in tables)
