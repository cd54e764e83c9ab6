"""Train Mode: navigation over the three pages. Everything else lives in pages/ and trainmode/."""

import streamlit as st

st.set_page_config(page_title="Train Mode", page_icon="🎛️", layout="wide")
st.navigation(
    [
        st.Page("pages/library.py", title="Library", icon="📚", default=True),
        st.Page("pages/train.py", title="Train", icon="🎚️"),
        st.Page("pages/export.py", title="Export", icon="📦"),
    ]
).run()
