"""DNS as code over the API, for ``admin`` tokens: ``/api/v1/dns/plan``, ``apply`` and
``drift`` answer as ``infradex dns plan --format json``, ``apply`` and ``drift`` do, on the
catalog the server has loaded. octoDNS blocks while it talks to the provider, so plans and
applies run in a worker thread; applies take turns (one at a time per server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from anyio import from_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from infradex.catalog import Catalog
from infradex.clock import utcnow
from infradex.dns.annotate import annotate_all
from infradex.dns.apply import DnsApplyError, apply_plan
from infradex.dns.plan import DnsPlan, plan_zones
from infradex.dns.providers import DnsProviderError
from infradex.dns.render import plan_json
from infradex.monitor.maintenance import Window
from infradex.runtime.dns_changes import maintenance_windows, record_apply, record_windows
from infradex.settings import Settings
from infradex.web.auth import Caller, require
from infradex.wire import Instant, ReadModel

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/dns", tags=["dns"])

Admin = Annotated[Caller, Depends(require("admin"))]
Zones = Annotated[
    list[str], Query(alias="zone", description="only these zones (repeatable); default all")
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token"},
    403: {"description": "the token lacks the admin scope"},
    404: {"description": "no such zone in the catalog"},
    502: {"description": "a DNS provider cannot be built or read; the error says what to fix"},
}


class ApplyRequest(BaseModel):
    checksum: str = Field(description="the checksum of the reviewed plan (GET /api/v1/dns/plan)")
    zones: list[str] = Field(default_factory=list, description="only these zones; default all")
    force: bool = Field(default=False, description="apply even when octoDNS's thresholds object")
    maintenance: bool = Field(
        default=False,
        description="maintenance for the touched services' checks: the apply plus the old TTL",
    )


@contextmanager
def _answers() -> Iterator[None]:
    """DNS errors as HTTP answers: a refused apply is a conflict with the live state (409),
    a provider that cannot be reached or built a bad gateway (502)."""
    try:
        yield
    except DnsApplyError as exc:
        raise HTTPException(409, str(exc)) from None
    except DnsProviderError as exc:
        raise HTTPException(502, str(exc)) from None


def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog.catalog
    return catalog


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _plan(request: Request, zones: list[str]) -> tuple[Catalog, DnsPlan]:
    catalog = _catalog(request)
    with _answers():
        plan = await run_in_threadpool(plan_zones, catalog, zones, _settings(request))
    return catalog, plan


def _lock(request: Request) -> asyncio.Lock:
    """One apply at a time: two at once would each plan against the other's half-applied
    zone. Made on first use (in the event loop's thread, so never twice)."""
    state = request.app.state
    if not hasattr(state, "dns_apply_lock"):
        state.dns_apply_lock = asyncio.Lock()
    lock: asyncio.Lock = state.dns_apply_lock
    return lock


class RecordOut(ReadModel):
    ttl: int
    values: list[str]


class RiskOut(ReadModel):
    grade: str = Field(description="low, medium or high")
    reasons: list[str]


class TouchedServiceOut(ReadModel):
    ref: str
    title: str
    lifecycle: str
    owners: list[str]
    on_call: list[str] = Field(description="who the service's policy would page now")
    fronted_by: list[str] = Field(description="CDN providers in front of it")


class ChangeOut(ReadModel):
    zone: str
    name: str
    fqdn: str
    type: str
    action: str = Field(description="create, update or delete")
    before: RecordOut | None
    after: RecordOut | None
    services: list[TouchedServiceOut]
    risk: RiskOut


class ZoneOut(ReadModel):
    zone: str
    provider: str
    changes: int
    unsafe: str | None = Field(description="octoDNS's safety verdict, when it objects")


class PlanOut(ReadModel):
    """The annotated plan, as `infradex dns plan --format json` prints it."""

    checksum: str = Field(description="apply with exactly this checksum")
    zones: list[ZoneOut]
    changes: list[ChangeOut]


class DriftOut(PlanOut):
    in_sync: bool
    drifted: list[str] = Field(description="the zones whose live records differ")


class WindowOut(ReadModel):
    target: str
    starts_at: Instant
    ends_at: Instant


class ApplyOut(ReadModel):
    checksum: str
    applied: list[str] = Field(description="the zones changed, in order")
    changes: int
    maintenance: list[WindowOut]


@router.get(
    "/plan",
    summary="The annotated DNS plan and its checksum (admin)",
    responses=_ERRORS,
    response_model=PlanOut,
)
async def plan(request: Request, caller: Admin, zone: Zones = []) -> dict[str, Any]:  # noqa: B006
    catalog, planned = await _plan(request, zone)
    return plan_json(planned, annotate_all(catalog, planned.changes, utcnow()))


@router.get(
    "/drift",
    summary="Whether the live zones match the catalog, with the differences (admin)",
    responses=_ERRORS,
    response_model=DriftOut,
)
async def drift(request: Request, caller: Admin, zone: Zones = []) -> dict[str, Any]:  # noqa: B006
    catalog, planned = await _plan(request, zone)
    drifted = sorted({c.zone for c in planned.changes})
    return {
        "inSync": not drifted,
        "drifted": drifted,
        **plan_json(planned, annotate_all(catalog, planned.changes, utcnow())),
    }


@router.post(
    "/apply",
    summary="Apply the reviewed plan, only if its checksum still holds (admin)",
    responses={
        **_ERRORS,
        409: {
            "description": "refused, nothing applied (the checksum changed, octoDNS's "
            "thresholds object, a read-only source), or a zone failed: the error names the "
            "zones applied and those untouched"
        },
    },
    response_model=ApplyOut,
)
async def apply(request: Request, caller: Admin, body: ApplyRequest) -> dict[str, Any]:
    db = request.app.state.db
    address = request.client.host if request.client else None
    async with _lock(request):
        catalog, planned = await _plan(request, body.zones)
        windows: list[Window] = []
        if body.maintenance and planned.checksum == body.checksum.strip().lower():
            annotated = annotate_all(catalog, planned.changes, utcnow())
            windows = maintenance_windows(annotated, utcnow(), planned.checksum, source="api")

        def before() -> None:
            # in the worker thread: the windows are written, in the event loop, before the
            # first change is applied
            if windows:
                from_thread.run(record_windows, db, windows, caller.actor, utcnow())

        with _answers():
            applied = await run_in_threadpool(
                lambda: apply_plan(planned, body.checksum, force=body.force, before=before)
            )
        await record_apply(
            db,
            planned,
            applied.zones,
            force=body.force,
            actor=caller.actor,
            now=utcnow(),
            remote_addr=address,
        )
    return {
        "checksum": planned.checksum,
        "applied": list(applied.zones),
        "changes": applied.changes,
        "maintenance": [
            {
                "target": w.target,
                "startsAt": w.starts_at.isoformat(),
                "endsAt": w.ends_at.isoformat(),
            }
            for w in windows
        ],
    }
