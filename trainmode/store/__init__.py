"""Storage backends behind one interface; `open_store` picks one from the settings."""

from __future__ import annotations

from trainmode.config import Settings
from trainmode.store.base import Store, new_id
from trainmode.store.embedded import EmbeddedStore

__all__ = ["Store", "EmbeddedStore", "new_id", "open_store"]


def open_store(settings: Settings, *, new_database: bool = False) -> Store:
    """The store the settings name. `new_database`: the embedded backend may start an empty
    database although saved files exist (EmbeddedStore refuses that by default)."""
    if settings.backend == "supabase":
        from trainmode.store.supabase.store import SupabaseStore  # lazy: supabase-py is only needed for this backend

        return SupabaseStore.from_settings(settings)
    return EmbeddedStore(settings.data_dir, new_database=new_database)
