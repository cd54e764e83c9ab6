"""Whether a track is waiting for its lyrics: an export takes it as sung (trainmode.export.rows.sung:
its own `vocals`, a voice the tagger heard in it, else a vocal track playing in its set) and it has
none. ACE-Step 1.5 exports then leave it out (its preprocessing would train the singing under the
`[Instrumental]` lyric), ACE-Step v1 and ai-toolkit exports train it with empty lyrics
(docs/dataset-formats.md). The Train page asks this of a queue entry before it is saved, the
Browse page of a saved item; both read the same rule the export reads.
"""

from __future__ import annotations

from trainmode.audio.listen import item_tags, tag_fields
from trainmode.export.rows import lyrics_of, sung
from trainmode.sets.facts import SetFacts
from trainmode.train.work_queue import QueueEntry


def as_item(entry: QueueEntry) -> dict:
    """What a queue entry's item would hold of its lyrics and what was heard, once saved."""
    tags = entry.analysis.tags if entry.analysis else None
    return {"parse_id": entry.parse_id, "metadata": {"lyrics": entry.lyrics, "audio": {"tags": tags}}}


def sung_without_lyrics(item: dict, summary: dict | None) -> str | None:
    """Who says `item` (a saved item, or `as_item` of an entry) is sung while it has no lyrics:
    "the tagger hears a voice in it", "it is marked as sung" or "a vocal track plays in its set";
    None when it has lyrics or is not known to be sung. `summary`: its set's (None: gone)."""
    if lyrics_of(item):
        return None
    if not sung(item, SetFacts.from_summary(summary).vocals if summary else None):
        return None
    if tag_fields(item_tags(item))["vocals_heard"] is True:
        return "the tagger hears a voice in it"
    if (item.get("metadata") or {}).get("vocals") is True:
        return "it is marked as sung"
    return "a vocal track plays in its set"
