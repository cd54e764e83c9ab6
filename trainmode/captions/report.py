"""How varied and how faithful a set of captions is, as a trainer would read them.

    report = caption_report([caption_of(item) for item in items],
                            findings_by_caption=[item["findings"] for item in items])
    print(report.to_text())        # or report.to_dict() for JSON / a page
    reports = items_report(items)  # the saved captions and each stored variant (metadata["captions"])

Two variety figures: the share of captions that open with the most common three words,
and the share of all word 3-gram occurrences that belong to 3-grams found in at least a
quarter of the captions, and in at least two (template text repeated across the dataset).
An opening or a 3-gram of a single caption is never repetition, however few the captions.

One faithfulness-of-content figure: the share of sentences that are filler, saying nothing a
listener or a trainer can use: a default restated ("It keeps a 4/4 meter.", "The tempo holds
steady."), a count of parts or sections ("It stacks 9 separate parts.", "It is laid out in 8
sections.") or the kind of parts ("made of recorded and programmed parts"). Issue 27 measured
44 % on the offline writer before it listened; the target is at most 10 %.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field

from trainmode.store.rows import caption_of

SHARED_NGRAM_MIN_SHARE = 0.25  # a 3-gram "shared" when in at least this share of captions
REPEATED = 2  # and in at least two: with a few captions, one is already a quarter
MAX_SAME_OPENING = 0.20  # the targets a dataset should meet
MAX_SHARED_NGRAMS = 0.10
MAX_FILLER = 0.10
_WORD = re.compile(r"[\w#/'’+-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
FILLER = re.compile(
    "|".join(
        (
            r"\b4/4\b.*\b(?:throughout|all the way|meter)\b|\b(?:keeps|stays in|every bar is in)\b.*\b4/4\b",
            r"\btempo (?:never changes|holds|is constant|stays)|\bno tempo changes\b|\bspeeds up or slows down\b",
            r"\b(?:pace|pulse) stays\b|\bkeeps one tempo\b|\bsteady tempo\b|\btempo is constant\b",
            r"\b\d+\s+(?:separate |distinct |different )?(?:parts|sections|tracks|layers)\b",
            r"\bstacks\b|\blayered together\b|\blaid out in\b",
            r"\brecorded and programmed parts\b|\b(?:made of|built from)\b.*\b(?:recorded audio|programmed parts)\b",
        )
    ),
    re.I,
)


def words(text: str) -> list[str]:
    """Lower-case words; punctuation between words is dropped ('122 BPM.' -> ['122', 'bpm'])."""
    return [w.strip("'’-") for w in _WORD.findall((text or "").lower()) if w.strip("'’-")]


def sentences(text: str) -> list[str]:
    return [x for x in _SENTENCE_END.split((text or "").strip()) if x.strip()]


def is_filler(sentence: str) -> bool:
    """A sentence that restates a default, counts parts or sections, or names only the kind of parts."""
    return bool(FILLER.search(sentence or ""))


def trigrams(text: str) -> list[tuple[str, str, str]]:
    w = words(text)
    return list(zip(w, w[1:], w[2:], strict=False))


@dataclass(frozen=True)
class CaptionReport:
    count: int
    words_min: int = 0
    words_median: float = 0.0
    words_max: int = 0
    length_buckets: dict[str, int] = field(default_factory=dict)  # "0-14", "15-24", "25-60", "61-80", "81+"
    top_opening: str = ""  # the most common first three words
    same_opening_share: float = 0.0  # captions opening with them / count
    shared_ngram_share: float = 0.0  # see the module docstring
    top_shared_ngrams: list[tuple[str, int]] = field(default_factory=list)  # (3-gram, captions containing it)
    duplicates: list[list[int]] = field(default_factory=list)  # groups of positions with the same caption
    findings_by_type: dict[str, int] = field(default_factory=dict)
    sentences: int = 0
    filler_sentences: int = 0
    filler_share: float = 0.0  # filler sentences / sentences
    top_filler: list[tuple[str, int]] = field(default_factory=list)  # (filler sentence, captions with it)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["top_shared_ngrams"] = [{"ngram": g, "captions": n} for g, n in self.top_shared_ngrams]
        out["top_filler"] = [{"sentence": t, "captions": n} for t, n in self.top_filler]
        out["warnings"] = self.warnings()
        return out

    def warnings(self) -> list[str]:
        """One plain sentence for each target the captions miss (empty: all met)."""
        out = []
        if self.same_opening_share > MAX_SAME_OPENING and round(self.same_opening_share * self.count) >= REPEATED:
            out.append(
                f"{self.same_opening_share:.0%} of captions open with “{self.top_opening}” "
                f"(aim for at most {MAX_SAME_OPENING:.0%})."
            )
        if self.shared_ngram_share > MAX_SHARED_NGRAMS:
            out.append(
                f"{self.shared_ngram_share:.0%} of word 3-grams are template text found in at least a quarter "
                f"of the captions (aim for at most {MAX_SHARED_NGRAMS:.0%})."
            )
        if self.filler_share > MAX_FILLER:
            out.append(
                f"{self.filler_share:.0%} of sentences are filler (a default, a count of parts or sections) "
                f"(aim for at most {MAX_FILLER:.0%})."
            )
        if self.duplicates:
            out.append(
                f"{sum(len(g) for g in self.duplicates)} captions are duplicates of another "
                f"({len(self.duplicates)} distinct texts)."
            )
        if self.findings_by_type:
            out.append(f"{sum(self.findings_by_type.values())} fact-check findings remain.")
        return out

    def to_text(self) -> str:
        if not self.count:
            return "No captions."
        lines = [
            f"captions: {self.count}",
            f"words: min {self.words_min}, median {self.words_median:g}, max {self.words_max}",
            "length: " + ", ".join(f"{k} words: {v}" for k, v in self.length_buckets.items() if v),
            f"same opening: {self.same_opening_share:.0%} open with “{self.top_opening}”",
            f"shared 3-grams: {self.shared_ngram_share:.1%} of 3-gram occurrences",
        ]
        lines += [f"  “{g}” in {n} captions" for g, n in self.top_shared_ngrams[:5]]
        lines.append(f"filler: {self.filler_sentences} of {self.sentences} sentences ({self.filler_share:.0%})")
        lines += [f"  “{t}” in {n} captions" for t, n in self.top_filler[:3]]
        lines.append(
            f"duplicates: {len(self.duplicates)} groups"
            + "".join(f"\n  captions {', '.join(str(i + 1) for i in g)}" for g in self.duplicates)
        )
        findings = ", ".join(f"{code} {n}" for code, n in sorted(self.findings_by_type.items()))
        lines.append(f"findings: {findings or 'none'}")
        lines += [f"warning: {w}" for w in self.warnings()]
        return "\n".join(lines)


def _buckets(lengths: list[int]) -> dict[str, int]:
    bounds = (("0-14", 0, 14), ("15-24", 15, 24), ("25-60", 25, 60), ("61-80", 61, 80), ("81+", 81, 10**9))
    return {name: sum(low <= n <= high for n in lengths) for name, low, high in bounds}


def _shared_ngrams(captions: list[str]) -> tuple[float, list[tuple[str, int]]]:
    per_caption = [trigrams(c) for c in captions]
    in_captions = Counter(g for grams in per_caption for g in set(grams))
    threshold = max(REPEATED, SHARED_NGRAM_MIN_SHARE * len(captions))
    shared = {g for g, n in in_captions.items() if n >= threshold}
    total = sum(len(grams) for grams in per_caption)
    in_shared = sum(g in shared for grams in per_caption for g in grams)
    top = sorted(((" ".join(g), in_captions[g]) for g in shared), key=lambda x: (-x[1], x[0]))
    return (in_shared / total if total else 0.0), top[:10]


def _code(finding) -> str:
    return finding.get("code", "unknown") if isinstance(finding, dict) else getattr(finding, "code", "unknown")


def caption_report(captions: list[str], findings_by_caption: list[list] | None = None) -> CaptionReport:
    """The figures for `captions`; `findings_by_caption[i]` are caption i's findings (Finding or dict)."""
    captions = [c or "" for c in captions]
    if not captions:
        return CaptionReport(0)
    lengths = [len(c.split()) for c in captions]
    openings = Counter(" ".join(words(c)[:3]) for c in captions)
    top_opening, top_count = min(openings.items(), key=lambda x: (-x[1], x[0]))
    groups: dict[str, list[int]] = {}
    for i, caption in enumerate(captions):
        groups.setdefault(" ".join(caption.split()).casefold(), []).append(i)
    shared_share, top_shared = _shared_ngrams(captions)
    findings = Counter(_code(f) for row in findings_by_caption or [] for f in row or [])
    split = [sentences(c) for c in captions]
    filler = Counter(x for parts in split for x in dict.fromkeys(parts) if is_filler(x))
    total, fillers = sum(len(p) for p in split), sum(is_filler(x) for parts in split for x in parts)
    return CaptionReport(
        count=len(captions),
        words_min=min(lengths),
        words_median=statistics.median(lengths),
        words_max=max(lengths),
        length_buckets=_buckets(lengths),
        top_opening=top_opening,
        same_opening_share=top_count / len(captions),
        shared_ngram_share=shared_share,
        top_shared_ngrams=top_shared,
        duplicates=[g for g in groups.values() if len(g) > 1],
        findings_by_type=dict(sorted(findings.items())),
        sentences=total,
        filler_sentences=fillers,
        filler_share=fillers / total if total else 0.0,
        top_filler=sorted(filler.items(), key=lambda x: (-x[1], x[0]))[:5],
    )


def items_report(items: list[dict]) -> dict[str, CaptionReport]:
    """Reports over training items: "caption" for the saved captions (with their findings),
    and one per variant the items stored in metadata["captions"] (detailed, short, tags)."""
    reports = {"caption": caption_report([caption_of(i) for i in items], [i.get("findings") or [] for i in items])}
    stored = [(i.get("metadata") or {}).get("captions") or {} for i in items]
    for name in dict.fromkeys(k for variants in stored for k in variants):
        texts = [variants[name] for variants in stored if isinstance(variants.get(name), str)]
        reports[name] = caption_report(texts)
    return reports


def artist_report(store, artist_id: str) -> dict[str, CaptionReport]:
    """items_report over the artist's stored items (whole rows: the findings and variants count)."""
    return items_report(store.list_items(artist_id))
