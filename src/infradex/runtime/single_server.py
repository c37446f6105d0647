"""SQLite serves one running server: a second process that would run the monitor and the
alerter on the same file is refused at start, with what to do instead.

Two monitors on one SQLite file would probe every check twice and fight over its states, and
two alerters would page twice. On PostgreSQL several servers elect a leader
(:mod:`infradex.runtime.leadership`); SQLite has no such lock across processes that outlives
a crash cleanly, but the operating system's file locks do: the lock is held on
``<database>.server.lock`` while the process runs, and the kernel frees it when the process
ends, however it ends. The file also names the holder's pid, for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from infradex.errors import InfradexError

__all__ = ["AnotherServer", "ServerLock", "hold_if_sqlite", "lock_path_for"]


class AnotherServer(InfradexError):
    """Another process already runs the monitor or alerting on this SQLite store."""


def lock_path_for(database_url: str) -> Path | None:
    """The lock file next to a SQLite store's file; None for PostgreSQL and in-memory
    stores (nothing to share)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).with_name(Path(str(url.database)).name + ".server.lock")


class ServerLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None

    def acquire(self) -> None:
        """Hold the lock, or raise :class:`AnotherServer` naming the process holding it."""
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held while running)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            store = self.path.name.removesuffix(".server.lock")
            raise AnotherServer(
                f"another infradex process (pid {holder}) already runs the monitor and "
                f"alerting on the SQLite store {store}; SQLite serves one such process. "
                "Stop that one, run this one with --no-monitor to serve pages only, or "
                "move to PostgreSQL (INFRADEX_DATABASE_URL) to run several servers "
                "(docs/deployment.md)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()  # closing frees the lock


def hold_if_sqlite(database_url: str) -> ServerLock | None:
    """For a process about to run the monitor and alerting: hold the store's server lock
    if the store is a SQLite file (raises :class:`AnotherServer` if taken); None otherwise.
    The caller keeps the lock for as long as it runs."""
    path = lock_path_for(database_url)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = ServerLock(path)
    lock.acquire()
    return lock
