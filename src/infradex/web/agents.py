"""The probe agents' API, ``/api/agent``: assignments, results, heartbeat (docs/agents.md).

Every route needs a live token with the ``agent`` scope, bound to the location the agent says
it reports for. A refusal (no token, an unknown or revoked one, another scope, another
location) is counted per reason in :class:`AgentRefusals` and logged; nothing is stored.
Check definitions go out with their secret references unresolved: the agent resolves them
in its own environment.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import Counter
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from infradex.background import Loop
from infradex.catalog.entities import Catalog
from infradex.clock import utcnow
from infradex.monitor.admission import AgentResult, BatchTooLarge
from infradex.monitor.agent_health import sweep_agents
from infradex.monitor.agent_records import record_heartbeat, record_results
from infradex.monitor.agent_rollups import FLUSH_EVERY, PendingRollups
from infradex.monitor.ingest import ingest, sweep_stale
from infradex.monitor.locations import assignments
from infradex.runtime.live_catalog import LiveCatalog
from infradex.runtime.reload_plan import catalog_fingerprint
from infradex.store.db import Database
from infradex.store.tokens import verify_token

__all__ = ["SWEEP_EVERY", "AgentRefusals", "rollup_flush", "router", "stale_sweep"]

log = logging.getLogger("infradex.web.agents")

router = APIRouter(prefix="/api/agent", tags=["agents"])
_bearer = HTTPBearer(
    auto_error=False,
    description="An agent token: `infradex token create --scope agent --location DC`",
)

SWEEP_EVERY = 15.0  # seconds between stale sweeps
MAX_OBSERVED_BYTES = 16_384  # one result's observed values, as JSON


class AgentRefusals(Counter[str]):
    """Requests refused before anything was stored, by reason (for ``/metrics``)."""


def _refuse(request: Request, status: int, reason: str, message: str) -> HTTPException:
    refusals: AgentRefusals = request.app.state.agent_refusals
    refusals[reason] += 1
    client = request.client.host if request.client else "?"
    log.warning("agent request refused (%s) from %s: %s", reason, client, message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status, message, headers=headers)


class AgentCaller:
    def __init__(self, token_name: str, location: str) -> None:
        self.token_name = token_name
        self.location = location


async def _agent(
    request: Request, credentials: HTTPAuthorizationCredentials | None, location: str
) -> AgentCaller:
    if credentials is None:
        raise _refuse(
            request,
            401,
            "no-token",
            "an agent needs its token: `Authorization: Bearer <token>` (create one with "
            "`infradex token create --name agent-DC --scope agent --location DC`)",
        )
    token = await verify_token(request.app.state.db, credentials.credentials, utcnow())
    if token is None:
        raise _refuse(request, 403, "bad-token", "this token is unknown or revoked")
    if "agent" not in token.scopes or token.location is None:
        raise _refuse(
            request,
            403,
            "not-agent",
            f"token {token.name!r} is no agent token; create one with --scope agent --location DC",
        )
    if token.location != location:
        raise _refuse(
            request,
            403,
            "other-location",
            f"token {token.name!r} reports for {token.location}, not {location}: "
            f"run the agent with --location {token.location}, or use {location}'s token",
        )
    return AgentCaller(token.name, token.location)


def _catalog(request: Request) -> Catalog:
    live: LiveCatalog = request.app.state.catalog
    return live.catalog


@functools.lru_cache(maxsize=4)
def _fingerprint(catalog: Catalog) -> str:
    return catalog_fingerprint(catalog)


# ------------------------------------------------------------------ models


class Assignment(BaseModel):
    id: str
    owner: str
    title: str
    check: dict[str, Any] = Field(
        description="The catalog's check as written; secret references stay references"
    )


class Assignments(BaseModel):
    location: str
    fingerprint: str
    checks: list[Assignment]


class ResultIn(BaseModel):
    check_id: str = Field(max_length=200)
    observed_at: AwareDatetime
    success: bool
    duration_ms: float | None = Field(default=None, ge=0)
    error_kind: str | None = Field(default=None, max_length=32)
    message: str = Field(default="", max_length=2000)
    observed: dict[str, Any] = Field(default_factory=dict)

    @field_validator("observed")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, separators=(",", ":"), default=str))
        if size > MAX_OBSERVED_BYTES:
            raise ValueError(
                f"observed is {size} bytes as JSON; at most {MAX_OBSERVED_BYTES} "
                "(phases, values and condition verdicts, not bodies)"
            )
        return value


class ResultsIn(BaseModel):
    location: str = Field(max_length=63)
    dropped: int = Field(default=0, ge=0, description="Results the agent's buffer dropped")
    results: list[ResultIn]


class RefusedResult(BaseModel):
    check_id: str
    observed_at: datetime
    reason: str
    detail: str


class ResultsOut(BaseModel):
    stored: int
    refused: list[RefusedResult]
    refused_counts: dict[str, int]


class HeartbeatIn(BaseModel):
    location: str = Field(max_length=63)
    version: str = Field(max_length=64)
    sent_at: AwareDatetime


class HeartbeatOut(BaseModel):
    location: str
    received_at: datetime
    clock_offset_ms: float = Field(description="The server's clock minus the agent's")


# ------------------------------------------------------------------ routes

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@router.get(
    "/assignments",
    response_model=Assignments,
    summary="The checks this agent's location runs",
    responses={304: {"description": "Unchanged since the ETag sent in If-None-Match"}},
)
async def get_assignments(
    request: Request,
    credentials: Credentials,
    location: Annotated[str, Query(max_length=63, description="The agent's data center")],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    caller = await _agent(request, credentials, location)
    catalog = _catalog(request)
    fingerprint = _fingerprint(catalog)
    etag = f'"{fingerprint}"'
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    body = Assignments(
        location=caller.location,
        fingerprint=fingerprint,
        checks=[
            Assignment(
                id=c.id,
                owner=c.owner,
                title=c.title,
                check=c.check.model_dump(mode="json", by_alias=True, exclude_defaults=True),
            )
            for c in assignments(catalog, caller.location)
        ],
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": etag})


@router.post("/results", response_model=ResultsOut, summary="Store a batch of results")
async def post_results(request: Request, credentials: Credentials, batch: ResultsIn) -> Any:
    caller = await _agent(request, credentials, batch.location)
    now = utcnow()
    results = [
        AgentResult(
            r.check_id,
            r.observed_at,
            r.success,
            r.duration_ms,
            r.error_kind,
            r.message,
            r.observed,
        )
        for r in batch.results
    ]
    try:
        done = await ingest(
            request.app.state.db,
            _catalog(request),
            caller.location,
            results,
            now,
            rollups=request.app.state.agent_rollups,
        )
    except BatchTooLarge as exc:
        raise _refuse(request, 413, "oversize", str(exc)) from None
    await record_results(
        request.app.state.db,
        caller.location,
        caller.token_name,
        now,
        stored=done.stored,
        refused=len(done.refused),
        dropped=batch.dropped,
    )
    if batch.dropped:
        log.warning(
            "agent at %s dropped %d result(s) while it could not reach the server",
            caller.location,
            batch.dropped,
        )
    counts = Counter(r.reason for r in done.refused)
    return ResultsOut(
        stored=done.stored,
        refused=[
            RefusedResult(
                check_id=r.check_id, observed_at=r.observed_at, reason=r.reason, detail=r.detail
            )
            for r in done.refused
        ],
        refused_counts=dict(counts),
    )


@router.post("/heartbeat", response_model=HeartbeatOut, summary="The agent is alive")
async def post_heartbeat(request: Request, credentials: Credentials, beat: HeartbeatIn) -> Any:
    caller = await _agent(request, credentials, beat.location)
    now = utcnow()
    offset = round((now - beat.sent_at).total_seconds() * 1000, 3)
    await record_heartbeat(
        request.app.state.db,
        caller.location,
        caller.token_name,
        now,
        version=beat.version,
        clock_offset_ms=offset,
    )
    return HeartbeatOut(location=caller.location, received_at=now, clock_offset_ms=offset)


def stale_sweep(live: LiveCatalog, db: Database) -> Loop:
    """The loop that marks silent locations stale (:func:`~infradex.monitor.ingest.sweep_stale`)
    every :data:`SWEEP_EVERY` seconds; idempotent, so every server may run it."""

    async def sweep() -> None:
        if live.ready:
            now = utcnow()
            await sweep_stale(db, live.catalog, now)
            await sweep_agents(db, live.catalog, now)

    return Loop("agent stale sweep", SWEEP_EVERY, sweep, log=log)


def rollup_flush(pending: PendingRollups, db: Database) -> Loop:
    """The loop that writes the agents' pending rollups every :data:`FLUSH_EVERY` seconds
    (the server flushes once more when it stops)."""

    async def flush() -> None:
        await pending.flush(db)

    return Loop("agent rollups", FLUSH_EVERY, flush, log=log)
