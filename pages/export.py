"""Export: pack the artist's ready items into dataset.zip and download it."""
from pathlib import Path

import streamlit as st

from pages._ui import run_page, user_errors
from trainmode.service import TrainMode
from trainmode.tables import exports_frame, items_frame

EXPORTED_KEY = "tm_last_export"


def offer_download(tm: TrainMode, url: str, local: Path | None, size: int, key: str) -> None:
    """st.download_button holds the whole file in memory: only offer it for small zips."""
    if local is not None and size <= tm.settings.download_max_bytes:
        with open(local, "rb") as fh:
            st.download_button("Download dataset.zip", fh.read(), file_name="dataset.zip",
                               mime="application/zip", key=key, on_click="ignore")  # no rerun: keep the page
    elif local is not None:
        st.info(f"The zip is {size / 2**20:.0f} MiB; copy it from:")
        st.code(str(local), language=None)
    else:
        st.link_button("Download dataset.zip", url)


def export_button(tm: TrainMode, artist: dict, ready: list[dict]) -> None:
    if not st.button("Export", type="primary", disabled=not ready):
        return
    bar = st.progress(0.0, text="Exporting…")

    def on_progress(p):
        share = p.bytes_done / p.bytes_total if p.bytes_total else p.items_done / max(p.items_total, 1)
        bar.progress(min(share, 1.0), text=f"{p.stage}: {p.items_done}/{p.items_total} items, "
                                           f"{p.bytes_done / 2**20:.1f} MiB")

    with user_errors("Export failed: "):
        result = tm.export(artist, on_progress=on_progress)
        noun = "item" if result.item_count == 1 else "items"
        st.session_state[EXPORTED_KEY] = (result, f"Exported {result.item_count} {noun} "
                                                  f"({result.bytes / 2**20:.1f} MiB).")
        st.rerun()   # the counts, the rows and the button show the export's effect


def last_export(tm: TrainMode) -> None:
    """The export just made (kept across the rerun that refreshed the page): message + download."""
    if done := st.session_state.pop(EXPORTED_KEY, None):
        result, message = done
        st.success(message)
        offer_download(tm, result.url, result.local_path, result.bytes, "download_new")


def past_exports(tm: TrainMode, artist: dict) -> None:
    st.subheader("Past exports")
    exports = tm.list_exports(artist)
    if not exports:
        st.info("No exports yet.")
        return
    st.dataframe(exports_frame(exports), hide_index=True, width="stretch")
    done = [e for e in exports if e["status"] == "complete"]
    if not done:
        return
    pick = st.selectbox("Download a past export", [e["id"] for e in done],
                        format_func=lambda i: next(f"{e['created_at'][:19]} — {e['item_count']} items"
                                                   for e in done if e["id"] == i))
    chosen = next(e for e in done if e["id"] == pick)
    if st.button("Prepare download"):
        with user_errors():
            url, local = tm.export_download(chosen)
            offer_download(tm, url, local, chosen["bytes"], "download_past")


def page(tm: TrainMode, artist: dict) -> None:
    ready = tm.list_items(artist, status="ready")
    st.metric("Ready to export", len(ready))
    if ready:
        st.dataframe(items_frame(ready), hide_index=True, width="stretch")
    export_button(tm, artist, ready)
    last_export(tm)
    past_exports(tm, artist)


run_page("Export", page)
