"""Train: pair many MP3s with their sets, generate captions, review them, save."""

import time

import streamlit as st

from pages._clips import clips_panel
from pages._listen import show_entry_sound, show_verdict
from pages._lyrics import entry_lyrics
from pages._ui import (
    ask_first,
    clock,
    eta,
    local_time,
    made_from,
    md,
    run_page,
    snippet,
    summary_label,
    user_errors,
    who,
)
from pages._variants import show_findings, variant_editor
from trainmode.service import QueueEntry, TrainMode, counted, counts, progress, recover, saveable

QUEUE_KEY = "tm_queue"  # non-widget keys: they survive page switches and reruns
PROBES_KEY = "tm_probes"  # upload file_id -> MeasuredUpload (info, analysis or error): once, not every rerun
FLASH_KEY = "tm_train_flash"
REFRESHED_KEY = "tm_refreshed"  # entries this run's pull replaced with someone else's newer version
NOTES_KEY = "tm_queue_notes"  # what was refused because someone else changed it first
NO_SET = ""
BADGE = {
    "pending": "⏳ pending",
    "generating": "✍️ generating",
    "review": "👀 review",
    "saving": "💾 saving",
    "saved": "✅ saved",
    "failed": "❌ failed",
}


def measure(tm: TrainMode, uploads) -> list:
    """Each upload probed (hash + duration) and listened to once, the new ones in parallel; the
    queue entry keeps both, so Save neither re-probes nor re-listens."""
    probes = st.session_state.setdefault(PROBES_KEY, {})
    new = [u for u in uploads if u.file_id not in probes]
    if new:
        with st.status(
            f"Listening to {len(new)} file(s): tempo, key, loudness, what is heard…", expanded=True
        ) as status:
            bar, lines, started = st.progress(0.0), [st.empty() for _ in new], time.monotonic()
            pending: dict[str, list[int]] = {}
            for index, (line, upload) in enumerate(zip(lines, new, strict=True)):
                line.caption(f"⏳ {md(upload.name)}")
                pending.setdefault(upload.name, []).append(index)

            def listened(done: int, total: int, name: str) -> None:  # per file, as each one is heard (#29)
                if pending.get(name):
                    lines[pending[name].pop(0)].caption(f"✅ {md(name)} · {time.monotonic() - started:.1f} s")
                bar.progress(done / total, text=f"{done}/{total} heard{eta(started, done, total)}")

            for line, upload, measured in zip(
                lines, new, tm.measure_uploads([(u.name, u) for u in new], listened), strict=True
            ):
                probes[upload.file_id] = measured
                if measured.error is not None:  # not an MP3: said at once, never listened to
                    line.caption(f"❌ {md(upload.name)}")
            status.update(label=f"Listened to {len(new)} file(s).", state="complete", expanded=False)
    return [probes[u.file_id] for u in uploads]


def pick_sets(tm: TrainMode, uploads, rows: list[dict], sets: dict[str, dict]) -> list[tuple]:
    """One row per upload: the proposed set, changeable, with the MP3's length and a player
    next to it and a length mismatch shown now, not at Save. Returns (upload, parse_id, info, reason).
    `rows` and `sets` (by parse_id) are the narrow set rows: no whole summary is read to pair."""
    measured = measure(tm, uploads)
    pairings = tm.pair_measured(measured, rows)
    picks = []
    with st.container(border=True):
        for upload, heard, pairing in zip(uploads, measured, pairings, strict=True):
            if pick := pick_row(tm, upload, heard, pairing, sets):
                picks.append(pick)
    left_out = len(uploads) - len(picks)
    st.caption(
        f"{len(picks)} of {len(uploads)} files paired"
        + (f"; {left_out} without a set will be left out." if left_out else ".")
    )
    return picks


def pick_row(tm: TrainMode, upload, heard, pairing, sets: dict[str, dict]) -> tuple | None:
    info, error = heard.info, heard.error
    name_col, set_col = st.columns([2, 3])
    heading = name_col.empty()
    length = f" · {clock(info.duration_s)}" if info else ""
    if error:
        heading.markdown(f"❌ **{md(upload.name)}**{length}")
        set_col.error(f"Not added: {md(error)}")
        return None
    name_col.audio(upload, format="audio/mpeg")
    offered = set(pairing.candidates)  # a set: with thousands of sets a tuple scan per set is O(N²)
    options = [NO_SET, *pairing.candidates, *(p for p in sets if p not in offered)]
    chosen = set_col.selectbox(
        f"Set for {md(upload.name)}",
        options,
        key=f"pick_{upload.file_id}",
        index=options.index(pairing.parse_id) if pairing.parse_id else 0,
        format_func=lambda p: summary_label(sets[p]) if p else "— pick a set —",
        label_visibility="collapsed",
    )
    heading.markdown(f"{'✅' if chosen else '❔'} **{md(upload.name)}**{length}")
    set_col.caption(pairing_hint(pairing, chosen, sets))
    if not chosen:
        return None
    reason = pairing.reason if chosen == pairing.parse_id else "picked by hand"
    if heard.analysis is not None:
        show_verdict(set_col, tm.audio_verdict(heard.analysis, sets[chosen]))
    elif mismatch := tm.length_mismatch(info, sets[chosen]):
        set_col.warning(md(mismatch), icon="⏱️")
    return upload, chosen, heard, reason


