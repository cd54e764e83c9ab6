"""Train: pair a set with its rendered MP3, generate a caption, review it, save."""
import streamlit as st
from pages._ui import artist_picker, settings_and_store, summary_label, user_errors

from trainmode import queue as q
from trainmode.errors import ConfirmationRequired, TrainModeError
from trainmode.service import generate_prompt, save_training_item
from trainmode.writers import GeneratedPrompt

QUEUE_KEY = "tm_queue"  # non-widget key: the queue survives page switches and reruns

st.title("Train")
settings, store = settings_and_store()
artist = artist_picker(store)
if artist is None:
    st.stop()
queue: list[dict] = st.session_state.setdefault(QUEUE_KEY, [])
summaries = {row["parse_id"]: row for row in store.list_summaries(artist["id"])}
if not summaries:
    st.info("This artist has no sets yet: import .als files on the Library page.")
    st.stop()


# ---- actions (each moves one queue entry through its states) -------------------------
def generate(entry: dict) -> None:
    q.move(entry, "generating")
    try:
        gen = generate_prompt(store, settings, artist, summaries[entry["parse_id"]])
    except TrainModeError as exc:
        q.move(entry, "failed", error=str(exc))
        return
    q.move(entry, "review", prompt=gen.prompt.prompt, generated=gen.prompt.to_dict(), findings=gen.findings,
           needs_confirmation=[])


def save(entry: dict, confirm: bool = False) -> None:
    q.move(entry, "saving")
    generated = GeneratedPrompt(**entry["generated"]) if entry["generated"] else None
    try:
        result = save_training_item(store, artist, summaries[entry["parse_id"]], audio=entry["audio_path"],
                                    audio_name=entry["audio_name"], prompt_text=entry["prompt"],
                                    generated=generated, confirm=confirm)
    except ConfirmationRequired as exc:
        q.move(entry, "review", needs_confirmation=exc.reasons)
        return
    except TrainModeError as exc:
        q.move(entry, "failed", error=str(exc))
        return
    q.move(entry, "saved", item_id=result.item["id"], needs_confirmation=[],
           error="Already saved earlier (same audio)." if result.duplicate else None)


def run_batch(entries: list[dict], action, label: str) -> None:
    bar = st.progress(0.0, text=label)
    for index, entry in enumerate(entries, 1):
        bar.progress((index - 1) / len(entries), text=f"{label} {index}/{len(entries)}: {entry['audio_name']}")
        action(entry)
    bar.progress(1.0, text=f"{label} done")


# ---- add to the queue ---------------------------------------------------------------
st.subheader("Add a track")
parse_id = st.selectbox("Ableton set", list(summaries), format_func=lambda p: summary_label(summaries[p]))
# A fresh key after each add empties the uploader (forms would hold the file until submit).
upload_round = st.session_state.setdefault("tm_upload_round", 0)
upload = st.file_uploader("Rendered MP3", type=["mp3"], key=f"mp3_upload_{upload_round}")
if st.button("Add to queue", type="primary", disabled=upload is None):
    path = q.spill_upload(upload, store.temp_dir())
    queue.append(q.new_entry(artist_id=artist["id"], parse_id=parse_id,
                             als_filename=summaries[parse_id]["als_filename"],
                             audio_name=upload.name, audio_path=path))
    st.session_state["tm_upload_round"] = upload_round + 1
    st.rerun()

# ---- the queue ----------------------------------------------------------------------
mine = [e for e in queue if e["artist_id"] == artist["id"]]
if not mine:
    st.info("The queue is empty: add a set and its MP3 above.")
    st.stop()
counts = q.counts(mine)
st.subheader("Queue")
st.progress(q.progress(mine), text=" · ".join(f"{n} {state}" for state, n in counts.items() if n))
col1, col2, _ = st.columns([1, 1, 3])
if col1.button("Generate all", disabled=not (counts["pending"] or counts["failed"])):
    run_batch([e for e in mine if e["state"] in ("pending", "failed") and not e["generated"]], generate, "Generating")
    st.rerun()
if col2.button("Save all reviewed", disabled=not counts["review"]):
    run_batch([e for e in mine if e["state"] == "review" and not e["needs_confirmation"]], save, "Saving")
    st.rerun()

BADGE = {"pending": "⏳ pending", "generating": "✍️ generating", "review": "👀 ready to save",
         "saving": "💾 saving", "saved": "✅ saved", "failed": "❌ failed"}
for entry in mine:
    with st.container(border=True):
        st.markdown(f"**{entry['audio_name']}** ↔ {entry['als_filename']} — {BADGE[entry['state']]}")
        if entry["error"]:
            (st.info if entry["state"] == "saved" else st.error)(entry["error"])
        key = entry["id"]
        if entry["state"] in ("review", "failed") and entry["generated"] is not None or entry["state"] == "review":
            def keep_edit(entry=entry, key=key):
                entry["prompt"] = st.session_state[f"caption_{key}"]
            st.session_state[f"caption_{key}"] = entry["prompt"]
            text = st.text_area("Caption", key=f"caption_{key}", on_change=keep_edit, height=110)
            st.caption(f"{len(text.split())} words · {len(text)} characters"
                       + (" · edited" if entry["generated"] and text.strip() != entry["generated"]["prompt"] else ""))
            for finding in entry["findings"]:
                st.warning(f"Fact check: {finding['message']}")
        cols = st.columns(4)
        if entry["state"] in ("pending", "failed", "review") and cols[0].button(
                "Generate" if entry["state"] == "pending" else "Regenerate", key=f"gen_{key}"):
            if entry["state"] == "failed":
                q.move(entry, "pending")
            generate(entry)
            st.rerun()
        if entry["state"] == "review":
            confirm = False
            if entry["needs_confirmation"]:
                st.warning("Needs your confirmation: " + " ".join(entry["needs_confirmation"]))
                confirm = st.checkbox("Save anyway", key=f"confirm_{key}")
            if cols[1].button("Save", key=f"save_{key}", type="primary"):
                save(entry, confirm=confirm)
                st.rerun()
        if entry["state"] != "saving" and cols[3].button("Remove", key=f"remove_{key}"):
            q.remove(queue, key)
            st.rerun()
