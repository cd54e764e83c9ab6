"""SupabaseStore's reads in bulk: the Library's projection of the sets, the summaries of chosen
sets, and signed links made many at a time (one Storage request per batch instead of one per blob)."""
from __future__ import annotations

from typing import BinaryIO

from postgrest import APIError

from trainmode.errors import NotFoundError
from trainmode.store import set_rows
from trainmode.store.supabase import answers
from trainmode.store.supabase.answers import valid_ids

ID_BATCH = 100  # ids per `in.(...)` filter: 3.7 KB of URL, well under any proxy's limit and max-rows


class SupabaseBulk:
    """Mixed into SupabaseStore (uses its _select, translate, files, _http, _raise_for_status)."""

    def list_set_rows(self, artist_id: str) -> list[dict]:
        if not valid_ids({"artist_id": artist_id}):
            return []
        with self.translate("listing sets"):
            answer = self.rest.rpc("train_mode_set_rows", {"p_artist_id": artist_id}).execute().data
            raw = set_rows.from_compact(answer)   # a shape not Supabase's raises KeyError, TypeError...: translated
        rows = [self.get_summary_row_for(artist_id, r) if set_rows.needs_whole(r) else set_rows.finish(r) for r in raw]
        return sorted(rows, key=lambda r: (r["als_filename"], r["parse_id"]))

    def list_item_rows(self, artist_id: str) -> list[dict]:
        return self._select("training_items", "listing items", {"artist_id": artist_id},
                            [("created_at", False), ("id", False)], columns=",".join(self.ITEM_ROW_COLUMNS))

    def item_row_page(self, artist_id: str, offset: int, limit: int) -> tuple[list[dict], int]:
        return self._page("training_items", "listing items", {"artist_id": artist_id},
                          [("created_at", False), ("id", False)], ",".join(self.ITEM_ROW_COLUMNS), offset, limit)

    def count_items(self, artist_id: str, als_summary_id: str) -> int:
        filters = {"artist_id": artist_id, "als_summary_id": als_summary_id}
        return self._page("training_items", "counting items", filters, [], "id", 0, 1)[1]

    def _page(self, table: str, what: str, filters: dict, order, columns: str, offset: int,
              limit: int) -> tuple[list[dict], int]:
        """One page of rows (at most `limit`, from `offset`) and how many match in all: one request."""
        if not valid_ids(filters):
            return [], 0
        with self.translate(what):
            try:
                page = self._query(table, columns, filters, order).range(offset, offset + max(limit, 1) - 1).execute()
            except APIError as exc:
                if exc.code != "PGRST103" or not offset:   # 416: an offset past the last row (rows went meanwhile)
                    raise
                return [], self._page(table, what, filters, [], "id", 0, 1)[1]
        return answers.rows(page.data, self._errors.host, what)[:limit], page.count or 0

    def summaries_by_id(self, artist_id: str, ids) -> list[dict]:
        wanted = sorted({i for i in ids if valid_ids({"id": i})})
        rows: list[dict] = []
        for start in range(0, len(wanted), ID_BATCH):
            with self.translate("reading set summaries"):
                data = self.rest.table("als_summaries").select("*").eq("artist_id", artist_id) \
                    .in_("id", wanted[start:start + ID_BATCH]).execute().data
            rows += answers.rows(data, self._errors.host, "reading set summaries")
        return rows

    def get_summary_row_for(self, artist_id: str, raw: dict) -> dict:
        """A set imported before summary v2: read whole once, upgraded by set_rows."""
        return set_rows.from_summary_row(self.get_summary(artist_id, raw["parse_id"]) or raw)

    def sign_many(self, paths: list[str], expires_s: int) -> dict[str, str]:
        """Signed download links for `paths` in one Storage request (storage3 create_signed_urls)."""
        unique = list(dict.fromkeys(paths))
        with self.translate(f"signing links to {len(unique)} files"):
            signed = self.files.create_signed_urls(unique, int(expires_s))
        urls = {answer.get("path"): answer.get("signedURL") for answer in signed if not answer.get("error")}
        if missing := [p for p in unique if not urls.get(p)]:
            raise NotFoundError(f"The stored file {missing[0]} is missing.")
        return urls

    def download_url_to(self, url: str, path: str, out: BinaryIO) -> None:
        """Stream a signed link's object straight into `out`."""
        with self.translate(f"downloading {path}", path=path):
            with self._http.stream("GET", url) as response:
                self._raise_for_status(response, f"downloading {path}", path, None)
                for chunk in response.iter_bytes(1024 * 1024):
                    out.write(chunk)
