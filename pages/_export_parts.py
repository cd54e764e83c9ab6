"""Export page parts: the format, split and artist options, and the captions report shown before exporting."""

from __future__ import annotations

import streamlit as st

from pages._ui import md
from trainmode.service import TrainMode

STAGES = {
    "writing": "Writing",
    "verifying": "Verifying the zip",
    "checking": "Checking it against the format's rules",
    "storing": "Storing",
    "done": "Done",
}
FEW = 4  # below this many captions, a 3-gram in one caption is "in at least a quarter" of them
REPORT_TITLES = {
    "caption": "Saved captions",
    "detailed": "Detailed variant",
    "short": "Short variant",
    "tags": "Tags variant",
}


def stage_text(stage: str) -> str:
    return STAGES.get(stage, stage.capitalize())


def export_options(tm: TrainMode) -> dict:
    """The keyword arguments of TrainMode.export the user chose: format, split, artist_name."""
    titles = tm.export_formats()
    with st.container(border=True):
        fmt = st.selectbox(
            "Format",
            list(titles),
            format_func=lambda n: f"{titles[n]} ({n})",
            key="export_format",
            help="The layout of dataset.zip: each one loads in its trainer with no conversion "
            "script (see docs/dataset-formats.md).",
        )
        row = st.container(horizontal=True)
        held_out = row.checkbox(
            "Hold out a validation split",
            key="export_split_on",
            help="The same items always land on the same side (a hash of the item id).",
        )
        split = row.slider(
            "Share to train on", 0.5, 0.99, 0.9, 0.01, key="export_split", disabled=not held_out, format="%.2f"
        )
        artist_name = st.checkbox(
            "Artist name instead of an opaque id",
            key="export_artist_name",
            help="Off: the dataset's artist fields carry an id, since a dataset often leaves the team.",
        )
    return {"format": fmt, "split": split if held_out else None, "artist_name": artist_name}


def report_metrics(report) -> None:
    """One caption report's figures, with the targets a trainer's dataset should meet."""
    cols = st.columns(5)
    cols[0].metric("Captions", report.count)
    cols[1].metric("Words (min · median · max)", f"{report.words_min} · {report.words_median:g} · {report.words_max}")
    cols[2].metric(
        "Same opening",
        f"{report.same_opening_share:.0%}",
        help=f"Target: at most 20 %. The most common first three words: “{report.top_opening}”.",
    )
    cols[3].metric(
        "Shared 3-grams",
        f"{report.shared_ngram_share:.0%}",
        help="Target: at most 10 % of word 3-grams found in at least a quarter of the captions.",
    )
    cols[4].metric("Duplicates", sum(len(g) for g in report.duplicates))
    findings = ", ".join(f"{code}: {n}" for code, n in report.findings_by_type.items())
    st.caption(f"Most common opening: “{md(report.top_opening)}” · findings: {md(findings or 'none')}")
    if report.count < FEW:
        st.caption(
            f"With {report.count} caption(s), every 3-gram is in at least a quarter of them: the variety "
            "figures mean more as the dataset grows."
        )
    for warning in report.warnings():
        st.warning(md(warning), icon="⚠️")


def captions_report(tm: TrainMode, artist: dict) -> None:
    """How varied and faithful the saved captions (and each stored variant) are, before exporting."""
    reports = {name: r for name, r in tm.captions_report(artist).items() if r.count}
    if not reports:
        return
    st.subheader("Captions report")
    tabs = st.tabs([REPORT_TITLES.get(name, name) for name in reports])
    for tab, report in zip(tabs, reports.values(), strict=True):
        with tab:
            report_metrics(report)
            with st.expander("As text (what `captions-report` prints)"):
                st.code(report.to_text(), language=None)
