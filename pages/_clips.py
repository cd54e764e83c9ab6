"""The section clips of a saved item, on the Train page (a queue entry) and in the Library (any
saved item): section, start–end, a player, and the caption to edit or drop before the clips are
saved (docs/clips.md)."""

from __future__ import annotations

import streamlit as st

from pages._ui import ask_first, md, user_errors
from trainmode.service import TrainMode


def clips_panel(tm: TrainMode, artist: dict, item_id: str, scope: str, *, expanded: bool = False) -> None:
    """`scope` keeps the widget keys apart where one item shows twice (two queue entries of one
    MP3, or the Library and a queue entry): keyed by the item alone, the second one crashed."""
    with st.expander("Section clips", expanded=expanded):
        with user_errors():
            item, clips = tm.item_clips(artist, item_id)
            offset = float((item.get("metadata") or {}).get("clip_offset_s") or 0.0)
            moved = st.number_input(
                "Seconds of lead-in before beat 0 in this render",
                value=offset,
                step=0.1,
                key=f"clips_offset_{scope}_{item_id}",
            )
            if moved != offset:
                tm.set_clip_offset(item, moved)
                item, clips = tm.item_clips(artist, item_id)
            if not clips:
                st.caption("This set has no arrangement sections to cut clips at.")
                return
            edited = [_clip_row(tm, item, clip, f"clip_{scope}_{item['id']}_{clip['index']}") for clip in clips]
            saved = all(c["saved"] or c["silent"] for c in clips)
            row = st.container(horizontal=True)
            if row.button(
                "Save clip captions" if not saved else "Update clip captions", key=f"clips_save_{scope}_{item_id}"
            ):
                tm.save_clips(item, edited, artist=artist)
                st.toast(f"Saved {sum(not c['dropped'] and not c['silent'] for c in edited)} clip captions.")
            kept = sum(c["saved"] or c["edited"] for c in edited)
            sounding = sum(not c["silent"] for c in clips)
            lost = f"Write them again replaces the captions of all {sounding} clips and keeps every clip" + (
                f", {kept} of them reviewed or edited by hand." if kept else "."
            )
            if ask_first(row, "Write them again", f"clips_again_{scope}_{item_id}", lost if kept else None):
                tm.recaption_clips(artist, item_id)
                for stale in [k for k in st.session_state if str(k).startswith(f"clip_{scope}_{item_id}_")]:
                    del st.session_state[stale]  # the boxes show the new captions, not what was typed
                st.rerun()


def section_title(clip: dict) -> str:
    return clip["name"] or "unnamed section"


def _clip_row(tm: TrainMode, item: dict, clip: dict, key: str) -> dict:
    st.markdown(
        f"**{clip['index']}. {md(section_title(clip))}** · {clip['start_s']:.1f}–{clip['end_s']:.1f} s"
        + (" · dropped" if clip["dropped"] else "")
    )
    if st.checkbox("Play", key=f"{key}_play"):  # cut only when asked: a clip each rerun would add up
        st.audio(tm.clip_audio(item, clip), format="audio/mpeg")
    if clip["silent"]:  # never exported: nothing to caption or drop
        st.caption(f"🔇 Silent, not exported: {md(clip['silent'])}.")
        return clip
    caption = st.text_area("Caption", clip["caption"], key=f"{key}_caption", label_visibility="collapsed")
    dropped = st.checkbox("Drop this clip from the dataset", clip["dropped"], key=f"{key}_drop")
    for finding in clip["findings"]:
        st.caption(f"⚠️ {md(finding['message'])}")
    return {
        **clip,
        "caption": caption,
        "dropped": dropped,
        "edited": clip["edited"] or caption.strip() != clip["caption"].strip(),
    }
