"""Export: the captions report, then pack the artist's ready items into a dataset zip in the chosen
format and download it."""

import time
from pathlib import Path, PurePosixPath

import pandas as pd
import streamlit as st

from pages._export_parts import captions_report, export_options, stage_text
from pages._ui import ask_first, eta, local_time, md, run_page, size_text, user_errors, who
from trainmode.service import WINDOW_RANGE_S, WINDOW_S, TrainMode, counted
from trainmode.tables import items_frame

EXPORTED_KEY = "tm_last_export"
DELETED_KEY = "tm_export_deleted"


def offer_download(tm: TrainMode, url: str, local: Path | None, size: int, key: str, zip_path: str) -> None:
    """st.download_button holds the whole file in memory: only offer it for small zips.
    The file is named as stored (dataset.zip, dataset-audiocraft.zip, ...)."""
    name = PurePosixPath(zip_path).name or "dataset.zip"
    if local is not None and size <= tm.settings.download_max_bytes:
        with open(local, "rb") as fh:
            st.download_button(
                f"Download {name}", fh.read(), file_name=name, mime="application/zip", key=key, on_click="ignore"
            )  # no rerun: keep the page
    elif local is not None:
        st.info(f"The zip is {size / 2**20:.0f} MiB; copy it from:")
        st.code(str(local), language=None)
    else:
        st.link_button(f"Download {name}", url)


def export_buttons(tm: TrainMode, artist: dict, ready: list[dict], exported: list[dict], options: dict) -> None:
    """Export the ready items, or everything again (ready and exported) as a new dataset."""
    row = st.container(horizontal=True)
    export = row.button("Export", type="primary", disabled=not ready)
    everything = row.button(
        f"Re-export all ({len(ready) + len(exported)})",
        disabled=not exported,
        help="A new dataset.zip of every ready and exported item, e.g. after editing "
        "captions; earlier exports stay in the history.",
    )
    if not export and not everything:
        return
    bar, started = st.progress(0.0, text="Exporting…"), time.monotonic()

    def on_progress(p):
        share = p.bytes_done / p.bytes_total if p.bytes_total else p.items_done / max(p.items_total, 1)
        bar.progress(
            min(share, 1.0),
            text=f"{stage_text(p.stage)}: {p.items_done}/{p.items_total} rows, "
            f"{p.bytes_done / 2**20:.1f} MiB{eta(started, share, 1.0)}",
        )

    with user_errors("Export failed: "):
        run = tm.export_everything if everything else tm.export
        result = run(artist, on_progress=on_progress, by=who(), **options)
        again = " as a new dataset" if everything else ""
        made = next(e for e in tm.list_exports(artist) if e["id"] == result.export_id)
        held = tm.export_details(made)
        empty = " The validation split is empty." if held.empty_split else ""
        st.session_state[EXPORTED_KEY] = (
            result,
            f"Exported {counted(result.item_count, 'item')}{again} ({size_text(result.bytes)}): {held.format}, "
            f"{held.rows_text()}, {held.split_text()}.{empty}",
        )
        st.rerun()  # the counts, the rows and the button show the export's effect


def last_export(tm: TrainMode) -> None:
    """The export just made (kept across the rerun that refreshed the page): message + download."""
    if done := st.session_state.pop(EXPORTED_KEY, None):
        result, message = done
        (st.warning if "validation split is empty" in message else st.success)(message)
        for line in result.left_out:  # what the trainer could not take, as the card says it
            st.info(f"Left out: {line}", icon="ℹ️")
        for warning in result.warnings:  # the checker's judgment calls, with their numbers
            st.warning(warning, icon="⚠️")
        offer_download(tm, result.url, result.local_path, result.bytes, "download_new", result.zip_path)


def history_frame(tm: TrainMode, exports: list[dict]) -> pd.DataFrame:
    records = []
    for e in exports:
        held = tm.export_details(e)
        records.append(
            {
                "when": local_time(e["created_at"]),
                "by": e.get("created_by") or "",
                "format": held.format,
                "rows": held.rows_text(),
                "split": held.split_text(),
                "size": size_text(e["bytes"]),
                "status": e["status"],
                "error": e.get("error") or "",
            }
        )
    return pd.DataFrame.from_records(records)


def export_label(tm: TrainMode, export: dict) -> str:
    """'2026-12-07 10:05 by Kim — audiocraft, 4 section clips of 2 items, 3 train / 1 valid, 12 KiB'."""
    held = tm.export_details(export)
    by = f" by {export['created_by']}" if export.get("created_by") else ""
    return (
        f"{local_time(export['created_at'])}{by} — {held.format}, {held.rows_text()}, {held.split_text()}, "
        f"{size_text(export['bytes'])}"
    )


