"""Train Mode: navigation over the four pages. Everything else lives in pages/ and trainmode/."""

import streamlit as st

st.set_page_config(page_title="Train Mode", page_icon="🎛️", layout="wide")
st.session_state["tm_through_app"] = True  # pages/_ui.py: this run is not Streamlit's pages-folder mode
st.navigation(
    [
        st.Page("pages/library.py", title="Library", icon="📚", default=True),
        st.Page("pages/train.py", title="Train", icon="🎚️"),
        st.Page("pages/browse.py", title="Browse", icon="🔎"),
        st.Page("pages/export.py", title="Export", icon="📦"),
    ]
).run()
