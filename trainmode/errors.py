"""Error types. Every failure a user can cause is one of these, with a message
written for that user (the CLI prints it as one line, the pages in st.error)."""


class TrainModeError(Exception):
    """Base class: str(err) is a complete, user-facing sentence."""


class AlsError(TrainModeError):
    """An .als file could not be read (not gzip/XML, truncated, hostile, wrong root...)."""


class AudioError(TrainModeError):
    """An uploaded file is not a usable MP3 (names what the file really is)."""


class ConfigError(TrainModeError):
    """Missing or invalid configuration (key, URL, backend name...). Never contains a secret."""


class NotFoundError(TrainModeError):
    """An artist, set, item or blob that was asked for does not exist."""


class StoreError(TrainModeError):
    """The database or blob storage failed (disk, network, HTTP error)."""


class DatabaseDamagedError(StoreError):
    """The local database fails SQLite's integrity check (or cannot be read as a database)."""


class DataDirError(StoreError):
    """The local data folder cannot take a write: it is read-only or its disk is full."""


class DuplicateError(StoreError):
    """The row exists already (a unique key): the same MP3 or set saved twice, perhaps at once."""


class WriterError(TrainModeError):
    """A caption writer failed (no key, bad key, timeout, rate limit, unreachable endpoint)."""


class ValidationError(TrainModeError):
    """Input that is well-formed but not acceptable (bad master_schema JSON, empty caption...)."""


class ProfileError(ValidationError):
    """A master_schema that is too large or too deeply nested to keep."""


class ExportBusyError(TrainModeError):
    """Another export of the same artist is already running."""


class ConfirmationRequired(TrainModeError):
    """The action is possible but needs an explicit yes (fact-check findings, duration mismatch)."""

    def __init__(self, message: str, reasons: list[str] | None = None):
        super().__init__(message)
        self.reasons = reasons or []


class DatasetError(TrainModeError):
    """A dataset breaks its trainer's rules (check-dataset, or an export before it is stored)."""