def pairing_hint(pairing, chosen: str, sets: dict[str, dict]) -> str:
    """Why this set, and how its length and tempo compare: always about the set in the box, and
    with no set chosen, about the closest one by its name (#29: not a set the user never chose)."""
    if chosen:
        reason = pairing.reason if chosen == pairing.parse_id else "picked by hand"
        why = pairing.why_for(chosen)
        return md(reason) + (f" · {md(why)}" if why else "")
    closest = pairing.candidates[0] if pairing.candidates and pairing.why else None
    return md(pairing.reason) + (
        f" · closest: {md(sets[closest]['als_filename'])} ({md(pairing.why)})" if closest in sets else ""
    )


def add_tracks(tm: TrainMode, artist: dict, rows: list[dict], sets: dict[str, dict], queue: list) -> None:
    st.subheader("Add tracks")
    # A fresh key after each add empties the uploader (and lets Streamlit drop the files).
    upload_round = st.session_state.setdefault("tm_upload_round", 0)
    uploads = st.file_uploader(
        "Rendered MP3s (many at once)",
        type=["mp3"],
        accept_multiple_files=True,
        key=f"mp3_upload_{upload_round}",
        help="Each file is paired with the set of the same name (render suffixes such as "
        "'(master)', '_final' or 'v2' are ignored); the length decides between "
        "look-alikes.",
    )
    picks = pick_sets(tm, uploads, rows, sets) if uploads else []
    if st.button("Add to queue", type="primary", disabled=not picks):
        for upload, parse_id, heard, reason in picks:
            tm.add_to_queue(
                queue,
                artist,
                sets[parse_id],
                upload,
                name=upload.name,
                info=heard.info,
                analysis=heard.analysis,
                pairing=reason,
                by=who(),
            )
        if skipped := len(uploads) - len(picks):
            st.session_state[FLASH_KEY] = f"{skipped} file(s) had no set (or were not MP3s) and were not added."
        st.session_state["tm_upload_round"] = upload_round + 1
        st.session_state[PROBES_KEY] = {}
        st.rerun()


def reporter(bar, label: str):
    def report(done: int, total: int, entry: QueueEntry) -> None:
        bar.progress(done / total, text=f"{label} {done}/{total}: {md(entry.audio_name)}")

    return report


def batch_buttons(tm: TrainMode, artist: dict, queue: list, mine: list[QueueEntry]) -> None:
    tally = counts(mine)
    st.progress(
        progress(mine),
        text=" · ".join(
            [f"{tally['saved']}/{len(mine)} saved"]
            + [f"{n} {state}" for state, n in tally.items() if n and state != "saved"]
        ),
    )
    bar = st.empty()
    ready = saveable(mine)
    row = st.container(horizontal=True)
    if row.button(f"Generate all ({tally['pending']})", disabled=not tally["pending"], key="generate_all"):
        with user_errors():
            tm.generate_entries(
                [e for e in mine if e.state == "pending"], artist, on_progress=reporter(bar, "Generating")
            )
            st.rerun()
    waiting = [e for e in mine if e.state == "review" and not e.item_id and e not in ready]
    help_ = f"{len(waiting)} more need your confirmation (or an edit) on their own card first." if waiting else None
    if row.button(f"Save all reviewed ({len(ready)})", disabled=not ready, key="save_all", help=help_):
        tm.save_entries(ready, artist, on_progress=reporter(bar, "Saving"))
        st.rerun()
    if row.button(f"Retry failed ({tally['failed']})", disabled=not tally["failed"], key="retry_all"):
        with user_errors():
            tm.retry_entries(mine, artist, on_progress=reporter(bar, "Retrying"))
            st.rerun()
    if row.button("Clear saved", disabled=not tally["saved"], key="clear_saved"):
        for entry in [e for e in mine if e.state == "saved"]:
            tm.remove_entry(queue, entry.id)
        st.rerun()


