"""A process of this host that has really finished, for lease and sweep tests."""

from __future__ import annotations

import subprocess
import sys

from trainmode.store import lease


def dead_owner_tag() -> str:
    """The owner tag (trainmode/store/lease.py) of a process that ran on this host and is gone (reaped)."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    tag = lease.owner_tag(holder.pid)
    holder.kill()
    holder.wait()
    return tag
