"""The Library's saved items and its deletes: an item (with its files), a set (refused while
items use it, or with them), the artist with everything (after typing its name)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._ui import ask_first, choose_artist_after_delete, local_time, made_from, md, snippet, user_errors
from trainmode.service import TrainMode, caption_of

DONE_KEY = "tm_manage_done"
PAGE_KEY = "items_page"
ITEMS_PER_PAGE = 100


def done(message: str) -> None:
    st.session_state[DONE_KEY] = message
    st.rerun()


def show_done() -> None:
    if message := st.session_state.pop(DONE_KEY, None):
        st.success(message)


def items_frame(items: list[dict], sets: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "audio": i.get("audio_filename"),
                "set": sets.get(i["als_summary_id"], "?"),
                "status": i["status"],
                "caption": caption_of(i),
                "edited": bool(i.get("prompt_edited")),
                "by": i.get("created_by") or "",
                "saved": local_time(i["created_at"]),
            }
            for i in items
        ]
    )


def items_section(tm: TrainMode, artist: dict, rows: list[dict]) -> None:
    """The saved items, one page of ITEMS_PER_PAGE at a time: thousands of items are never read at once."""
    items, total = tm.item_page(artist, (current_page() - 1) * ITEMS_PER_PAGE, ITEMS_PER_PAGE)
    pages = max(1, -(-total // ITEMS_PER_PAGE))
    if current_page() > pages:  # items went meanwhile: show the last page
        st.session_state[PAGE_KEY] = pages
        items, total = tm.item_page(artist, (pages - 1) * ITEMS_PER_PAGE, ITEMS_PER_PAGE)
    st.subheader(f"Saved items ({total})")
    if not items:
        st.caption("Nothing saved yet: pair MP3s with their sets on the Train page.")
        return
    sets = made_from("set_names", rows, lambda rows: {r["id"]: r["als_filename"] for r in rows})
    st.dataframe(
        items_frame(items, sets),
        hide_index=True,
        width="stretch",
        column_config={"caption": st.column_config.TextColumn(width="large")},
    )
    if pages > 1:
        st.number_input(f"Page (of {pages}, {ITEMS_PER_PAGE} items each)", 1, pages, key=PAGE_KEY)
    by_id = {i["id"]: i for i in items}
    pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    pick = pick_col.selectbox(
        "Saved item",
        list(by_id),
        key="item_pick",
        format_func=lambda i: f"{by_id[i].get('audio_filename')} — {by_id[i]['status']}",
    )
    chosen = by_id[pick]
    lost = (
        f"Delete item removes {md(chosen.get('audio_filename'))} ({chosen['status']}, saved"
        + (f" by {md(chosen['created_by'])}" if chosen.get("created_by") else "")
        + f" on {local_time(chosen['created_at'])}): its audio, its caption {md(snippet(chosen['prompt_text']))}"
        " and its clips' captions. This cannot be undone."
    )
    if ask_first(button_col, "Delete item", "delete_item", lost, help="The item, its audio and its caption file."):
        with user_errors():
            tm.delete_item(artist, pick)
            done(f"Deleted {md(by_id[pick].get('audio_filename'))} and its files.")


def current_page() -> int:
    return int(st.session_state.get(PAGE_KEY) or 1)


def delete_set_section(tm: TrainMode, artist: dict, rows: list[dict]) -> None:
    if not rows:
        return
    with st.expander("Delete a set"):
        by_pid = {r["parse_id"]: r for r in rows}
        pick = st.selectbox("Set", list(by_pid), key="set_delete_pick", format_func=lambda p: by_pid[p]["als_filename"])
        used = tm.count_set_items(artist, by_pid[pick]["id"])
        with_items = used and st.checkbox(f"Also delete the {used} saved item(s) made from it", key="set_with_items")
        if st.button(
            "Delete set",
            disabled=bool(used) and not with_items,
            help="Refused while saved items use the set, unless they go with it.",
        ):
            with user_errors():
                gone = tm.delete_set(artist, pick, with_items=bool(with_items))
                done(f"Deleted {md(by_pid[pick]['als_filename'])}" + (f" and {gone} item(s)." if gone else "."))
        if used and not with_items:
            st.caption(f"{used} saved item(s) use this set: it is kept unless they go with it.")


def delete_artist_section(tm: TrainMode, artist: dict) -> None:
    with st.expander("Delete this artist"):
        st.caption(
            f"⚠️ Deletes {md(artist['name'])} with everything: sets, profile, saved items, exports and "
            "their files. This cannot be undone."
        )
        typed = st.text_input(f"Type {md(artist['name'])} to confirm", key=f"delete_artist_{artist['id']}")
        if st.button("Delete artist", disabled=typed.strip().casefold() != artist["name"].casefold()):
            with user_errors():
                tm.delete_artist(artist, typed)
                choose_artist_after_delete()
                done(f"Deleted {md(artist['name'])} with everything.")
