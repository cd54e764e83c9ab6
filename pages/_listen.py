"""What the Train page shows of an MP3's sound against its set (trainmode.audio.analysis): the
verdict at pairing time and on each queue entry. Text only, escaped like everything else."""

import streamlit as st

from pages._ui import md

ICON = {"matches": "🎧", "doubtful": "🤔", "mismatch": "⚠️"}


def verdict_lines(verdict, *, icon: bool = True) -> str:
    """'🎧 matches: tempo agrees …' or the reasons, one sentence each; without the icon inside a
    box that has it already (a double ⚠ otherwise)."""
    said = verdict.reasons if verdict.verdict != "matches" else verdict.agreements
    lead = f"{ICON.get(verdict.verdict, '')} " if icon else ""
    return f"{lead}audio {verdict.verdict}" + (f": {md(' '.join(said))}" if said else "")


def show_verdict(where, verdict, *, asks: bool = True) -> None:
    """A mismatch warns (Save will ask for a confirmation: said when `asks`), a doubt informs, a
    match is a caption."""
    if verdict is None:
        return
    if verdict.verdict == "mismatch":
        ask = " Saving will ask you to confirm." if asks else ""
        where.warning(verdict_lines(verdict, icon=False) + ask, icon="⚠️")
    elif verdict.verdict == "doubtful":
        where.info(verdict_lines(verdict, icon=False), icon="🤔")
    else:
        where.caption(verdict_lines(verdict))
    for warning in verdict.warnings:
        where.caption(f"🔈 {md(warning)}")


def show_entry_sound(entry) -> None:
    """On a queue entry: what was heard, then the verdict against its set."""
    if entry.analysis is None:
        return
    heard = entry.analysis
    parts = [
        f"{heard.bpm:.0f} BPM" if heard.bpm else None,
        heard.key,
        f"{heard.loudness_lufs:.1f} LUFS" if heard.loudness_lufs is not None else None,
        ", ".join(heard.heard()[:6]) or None,  # the tagger's confidently heard words, best first
    ]
    st.caption("heard: " + md(" · ".join(p for p in parts if p) or "nothing measurable"))
    show_verdict(st, entry.verdict, asks=False)  # the entry asks in its own confirmation box, once
