"""Library: artists, importing .als sets, the artist's sets at a glance, and the profile."""

import json
import time

import streamlit as st

from pages._manage import delete_artist_section, delete_set_section, items_section, show_done
from pages._ui import bar_chart, clock, eta, made_from, md, run_page, user_errors
from trainmode.errors import ValidationError
from trainmode.service import EXAMPLE_MASTER_SCHEMA, TrainMode, parse_master_schema
from trainmode.tables import filter_sets, set_counts, sets_frame, shown_sets, tempo_histogram

MESSAGE_KEY = "tm_schema_message"
IMPORT_SUMMARY_KEY = "tm_import_summary"
IMPORT_RUNNING_KEY = "tm_import_running"  # (done, total) while an import runs


def import_section(tm: TrainMode, artist: dict, rows: list[dict]) -> list[dict]:
    """Upload and import .als files: one progress bar (current file, ETA), then one summary.
    The uploader is emptied afterwards (a fresh key), so the files are not imported twice."""
    if summary := st.session_state.pop(IMPORT_SUMMARY_KEY, None):
        (st.warning if summary[0] else st.success)(summary[1])
    if cut := st.session_state.pop(IMPORT_RUNNING_KEY, None):  # still set: that run was stopped mid-way
        st.warning(
            f"The last import stopped after {cut[0]} of {cut[1]} files (the page was left or reloaded). "
            "Import the files again: those already imported are skipped."
        )
    with st.expander("Import sets", expanded=not rows):
        upload_round = st.session_state.setdefault("tm_als_round", 0)
        uploads = st.file_uploader(
            "Ableton Live sets (.als)",
            type=["als"],
            accept_multiple_files=True,
            key=f"als_upload_{artist['id']}_{upload_round}",
        )
        if not st.button("Import", disabled=not uploads, type="primary"):
            return rows
        bar, started = st.progress(0.0, text="Importing…"), time.monotonic()

        st.session_state[IMPORT_RUNNING_KEY] = (0, len(uploads))

        def on_progress(index, result):
            st.session_state[IMPORT_RUNNING_KEY] = (index, len(uploads))
            bar.progress(
                index / len(uploads),
                text=f"{index}/{len(uploads)} {md(result.filename)}{eta(started, index, len(uploads))}",
            )

        results = tm.import_sets(artist["name"], [(u.name, u.getvalue()) for u in uploads], on_progress)
        st.session_state.pop(IMPORT_RUNNING_KEY, None)
        st.session_state[IMPORT_SUMMARY_KEY] = import_summary(results)
        st.session_state["tm_als_round"] = upload_round + 1
        st.rerun()
    return rows


def import_summary(results) -> tuple[bool, str]:
    """(any failed, one message): the counts, then each failure on its own line."""
    tally = {status: sum(r.status == status for r in results) for status in ("imported", "duplicate", "failed")}
    text = (
        f"Imported {tally['imported']} of {len(results)} sets"
        + (f"; {tally['duplicate']} already imported" if tally["duplicate"] else "")
        + (f"; {tally['failed']} failed:" if tally["failed"] else ".")
    )
    failures = [f"- {md(r.filename)}: {md(r.error)}" for r in results if r.status == "failed"]
    return bool(failures), "\n".join([text, *failures])


def sets_section(rows: list[dict]) -> None:
    """`rows` are the narrow set rows (TrainMode.list_set_rows): the table virtualises, the
    charts get counts, never one mark per set."""
    st.subheader(f"Sets ({len(rows)})")
    frame = made_from("sets_frame", rows, sets_frame)  # built once per list of sets, not per rerun
    if frame.empty:
        st.info("No sets imported yet: import .als files above.")
        return
    name_col, bpm_col, meter_col = st.columns([2, 2, 1])
    text = name_col.text_input("Filter by name", key="sets_filter", placeholder="e.g. drive")
    bpms = frame["bpm"].dropna()
    bpm_range = None
    if len(bpms) and bpms.min() < bpms.max():
        low, high = float(bpms.min()), float(bpms.max())
        bpm_range = bpm_col.slider("BPM", low, high, (low, high), step=0.5, format="%.1f", key="sets_bpm")
    meters = meter_col.multiselect("Meter", sorted(frame["meter"].dropna().unique()), key="sets_meter")
    shown = filter_sets(frame, text, bpm_range, meters)
    st.dataframe(
        shown_sets(shown).assign(length_s=shown["length_s"].map(clock)),
        hide_index=True,
        width="stretch",
        column_config={
            "bpm": st.column_config.NumberColumn("BPM", format="%.1f"),
            "key": st.column_config.TextColumn("key", width=100),  # auto width cut "F# major"
            "meter": st.column_config.TextColumn("meter", width=70),
            "length_s": st.column_config.TextColumn("length"),
            "parse_id": None,
        },
    )
    if len(shown) < len(frame):
        st.caption(f"{len(shown)} of {len(frame)} sets match the filters; the charts below show them.")
    if not shown.empty:
        charts(rows, shown)


