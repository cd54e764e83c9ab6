"""Browse: the saved items page by page, like a dataset viewer: a player, the caption and its
variants, the set's facts and what was heard, the verdict, the findings, who saved it and when,
its lyrics (added, edited, removed), and each item's section clips to review, edit and save.
Filters by status, verdict and findings."""

from pathlib import PurePosixPath

import streamlit as st

from pages._clips import clips_panel
from pages._lyrics import item_lyrics
from pages._ui import clock, local_time, made_from, md, run_page, user_errors
from trainmode.service import TrainMode, caption_of
from trainmode.tables import NOT_LISTENED, filter_browse

PER_PAGE = 10
PAGE_KEY = "browse_page"
EXPORT_PAGE_KEY = "browse_export_page"
VERDICT_ICON = {"matches": "🎧", "doubtful": "🤔", "mismatch": "⚠️", NOT_LISTENED: "·"}


def filters(rows: list[dict]) -> list[dict]:
    cols = st.columns([2, 2, 2, 2])
    text = cols[0].text_input("File name", key="browse_text", placeholder="e.g. drive")
    statuses = cols[1].multiselect("Status", ["ready", "exported"], key="browse_status", placeholder="any")
    verdicts = cols[2].multiselect(
        "Audio verdict", ["matches", "doubtful", "mismatch", NOT_LISTENED], key="browse_verdict", placeholder="any"
    )
    findings = cols[3].selectbox("Fact-check findings", ["any", "with findings", "without"], key="browse_findings")
    return filter_browse(rows, statuses, verdicts, findings, text)


def page_of(shown: list[dict]) -> list[dict]:
    pages = max(1, -(-len(shown) // PER_PAGE))
    if int(st.session_state.get(PAGE_KEY) or 1) > pages:  # the filters left fewer pages
        st.session_state[PAGE_KEY] = pages
    row = st.container(horizontal=True, vertical_alignment="center")
    number = row.number_input(f"Page (of {pages})", 1, pages, key=PAGE_KEY)
    start = (int(number) - 1) * PER_PAGE
    row.caption(f"{len(shown)} items match · showing {start + 1 if shown else 0}–{min(start + PER_PAGE, len(shown))}")
    return shown[start : start + PER_PAGE]


def facts_line(set_row: dict | None, heard: dict) -> str:
    """'set: 124 BPM · 4/4 · A minor · 0:16 — heard: 124 BPM · A minor · -14.0 LUFS'."""
    parts = []
    if set_row:
        bpm = set_row.get("bpm")
        facts = [
            f"{bpm:g} BPM" if bpm else None,
            set_row.get("meter"),
            set_row.get("key"),
            clock(set_row.get("seconds")),
        ]
        parts.append("set: " + " · ".join(f for f in facts if f))
    if heard:
        said = [
            f"{heard['bpm']:.0f} BPM" if heard.get("bpm") else None,
            heard.get("key"),
            f"{heard['loudness_lufs']:.1f} LUFS" if heard.get("loudness_lufs") is not None else None,
        ]
        parts.append("heard: " + " · ".join(s for s in said if s))
    return md(" — ".join(parts))


def item_card(tm: TrainMode, artist: dict, item: dict, set_row: dict | None) -> None:
    heard = (item.get("metadata") or {}).get("audio") or {}
    verdict = heard.get("verdict") or NOT_LISTENED
    with st.container(border=True):
        st.markdown(
            f"**{md(item.get('audio_filename'))}** ↔ {md(set_row['als_filename'] if set_row else '?')} — "
            f"{item['status']} · {VERDICT_ICON[verdict]} {verdict}"
        )
        who = f"saved by {md(item['created_by'])} · " if item.get("created_by") else ""
        edited = " · ✏️ edited by hand" if item.get("prompt_edited") else ""
        st.caption(f"{who}{local_time(item['created_at'])} · {clock(item.get('audio_duration_s'))}{edited}")
        if st.toggle("Play", key=f"browse_play_{item['id']}"):  # read only when asked: 10 MP3s a rerun add up
            st.audio(tm.item_audio(item), format="audio/mpeg")
        st.text(caption_of(item))
        st.caption(facts_line(set_row, heard))
        for finding in item.get("findings") or []:
            st.caption(f"🚩 {md(finding.get('message', ''))}")
        variants = (item.get("metadata") or {}).get("captions") or {}
        if variants and st.toggle("Variants", key=f"browse_variants_{item['id']}"):
            for name, text in variants.items():
                st.markdown(f"*{md(name)}*: {md(text)}")
        item_lyrics(tm, artist, item)
        if st.toggle("Section clips", key=f"browse_clips_{item['id']}"):
            clips_panel(tm, artist, item["id"], scope="browse", expanded=True)


def export_label(tm: TrainMode, export: dict) -> str:
    held = tm.export_details(export)
    by = f", by {export['created_by']}" if export.get("created_by") else ""
    return f"{local_time(export['created_at'])} — {held.format}, {held.rows_text()}{by}"


def export_view(tm: TrainMode, artist: dict) -> None:
    """A past export's rows as its trainer reads them: each audio file with its split and its
    sidecar files (caption, metadata), a player on demand. The zip is read where it is stored
    (on Supabase: its directory and the shown rows' files, by ranged reads)."""
    done = {e["id"]: e for e in tm.list_exports(artist) if e["status"] == "complete"}
    if not done:
        st.info("No complete export yet: export on the Export page.")
        return
    pick = st.selectbox("Export", list(done), key="browse_export", format_func=lambda i: export_label(tm, done[i]))
    page_key = f"{EXPORT_PAGE_KEY}_{pick}"  # one per export: another has another number of pages
    number = int(st.session_state.get(page_key) or 1)
    with user_errors():
        rows, total = tm.export_rows(done[pick], (number - 1) * PER_PAGE, PER_PAGE)
        pages = max(1, -(-total // PER_PAGE))
        st.number_input(f"Page (of {pages}, {total} rows)", 1, pages, key=page_key)
        for row in rows:
            export_row(tm, done[pick], row)


def export_row(tm: TrainMode, export: dict, row: dict) -> None:
    with st.container(border=True):
        st.markdown(f"**{md(row['audio'])}** · {row['split']}")
        if st.toggle("Play", key=f"browse_row_play_{export['id']}_{row['audio']}"):
            with user_errors():
                st.audio(tm.export_member(export, row["audio"]), format="audio/mpeg")
        for name, text in row["sidecars"].items():
            st.caption(md(PurePosixPath(name).name))
            st.code(text, language="json" if name.endswith(".json") else None, wrap_lines=True)


def page(tm: TrainMode, artist: dict) -> None:
    if st.segmented_control("Show", ["Saved items", "A past export"], default="Saved items", key="browse_what") == (
        "A past export"
    ):
        export_view(tm, artist)
        return
    rows, items = tm.browse_items(artist)
    if not rows:
        st.info("Nothing saved yet: pair MP3s with their sets on the Train page.")
        return
    st.caption(
        "Every saved item as the dataset has it. Play one, read its caption and variants, check what "
        "was heard against its set, add or edit its lyrics, and review its section clips."
    )
    shown = filters(rows)
    sets = made_from("sets_by_id_browse", tm.list_set_rows(artist), lambda r: {s["parse_id"]: s for s in r})
    for row in page_of(shown):
        item_card(tm, artist, items[row["id"]], sets.get(row["parse_id"]))


run_page("Browse", page)
