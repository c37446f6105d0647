"""The reload plan: what a new catalog would remove, and whether that is too much to take
without someone confirming it (after octoDNS's plan safety thresholds).

A catalog that loads without errors can still be a mistake: a directory half copied, a file
deleted by a bad merge. Accepted, it would stop half the checks, and the alerter would resolve
every incident whose checks disappeared. So a reload that removes more than a share of the
entities or of the checks (``INFRADEX_RELOAD_MAX_REMOVED``, default 30 %), or that would close
an open incident, is held as a plan until someone confirms it. Pure: the live catalog asks
and stores; this only decides.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from infradex.catalog import Catalog
from infradex.monitor.checks import checks_of
from infradex.store.reload_plans import PlanIncident, PlanRecord

__all__ = [
    "DEFAULT_MAX_REMOVED",
    "OpenIncident",
    "ReloadPlan",
    "catalog_fingerprint",
    "plan_reload",
]

DEFAULT_MAX_REMOVED = 0.30


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """An incident not yet resolved, with the checks that hold it open (its root checks
    still down): when a reload removes all of them, the alerter resolves the incident."""

    id: int
    title: str
    checks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    entities_before: int
    checks_before: int
    removed_entities: tuple[str, ...]
    removed_checks: tuple[str, ...]
    closes: tuple[OpenIncident, ...]
    max_removed_share: float
    #: why the plan is held (empty: it may go ahead)
    reasons: tuple[str, ...]
    #: names this change (the old catalog's content and the new one's): a confirmation holds
    #: for exactly this change, in any process that makes it
    fingerprint: str

    @property
    def held(self) -> bool:
        return bool(self.reasons)

    def record(self) -> PlanRecord:
        """As it is stored and shown (``infradex.store.reload_plans``)."""
        return PlanRecord(
            held=self.held,
            reasons=list(self.reasons),
            max_removed_share=self.max_removed_share,
            entities_before=self.entities_before,
            checks_before=self.checks_before,
            removed_entities=list(self.removed_entities),
            removed_checks=list(self.removed_checks),
            closes_incidents=[
                PlanIncident(id=i.id, title=i.title, checks=list(i.checks)) for i in self.closes
            ],
            fingerprint=self.fingerprint,
        )

    def to_dict(self) -> dict[str, Any]:
        return self.record().to_json()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReloadPlan:
        stored = PlanRecord.model_validate(data)
        return cls(
            entities_before=stored.entities_before,
            checks_before=stored.checks_before,
            removed_entities=tuple(stored.removed_entities),
            removed_checks=tuple(stored.removed_checks),
            closes=tuple(
                OpenIncident(i.id, i.title, tuple(i.checks)) for i in stored.closes_incidents
            ),
            max_removed_share=stored.max_removed_share,
            reasons=tuple(stored.reasons),
            fingerprint=stored.fingerprint,
        )


def catalog_fingerprint(catalog: Catalog) -> str:
    """A digest of every entity's document: two loads of the same files give the same one."""
    documents = {str(ref): entity.document() for ref, entity in catalog.entities.items()}
    text = json.dumps(documents, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _change_fingerprint(old: Catalog | None, new: Catalog) -> str:
    before = catalog_fingerprint(old) if old is not None else ""
    text = f"{before}:{catalog_fingerprint(new)}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _check_ids(catalog: Catalog) -> set[str]:
    return {check.id for check in checks_of(catalog)}


def _share(removed: int, before: int) -> float:
    return removed / before if before else 0.0


def _too_many(what: str, removed: Sequence[str], before: int, limit: float) -> Iterable[str]:
    share = _share(len(removed), before)
    if share > limit:
        yield (
            f"it removes {len(removed)} of {before} {what} ({share:.0%}), more than "
            f"{limit:.0%} (INFRADEX_RELOAD_MAX_REMOVED)"
        )


def plan_reload(
    old: Catalog | None,
    new: Catalog,
    open_incidents: Sequence[OpenIncident],
    max_removed_share: float = DEFAULT_MAX_REMOVED,
) -> ReloadPlan:
    """What replacing ``old`` with ``new`` removes, and whether to hold it. The first load
    (no ``old``) removes nothing and is never held."""
    before_entities = {str(ref) for ref in old.entities} if old is not None else set()
    before_checks = _check_ids(old) if old is not None else set()
    after_checks = _check_ids(new)
    removed_entities = tuple(sorted(before_entities - {str(ref) for ref in new.entities}))
    removed_checks = tuple(sorted(before_checks - after_checks))
    closes = tuple(
        incident
        for incident in open_incidents
        if incident.checks and not any(check in after_checks for check in incident.checks)
    )
    reasons = [
        *_too_many("entities", removed_entities, len(before_entities), max_removed_share),
        *_too_many("checks", removed_checks, len(before_checks), max_removed_share),
    ]
    if closes:
        reasons.append(
            f"it would close {len(closes)} open incident(s) by removing their checks: "
            + ", ".join(f"#{i.id}" for i in closes)
        )
    return ReloadPlan(
        entities_before=len(before_entities),
        checks_before=len(before_checks),
        removed_entities=removed_entities,
        removed_checks=removed_checks,
        closes=closes,
        max_removed_share=max_removed_share,
        reasons=tuple(reasons),
        fingerprint=_change_fingerprint(old, new),
    )
