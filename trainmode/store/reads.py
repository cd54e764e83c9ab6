"""The rows pages read on every rerun, kept between reruns and sessions until they change.

An entry is served again only while
- the generations of the tables it was read from are the same (every write through this
  store object moves those of the tables it changes: trainmode/store/generations.py; an
  import moves als_summaries, a save or a caption edit training_items — in any session or
  thread), and
- the store's `outside_version()` is the same (the embedded backend: SQLite's data_version,
  which moves when another process, e.g. the CLI, commits), or, for a backend that cannot
  tell (Supabase), for at most REVALIDATE_S seconds.
So a rerun after a filter change costs no query, and an import shows at once everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from trainmode.store import Store

T = TypeVar("T")
REVALIDATE_S = 30.0  # another process's write to Supabase shows within this


class ReadCache:
    def __init__(self, store: Store, revalidate_s: float = REVALIDATE_S):
        self.store, self.revalidate_s = store, revalidate_s
        self._entries: dict[Hashable, tuple[object, float, object]] = {}

    def get(self, key: Hashable, load: Callable[[], T], tables: tuple[str, ...]) -> T:
        """The value kept under `key`, or load() (and keep it) when one of `tables` (what load
        reads) may have changed."""
        # taken before loading: a write meanwhile misses next time
        stamp = (self.store.generation_of(tables), self.store.outside_version())
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry and entry[0] == stamp and (stamp[1] is not None or now - entry[1] < self.revalidate_s):
            return entry[2]
        value = load()
        self._entries[key] = (stamp, now, value)
        return value

    def call(self, table: str, load: Callable[..., T], *args: Hashable) -> T:
        """load(*args), kept until a write changes `table` (keyed on load's function and args)."""
        return self.get((getattr(load, "__func__", load), *args), lambda: load(*args), (table,))
