"""What the three pages share: settings, the store, the chosen artist, error display.
Only Streamlit glue lives here; the work is in trainmode/."""
from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from trainmode.config import Settings, load_settings
from trainmode.errors import TrainModeError
from trainmode.store import Store, open_store

ARTIST_KEY = "tm_artist"   # non-widget key: survives page switches


@st.cache_resource(show_spinner=False)
def _cached_store(backend: str, data_dir: str, url: str, bucket: str, _settings: Settings) -> Store:
    return open_store(_settings)


def settings_and_store() -> tuple[Settings, Store]:
    """Load both or stop the page with a clear message (no traceback)."""
    try:
        settings = load_settings()
        store = _cached_store(settings.backend, str(settings.data_dir.resolve()), settings.supabase_url,
                              settings.bucket, settings)
    except TrainModeError as exc:
        st.error(str(exc))
        st.stop()
    return settings, store


@contextmanager
def user_errors(prefix: str = ""):
    """Show a TrainModeError as st.error instead of a traceback."""
    try:
        yield
    except TrainModeError as exc:
        st.error(f"{prefix}{exc}")


def artist_picker(store: Store, *, allow_create: bool = False) -> dict | None:
    """Select (or create) the artist; the choice is shared by all pages."""
    artists = store.list_artists()
    names = [a["name"] for a in artists]
    current = st.session_state.get(ARTIST_KEY)
    cols = st.columns([2, 2] if allow_create else [1])
    with cols[0]:
        choice = st.selectbox("Artist", names, index=names.index(current) if current in names else 0,
                              placeholder="No artist yet", key="artist_select") if names else None
    if allow_create:
        with cols[1]:
            with st.form("new_artist", clear_on_submit=True, border=False):
                new_name = st.text_input("New artist", placeholder="Artist name")
                if st.form_submit_button("Create artist") and new_name.strip():
                    with user_errors():
                        choice = store.ensure_artist(new_name)["name"]
                        st.session_state[ARTIST_KEY] = choice
                        st.rerun()
    if choice:
        st.session_state[ARTIST_KEY] = choice
        return next(a for a in artists if a["name"] == choice)
    st.info("No artist yet: create one on the Library page (or run `python -m trainmode demo`).")
    return None


def summary_label(row: dict) -> str:
    s = row["summary"]
    bpm = (s.get("tempo") or {}).get("bpm")
    return f"{row['als_filename']} — {bpm:g} BPM, {s.get('time_signature', '?')}" if bpm else row["als_filename"]


def bar_chart(title: str, frame, label: str, *, order_by: str | None = None, horizontal: bool = False) -> None:
    """Bars of frame["sets"] per frame[label]: most sets first, or in `order_by` order
    (tempo bands read left to right)."""
    import altair as alt  # ships with Streamlit

    st.markdown(f"**{title}**")
    if frame.empty:
        st.caption("Nothing to show.")
        return
    sort = alt.SortField(order_by) if order_by else ("-x" if horizontal else "-y")
    category, count = (alt.Y, alt.X) if horizontal else (alt.X, alt.Y)
    labels = alt.Axis(labelLimit=200, labelAngle=0 if horizontal else -45)
    chart = alt.Chart(frame).mark_bar().encode(
        category(f"{label}:N", sort=sort, title=None, axis=labels),
        count("sets:Q", title="sets", axis=alt.Axis(tickMinStep=1, format="d")),
        tooltip=[label, "sets"],
    )
    st.altair_chart(chart, width="stretch", height=max(200, 30 * len(frame)) if horizontal else 220)
