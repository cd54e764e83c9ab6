"""Export leases and owner tags: who holds a running export or a temp file, and whether it is dead.

An export row in status 'building' is a lease: `lease_owner` names the process holding it
(host, process id, the process's start time and a random token) and `heartbeat_at` is renewed
every HEARTBEAT_S seconds while it runs. A lease is taken over at once when its holder is dead
(same host and that process is gone) or is this very process and no longer runs that export
(a failure whose "failed" mark did not get through), or when its heartbeat is older than
LEASE_S seconds (a holder on another machine that stopped). Temp files carry the same owner tag
(without the token) in their names, so a sweep can tell the files of a dead process from those
of a live one.

One clock decides a heartbeat's age: the database's. Heartbeats are stamped and their age
measured by the database in one statement (Supabase: the server's now(); the embedded store:
SQLite's 'now' in the SQL that takes over), never by comparing this host's wall clock with a
stamp another host wrote. Hosts whose clocks disagree cannot take a live export from each other.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import socket
import threading

log = logging.getLogger(__name__)

LEASE_S = 30.0  # a heartbeat older than this frees the artist
HEARTBEAT_S = 5.0  # how often a running export renews its lease
HOLDER_DIED = "taken over: holder died"
HEARTBEAT_STOPPED = "taken over: heartbeat stopped"
ENDED_HERE = "taken over: it had ended in this process"
_TAG = re.compile(r"tm([0-9a-f]{8})p(\d+)s(\d+)")


def host_id() -> str:
    """This machine, as 8 hex digits (host names can hold any character)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])  # a zombie has finished


def owner_tag(pid: int | None = None) -> str:
    """`tm<host>p<pid>s<start>`: safe in file names, unique per live process on this host."""
    pid = os.getpid() if pid is None else pid
    return f"tm{host_id()}p{pid}s{_start_time(pid) or 0}"


def new_owner() -> str:
    """A lease owner: this process's tag and a random token (one per export)."""
    return f"{owner_tag()}-{secrets.token_hex(8)}"


def is_dead(tagged: str | None) -> bool:
    """True only when `tagged` (a lease owner or a temp file name) names a process of this
    host that is gone, or whose pid now belongs to another process. Unknown: not dead."""
    match = _TAG.search(tagged or "")
    if not match or match.group(1) != host_id():
        return False
    pid, started = int(match.group(2)), int(match.group(3))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # someone else's process: alive
    now_started = _start_time(pid)
    if now_started is None:
        return os.path.exists("/proc/self/stat")  # /proc works, so the pid has finished (zombie)
    return bool(started) and now_started != started


_running: set[str] = set()  # exports this process holds and still runs (begin_export -> complete/fail)
_running_lock = threading.Lock()


def claim(export_id: str) -> None:
    """This process runs `export_id` (called by begin_export once the lease is taken)."""
    with _running_lock:
        _running.add(export_id)


def release(export_id: str) -> None:
    """This process no longer runs `export_id` (complete_export, fail_export, the heartbeat's end)."""
    with _running_lock:
        _running.discard(export_id)


def ended_here(owner: str | None, export_id: str | None) -> bool:
    """`owner` is this very process, and it does not run `export_id` any more."""
    if not owner or not owner.startswith(owner_tag() + "-"):
        return False
    with _running_lock:
        return export_id not in _running


def ended(owner: str | None, export_id: str | None) -> str | None:
    """Why the holder is known to have stopped, with no clock involved (None: it may be running)."""
    if is_dead(owner):
        return HOLDER_DIED
    if ended_here(owner, export_id):
        return ENDED_HERE
    return None


def takeover_reason(
    owner: str | None, heartbeat_age_s: float | None, lease_s: float, export_id: str | None = None
) -> str | None:
    """Why a 'building' export may be taken over, or None while its holder lives.
    `heartbeat_age_s` is measured by the database's own clock (see the module docstring)."""
    reason = ended(owner, export_id)
    if reason or heartbeat_age_s is None:
        return reason
    return HEARTBEAT_STOPPED if heartbeat_age_s >= lease_s else None


class Heartbeat:
    """Renews an export's lease from a background thread while the `with` block runs.
    `lost` becomes True if the lease was taken over (the export will then not complete)."""

    def __init__(self, store, export_id: str, every_s: float | None = None):
        self.store, self.export_id, self.every_s = store, export_id, every_s or HEARTBEAT_S
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="export-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from trainmode.errors import TrainModeError

        while not self._stop.wait(self.every_s):
            try:
                if not self.store.heartbeat_export(self.export_id):
                    self.lost = True
                    log.warning("export %s lost its lease (taken over)", self.export_id)
                    return
            except TrainModeError as exc:  # a blip: the next beat may get through
                log.warning("export %s heartbeat failed: %s", self.export_id, exc)