def caption_editor(tm: TrainMode, entry: QueueEntry, artist: dict, master_schema: dict) -> None:
    key = entry.id
    if entry.state == "saved":
        st.text(entry.caption)
        return

    def keep_caption() -> None:
        """The queue entry holds the canonical text: widget state is dropped on a page switch. The
        check reads the set's whole summary: fetched here, for this set only (then kept)."""
        tm.edit_entry(entry, st.session_state[f"caption_{key}"], artist, master_schema)

    st.session_state[f"caption_{key}"] = entry.caption  # restore it after a page switch or regenerate
    text = st.text_area("Caption", key=f"caption_{key}", on_change=keep_caption, height=110)
    st.caption(f"{len(text.split())} words · {len(text)} characters" + (" · ✏️ edited" if entry.edited else ""))
    show_findings(entry.findings)
    variant_editor(tm, entry, artist, master_schema)


def hand_edits(entry: QueueEntry) -> str | None:
    """What Regenerate would throw away: the caption or variants as edited by hand (None: nothing)."""
    variants = entry.generated is not None and entry.variants != dict(entry.generated.variants)
    if not entry.edited and not variants:
        return None
    what = " and ".join(w for w, on in (("the caption", entry.edited), ("the variants", variants)) if on)
    return f"Regenerate replaces {what} you edited by hand ({md(snippet(entry.caption))})."


def removal(entry: QueueEntry) -> str:
    kept = f", with its caption {md(snippet(entry.caption))}" if entry.caption else ""
    return f"Remove takes {md(entry.audio_name)} off the queue for everyone on this artist{kept}; it was not saved."


def actions(tm: TrainMode, entry: QueueEntry, artist: dict, queue: list) -> None:
    key, state = entry.id, entry.state
    row = st.container(horizontal=True)
    if (
        state in ("pending", "review")
        and ask_first(row, "Generate" if state == "pending" else "Regenerate", f"gen_{key}", hand_edits(entry))
        and not refused(entry)
    ):
        with user_errors():
            tm.generate_entries([entry], artist)
            st.rerun()
    unconfirmed = bool(entry.to_confirm) and not entry.confirmed
    if (
        state == "review"
        and entry.item_id
        and row.button("Update its caption", key=f"update_{key}", type="primary", disabled=entry.blocked or unconfirmed)
        and not refused(entry)
    ):
        with user_errors():
            tm.update_entry_caption(entry, artist)
            st.rerun()
    elif (
        state == "review"
        and not entry.item_id
        and row.button(
            "Save",
            key=f"save_{key}",
            type="primary",
            disabled=entry.blocked or unconfirmed,
        )
        and not refused(entry)
    ):
        tm.save_entries([entry], artist)
        st.rerun()
    if state == "failed" and row.button("Retry", key=f"retry_{key}") and not refused(entry):
        with user_errors():
            tm.retry_entries([entry], artist)
            st.rerun()
    if state != "saved" and ask_first(row, "Remove", f"remove_{key}", removal(entry)) and not refused(entry):
        tm.remove_entry(queue, key)
        st.rerun()


def entry_card(tm: TrainMode, entry: QueueEntry, artist: dict, master_schema: dict, queue: list) -> None:
    with st.container(border=True):
        length = f" · {clock(entry.duration_s)}" if entry.duration_s is not None else ""
        st.markdown(f"**{md(entry.audio_name)}** ↔ {md(entry.als_filename)} — {BADGE[entry.state]}")
        added = f" · added by {md(entry.by)}" if entry.by else ""
        st.caption(f"paired: {md(entry.pairing or 'by hand')}{length}{added}")
        show_entry_sound(entry)
        if entry.error:
            st.error(md(entry.error))
        if entry.note:
            st.info(entry.note)
        if entry.caption or entry.state == "review":
            caption_editor(tm, entry, artist, master_schema)
        if entry.state == "review" and entry.blocked:
            st.caption(
                "⛔ No confirmation can override the finding above: edit the caption (or the variant) to save it."
            )
        elif entry.state == "review" and entry.to_confirm:
            st.warning(
                f"Needs your confirmation before {'updating the saved caption' if entry.item_id else 'saving'}:\n\n"
                + "\n".join(f"- {md(reason)}" for reason in entry.to_confirm)
            )

            def keep_confirmation() -> None:
                entry.confirmed = st.session_state[f"confirm_{entry.id}"]

            st.session_state[f"confirm_{entry.id}"] = entry.confirmed
            st.checkbox("Save anyway", key=f"confirm_{entry.id}", on_change=keep_confirmation)
        entry_lyrics(tm, entry, artist)
        if entry.item_id:
            clips_panel(tm, artist, entry.item_id, scope=entry.id)
        actions(tm, entry, artist, queue)


