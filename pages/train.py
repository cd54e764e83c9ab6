"""Train: pair many MP3s with their sets, generate captions, review them, save."""
import streamlit as st
from pages._ui import artist_picker, settings_and_store, summary_label, user_errors

from trainmode import queue as q
from trainmode.audio import probe_mp3
from trainmode.errors import AudioError
from trainmode.pairing import pair_uploads

QUEUE_KEY = "tm_queue"    # non-widget keys: they survive page switches and reruns
PROBES_KEY = "tm_probes"  # upload file_id -> (duration_s, error): measured once, not on every rerun
FLASH_KEY = "tm_train_flash"
NO_SET = ""

st.title("Train")
settings, store = settings_and_store()
artist = artist_picker(store)
if artist is None:
    st.stop()
queue: list[dict] = st.session_state.setdefault(QUEUE_KEY, [])
rows = store.list_summaries(artist["id"])
summaries = {row["parse_id"]: row for row in rows}
if not summaries:
    st.info("This artist has no sets yet: import .als files on the Library page.")
    st.stop()
mine = [e for e in queue if e["artist_id"] == artist["id"]]
q.recover(mine)
if flash := st.session_state.pop(FLASH_KEY, None):
    st.warning(flash)

# ---- add tracks: bulk upload, automatic pairing, manual pick for the rest ----------
st.subheader("Add tracks")
# A fresh key after each add empties the uploader (and lets Streamlit drop the files).
upload_round = st.session_state.setdefault("tm_upload_round", 0)
uploads = st.file_uploader("Rendered MP3s (many at once)", type=["mp3"], accept_multiple_files=True,
                           key=f"mp3_upload_{upload_round}",
                           help="Each file is paired with the set of the same name (render suffixes such as "
                                "'(master)', '_final' or 'v2' are ignored); the length decides between look-alikes.")
probes = st.session_state.setdefault(PROBES_KEY, {})


def probe(upload) -> tuple[float | None, str | None]:
    if upload.file_id not in probes:
        try:
            probes[upload.file_id] = (probe_mp3(upload, name=upload.name).duration_s, None)
        except AudioError as exc:
            probes[upload.file_id] = (None, str(exc))
    return probes[upload.file_id]


picks: list[tuple[object, str, float | None, str]] = []  # (upload, parse_id, duration, reason)
if uploads:
    measured = [(u, *probe(u)) for u in uploads]
    pairings = pair_uploads([(u.name, duration) for u, duration, _ in measured], rows)
    with st.container(border=True):
        for (upload, duration, error), pairing in zip(measured, pairings):
            name_col, set_col = st.columns([2, 3])
            length = f" · {duration:.0f} s" if duration is not None else ""
            mark = "❌" if error else "✅" if pairing.parse_id else "❔"
            name_col.markdown(f"{mark} **{upload.name}**{length}")
            if error:
                set_col.error(f"Not added: {error}")
                continue
            options = [NO_SET, *pairing.candidates, *(p for p in summaries if p not in pairing.candidates)]
            chosen = set_col.selectbox(f"Set for {upload.name}", options, key=f"pick_{upload.file_id}",
                                       index=options.index(pairing.parse_id) if pairing.parse_id else 0,
                                       format_func=lambda p: summary_label(summaries[p]) if p else "— pick a set —",
                                       label_visibility="collapsed")
            reason = pairing.reason if chosen == pairing.parse_id else "picked by hand"
            set_col.caption(reason if chosen else pairing.reason)
            if chosen:
                picks.append((upload, chosen, duration, reason))
    left_out = len(uploads) - len(picks)
    st.caption(f"{len(picks)} of {len(uploads)} files paired"
               + (f"; {left_out} without a set will be left out." if left_out else "."))
if st.button("Add to queue", type="primary", disabled=not picks):
    for upload, parse_id, duration, reason in picks:
        queue.append(q.new_entry(artist_id=artist["id"], parse_id=parse_id,
                                 als_filename=summaries[parse_id]["als_filename"], audio_name=upload.name,
                                 audio_path=q.spill_upload(upload, store.temp_dir()), duration_s=duration,
                                 pairing=reason))
    if skipped := len(uploads) - len(picks):
        st.session_state[FLASH_KEY] = f"{skipped} file(s) had no set (or were not MP3s) and were not added."
    st.session_state["tm_upload_round"] = upload_round + 1
    probes.clear()
    st.rerun()

# ---- the queue ----------------------------------------------------------------------
if not mine:
    st.info("The queue is empty: upload MP3s above and add them.")
    st.stop()
