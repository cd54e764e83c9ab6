"""Pair uploaded MP3s with imported sets: by file name first, by length (and tempo) as a tiebreak.

    pairs = pair_uploads([("Night Drive (master).mp3", 15.6)], store.list_set_rows(artist_id))
    pairs[0].parse_id   # the night_drive.als row, or None when the user must pick

Renders are named after their set with a render suffix ("Night Drive (master).mp3",
"night_drive_final_v2.mp3"), so both names are normalised and compared. Length never
pairs on its own (many sets of one artist are about as long): it only picks between
sets whose names match equally well.

When the upload's audio analysis is given, the candidate sets are ranked by length AND tempo
(`rank_candidates`), each with a "why" ("length 3:58 vs 4:00, tempo 128 = 128 BPM"); sets with
the same (or a similar) name are then split by length and tempo together, and the paired set
gets the audio verdict (matches | doubtful | mismatch). Tempo and length alone still never pair.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import PurePath

from trainmode.audio.analysis import AudioAnalysis, Candidate, Verdict, rank_candidates
from trainmode.audio.check import judge_row, row_reference
from trainmode.sets.facts import training_blocker

# Words a DAW or a person appends to a render's name. Stripped from the end only.
RENDER_SUFFIXES = {
    "master",
    "mastered",
    "premaster",
    "final",
    "finished",
    "mix",
    "mixdown",
    "render",
    "rendered",
    "bounce",
    "bounced",
    "export",
    "exported",
    "print",
    "wip",
    "demo",
    "draft",
    "project",
    "copy",
}
_VERSION = re.compile(r"^(?:v|ver|rev)\d{1,3}$")  # v2, ver3, rev12
_VERSION_WORDS = {"v", "ver", "version", "take", "rev"}  # "version 2", "take 3"
_COPY = re.compile(r"\s*\(\d{1,3}\)$")  # "night_drive (1)": a browser's second download
_EXTENSIONS = {".mp3", ".als", ".wav", ".aif", ".aiff", ".flac"}
SIMILAR = 0.82  # difflib ratio above which two normalised names are a candidate (typos, a dropped word)


@dataclass(frozen=True)
class Pairing:
    name: str  # the upload's file name
    parse_id: str | None  # the set it is paired with; None: the user picks
    candidates: tuple[str, ...]  # parse_ids worth offering, best first (all sets when nothing is close)
    reason: str  # why, in words a user reads
    why: str = ""  # with audio: how the first candidate's length and tempo compare
    verdict: Verdict | None = None  # with audio: the paired set's verdict (None when unpaired)
    whys: tuple[tuple[str, str], ...] = ()  # with audio: (parse_id, why) for every candidate, ranked
    blocker: str | None = None  # why the paired set cannot make a training item (nothing in its arrangement)

    def why_for(self, parse_id: str) -> str:
        """How this candidate's length and tempo compare with the audio ("" without audio)."""
        return dict(self.whys).get(parse_id, "")

    @property
    def status(self) -> str:
        if self.parse_id:
            return "paired"
        return "ambiguous" if self.reason.startswith("Several") else "unmatched"


def normalize_stem(filename: str) -> str:
    """'Night_Drive (Master) v2.mp3' -> 'night drive'; numbers that name a set ('Track 2') stay."""
    path = PurePath(filename)
    stem = path.stem if path.suffix.lower() in _EXTENSIONS else path.name
    stem = _COPY.sub("", stem)
    stem = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem)  # NightDrive -> Night Drive
    text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", text.replace("&", " and "))
    while len(words) > 1:
        if words[-1] in RENDER_SUFFIXES or _VERSION.match(words[-1]):
            words.pop()
        elif words[-1].isdigit() and len(words) > 2 and words[-2] in _VERSION_WORDS:
            del words[-2:]
        else:
            break
    return " ".join(words)


def set_seconds(row: dict) -> float | None:
    return row.get("seconds")  # a row of SetIndex.rows


