"""Spies at the boundaries a test can see from outside: the store an operation reads and writes
through, and the caption writer it asks. A spy records each call and passes it on unchanged."""

from __future__ import annotations

from typing import Any


def record_calls(monkeypatch, owner: Any, method: str) -> list[tuple]:
    """Every call of `owner.method` from now on (its arguments), still answered by the real one.
    Prefer a boundary for `owner`, a store object or a writer class: the test then checks what
    crossed it, whatever the code behind it is named. A module is the last resort, for what no
    boundary shows (an MP3 probed or a caption checked twice)."""
    calls: list[tuple] = []
    real = getattr(owner, method)

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, method, spy)
    return calls
