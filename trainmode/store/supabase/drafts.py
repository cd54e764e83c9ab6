"""SupabaseStore's queue_drafts methods (the Train queue kept for a reload; trainmode/train/drafts.py)."""
from __future__ import annotations

from datetime import UTC, datetime


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SupabaseDrafts:
    """Mixed into SupabaseStore: uses its `rest`, `translate` and `_one`."""

    def save_draft(self, artist_id, draft, created_by=None):
        with self.translate("saving the queue draft"):
            self.rest.table("queue_drafts").upsert(
                {"artist_id": artist_id, "draft": draft, "created_by": created_by, "updated_at": _now()},
                on_conflict="artist_id").execute()

    def get_draft(self, artist_id):
        return self._one("queue_drafts", "reading the queue draft", {"artist_id": artist_id})

    def delete_draft(self, artist_id):
        with self.translate("discarding the queue draft"):
            self.rest.table("queue_drafts").delete().eq("artist_id", artist_id).execute()

    def drafts_before(self, updated_before):
        with self.translate("listing old queue drafts"):
            return self.rest.table("queue_drafts").select("*").lt("updated_at", updated_before).execute().data
