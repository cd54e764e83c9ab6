"""What the three pages share: the TrainMode door, the chosen artist, error display.
Only Streamlit glue lives here; the work is in trainmode/ behind `TrainMode`."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from trainmode.errors import TrainModeError
from trainmode.service import Settings, TrainMode, load_settings, log_file

ARTIST_KEY = "tm_artist"  # non-widget key: survives page switches
FLASH_KEY = "tm_artist_flash"
THROUGH_APP_KEY = "tm_through_app"  # set by app.py on each run it makes
PICKER_PAGE_KEY = "tm_picker_page"  # the page the artist picker was last drawn on
BY_KEY = "tm_by"  # the name set in the sidebar (non-widget: survives page switches)
OUTAGE_HINT = "Nothing was changed. Check the storage settings and the connection, then reload the page."
ALWAYS_ESCAPED = set("\\`*[]<>$~|")
BLOCK_START = re.compile(r"^(\s*)(#|\+|-|=|\d+(?=[.)]))")  # a heading, list or rule marker at the start
log = logging.getLogger("trainmode.pages")


def md(text: object) -> str:
    """A user- or model-supplied string (file, set or artist name, caption, message), escaped
    so that st.markdown and friends show it as written: no emphasis, link, HTML, LaTeX,
    colour directive or list. Harmless characters stay (night_drive.als reads the same)."""
    s = " ".join(str(text).splitlines())
    out = []
    for i, c in enumerate(s):
        before, after = s[i - 1] if i else " ", s[i + 1] if i + 1 < len(s) else " "
        intraword = before.isalnum() and after.isalnum()
        if c in ALWAYS_ESCAPED or (c == "_" and not intraword) or (c == ":" and after.isalpha()):
            c = "\\" + c
        out.append(c)
    s = "".join(out)
    if match := BLOCK_START.match(s):
        end = match.end()
        s = (
            s[:end] + "\\" + s[end:]
            if match.group(2)[0].isdigit()
            else s[: match.start(2)] + "\\" + s[match.start(2) :]
        )
    return s


@st.cache_resource(show_spinner=False)
def _cached(backend: str, data_dir: str, url: str, bucket: str, _settings: Settings) -> TrainMode:
    return TrainMode.open(_settings)


def train_mode(*, library: bool = False) -> TrainMode:
    """The door, or stop the page with a clear message (no traceback)."""
    try:
        settings = load_settings()
        return _cached(
            settings.backend, str(settings.data_dir.resolve()), settings.supabase_url, settings.bucket, settings
        )
    except TrainModeError as exc:
        st.error(md(exc))
        if library:
            show_supabase_checks()
        st.stop()


def show_supabase_checks() -> None:
    """On the Library page, a Supabase backend that fails also shows check-supabase's report,
    so the user sees which step is missing (settings, key, migrations, bucket...)."""
    try:
        settings = load_settings()
    except TrainModeError:
        return
    if settings.backend != "supabase":
        return
    st.caption("What `python -m trainmode check-supabase` finds:")
    st.code("\n".join(check.line() for check in TrainMode.check_supabase(settings)), language=None)


def leave_pages_folder_mode() -> None:
    """Streamlit runs each file of a `pages/` folder beside app.py as a page of its own (its first
    multipage mode) until app.py's st.navigation has run once in the server process: a deep link
    as the first request after a start showed every helper module (ui, manage...) in the sidebar
    and no wide layout. When this run did not go through app.py (it leaves THROUGH_APP_KEY), turn
    that mode off, and on a session's first run (a page load: no click to lose) run again through
    app.py: the same page, as its hash is its URL path in both modes."""
    first_run = "tm_session_seen" not in st.session_state
    st.session_state["tm_session_seen"] = True
    if st.session_state.pop(THROUGH_APP_KEY, False):
        return
    PagesManager.uses_pages_directory = False
    if first_run:
        st.rerun()


def run_page(title: str, body: Callable[[TrainMode, dict], None], *, library: bool = False) -> None:
    """Title, the door and the artist, then `body(tm, artist)`. A failure of the storage (or
    any TrainModeError) is one st.error with what to do, a bug is one st.error naming the log
    that holds its traceback; never Streamlit's redacted crash. The Library (`library=True`)
    shows the storage and can create artists."""
    leave_pages_folder_mode()
    st.title(title)
    try:
        tm = train_mode(library=library)
        if library:
            st.caption(f"Storage: {md(tm.describe())}")
        name_in_sidebar()
        artist = artist_picker(tm, allow_create=library)
        if artist is not None:
            body(tm, artist)
    except TrainModeError as exc:
        st.error(f"{md(exc)} {OUTAGE_HINT}")
        if library:
            show_supabase_checks()
    except Exception as exc:  # a bug: keep the traceback for whoever fixes it
        log.exception("unexpected error on the %s page", title)
        st.error(
            f"Something unexpected went wrong ({exc.__class__.__name__}): a bug, not your data. "
            f"The details are in {_log_location()}; reload the page to go on."
        )


def _log_location() -> str:
    try:
        return str(log_file(load_settings().data_dir))
    except TrainModeError:
        return "the log"


@contextmanager
def user_errors(prefix: str = ""):
    """Show a TrainModeError as st.error instead of a traceback, and go on with the page."""
    try:
        yield
    except TrainModeError as exc:
        st.error(f"{prefix}{md(exc)}")


def _new_artist_form(tm: TrainMode) -> dict | None:
    with st.form("new_artist", clear_on_submit=True, border=False):
        new_name = st.text_input("New artist", placeholder="Artist name")
        if st.form_submit_button("Create artist") and new_name.strip():
            with user_errors():
                known = {a["id"] for a in tm.list_artists()}
                artist = tm.create_artist(new_name)
                verb = "Selected the existing artist" if artist["id"] in known else "Created and selected"
                st.session_state[FLASH_KEY] = f"{verb} {md(artist['name'])}."
                return artist
    return None


def choose_artist(name: str) -> None:
    """The artist everyone on every page works on: kept in the URL (?artist=...), so a
    reload, back/forward or a pasted link keeps it."""
    st.session_state[ARTIST_KEY] = name
    st.query_params["artist"] = name


def login_name() -> str | None:
    """The signed-in person when the server has Streamlit's OIDC login configured ([auth] in
    secrets.toml), else None."""
    try:
        user = st.user.to_dict()
    except (AttributeError, KeyError, RuntimeError):
        return None
    if not user.get("is_logged_in"):
        return None
    return user.get("email") or user.get("name")


def login_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (Streamlit's OIDC login)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, OSError, KeyError):
        return False


def who() -> str | None:
    """Who is working: the login, else the name set once in the sidebar (kept in the URL as ?by=)."""
    return login_name() or (st.session_state.get(BY_KEY) or "").strip() or None


def keep_name() -> None:
    name = st.session_state.get("by_input", "").strip()[:80]
    st.session_state[BY_KEY] = name
    if name:
        st.query_params["by"] = name
    elif "by" in st.query_params:
        del st.query_params["by"]


def name_in_sidebar() -> None:
    """Without a login, each person sets a name once; items and exports record it."""
    if login_name():
        st.sidebar.caption(f"Signed in as {md(login_name())}")
        st.sidebar.button("Log out", on_click=st.logout)
        return
    if login_configured():
        st.sidebar.button("Log in", on_click=st.login, help="Sign in so that your work is recorded as yours.")
    if BY_KEY not in st.session_state:
        st.session_state[BY_KEY] = st.query_params.get("by", "")
    if st.session_state[BY_KEY] and st.query_params.get("by") != st.session_state[BY_KEY]:
        st.query_params["by"] = st.session_state[BY_KEY]  # a page switch clears the URL's parameters
    st.session_state["by_input"] = st.session_state[BY_KEY]
    st.sidebar.text_input(
        "Your name",
        key="by_input",
        on_change=keep_name,
        placeholder="e.g. Kim",
        help="Recorded on what you save and export, so the team sees who did what.",
    )


def choose_artist_after_delete() -> None:
    """The chosen artist is gone: the picker falls back to the first one."""
    st.session_state.pop(ARTIST_KEY, None)
    if "artist" in st.query_params:
        del st.query_params["artist"]


def artist_picker(tm: TrainMode, *, allow_create: bool = False) -> dict | None:
    """Select (or create) the artist; the choice is shared by all pages and kept in the URL."""
    artists = tm.list_artists()
    names = [a["name"] for a in artists]
    current = st.query_params.get("artist") or st.session_state.get(ARTIST_KEY)
    if current not in names:
        current = names[0] if names else None
    ctx = get_script_run_ctx()
    page = ctx.page_script_hash if ctx else ""
    if current and (st.session_state.get("artist_select") != current or st.session_state.get(PICKER_PAGE_KEY) != page):
        # Set through the widget's key before it is drawn: the browser then shows it too (a new
        # artist, back/forward, a pasted link); a changed `index` alone would not move it. On
        # another page the picker is a new widget that would start at the first artist (#29).
        st.session_state["artist_select"] = current
    st.session_state[PICKER_PAGE_KEY] = page
    cols = st.columns([2, 2] if allow_create else [1])
    with cols[0]:
        choice = (
            st.selectbox(
                "Artist",
                names,
                placeholder="No artist yet",
                key="artist_select",
                on_change=lambda: choose_artist(st.session_state["artist_select"]),
            )
            if names
            else None
        )
    if allow_create:
        with cols[1]:
            created = _new_artist_form(tm)
        if created:
            choose_artist(created["name"])
            st.rerun()
    if flash := st.session_state.pop(FLASH_KEY, None):
        st.success(flash)
    if choice:
        if st.query_params.get("artist") != choice or st.session_state.get(ARTIST_KEY) != choice:
            st.session_state[ARTIST_KEY] = choice
            st.query_params["artist"] = choice
        return next(a for a in artists if a["name"] == choice)
    st.info("No artist yet: create one on the Library page (or run `python -m trainmode demo`).")
    return None


def local_time(iso: str | None) -> str:
    """'2026-12-01 11:05' in the browser's time zone (st.context knows it), else UTC said so."""
    if not iso:
        return ""
    stamp = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(st.context.timezone) if st.context.timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return stamp.astimezone(zone).strftime("%Y-%m-%d %H:%M") if zone else stamp.strftime("%Y-%m-%d %H:%M UTC")


