"""SupabaseStore's training_clips methods (an item's section clips; docs/clips.md)."""
from __future__ import annotations

from datetime import UTC, datetime

from trainmode.store.base import clip_row, new_id


class SupabaseClips:
    """Mixed into SupabaseStore: uses its `rest` and `translate`."""

    def save_clips(self, item_id, mode, clips):
        stamp = datetime.now(UTC).isoformat()
        rows = [clip_row(item_id, mode, clip, new_id(), stamp) for clip in clips]
        with self.translate("saving the clips"):
            # PostgREST has no transaction across two requests, so the order never loses saved clips:
            # one upsert (a statement: all the new clips or none, the old ones kept if it fails), then
            # the old clips at other positions go. Should that second request fail, the next save
            # removes those stale clips.
            stale = self.rest.table("training_clips").delete().eq("item_id", item_id).eq("mode", mode)
            if rows:
                self.rest.table("training_clips").upsert(rows, on_conflict="item_id,mode,position").execute()
                stale = stale.not_.in_("position", [row["position"] for row in rows])
            stale.execute()
        return self.list_clips(item_id, mode)

    def list_clips(self, item_id, mode=None):
        with self.translate("reading the clips"):
            query = self.rest.table("training_clips").select("*").eq("item_id", item_id)
            if mode is not None:
                query = query.eq("mode", mode)
            return query.order("mode").order("position").execute().data
