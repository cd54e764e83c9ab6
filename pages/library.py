"""Library: artists, their master_schema, and importing .als sets."""
import json

import streamlit as st
from pages._ui import artist_picker, settings_and_store, user_errors

from trainmode.library import import_sets, save_master_schema
from trainmode.profile import EXAMPLE_MASTER_SCHEMA, parse_master_schema
from trainmode.tables import summaries_frame

st.title("Library")
settings, store = settings_and_store()
st.caption(f"Storage: {store.describe()}")
artist = artist_picker(store, allow_create=True)
if artist is None:
    st.stop()

# ---- master_schema ------------------------------------------------------------------
with st.expander("Artist profile (master_schema)", expanded=False):
    current = store.get_master_schema(artist["id"]) or EXAMPLE_MASTER_SCHEMA
    text = st.text_area("master_schema (JSON)", json.dumps(current, indent=2), height=260,
                        key=f"schema_text_{artist['id']}")
    if st.button("Save profile"):
        with user_errors():
            save_master_schema(store, artist["id"], parse_master_schema(text))
            st.success("Profile saved.")

# ---- import -------------------------------------------------------------------------
st.subheader("Import sets")
uploads = st.file_uploader("Ableton Live sets (.als)", type=["als"], accept_multiple_files=True,
                           key=f"als_upload_{artist['id']}")
if st.button("Import", disabled=not uploads, type="primary"):
    bar = st.progress(0.0, text="Importing…")

    def on_progress(index, result):
        bar.progress(index / len(uploads), text=f"{index}/{len(uploads)} {result.filename}")

    results = import_sets(store, artist["name"], [(u.name, u.getvalue()) for u in uploads], on_progress)
    for r in results:
        if r.status == "failed":
            st.error(r.error)
        elif r.status == "duplicate":
            st.info(f"{r.filename} was already imported.")
        else:
            st.success(f"Imported {r.filename}.")

# ---- the artist's sets --------------------------------------------------------------
st.subheader("Sets")
frame = summaries_frame(store.list_summaries(artist["id"]))
if frame.empty:
    st.info("No sets imported yet.")
else:
    st.dataframe(frame, hide_index=True, width="stretch")
