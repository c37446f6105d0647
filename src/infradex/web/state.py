"""The live catalog: the last good load, the last attempt, and reloading between them.

A reload that finds errors is refused: the server keeps serving the last good catalog and
shows the problems. Every attempt is recorded in the store (``catalog_loads``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from infradex.catalog import Catalog, LoadedCatalog, Problem
from infradex.clock import utcnow
from infradex.docs.blocks import Page
from infradex.lint import load
from infradex.store import Database
from infradex.store.catalog_loads import record_load

__all__ = ["CatalogState", "Reload", "git_commit"]

log = logging.getLogger("infradex.web")


@dataclass(frozen=True, slots=True)
class Reload:
    accepted: bool
    at: datetime
    problems: tuple[Problem, ...]
    diff: dict[str, list[str]] = field(default_factory=dict)


def git_commit(path: Path) -> str | None:
    """The commit checked out where the catalog lives, read from .git without running git."""
    for directory in [path, *path.parents]:
        git = directory / ".git"
        if not git.is_dir():
            continue
        try:
            head = (git / "HEAD").read_text(encoding="utf-8").strip()
            if not head.startswith("ref: "):
                return head
            ref = head[5:]
            loose = git / ref
            if loose.is_file():
                return loose.read_text(encoding="utf-8").strip()
            packed = git / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(encoding="utf-8").splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
        except OSError:
            return None
        return None
    return None


def _diff(before: Catalog | None, after: Catalog) -> dict[str, list[str]]:
    old = {str(r): e.document() for r, e in before.entities.items()} if before else {}
    new = {str(r): e.document() for r, e in after.entities.items()}
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(k for k in new.keys() & old.keys() if new[k] != old[k]),
    }


def _load_failed(source: Path, exc: Exception) -> Problem:
    return Problem(
        "error",
        "load-failed",
        f"the catalog could not be loaded ({type(exc).__name__}); the server keeps the last "
        "good catalog",
        "this is a bug in infradex: please report it with the server log, which has the details",
        str(source),
    )


class CatalogState:
    """What the server serves. Readers take ``catalog``; ``reload`` swaps it atomically."""

    def __init__(self, source: Path, db: Database) -> None:
        self.source = source
        self.db = db
        self.good: LoadedCatalog | None = None
        self.good_at: datetime | None = None
        self.last: Reload | None = None
        #: rendered page bodies for the catalog being served (see web.pages)
        self.rendered: dict[str, tuple[Page, Markup] | None] = {}
        self._lock = asyncio.Lock()
        #: called with each accepted catalog (the monitor takes up new checks this way)
        self.listeners: list[Callable[[Catalog], object]] = []

    @property
    def catalog(self) -> Catalog:
        if self.good is None or self.good.catalog is None:
            raise RuntimeError("no catalog loaded yet")
        return self.good.catalog

    @property
    def problems(self) -> list[Problem]:
        """The problems (warnings) of the catalog being served."""
        return self.good.problems if self.good else []

    @property
    def ready(self) -> bool:
        return self.good is not None

    async def reload(self, trigger: str) -> Reload:
        """Read the catalog again; keep it only if it has no errors. Recorded either way."""
        async with self._lock:
            try:
                loaded = await asyncio.to_thread(load, self.source)
            except Exception as exc:  # a bug in loading must still be a recorded refusal
                log.exception("loading the catalog from %s failed", self.source)
                loaded = LoadedCatalog(None, [_load_failed(self.source, exc)])
            # a catalog is millions of long-lived objects; frozen, the garbage collector stops
            # re-scanning them, which otherwise pauses requests for hundreds of milliseconds
            gc.collect()
            gc.freeze()
            at = utcnow()
            previous = self.good.catalog if self.good else None
            accepted = loaded.catalog is not None
            diff = _diff(previous, loaded.catalog) if loaded.catalog is not None else {}
            if accepted:
                self.good, self.good_at, self.rendered = loaded, at, {}
                assert loaded.catalog is not None
                for listener in self.listeners:
                    listener(loaded.catalog)
            self.last = Reload(accepted, at, tuple(loaded.problems), diff)
            await record_load(
                self.db,
                at=at,
                source=str(self.source),
                git_commit=git_commit(self.source),
                trigger=trigger,
                accepted=accepted,
                entities=len(loaded.catalog) if loaded.catalog else 0,
                problems=[p.to_dict() for p in loaded.problems],
                diff=diff,
            )
            return self.last
