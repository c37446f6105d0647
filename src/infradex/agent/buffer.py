"""The agent's results, kept on disk until the server has them.

A probe agent that cannot reach its server keeps probing: every result goes into this buffer
first, and the sender takes them out only once the server has acknowledged a batch. So a
crash, a restart or a cut-off loses nothing that fits, and results reach the server in the
order they were observed, with the time they were observed.

The buffer is bounded (``max_results``): when it is full, the **oldest** results are dropped
to make room, and the drop is counted (persistently, so the server hears how many were lost
even after a restart). Dropping the oldest keeps what is most useful: the server can judge
the present.

One SQLite file, written in WAL mode with one transaction per append and per acknowledgement.
The agent is one process; the file is not meant to be shared.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Batch", "ResultBuffer"]

DEFAULT_MAX_RESULTS = 100_000  # about 50 MB of results; a day of 70 checks a minute


@dataclass(frozen=True, slots=True)
class Batch:
    """The oldest results not yet acknowledged, in order, and how many were dropped before
    them (to report with the batch)."""

    upto: int  # acknowledge with this sequence number
    results: list[dict[str, Any]]
    dropped: int


class ResultBuffer:
    def __init__(self, path: Path, *, max_results: int = DEFAULT_MAX_RESULTS) -> None:
        if max_results < 1:
            raise ValueError("max_results must be at least 1")
        self.path = path
        self.max_results = max_results
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS results (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " body TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        )
        self._db.execute("INSERT OR IGNORE INTO counters VALUES ('dropped', 0)")

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        (n,) = self._db.execute("SELECT count(*) FROM results").fetchone()
        return int(n)

    @property
    def dropped(self) -> int:
        """Results dropped for room and not yet reported to the server."""
        (n,) = self._db.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
        return int(n)

    def append(self, results: Iterable[Mapping[str, Any]]) -> int:
        """Keep these results (JSON-serialisable mappings), dropping the oldest beyond the
        bound; returns how many were dropped now."""
        bodies = [(json.dumps(r, separators=(",", ":"), sort_keys=True),) for r in results]
        if not bodies:
            return 0
        with self._transaction():
            self._db.executemany("INSERT INTO results (body) VALUES (?)", bodies)
            (count,) = self._db.execute("SELECT count(*) FROM results").fetchone()
            excess = int(count) - self.max_results
            if excess > 0:
                self._db.execute(
                    "DELETE FROM results WHERE seq IN"
                    " (SELECT seq FROM results ORDER BY seq LIMIT ?)",
                    (excess,),
                )
                self._db.execute(
                    "UPDATE counters SET value = value + ? WHERE name = 'dropped'", (excess,)
                )
            return max(0, excess)

    def next_batch(self, limit: int) -> Batch | None:
        """The oldest ``limit`` results, or None when there is nothing to send."""
        rows = self._db.execute(
            "SELECT seq, body FROM results ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        if not rows:
            return None
        return Batch(
            upto=int(rows[-1][0]),
            results=[json.loads(body) for _, body in rows],
            dropped=self.dropped,
        )

    def acknowledge(self, batch: Batch) -> None:
        """The server has stored ``batch``: forget it, and the drops it reported."""
        with self._transaction():
            self._db.execute("DELETE FROM results WHERE seq <= ?", (batch.upto,))
            self._db.execute(
                "UPDATE counters SET value = max(0, value - ?) WHERE name = 'dropped'",
                (batch.dropped,),
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
