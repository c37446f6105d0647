"""The live catalog: the last good load, the last attempt, and reloading between them.

A reload that finds errors is refused: the process keeps running the last good catalog and
shows the problems. A reload without errors that removes too much, or would close open
incidents, is held as a plan (``runtime.reload_plan``) until someone confirms it. Every
attempt is recorded in the store (``catalog_loads``), whoever asked for it (the server's
start, the API, a SIGHUP to ``infradex serve`` or ``infradex monitor``). This is the one
place that calls the catalog loader for a running process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from infradex.catalog import Catalog, LoadedCatalog, Problem
from infradex.clock import utcnow
from infradex.lint import load
from infradex.runtime.reload_plan import (
    DEFAULT_MAX_REMOVED,
    OpenIncident,
    ReloadPlan,
    plan_reload,
)
from infradex.store import Database
from infradex.store.catalog_loads import record_load
from infradex.store.reload_plans import (
    HeldPlan,
    confirm_plan,
    held_plan,
    hold_plan,
    is_confirmed,
    open_incident_checks,
    settle_plans,
)

__all__ = ["LiveCatalog", "Reload", "git_commit"]

log = logging.getLogger("infradex.runtime")


@dataclass(frozen=True, slots=True)
class Reload:
    accepted: bool
    at: datetime
    problems: tuple[Problem, ...]
    diff: dict[str, list[str]] = field(default_factory=dict)
    #: what the new catalog removes and closes (None when it had errors)
    plan: ReloadPlan | None = None
    #: who confirmed a held plan (None: nobody needed to)
    confirmed_by: str | None = None

    @property
    def held(self) -> bool:
        """Not refused for errors but waiting for someone to confirm the plan."""
        return not self.accepted and self.plan is not None and self.plan.held


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


class LiveCatalog:
    """The catalog a process runs. Readers take ``catalog``; ``reload`` swaps it atomically
    and tells the ``listeners`` (the monitor, the alerter)."""

    def __init__(
        self, source: Path, db: Database, *, max_removed_share: float = DEFAULT_MAX_REMOVED
    ) -> None:
        self.source = source
        self.db = db
        self.max_removed_share = max_removed_share
        self.good: LoadedCatalog | None = None
        self.good_at: datetime | None = None
        self.last: Reload | None = None
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

    async def reload(self, trigger: str, *, confirmed_by: str | None = None) -> Reload:
        """Read the catalog again; keep it only if it has no errors and its plan is not held
        (or ``confirmed_by`` someone, or confirmed before for this very change). Recorded
        either way."""
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
            source = str(self.source)
            previous = self.good.catalog if self.good else None
            new = loaded.catalog
            diff = _diff(previous, new) if new is not None else {}
            plan = await self._plan(previous, new) if new is not None else None
            accepted = new is not None
            confirmer = None
            if plan is not None and plan.held:
                if confirmed_by is not None:
                    confirmer = confirmed_by
                elif await is_confirmed(self.db, source, plan.fingerprint):
                    confirmer = "an earlier confirmation"
                else:
                    accepted = False
                    await hold_plan(
                        self.db, at=at, source=source, trigger=trigger, plan=plan.to_dict()
                    )
                    log.warning("catalog reload held: %s", "; ".join(plan.reasons))
            if accepted:
                assert new is not None
                if plan is not None and plan.held and confirmed_by is not None:
                    await confirm_plan(
                        self.db,
                        at=at,
                        source=source,
                        plan=plan.to_dict(),
                        actor=confirmed_by,
                        trigger=trigger,
                    )
                if previous is not None:
                    # a reload went ahead: a plan held before is moot (a process starting
                    # leaves alone what another process running the same catalog holds)
                    await settle_plans(self.db, at=at, source=source)
                self.good, self.good_at = loaded, at
                for listener in self.listeners:
                    listener(new)
            self.last = Reload(accepted, at, tuple(loaded.problems), diff, plan, confirmer)
            await record_load(
                self.db,
                at=at,
                source=source,
                git_commit=git_commit(self.source),
                trigger=trigger,
                accepted=accepted,
                entities=len(new) if new is not None else 0,
                problems=[p.to_dict() for p in loaded.problems],
                diff=diff,
            )
            return self.last

    async def _plan(self, previous: Catalog | None, new: Catalog) -> ReloadPlan:
        if previous is None:  # the first load removes nothing: no incidents to ask about
            return plan_reload(None, new, (), self.max_removed_share)
        open_incidents = [
            OpenIncident(key, title, checks)
            for key, title, checks in await open_incident_checks(self.db)
        ]
        return plan_reload(previous, new, open_incidents, self.max_removed_share)

    async def held_plan(self) -> HeldPlan | None:
        """The plan waiting for confirmation for this catalog's source (from the store: a
        plan held by another process, e.g. ``infradex monitor``, shows too)."""
        return await held_plan(self.db, str(self.source))
