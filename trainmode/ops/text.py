"""Rules for the free text a user types (artist names, captions)."""

from __future__ import annotations

from trainmode.errors import ValidationError


def required_text(value: str | None, *, what: str, limit: int, when_empty: str) -> str:
    """`value` trimmed; ValidationError if it is empty or longer than `limit` characters."""
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"The {what} is empty: {when_empty}.")
    if len(value) > limit:
        raise ValidationError(f"The {what} is {len(value)} characters; keep it to {limit}.")
    return value