def charts(rows: list[dict], shown) -> None:
    counts = set_counts(rows, None if len(shown) == len(rows) else set(shown["parse_id"]))
    left, right = st.columns(2)
    with left:
        bar_chart("Tempo", tempo_histogram(shown), "tempo", order_by="order")
        bar_chart("Meters", counts["meters"], "meter")
        bar_chart("Instruments (sets with each)", counts["instruments"], "instrument")
    with right:
        bar_chart("Keys", counts["keys"], "key")
        bar_chart("Most-used plugins and devices", counts["plugins"], "plugin or device", horizontal=True)


def profile_section(tm: TrainMode, artist: dict, rows: list[dict]) -> None:
    st.subheader("Artist profile")
    st.caption("The master_schema describes the artist's sound; every caption is written with it.")
    text_key = f"schema_text_{artist['id']}"
    draft_key = f"tm_schema_draft_{artist['id']}"  # non-widget: an unsaved edit survives a page switch

    def keep_draft() -> None:
        st.session_state[draft_key] = st.session_state[text_key]

    def derive() -> None:
        """Fill tempo range, keys, meters and instruments from the sets; keep the words."""
        try:
            current = parse_master_schema(st.session_state[text_key].strip() or "{}")
        except ValidationError as exc:
            st.session_state[MESSAGE_KEY] = ("error", f"Fix the JSON first: {exc}")
            return
        derived = tm.derive_master_schema(tm.list_sets(artist), current)  # whole summaries: only on click
        st.session_state[draft_key] = json.dumps(derived, indent=2, ensure_ascii=False)
        st.session_state[MESSAGE_KEY] = (
            "info",
            f"Filled tempo_range, keys, meters and instruments from {len(rows)} "
            "sets. Now describe genres, moods and descriptors, then save.",
        )

    if draft_key not in st.session_state:
        saved = tm.master_schema(artist)  # a new artist starts empty: the example is only a placeholder
        st.session_state[draft_key] = json.dumps(saved, indent=2, ensure_ascii=False) if saved else ""
    st.session_state[text_key] = st.session_state[draft_key]
    text = st.text_area(
        "master_schema (JSON)",
        height=300,
        key=text_key,
        on_change=keep_draft,
        placeholder="For example:\n" + json.dumps(EXAMPLE_MASTER_SCHEMA, indent=2),
        help="Empty until you write it or derive it from the sets; the example is not saved.",
    )
    text = text.strip() or "{}"
    profile_buttons(tm, artist, rows, text, derive)


def profile_buttons(tm: TrainMode, artist: dict, rows: list[dict], text: str, derive) -> None:
    if message := st.session_state.pop(MESSAGE_KEY, None):
        (st.error if message[0] == "error" else st.info)(md(message[1]))
    problem = None
    try:
        parse_master_schema(text)
    except ValidationError as exc:
        problem = str(exc)
        st.error(md(problem))
    buttons = st.container(horizontal=True)
    empty = text.strip() in ("", "{}")
    if buttons.button(
        "Save profile",
        type="primary",
        disabled=problem is not None or empty,
        help="Write the profile (or derive it from the sets) first." if empty else None,
    ):
        with user_errors():
            tm.save_master_schema(artist, parse_master_schema(text))
            st.success("Profile saved.")
    buttons.button(
        "Derive from the artist's sets",
        on_click=derive,
        disabled=not rows,
        help="Tempo range, common keys, meters and the instruments in most sets; "
        "genres, moods and descriptors stay as you wrote them.",
    )


def page(tm: TrainMode, artist: dict) -> None:
    show_done()
    rows = import_section(tm, artist, tm.list_set_rows(artist))
    sets_section(rows)
    delete_set_section(tm, artist, rows)
    items_section(tm, artist, rows)
    profile_section(tm, artist, rows)
    delete_artist_section(tm, artist)


run_page("Library", page, library=True)