def sync_in(tm: TrainMode, artist: dict, queue: list) -> None:
    """At the start of each run: the artist's queue as stored (a reload, a closed tab, another
    browser, a colleague's changes). The first time in a session, week-old drafts are swept."""
    if not st.session_state.get("tm_drafts_swept"):
        st.session_state["tm_drafts_swept"] = True
        tm.sweep_drafts()
    key = f"tm_sync_{artist['id']}"
    first = key not in st.session_state
    synced = st.session_state.setdefault(key, tm.queue_sync())
    refreshed, notes = tm.pull_queue(artist, queue, synced)
    st.session_state[REFRESHED_KEY] = refreshed
    st.session_state.setdefault(NOTES_KEY, []).extend(notes)
    restored = sum(e.artist_id == artist["id"] for e in queue)
    if first and restored:
        st.session_state[FLASH_KEY] = (
            f"Restored the queue as you left it on {local_time(synced.updated_at)} ({counted(restored, 'track')})."
        )


def sync_out(tm: TrainMode, artist: dict, queue: list) -> None:
    """At the end of each run: what this session changed, stored entry by entry; an entry someone
    else changed first is refused, said at once, and shown as they left it."""
    synced = st.session_state[f"tm_sync_{artist['id']}"]
    st.session_state.pop(NOTES_KEY, None)  # shown in this run, which got this far: not again
    with user_errors("The queue could not be kept for a reload: "):
        if notes := tm.push_queue(artist, queue, synced, who()):
            st.session_state[NOTES_KEY] = notes
            st.rerun()


def show_notes() -> None:
    """Kept until a run ends (sync_out): a click's rerun would otherwise lose them unseen."""
    for note in st.session_state.get(NOTES_KEY, []):
        st.warning(md(note), icon="👥")


def refused(entry: QueueEntry) -> bool:
    """A click on an entry someone else changed since this tab showed it is not carried out."""
    if entry.id in st.session_state.get(REFRESHED_KEY, set()):
        st.warning(f"{md(entry.audio_name)} was changed by someone else: look at it again, then act.", icon="👥")
        return True
    return False


def discard_button(tm: TrainMode, artist: dict, queue: list, mine: list[QueueEntry]) -> None:
    unsaved = [e for e in mine if e.state != "saved"]
    written = sum(bool(e.caption) for e in unsaved)
    lost = (
        f"Discard takes all {len(mine)} tracks off the queue for everyone on {md(artist['name'])}: "
        f"{len(unsaved)} not saved" + (f", {written} of them with a caption" if written else "") + "."
    )
    if ask_first(
        st,
        "Discard the queue",
        "discard_queue",
        lost if unsaved else None,
        help="Removes every track of this queue, here and in the draft kept for a reload.",
    ):
        for entry in list(mine):
            tm.remove_entry(queue, entry.id)
        st.rerun()


def sets_by_id(rows: list[dict]) -> dict[str, dict]:
    return {row["parse_id"]: row for row in rows}


def page(tm: TrainMode, artist: dict) -> None:
    queue: list[QueueEntry] = st.session_state.setdefault(QUEUE_KEY, [])
    rows = tm.list_set_rows(artist)  # narrow: a set's whole summary is read only once it is queued
    if not rows:
        st.info("This artist has no sets yet: import .als files on the Library page.")
        return
    sync_in(tm, artist, queue)
    queue_page(tm, artist, queue, rows)
    sync_out(tm, artist, queue)


def queue_page(tm: TrainMode, artist: dict, queue: list, rows: list[dict]) -> None:
    mine = [e for e in queue if e.artist_id == artist["id"]]
    recover(mine)
    if flash := st.session_state.pop(FLASH_KEY, None):
        (st.warning if "not added" in flash else st.info)(flash)
    show_notes()
    add_tracks(tm, artist, rows, made_from("sets_by_id", rows, sets_by_id), queue)
    if not mine:
        st.info("The queue is empty: upload MP3s above and add them.")
        return
    st.subheader("Queue")
    batch_buttons(tm, artist, queue, mine)
    master_schema = tm.master_schema(artist)
    for entry in mine:
        entry_card(tm, entry, artist, master_schema, queue)
    discard_button(tm, artist, queue, mine)


run_page("Train", page)
