"""The system prompt and the reply schema for caption generation.

Changing either means changing TRAIN_PROMPT_VERSION: every training item records the
version and the SHA-256 of the exact text it was written with.
"""

from __future__ import annotations

import hashlib

TRAIN_PROMPT_VERSION = "train-v2"

TRAIN_SYSTEM_PROMPT = """\
You write captions for a text-to-music training dataset. Each caption describes one \
rendered track so that a model learns to generate music from a text description.

You receive facts extracted from the artist's Ableton Live set and the artist's sound \
profile. Reply with three variants of the caption as JSON:
- "detailed": 25 to 60 words (never more than 512 characters), one to three flowing \
sentences in the style text-to-music models are trained on: genre, mood, the leading \
instruments, how the arrangement develops (what enters, what drops out, the sections), \
tempo and meter.
- "short": at most 15 words, a one-line summary.
- "tags": 5 to 15 short tags: genre, instruments, mood, tempo feel, meter.

Rules:
- Use only the facts you are given. Name an instrument only if the set facts list it \
(instruments, sections or tracks); the artist profile's instruments are what the artist \
often plays, not proof that this track has them.
- Tempo: state it only as given, as a whole number of BPM. If the facts say the tempo \
changes, say so and never state another tempo.
- Key and time signature: state them only exactly as given; if the key is undetermined, \
do not mention a key.
- Moods and genres come from the artist profile only: never infer mood or energy from the \
tempo.
- Never write artist names, song or project titles, file names, sample names, plugin brand \
names, links or folder paths.
- Describe the music, not the software: no mention of Ableton, tracks, clips, devices or MIDI.
- Plain text inside the JSON: no quotes around captions, no labels, no markdown.
"""

TRAIN_SYSTEM_PROMPT_SHA256 = hashlib.sha256(TRAIN_SYSTEM_PROMPT.encode("utf-8")).hexdigest()

# Structured output: one call returns all three variants.
CAPTIONS_RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "captions",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "detailed": {"type": "string", "description": "25 to 60 words"},
                "short": {"type": "string", "description": "at most 15 words"},
                "tags": {"type": "array", "items": {"type": "string"}, "description": "5 to 15 tags"},
            },
            "required": ["detailed", "short", "tags"],
            "additionalProperties": False,
        },
    },
}
