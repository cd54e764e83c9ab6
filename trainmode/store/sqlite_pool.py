"""SQLite connections for EmbeddedStore: one per thread, reused across threads.

Streamlit runs each rerun in a new thread. A thread's connection goes back to a free list
when the thread ends, and the next thread takes it, so a session keeps one connection
instead of opening one per rerun.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable


class _Holder:
    """Owns a thread's connection; when the thread ends it is collected and the connection freed."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn


class ConnectionPool:
    def __init__(self, connect: Callable[[], sqlite3.Connection]):
        self._connect, self._local, self._lock = connect, threading.local(), threading.Lock()
        self._free: list[sqlite3.Connection] = []
        self.opened = 0

    def conn(self) -> sqlite3.Connection:
        holder = getattr(self._local, "holder", None)
        if holder is None:
            with self._lock:
                conn = self._free.pop() if self._free else None
            if conn is None:
                conn, self.opened = self._connect(), self.opened + 1
            holder = self._local.holder = _Holder(conn)
            weakref.finalize(holder, self._release, conn)
        return holder.conn

    def _release(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:  # a thread that died mid-transaction leaves nothing half-done
                conn.execute("ROLLBACK")
        except sqlite3.ProgrammingError:  # closed by close()
            return
        with self._lock:
            self._free.append(conn)

    def close(self) -> None:
        holder, self._local.holder = getattr(self._local, "holder", None), None
        with self._lock:
            free, self._free = self._free, []
        for conn in [*free, *([holder.conn] if holder else [])]:
            conn.close()
