"""artist_profiles.master_schema: the JSON that describes an artist's sound.

Known fields are typed; other fields are kept as they are (the schema is the
artist's, not ours), so an editor never loses what a user wrote.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter

import jsonschema

from trainmode.errors import ProfileError, ValidationError

MASTER_SCHEMA_JSONSCHEMA = {
    "type": "object",
    "properties": {
        "genres": {"type": "array", "items": {"type": "string"}},
        "moods": {"type": "array", "items": {"type": "string"}},
        "instruments": {"type": "array", "items": {"type": "string"}},
        "descriptors": {"type": "array", "items": {"type": "string"}},
        "tempo_range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "keys": {"type": "array", "items": {"type": "string"}},
        "meters": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string"},
    },
    "additionalProperties": True,
}

EXAMPLE_MASTER_SCHEMA = {
    "genres": ["electronic"],
    "moods": ["driving"],
    "instruments": [],
    "descriptors": [],
    "tempo_range": [120, 128],
    "keys": [],
}


# Size caps: every caption reads the whole profile, so a huge one makes every caption slow
# (1 M genres took 79 s a caption). Real profiles are a few KB with a dozen words a list.
MAX_SCHEMA_BYTES = 256 * 1024
MAX_LIST_ITEMS = 200
MAX_DEPTH = 32
LISTS = ("genres", "moods", "instruments", "descriptors", "keys", "meters")


def check_size(value) -> None:
    """ProfileError unless `value` is small and shallow enough to keep (see MAX_*)."""
    stack, seen = [(value, 1)], 0
    while stack:  # iterative: a deeply nested value must not exhaust Python's recursion
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ProfileError(f"master_schema is nested more than {MAX_DEPTH} levels deep; keep it flat.")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            seen += 1
            if seen > MAX_SCHEMA_BYTES:
                break
            stack.append((child, depth + 1))
    for name in LISTS:
        items = value.get(name) if isinstance(value, dict) else None
        if isinstance(items, list) and len(items) > MAX_LIST_ITEMS:
            raise ProfileError(
                f"master_schema has {len(items):,} {name}; keep it to {MAX_LIST_ITEMS} (every caption reads them all)."
            )
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > MAX_SCHEMA_BYTES:
        raise ProfileError(
            f"master_schema is {size / 1024:,.0f} KB; keep it under {MAX_SCHEMA_BYTES // 1024} KB "
            "(every caption reads all of it)."
        )


def validate_master_schema(value: dict) -> dict:
    check_size(value)
    exc = jsonschema.exceptions.best_match(_validator().iter_errors(value))  # the error jsonschema.validate raises
    if exc is not None:
        where = "/".join(str(p) for p in exc.absolute_path) or "the top level"
        raise ValidationError(f"master_schema is not valid at {where}: {exc.message}")
    return value


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    """Made once: jsonschema.validate checks the schema itself on every call (the Library validates each rerun)."""
    cls = jsonschema.validators.validator_for(MASTER_SCHEMA_JSONSCHEMA)
    cls.check_schema(MASTER_SCHEMA_JSONSCHEMA)
    return cls(MASTER_SCHEMA_JSONSCHEMA)


def parse_master_schema(text: str) -> dict:
    """Parse the JSON a user typed; a clear message names the line and column."""
    if len((text or "").encode("utf-8")) > MAX_SCHEMA_BYTES:
        raise ProfileError(f"master_schema is over {MAX_SCHEMA_BYTES // 1024} KB; keep it shorter.")
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"master_schema is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        raise ProfileError(f"master_schema is nested too deeply; keep it under {MAX_DEPTH} levels.") from None
    return validate_master_schema(value)


# ---- derive from the artist's sets ---------------------------------------------------
DERIVED_FIELDS = ("tempo_range", "keys", "meters", "instruments")
MAX_KEYS = 5
SIGNATURE_SHARE = 0.5  # an instrument family in at least half the sets is part of the artist's sound


def derive_master_schema(summaries: list[dict], current: dict | None = None) -> dict:
    """`current` with tempo_range, keys, meters and instruments filled from the sets'
    summaries; genres, moods, descriptors, notes and the user's own fields are kept.

    Instruments are the families found in at least half the sets: the writers name
    the profile's instruments in every caption and the fact check accepts them for
    every set, so a family one set uses is that set's business, not the profile's.
    """
    from trainmode.sets.facts import SetFacts  # imported lazily: profile is imported everywhere

    derived = dict(current or {})
    if not summaries:
        return derived
    facts = [SetFacts.from_summary(s) for s in summaries]
    bpms = [b for f in facts if isinstance(b := f.dominant_bpm, (int, float)) and b > 0]
    if bpms:
        derived["tempo_range"] = [math.floor(min(bpms)), math.ceil(max(bpms))]
    derived["keys"] = _most_common(Counter(f.key for f in facts if f.key))[:MAX_KEYS]
    derived["meters"] = _most_common(Counter(f.time_signature for f in facts if f.time_signature))
    families = Counter(label for f in facts for label in f.instrument_labels)
    derived["instruments"] = [
        name for name in _most_common(families) if families[name] >= SIGNATURE_SHARE * len(summaries)
    ]
    return validate_master_schema(derived)


def _most_common(counts: Counter) -> list[str]:
    """By count, then by name, so the same sets give the same profile."""
    return [value for value, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
