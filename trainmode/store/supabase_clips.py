"""SupabaseStore's training_clips methods (an item's section clips; docs/clips.md)."""
from __future__ import annotations

from datetime import UTC, datetime

from .base import clip_row, new_id


class SupabaseClips:
    """Mixed into SupabaseStore: uses its `rest` and `translate`."""

    def save_clips(self, item_id, mode, clips):
        stamp = datetime.now(UTC).isoformat()
        rows = [clip_row(item_id, mode, clip, new_id(), stamp) for clip in clips]
        with self.translate("saving the clips"):
            # PostgREST has no transaction across two requests: if the insert fails after the delete,
            # the item has no saved clips of this mode (the export then writes offline captions) and
            # saving again stores them. The insert itself is one statement: all the clips or none.
            old = self.rest.table("training_clips").select("id").eq("item_id", item_id).eq("mode", mode).execute().data
            if old:
                self.rest.table("training_clips").delete().in_("id", [r["id"] for r in old]).execute()
            if rows:
                self.rest.table("training_clips").insert(rows).execute()
        return self.list_clips(item_id, mode)

    def list_clips(self, item_id, mode=None):
        with self.translate("reading the clips"):
            query = self.rest.table("training_clips").select("*").eq("item_id", item_id)
            if mode is not None:
                query = query.eq("mode", mode)
            return query.order("mode").order("position").execute().data