def set_blocker(row: dict) -> str | None:
    """Why a set cannot make a training item: a whole row knows from its summary; a narrow row
    (no summary) from its length, 0 when no arrangement clip or locator exists."""
    if "blocker" in row:
        return row["blocker"]
    return training_blocker({}) if not row.get("seconds") else None


def _narrow(row: dict) -> dict:
    """What pairing reads of a set: a narrow set row as it is; a whole als_summaries row reduced
    to the same fields once (not per upload and candidate)."""
    if "summary" not in row:
        return row
    bpm, key, seconds = row_reference(row)
    return {
        "parse_id": row["parse_id"],
        "als_filename": row["als_filename"],
        "created_at": row.get("created_at"),
        "bpm": bpm,
        "key": key,
        "seconds": seconds,
        "blocker": training_blocker(row.get("summary")),
    }


def fits(duration_s: float | None, seconds: float | None) -> bool:
    """A render is the set's length plus a tail (reverb, a fade), or a little trimmed."""
    if duration_s is None or not seconds:
        return False
    return -max(5.0, 0.1 * seconds) <= duration_s - seconds <= max(15.0, 0.25 * seconds)


def _closeness(duration_s: float | None, row: dict) -> float:
    seconds = set_seconds(row)
    return abs(duration_s - seconds) if duration_s is not None and seconds else float("inf")


def _by_length(rows: list[dict], duration_s: float | None) -> list[dict]:
    """Closest length first, then the newest import (a re-imported set supersedes the old)."""
    newest_first = sorted(rows, key=lambda r: r.get("created_at") or "", reverse=True)
    return sorted(newest_first, key=lambda r: _closeness(duration_s, r))


def _pick(name: str, rows: list[dict], duration_s: float | None, how: str) -> Pairing:
    """One name match pairs; several are split by length when exactly one fits."""
    ids = tuple(r["parse_id"] for r in _by_length(rows, duration_s))
    if len(rows) == 1:
        return Pairing(name, ids[0], ids, how)
    fitting = [r for r in rows if fits(duration_s, set_seconds(r))]
    if len(fitting) == 1:
        return Pairing(name, fitting[0]["parse_id"], ids, f"{how}; length fits only this set")
    return Pairing(name, None, ids, f"Several sets match ({how}); pick one")


def set_names(als_filename: str) -> tuple[str, ...]:
    """A set's normalised names: its file name's, and, for a set stored with a prefix
    ('Owner__pack__live8-patch-markers-auto.als'), the name after the last '__' too."""
    whole = normalize_stem(als_filename)
    own = normalize_stem(als_filename.rsplit("__", 1)[-1]) if "__" in als_filename else whole
    return (whole,) if own == whole or not own else (whole, own)


class SetIndex:
    """The sets' normalised names, made once (not per upload and rerun), with the sets grouped
    by the name without spaces: a same-name match is a dict lookup, not a scan."""

    def __init__(self, set_rows: list[dict]):
        self.rows = [_narrow(r) for r in set_rows]
        self.by_id = {r["parse_id"]: r for r in self.rows}
        self.names = [set_names(r["als_filename"]) for r in self.rows]
        self.by_name: dict[str, list[dict]] = {}
        for row, norms in zip(self.rows, self.names, strict=True):
            for norm in norms:
                self.by_name.setdefault(norm.replace(" ", ""), []).append(row)

    def similar(self, stem: str) -> list[dict]:
        return [row for row, norms in zip(self.rows, self.names, strict=True) if any(_similar(stem, n) for n in norms)]


def pair_upload(
    name: str, duration_s: float | None, summaries: list[dict] | SetIndex, analysis: AudioAnalysis | None = None
) -> Pairing:
    index = summaries if isinstance(summaries, SetIndex) else SetIndex(summaries)
    pairing = _by_name(name, duration_s, index)
    pairing = _with_audio(pairing, analysis, index.by_id) if analysis else pairing
    blocker = set_blocker(index.by_id[pairing.parse_id]) if pairing.parse_id else None
    return replace(pairing, blocker=blocker) if blocker else pairing