def size_text(n: int | None) -> str:
    n = n or 0
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def eta(started: float, done: int, total: int) -> str:
    """' · about 12 s left' from the pace so far (nothing until a first file is done)."""
    if not done or done >= total:
        return ""
    left = (time.monotonic() - started) / done * (total - done)
    return f" · about {left:.0f} s left" if left < 90 else f" · about {left / 60:.0f} min left"


SESSION_ONLY = "session only"  # a set with clips in Session view only: no arrangement, no length


def clock(seconds: float | None) -> str:
    """3:05 for 185 s; "session only" for a set without an arrangement (never "0 s")."""
    if not seconds:
        return SESSION_ONLY
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


_MADE: dict[str, tuple[object, tuple, object]] = {}  # name -> (source, extra, what was made from them)


def made_from(name: str, source, make: Callable, *extra):
    """make(source, *extra), made again only for another source object or other extra values.
    TrainMode hands out the same list until a write changes it, so a table built from it is
    built once, not on every rerun (shared by sessions: never change what this returns)."""
    known = _MADE.get(name)
    if known and known[0] is source and known[1] == extra:
        return known[2]
    value = make(source, *extra)
    _MADE[name] = (source, extra, value)
    return value


_LABELS: dict[int, tuple[dict, str]] = {}  # id(row) -> (row, label): TrainMode keeps set rows until a write


