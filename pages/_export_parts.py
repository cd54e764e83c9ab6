"""Export page parts: the format, split and artist options, and the captions report shown before exporting."""

from __future__ import annotations

import streamlit as st

from pages._ui import md
from trainmode.service import TrainMode, counted

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


FINDING_WORDS = {  # fact-check codes (trainmode/captions/factcheck.py) in a user's words
    "tempo_mismatch": "a tempo the set does not have",
    "tempo_unverified": "a tempo that cannot be checked",
    "tempo_change_unsupported": "a tempo change the set does not make",
    "meter_change_unsupported": "a meter change the set does not make",
    "key_mismatch": "a key the set is not in",
    "key_unverified": "a key that cannot be checked",
    "mode_mismatch": "major and minor mixed up",
    "unsupported_instrument": "an instrument the set does not have",
    "too_short": "too few words",
    "too_long": "too many characters",
    "empty": "no text",
    "variant_length": "a variant of the wrong length",
    "artist_name": "the artist's name",
    "sample_name": "a sample's name",
    "file_name": "a file name",
    "path": "a path",
    "url": "a URL",
}


def findings_text(findings_by_type: dict[str, int]) -> str:
    """'2 × an instrument the set does not have, 1 × a key the set is not in' (no codes)."""
    return ", ".join(f"{n} × {FINDING_WORDS.get(code, code.replace('_', ' '))}" for code, n in findings_by_type.items())


def report_metrics(report) -> None:
    """One caption report's figures, with the targets a trainer's dataset should meet; a figure
    above its target says so, and the findings say what and where (#29)."""
    cols = st.columns(5)
    cols[0].metric("Captions", report.count)
    cols[1].metric(
        "Words",
        f"{report.words_min}–{report.words_max}",
        help=f"Shortest to longest; median {report.words_median:g}.",
    )
    repeated = round(report.same_opening_share * report.count) >= 2
    cols[2].metric(
        "Same opening",
        f"{report.same_opening_share:.0%}" if repeated else "none",
        delta="above the 20 % target" if repeated and report.same_opening_share > 0.2 else None,
        delta_color="inverse",
        help=f"Target: at most 20 %. The most common first three words: “{report.top_opening}”."
        if repeated
        else "No two captions open with the same three words.",
    )
    cols[3].metric(
        "Shared 3-grams",
        f"{report.shared_ngram_share:.0%}",
        delta="above the 10 % target" if report.shared_ngram_share > 0.1 else None,
        delta_color="inverse",
        help="Target: at most 10 % of word 3-grams found in at least a quarter of the captions.",
    )
    cols[4].metric("Duplicates", sum(len(g) for g in report.duplicates))
    if report.count < FEW:
        st.caption(
            f"With {report.count} caption(s), every 3-gram is in at least a quarter of them: the variety "
            "figures mean more as the dataset grows."
        )
    for warning in report.warnings():
        if "fact-check findings remain" in warning:
            n = sum(report.findings_by_type.values())
            warning = (
                f"{counted(n, 'fact-check finding')} in these captions: "
                f"{findings_text(report.findings_by_type)}. See which items on the Browse page "
                "(filter: with findings)."
            )
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