def past_exports(tm: TrainMode, artist: dict) -> None:
    st.subheader("Past exports")
    exports = tm.list_exports(artist)
    if not exports:
        st.info("No exports yet.")
        return
    st.dataframe(history_frame(tm, exports), hide_index=True, width="stretch")
    done = [e for e in exports if e["status"] != "building"]
    if not done:
        return
    by_id = {e["id"]: e for e in done}
    pick = st.selectbox("A past export", list(by_id), format_func=lambda i: export_label(tm, by_id[i]))
    chosen = by_id[pick]
    row = st.container(horizontal=True)
    if chosen["status"] == "complete" and row.button("Prepare download"):
        with user_errors():
            url, local = tm.export_download(chosen)
            offer_download(tm, url, local, chosen["bytes"], "download_past", chosen["zip_path"])
    lost = (
        f"Delete this export removes the export of {md(export_label(tm, chosen))}: its zip "
        f"{md(PurePosixPath(chosen['zip_path']).name)} goes, and its {chosen['item_count']} items that are "
        "still marked exported by it become ready to export again."
    )
    if ask_first(row, "Delete this export", "delete_export", lost, help="Its zip goes; its items become ready again."):
        with user_errors():
            tm.delete_export(artist, pick)
            st.session_state[DELETED_KEY] = f"Deleted the export of {md(export_label(tm, chosen))}."
            st.rerun()


def clips_option() -> dict:
    """Whole tracks, or each item's section clips as the rows (docs/clips.md); for window clips,
    their length (only then: another mode with a length is refused)."""
    modes = {
        "none": "Whole tracks",
        "sections": "Section clips: one per arrangement section",
        "windows": "Window clips: of at most the window length, inside the sections",
    }
    mode = st.radio(
        "Rows",
        list(modes),
        format_func=modes.get,
        key="export_clips",
        horizontal=True,
        help="Clips carry the captions reviewed in the Library or on the Train page (Section clips); "
        "clips without a reviewed caption get one written from what plays in them.",
    )
    if mode != "windows":
        return {"clips": mode}
    low, high = WINDOW_RANGE_S
    window_s = st.number_input(
        "Window length (s)",
        min_value=low,
        max_value=high,
        value=WINDOW_S,
        step=1.0,
        format="%g",
        key="export_window_s",
        help=f"The longest clip; each section is cut into equal windows no longer than this. Match your "
        f"trainer: MusicGen (audiocraft) trains on 30 s segments and pads shorter files, Stable Audio Open on "
        f"its sample_size (about 47.5 s), ACE-Step keeps up to {high:g} s of a file. {low:g} to {high:g} s.",
    )
    return {"clips": mode, "window_s": float(window_s)}


def split_preview(tm: TrainMode, ready: list[dict], exported: list[dict], options: dict) -> None:
    """Where the held-out items land, before exporting: an empty validation split is said (#29)."""
    if options.get("split") is None or not (ready or exported):
        return
    for label, items in (("Export", ready), ("Re-export all", ready + exported)):
        if not items:
            continue
        sides = tm.split_counts(items, options["split"])
        if not sides["train"]:
            st.warning(
                f"{label} would be refused: none of its {len(items)} items falls on the training side at a "
                f"train share of {options['split']:.2f}. Raise the share or export without a split.",
                icon="⚠️",
            )
        elif not sides["valid"]:
            st.warning(
                f"{label} would leave the validation split empty: none of its {len(items)} items falls on the "
                f"validation side at a train share of {options['split']:.2f}. Lower the share, add items, "
                "or export without a split.",
                icon="⚠️",
            )
        else:
            st.caption(f"{label}: {sides['train']} items to train on, {sides['valid']} held out for validation.")


def page(tm: TrainMode, artist: dict) -> None:
    items = tm.list_item_rows(artist)
    ready = [i for i in items if i["status"] == "ready"]
    exported = [i for i in items if i["status"] == "exported"]
    st.metric("Ready to export", len(ready))
    if ready:
        st.dataframe(items_frame(ready), hide_index=True, width="stretch")
    captions_report(tm, artist)
    options = {**export_options(tm), **clips_option()}
    split_preview(tm, ready, exported, options)
    export_buttons(tm, artist, ready, exported, options)
    last_export(tm)
    if message := st.session_state.pop(DELETED_KEY, None):
        st.success(message)
    past_exports(tm, artist)


run_page("Export", page)