def summary_label(row: dict) -> str:
    """The set as the pairing picker shows it: name — length · tempo · meter · key. Made once
    per set row: every picker offers every set, so 10 uploads x 2,000 sets ask 20,000 times a rerun."""
    known = _LABELS.get(id(row))
    if known and known[0] is row:
        return known[1]
    if len(_LABELS) > 50_000:  # rows of older generations: let them go
        _LABELS.clear()
    label = _summary_label(row)
    _LABELS[id(row)] = (row, label)
    return label


def _summary_label(row: dict) -> str:
    """From a narrow set row (TrainMode.list_set_rows): the tempo and key the Library shows."""
    bpm = row.get("bpm")
    facts = [clock(row.get("seconds")), f"{bpm:g} BPM" if bpm else None, row.get("meter"), row.get("key")]
    return f"{row['als_filename']} — " + " · ".join(f for f in facts if f)


def bar_chart(title: str, frame, label: str, *, order_by: str | None = None, horizontal: bool = False) -> None:
    """Bars of frame["sets"] per frame[label]: most sets first, or in `order_by` order
    (tempo bands read left to right). The Vega-Lite spec is written out: building it with
    altair (validated, hashed) cost more than everything else a Library rerun does."""
    st.markdown(f"**{title}**")
    if frame.empty:
        st.caption("Nothing to show.")
        return
    category, count = ("y", "x") if horizontal else ("x", "y")
    sort = {"field": order_by} if order_by else f"-{count}"
    # labelOverlap=False: Vega-Lite otherwise hides every other label when they would touch
    labels = {"labelLimit": 200, "labelAngle": 0 if horizontal else -45, "labelOverlap": False}
    spec = {
        "mark": {"type": "bar"},
        "encoding": {
            category: {"field": label, "type": "nominal", "sort": sort, "title": None, "axis": labels},
            count: {
                "field": "sets",
                "type": "quantitative",
                "title": "sets",
                "axis": {"tickMinStep": 1, "format": "d"},
            },
            "tooltip": [{"field": label, "type": "nominal"}, {"field": "sets", "type": "quantitative"}],
        },
    }
    st.vega_lite_chart(frame, spec, width="stretch", height=max(200, 30 * len(frame)) if horizontal else 220)


def snippet(text: str | None, words: int = 8) -> str:
    """“The first words of a caption…”, to name what would be lost."""
    cut = (text or "").split()
    return "“" + " ".join(cut[:words]) + ("…" if len(cut) > words else "") + "”"


def ask_first(where, label: str, key: str, lost: str | None, **button_args) -> bool:
    """A button for a destructive action: the first click asks, naming what is lost (`lost`),
    and only "Yes, <label>" does it; with nothing to lose (`lost` None) it acts at once. The
    question shows where the page is at the call, the button in `where` (a row, the page)."""
    asking = f"tm_ask_{key}"
    if st.session_state.get(asking):
        box = st.container(border=True)
        box.warning(f"{lost} Go on?", icon="⚠️")
        row = box.container(horizontal=True)
        if row.button(f"Yes, {label[0].lower()}{label[1:]}", key=f"{key}_yes", type="primary"):
            st.session_state.pop(asking, None)
            return True
        if row.button("Cancel", key=f"{key}_cancel"):
            st.session_state.pop(asking, None)
            st.rerun()
        return False
    if where.button(label, key=key, **button_args):
        if not lost:
            return True
        st.session_state[asking] = True
        st.rerun()
    return False
