"""Export: pack the artist's ready items into dataset.zip and download it."""
from pathlib import Path

import streamlit as st
from pages._ui import artist_picker, settings_and_store, user_errors

from trainmode.service import export_artist
from trainmode.tables import exports_frame, items_frame

st.title("Export")
settings, store = settings_and_store()
artist = artist_picker(store)
if artist is None:
    st.stop()

ready = store.list_items(artist["id"], status="ready")
st.metric("Ready to export", len(ready))
if ready:
    st.dataframe(items_frame(ready), hide_index=True, width="stretch")


def offer_download(url: str, local: Path | None, size: int, key: str) -> None:
    """st.download_button holds the whole file in memory: only offer it for small zips."""
    if local is not None and size <= settings.download_max_bytes:
        with open(local, "rb") as fh:
            st.download_button("Download dataset.zip", fh.read(), file_name="dataset.zip",
                               mime="application/zip", key=key, on_click="ignore")  # no rerun: keep the page
    elif local is not None:
        st.info(f"The zip is {size / 2**20:.0f} MiB; copy it from {local}")
    else:
        st.link_button("Download dataset.zip", url)


if st.button("Export", type="primary", disabled=not ready):
    bar = st.progress(0.0, text="Exporting…")

    def on_progress(p):
        share = p.bytes_done / p.bytes_total if p.bytes_total else p.items_done / max(p.items_total, 1)
        bar.progress(min(share, 1.0), text=f"{p.stage}: {p.items_done}/{p.items_total} items, "
                                           f"{p.bytes_done / 2**20:.1f} MiB")

    with user_errors("Export failed: "):
        result = export_artist(store, settings, artist, on_progress=on_progress)
        st.session_state["tm_last_export"] = result.export_id
        noun = "item" if result.item_count == 1 else "items"
        st.success(f"Exported {result.item_count} {noun} ({result.bytes / 2**20:.1f} MiB).")
        offer_download(result.url, result.local_path, result.bytes, "download_new")

st.subheader("Past exports")
exports = store.list_exports(artist["id"])
if not exports:
    st.info("No exports yet.")
else:
    st.dataframe(exports_frame(exports), hide_index=True, width="stretch")
    done = [e for e in exports if e["status"] == "complete"]
    if done:
        pick = st.selectbox("Download a past export", [e["id"] for e in done],
                            format_func=lambda i: next(f"{e['created_at'][:19]} — {e['item_count']} items"
                                                       for e in done if e["id"] == i))
        chosen = next(e for e in done if e["id"] == pick)
        if st.button("Prepare download"):
            with user_errors():
                offer_download(store.blob_url(chosen["zip_path"], settings.signed_url_expiry_s),
                               store.local_path(chosen["zip_path"]), chosen["bytes"], "download_past")
