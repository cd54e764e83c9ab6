"""Train and Browse page part: a track's lyrics, kept with its queue entry (the draft, so a rerun, a
reload or another browser finds them) or with its saved item, and a hint when an export takes the
track as sung but it has no lyrics (what that means for the ACE-Step exports)."""

from __future__ import annotations

import hashlib

import streamlit as st

from pages._ui import md, user_errors
from trainmode.service import MAX_LYRICS_CHARS, QueueEntry, TrainMode, counted

LABEL = "Lyrics (optional)"
HELP = (
    "The song's words, one line per sung line; section tags such as [Verse] and [Chorus] may stay. "
    "Saved with the item: the ACE-Step and ai-toolkit exports train on them, hf and stable-audio carry them."
)
SUNG = (
    "🎤 Sung ({why}) and no lyrics yet: an ACE-Step 1.5 export leaves it out (its preprocessing would "
    "train the singing under the `[Instrumental]` lyric), ACE-Step v1 and ai-toolkit exports train it with "
    "empty lyrics. "
    "Paste its lyrics below to train it with its words."
)


def lines(lyrics: str) -> str:
    n = len([line for line in lyrics.splitlines() if line.strip()])
    return counted(n, "line")


def entry_lyrics(tm: TrainMode, entry: QueueEntry, artist: dict) -> None:
    """A queue entry's lyrics in an expander, kept on the entry (and so in the draft) as typed;
    read-only once saved (the item has them: edit them on the Browse page). The 🎤 hint comes with
    the caption: only then is the set's whole summary read (never for a batch just added)."""
    why = tm.entry_sung_without_lyrics(artist, entry) if entry.state in ("review", "failed") else None
    if why:
        st.caption(SUNG.format(why=md(why)))
    with st.expander(LABEL):
        if entry.state == "saved":
            st.text(entry.lyrics or "No lyrics were saved with it.")
            st.caption("Saved with the item: change them on the Browse page.")
            return
        key = f"lyrics_{entry.id}"

        def keep_lyrics() -> None:
            tm.set_entry_lyrics(entry, st.session_state[key])

        st.session_state[key] = entry.lyrics  # restore them after a page switch, a reload or a refresh
        st.text_area(LABEL, key=key, on_change=keep_lyrics, height=160, max_chars=MAX_LYRICS_CHARS, help=HELP)
        st.caption(f"{lines(entry.lyrics)}, saved with the item" if entry.lyrics else "None yet: saved without lyrics.")


def item_lyrics(tm: TrainMode, artist: dict, item: dict) -> None:
    """A saved item's lyrics, shown on demand, edited and saved (or removed) with set_lyrics."""
    stored = (item.get("metadata") or {}).get("lyrics") or ""
    if not st.toggle("Lyrics", key=f"browse_lyrics_on_{item['id']}"):
        return
    if why := tm.item_sung_without_lyrics(artist, item):
        st.caption(SUNG.format(why=md(why)))
    # A new box whenever the stored lyrics change (here or elsewhere): it shows them as stored.
    digest = hashlib.sha256(stored.encode("utf-8")).hexdigest()[:12]
    text = st.text_area(
        LABEL,
        value=stored,
        key=f"browse_lyrics_{item['id']}_{digest}",
        height=160,
        max_chars=MAX_LYRICS_CHARS,
        help=HELP,
    )
    row = st.container(horizontal=True, vertical_alignment="center")
    save = row.button("Save lyrics", key=f"browse_lyrics_save_{item['id']}")
    remove = bool(stored) and row.button("Remove lyrics", key=f"browse_lyrics_remove_{item['id']}")
    again = (
        " (exported already: Re-export all on the Export page to carry them)" if item["status"] == "exported" else ""
    )
    row.caption((f"{lines(stored)} saved" if stored else "No lyrics saved") + again)
    if (save and text != stored) or remove:
        with user_errors():
            tm.set_lyrics(artist, item["id"], None if remove else text)
            st.rerun()
