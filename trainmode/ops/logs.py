"""Where tracebacks go: <data dir>/logs/trainmode.log, shared by the pages and the CLI.

A user sees one line; the traceback of anything unexpected is kept here for whoever fixes it.
"""

from __future__ import annotations

import logging
from pathlib import Path

LOG_NAME = "trainmode.log"
_handlers: dict[Path, logging.Handler] = {}


def log_file(data_dir: str | Path) -> Path:
    return Path(data_dir).expanduser().resolve() / "logs" / LOG_NAME


def setup_logging(data_dir: str | Path) -> Path:
    """Send the `trainmode` loggers' records (INFO and up) to the log file; idempotent.
    Raises OSError if the log folder cannot be made."""
    path = log_file(data_dir)
    if path not in _handlers:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger("trainmode")
        root.setLevel(logging.INFO)
        root.addHandler(handler)
        _handlers[path] = handler
    return path