def _by_name(name: str, duration_s: float | None, index: SetIndex) -> Pairing:
    stem = normalize_stem(name)
    # Spaces do not count: "nightdrive" and "Night Drive" are one name.
    same = index.by_name.get(stem.replace(" ", ""), [])
    if same:
        return _pick(name, same, duration_s, "same name")
    # Near misses: one name starts with the other ("night drive club" / "night drive") or a typo.
    similar = index.similar(stem)
    if similar:
        close = [r for r in similar if fits(duration_s, set_seconds(r))]
        if len(close) == 1:  # a similar name alone is a guess; with a fitting length it is a pair
            rest = tuple(r["parse_id"] for r in _by_length(similar, duration_s) if r is not close[0])
            return Pairing(name, close[0]["parse_id"], (close[0]["parse_id"], *rest), "similar name; length fits")
        ids = tuple(r["parse_id"] for r in _by_length(similar, duration_s))
        if len(similar) > 1:
            return Pairing(name, None, ids, "Several sets have a similar name; pick one")
        return Pairing(name, None, ids, "Similar name but the length does not confirm it; pick the set")
    return Pairing(
        name, None, tuple(r["parse_id"] for r in _by_length(index.rows, duration_s)), "No set with this name; pick one"
    )


def _similar(a: str, b: str) -> bool:
    if not a or not b:
        return False
    aw, bw = a.split(), b.split()
    shorter, longer = sorted((aw, bw), key=len)
    if longer[: len(shorter)] == shorter:
        return True
    matcher = difflib.SequenceMatcher(None, a, b)  # the cheap upper bounds first: most names are far apart
    return matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR and matcher.ratio() >= SIMILAR


def _candidate(row: dict) -> Candidate:
    return Candidate(row["als_filename"], bpm=row.get("bpm"), seconds=row.get("seconds"), ref=row["parse_id"])


def _with_audio(pairing: Pairing, analysis: AudioAnalysis, rows: dict[str, dict]) -> Pairing:
    """Rank the candidates by length and tempo; let them split sets whose names match equally."""
    ranked = rank_candidates(analysis, [_candidate(rows[p]) for p in pairing.candidates])
    parse_id, reason = pairing.parse_id, pairing.reason
    if parse_id is None and pairing.status == "ambiguous":
        fitting = [r.candidate.ref for r in ranked if _fits_audio(analysis, rows[r.candidate.ref])]
        if len(fitting) == 1:
            how = "similar name" if "similar" in reason else "same name"
            parse_id, reason = fitting[0], f"{how}; length and tempo fit only this set"
    order = ((parse_id,) if parse_id else ()) + tuple(r.candidate.ref for r in ranked if r.candidate.ref != parse_id)
    whys = dict((r.candidate.ref, r.why) for r in ranked)
    return Pairing(
        pairing.name,
        parse_id,
        order,
        reason,
        why=whys[order[0]] if order else "",
        verdict=judge_row(analysis, rows[parse_id]) if parse_id else None,
        whys=tuple((p, whys[p]) for p in order),
    )


def _fits_audio(analysis: AudioAnalysis, row: dict) -> bool:
    """The length fits and the tempo agrees (same, half or double time, 2:3 or 3:2)."""
    verdict = judge_row(analysis, row)
    return fits(analysis.duration_s, set_seconds(row)) and verdict.tempo_relation is not None


def pair_uploads(
    uploads: list[tuple[str, float | None]],
    summaries: list[dict] | SetIndex,
    analyses: list[AudioAnalysis | None] | None = None,
) -> list[Pairing]:
    """One Pairing per upload, in upload order. `summaries` are set rows, narrow (list_set_rows) or
    whole (als_summaries rows), or a SetIndex of them; `analyses` (one per upload, None where
    missing) add the length-and-tempo ranking and the verdict."""
    index = summaries if isinstance(summaries, SetIndex) else SetIndex(summaries)
    analyses = analyses or [None] * len(uploads)
    return [
        pair_upload(name, duration_s, index, analysis)
        for (name, duration_s), analysis in zip(uploads, analyses, strict=True)
    ]
