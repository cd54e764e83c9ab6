"""The summary contract (v2), enforced with the JSON Schema shipped beside this module."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import jsonschema

from trainmode.errors import ValidationError


@cache
def summary_schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("summary.schema.json").read_text("utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(summary_schema())


def validate_summary(summary: dict) -> dict:
    """Return `summary` unchanged if it matches summary v2, else raise ValidationError
    naming the first offending field."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(summary))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ValidationError(f"The set summary is not valid at {where}: {error.message}")
    return summary
