"""Train page part: a generated caption's variants (detailed, short, tags) shown, editable, each with
its own fact check, and one picked to become the caption. Save stores the variants as edited."""

from __future__ import annotations

import streamlit as st

from pages._ui import md
from trainmode.service import VARIANT_RULES, QueueEntry, TrainMode


def show_findings(findings: list) -> None:
    """Blocking findings as errors (no confirmation overrides them), the others as warnings."""
    for finding in findings:
        if getattr(finding, "blocking", False):
            st.error(f"Cannot be saved until edited: {md(finding.message)}", icon="⛔")
        else:
            st.warning(f"Fact check: {md(finding.message)}", icon="⚠️" if finding.severity == "warning" else "🚩")


def variant_box(tm: TrainMode, entry: QueueEntry, name: str, artist: dict, master_schema: dict) -> None:
    key = f"variant_{name}_{entry.id}"

    def keep_variant() -> None:
        """The entry keeps the text; a variant in use as the caption carries its edit to the caption."""
        in_use = entry.caption.strip() == entry.variants[name].strip()
        tm.edit_entry_variant(entry, name, st.session_state[key], artist, master_schema)
        if in_use:
            tm.use_variant(entry, name, artist, master_schema)

    st.session_state[key] = entry.variants[name]  # restore it after a page switch or regenerate
    text = st.text_area(f"Variant {name}", key=key, on_change=keep_variant, height=80 if name != "detailed" else 110)
    in_use = entry.caption.strip() == text.strip()
    row = st.container(horizontal=True, vertical_alignment="center")
    size = f"{len([t for t in text.split(',') if t.strip()])} tags" if name == "tags" else f"{len(text.split())} words"
    row.caption(f"{VARIANT_RULES.get(name, 'a caption')} · {size}" + (" · ✅ this is the caption" if in_use else ""))
    if not in_use and row.button(
        "Use as the caption",
        key=f"use_{name}_{entry.id}",
        help="The caption is the text the model trains on; every variant is saved beside it.",
    ):
        tm.use_variant(entry, name, artist, master_schema)
        st.rerun()
    show_findings(entry.variant_findings.get(name, []))


def variant_editor(tm: TrainMode, entry: QueueEntry, artist: dict, master_schema: dict) -> None:
    """The entry's variants in one expander (open when one has a finding)."""
    if not entry.variants:
        return
    found = sum(len(f) for f in entry.variant_findings.values())
    label = f"Caption variants: {', '.join(entry.variants)}" + (f" — {found} finding(s)" if found else "")
    with st.expander(label, expanded=bool(found)):
        for name in entry.variants:
            variant_box(tm, entry, name, artist, master_schema)
