"""artist_profiles.master_schema: the JSON that describes an artist's sound.

Known fields are typed; other fields are kept as they are (the schema is the
artist's, not ours), so an editor never loses what a user wrote.
"""
from __future__ import annotations

import json

import jsonschema

from .errors import ValidationError

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


def validate_master_schema(value: dict) -> dict:
    try:
        jsonschema.validate(value, MASTER_SCHEMA_JSONSCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the top level"
        raise ValidationError(f"master_schema is not valid at {where}: {exc.message}") from None
    return value


def parse_master_schema(text: str) -> dict:
    """Parse the JSON a user typed; a clear message names the line and column."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationError(f"master_schema is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    return validate_master_schema(value)
