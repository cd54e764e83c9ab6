"""`python -m trainmode backup`: copies of the embedded database, made and restored without opening
the store (so they work on a database that is damaged, missing or needs a migration).

The copies themselves are trainmode/store/health.py's: SQLite online backups under
<data dir>/backups/. Supabase keeps its own backups (Dashboard > Database > Backups).
"""

from __future__ import annotations

from pathlib import Path

from trainmode.config import Settings
from trainmode.errors import NotFoundError, ValidationError
from trainmode.store import health
from trainmode.store.health import KEEP_BACKUPS, list_backups

__all__ = ["KEEP_BACKUPS", "backup_now", "list_backups", "restore"]


def _embedded_only(settings: Settings) -> Path:
    if settings.backend == "supabase":
        raise ValidationError(
            "backup copies the embedded backend's SQLite database; Supabase keeps its own backups "
            "(Dashboard > Database > Backups)."
        )
    return Path(settings.data_dir).expanduser().resolve()


def backup_now(settings: Settings, *, keep: int = KEEP_BACKUPS) -> Path:
    """A backup of the database now; the newest `keep` backups stay."""
    data_dir = _embedded_only(settings)
    if keep < 1:
        raise ValidationError("--keep must be at least 1: the backup just made is kept.")
    db_path = data_dir / health.DB_NAME
    if not db_path.is_file() or db_path.stat().st_size == 0:
        raise NotFoundError(f"There is no database at {db_path} to back up.")
    return health.make_backup(db_path, data_dir, "manual", keep=keep)


def restore(settings: Settings, which: str = "latest") -> tuple[Path, Path | None]:
    """Put a backup back (see health.restore). Stop the app and other commands first."""
    return health.restore(_embedded_only(settings), which)