st.subheader("Queue")
counts = q.counts(mine)
st.progress(q.progress(mine), text=" · ".join([f"{counts['saved']}/{len(mine)} saved"] + [
    f"{n} {state}" for state, n in counts.items() if n and state != "saved"]))
batch_bar = st.empty()


def on_progress(label: str):
    def report(done: int, total: int, entry: dict) -> None:
        batch_bar.progress(done / total, text=f"{label} {done}/{total}: {entry['audio_name']}")
    return report


saveable = q.saveable(mine)
batch = st.container(horizontal=True)
if batch.button(f"Generate all ({counts['pending']})", disabled=not counts["pending"], key="generate_all"):
    with user_errors():
        q.generate([e for e in mine if e["state"] == "pending"], store, settings, artist, summaries,
                   on_progress=on_progress("Generating"))
        st.rerun()
if batch.button(f"Save all reviewed ({len(saveable)})", disabled=not saveable, key="save_all"):
    q.save(saveable, store, artist, summaries, on_progress=on_progress("Saving"))
    st.rerun()
if batch.button(f"Retry failed ({counts['failed']})", disabled=not counts["failed"], key="retry_all"):
    with user_errors():
        q.retry(mine, store, settings, artist, summaries, on_progress=on_progress("Retrying"))
        st.rerun()
if batch.button("Clear saved", disabled=not counts["saved"], key="clear_saved"):
    for entry in [e for e in mine if e["state"] == "saved"]:
        q.remove(queue, entry["id"])
    st.rerun()

BADGE = {"pending": "⏳ pending", "generating": "✍️ generating", "review": "👀 review",
         "saving": "💾 saving", "saved": "✅ saved", "failed": "❌ failed"}
master_schema = store.get_master_schema(artist["id"])


def keep_caption(entry: dict) -> None:
    """The queue entry holds the canonical text: widget state is dropped on a page switch."""
    row = summaries.get(entry["parse_id"])
    q.edit(entry, st.session_state[f"caption_{entry['id']}"], row["summary"] if row else {}, master_schema,
           artist["name"])


def keep_confirmation(entry: dict) -> None:
    entry["confirmed"] = st.session_state[f"confirm_{entry['id']}"]


def caption_editor(entry: dict) -> None:
    key = entry["id"]
    if entry["state"] == "saved":
        st.markdown(f"> {entry['prompt']}")
        return
    st.session_state[f"caption_{key}"] = entry["prompt"]  # restore it after a page switch or regenerate
    text = st.text_area("Caption", key=f"caption_{key}", on_change=keep_caption, args=(entry,), height=110)
    st.caption(f"{len(text.split())} words · {len(text)} characters" + (" · ✏️ edited" if q.edited(entry) else ""))
    for finding in entry["findings"]:
        icon = "⚠️" if finding.get("severity") == "warning" else "🚩"
        st.warning(f"Fact check: {finding['message']}", icon=icon)


def actions(entry: dict) -> None:
    key, state = entry["id"], entry["state"]
    row = st.container(horizontal=True)
    if state in ("pending", "review") and row.button(
            "Generate" if state == "pending" else "Regenerate", key=f"gen_{key}"):
        with user_errors():
            q.generate([entry], store, settings, artist, summaries)
            st.rerun()
    if state == "review" and row.button("Save", key=f"save_{key}", type="primary",
                                            disabled=bool(entry["needs_confirmation"]) and not entry["confirmed"]):
        q.save([entry], store, artist, summaries)
        st.rerun()
    if state == "failed" and row.button("Retry", key=f"retry_{key}"):
        with user_errors():
            q.retry([entry], store, settings, artist, summaries)
            st.rerun()
    if state != "saved" and row.button("Remove", key=f"remove_{key}"):
        q.remove(queue, key)
        st.rerun()


for entry in mine:
    with st.container(border=True):
        length = f" · {entry['duration_s']:.0f} s" if entry.get("duration_s") is not None else ""
        st.markdown(f"**{entry['audio_name']}** ↔ {entry['als_filename']} — {BADGE[entry['state']]}")
        st.caption(f"paired: {entry['pairing'] or 'by hand'}{length}")
        if entry["error"]:
            st.error(entry["error"])
        if entry["note"]:
            st.info(entry["note"])
        if entry["prompt"] or entry["state"] == "review":
            caption_editor(entry)
        if entry["state"] == "review" and entry["needs_confirmation"]:
            st.warning("Needs your confirmation before saving:\n\n"
                       + "\n".join(f"- {reason}" for reason in entry["needs_confirmation"]))
            st.session_state[f"confirm_{entry['id']}"] = entry["confirmed"]
            st.checkbox("Save anyway", key=f"confirm_{entry['id']}", on_change=keep_confirmation, args=(entry,))
        actions(entry)
