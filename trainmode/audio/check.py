"""The render against its set: listen to each upload once, judge it against the set's facts,
and keep what was found with the training item.

    measured = measure_uploads([("night_drive.mp3", upload)])   # probe + analysis, in parallel
    verdict = judge(measured[0].analysis, set_row["summary"])   # matches | doubtful | mismatch
    item["metadata"]["audio"] = item_audio(analysis, verdict, confirmed=False)

The analysis itself is trainmode/audio/analysis (docs/audio-analysis.md); this module is the glue
between it and the save path, the queue and the pairing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from trainmode.audio.analysis import AudioAnalysis, Verdict, analyze_many, compare
from trainmode.audio.analysis.parallel import FileProgress
from trainmode.audio.analysis.verdict import check_sound
from trainmode.audio.probe import AudioInfo, probe_mp3
from trainmode.errors import AudioError
from trainmode.sets.facts import SetFacts
from trainmode.store import lease
from trainmode.train.uploads import spill_to_temp

Upload = BinaryIO | bytes | str | Path


def set_reference(summary: dict | None) -> tuple[float | None, str | None, float | None]:
    """(dominant BPM, key like "A minor" or None, arrangement seconds): the set's side of the verdict.

    Read through trainmode.sets.facts, the one meaning of a set: the key only when the notes or the
    user's scale support it.
    """
    facts = SetFacts.from_summary(summary)
    return facts.dominant_bpm, facts.key, facts.length_seconds


def row_reference(set_row: dict) -> tuple[float | None, str | None, float | None]:
    """set_reference of a whole als_summaries row, or of a narrow set row (TrainMode.list_set_rows,
    trainmode/store/set_rows.py), which holds the same facts projected: no whole summary needed."""
    if "summary" in set_row:
        return set_reference(set_row["summary"])
    return set_row.get("bpm"), set_row.get("key"), set_row.get("seconds")


def judge(analysis: AudioAnalysis, summary: dict | None) -> Verdict:
    """Does this render belong to the set whose summary this is? Tempo, key and length."""
    return judge_row(analysis, {"summary": summary})


def judge_row(analysis: AudioAnalysis, set_row: dict) -> Verdict:
    """judge() against a whole or a narrow set row."""
    set_bpm, set_key, set_seconds = row_reference(set_row)
    return compare(analysis, set_bpm=set_bpm, set_key=set_key, set_seconds=set_seconds)


def _stored_analysis(item: dict) -> AudioAnalysis | None:
    audio = (item.get("metadata") or {}).get("audio")
    return AudioAnalysis.from_dict(audio) if isinstance(audio, dict) else None


def sound_of(item: dict) -> str:
    """How much of a saved item's render sounds, from its stored measurements: 'none' (silent),
    'partly' (silent for most of its length: verdict.check_sound) or 'music' (or not measured)."""
    analysis = _stored_analysis(item)
    if analysis is None or check_sound(analysis)[0] == "none":
        return "music"
    return "none" if analysis.silent else "partly"


def silent_item(item: dict, *, clips: bool = False) -> str | None:
    """Why a saved item holds no music to train on, from its stored measurements; None when it
    has music or none were stored. Such an item was a `mismatch` saved only on the user's
    confirmation; an export should leave it out and count it.

    As a whole track (the default) a render silent for most of its length has too little music.
    A clip export (`clips`) judges each clip by its own sound (clips.plan.silence_reason), so it
    leaves out whole only a render with no sound at all, or a mostly silent one whose sound was
    not measured in spans (saved before `sound_spans`), whose clips cannot be judged."""
    analysis = _stored_analysis(item)
    if analysis is None:
        return None
    outcome, words = check_sound(analysis)
    if outcome == "none" or (clips and not analysis.silent and analysis.sound_spans is not None):
        return None
    return words[:1].upper() + words[1:] + "."


def needs_confirmation(verdict: Verdict) -> list[str]:
    """The reasons a save must be confirmed for: a mismatch only (doubtful is shown, not asked)."""
    return list(verdict.reasons) if verdict.verdict == "mismatch" else []


def item_audio(analysis: AudioAnalysis, verdict: Verdict, confirmed: bool) -> dict:
    """What a training item keeps under metadata["audio"] (docs/audio-analysis.md, "Stored with the item").

    `confirmed`: the user said "save anyway" although the verdict was not `matches`."""
    return {
        **analysis.to_dict(),
        "verdict": verdict.verdict,
        "reasons": list(verdict.reasons),
        "agreements": list(verdict.agreements),
        "warnings": list(verdict.warnings),
        "tempo_relation": verdict.tempo_relation,
        "confirmed": bool(confirmed and verdict.verdict != "matches"),
    }


def verdict_line(verdict: Verdict) -> str:
    """One line for people: "audio: mismatch. The audio runs at 140 BPM, the set at 128."."""
    said = verdict.reasons if verdict.verdict != "matches" else verdict.agreements
    return " ".join([f"audio: {verdict.verdict}.", *said]).strip()


@dataclass(frozen=True)
class MeasuredUpload:
    """One upload probed (SHA-256, duration) and listened to; `error` when it is not a usable MP3."""

    name: str
    info: AudioInfo | None = None
    analysis: AudioAnalysis | None = None
    error: str | None = None


def measure_uploads(
    uploads: Sequence[tuple[str, Upload]],
    folder: str | None = None,
    max_workers: int | None = None,
    on_progress: FileProgress | None = None,
) -> list[MeasuredUpload]:
    """Probe every upload, then analyse the valid ones in parallel (one process per core).

    Uploads that are not files yet (bytes, an UploadedFile) are copied to temp files under
    `folder` for the workers and removed afterwards. Results are in upload order.
    `on_progress(done, total, name)`: after each valid upload is listened to."""
    probed: list[MeasuredUpload] = []
    for name, upload in uploads:
        try:
            probed.append(MeasuredUpload(name, info=probe_mp3(upload, name=name)))
        except AudioError as exc:
            probed.append(MeasuredUpload(name, error=str(exc)))
    valid = [(i, upload) for i, ((_, upload), m) in enumerate(zip(uploads, probed, strict=True)) if m.info]
    # Tagged with this process, so that `doctor` and the start-up sweep remove it if we are killed here.
    with tempfile.TemporaryDirectory(dir=folder, prefix=f"analysis-{lease.owner_tag()}-") as spill_dir:
        paths = [_as_path(upload, spill_dir) for _, upload in valid]
        names = [uploads[i][0] for i, _ in valid]
        results = analyze_many(paths, max_workers=max_workers, on_progress=on_progress, names=names) if paths else []
    for (i, _), result in zip(valid, results, strict=True):
        m = probed[i]
        probed[i] = (
            MeasuredUpload(m.name, error=str(result))
            if isinstance(result, AudioError)
            else MeasuredUpload(m.name, info=m.info, analysis=result)
        )
    return probed


def _as_path(upload: Upload, folder: str) -> str | os.PathLike:
    """A path the analysis workers can open; an upload object is copied (and left rewound)."""
    if isinstance(upload, (str, Path)):
        return upload
    path = spill_to_temp(upload, folder)
    if not isinstance(upload, (bytes, bytearray, memoryview)):
        upload.seek(0)
    return path
