"""The REST API, ``/api/v1``: the same questions the CLI answers, as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from infradex.catalog import KINDS, Catalog, Entity
from infradex.catalog.answers import (
    GraphRecord,
    ImpactRecord,
    SearchHitRecord,
    SearchRecord,
    WhoRecord,
)
from infradex.catalog.queries import graph, impact, who
from infradex.catalog.refs import canonical_kind
from infradex.catalog.search import search
from infradex.clock import utcnow
from infradex.errors import UsageError
from infradex.runtime.live_catalog import LiveCatalog
from infradex.store.audit import audit
from infradex.store.catalog_loads import latest_loads
from infradex.web.audience import for_reader, sees_secrets
from infradex.web.auth import Caller, is_admin, require
from infradex.web.schemas import (
    CatalogLoads,
    CatalogPlan,
    CatalogProblems,
    EntityDocument,
    EntityPage,
    ReloadAnswer,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")


def _state(request: Request) -> LiveCatalog:
    state: LiveCatalog = request.app.state.catalog
    return state


def _matches(
    catalog: Catalog,
    entity: Entity,
    tag: str | None,
    owner: str | None,
    provider_refs: set[Any] | None,
) -> bool:
    if tag is not None and tag not in entity.metadata.tags:
        return False
    if provider_refs is not None and entity.ref not in provider_refs:
        return False
    if owner is not None:
        owners = {str(r) for r in catalog.related(entity.ref, "ownedBy")}
        if owner not in owners:
            return False
    return True


@router.get("/entities", response_model=EntityPage, summary="List entities, filtered and paginated")
async def list_entities(
    request: Request,
    kind: Annotated[str | None, Query(description="e.g. service")] = None,
    tag: str | None = None,
    provider: Annotated[str | None, Query(description="what relies on this provider")] = None,
    owner: Annotated[str | None, Query(description="e.g. team:infrastructure")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EntityPage:
    catalog = _state(request).catalog
    entities: list[Entity]
    if kind is None:
        entities = list(catalog.entities.values())
    else:
        key = canonical_kind(kind)
        if key is None:
            raise UsageError(f"{kind!r} is not a kind; use one of " + ", ".join(KINDS))
        entities = catalog.of_kind(key)
    provider_refs = None
    if provider is not None:
        root = catalog.resolve(provider if ":" in provider else f"provider:{provider}")
        provider_refs = {a.ref for a in impact(catalog, root).affected}
    selected = [e for e in entities if _matches(catalog, e, tag, owner, provider_refs)]
    window = selected[offset : offset + limit]
    admin = await sees_secrets(request)
    return EntityPage(
        items=[_document(catalog, e, admin) for e in window],
        total=len(selected),
        limit=limit,
        offset=offset,
    )


def _document(catalog: Catalog, entity: Entity, admin: bool) -> EntityDocument:
    return EntityDocument.model_validate(for_reader(catalog.entity_json(entity), admin))


@router.get(
    "/entities/{ref}", response_model=EntityDocument, summary="One entity with its relations"
)
async def get_entity(request: Request, ref: str) -> EntityDocument:
    catalog = _state(request).catalog
    return _document(catalog, catalog.get(catalog.resolve(ref)), await sees_secrets(request))


@router.get(
    "/who",
    response_model=WhoRecord,
    summary="Whom to contact about something, in order, and why",
)
async def who_endpoint(
    request: Request, target: Annotated[str, Query(description="ref, domain or URL")]
) -> WhoRecord:
    catalog = _state(request).catalog
    return who(catalog, catalog.resolve(target)).record()


@router.get("/impact", response_model=ImpactRecord, summary="What breaks if something fails")
async def impact_endpoint(
    request: Request, ref: Annotated[str, Query(description="what fails")]
) -> ImpactRecord:
    catalog = _state(request).catalog
    return impact(catalog, catalog.resolve(ref)).record(catalog)


@router.get("/graph", response_model=GraphRecord, summary="Nodes and edges of the dependency graph")
async def graph_endpoint(request: Request, focus: str | None = None) -> GraphRecord:
    catalog = _state(request).catalog
    return graph(catalog, catalog.resolve(focus) if focus else None).record(catalog)


@router.get(
    "/search",
    response_model=SearchRecord,
    summary="Search names, titles, descriptions, domains and people",
)
async def search_endpoint(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SearchRecord:
    catalog = _state(request).catalog
    hits = search(catalog, q, limit)
    return SearchRecord(
        query=q,
        results=[
            SearchHitRecord(ref=str(h.ref), title=h.title, score=h.score, matched=h.matched)
            for h in hits
        ],
    )


@router.get(
    "/catalog/problems",
    response_model=CatalogProblems,
    summary="Problems of the last load attempt",
)
async def problems(request: Request) -> CatalogProblems:
    state = _state(request)
    last = state.last
    found = last.problems if last else ()
    return CatalogProblems(
        accepted=bool(last and last.accepted),
        checked_at=last.at if last else None,
        serving_since=state.good_at,
        held=bool(last and last.held),
        held_plan=await state.held_plan(),
        errors=[p for p in found if p.severity == "error"],
        warnings=[p for p in found if p.severity == "warning"],
    )


@router.get(
    "/catalog/loads", response_model=CatalogLoads, summary="Every catalog load, newest first"
)
async def loads(request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> CatalogLoads:
    items, total = await latest_loads(request.app.state.db, limit)
    if not await is_admin(request):
        # the catalog's path on the server is for admins (an admin token or a signed-in admin)
        items = [item.model_copy(update={"source": None}) for item in items]
    return CatalogLoads(items=items, total=total)


@router.get(
    "/catalog/plan",
    response_model=CatalogPlan,
    summary="The reload held for confirmation, if any",
)
async def held_plan(request: Request) -> CatalogPlan:
    return CatalogPlan(plan=await _state(request).held_plan())


@router.post(
    "/catalog/reload",
    response_model=ReloadAnswer,
    summary="Read the catalog again (needs a write token; force=true needs admin)",
    responses={
        403: {"description": "force=true without the admin scope"},
        409: {
            "model": ReloadAnswer,
            "description": "held: it removes too much or would close open incidents; the "
            "plan says what, and an admin confirms with force=true",
        },
        422: {
            "model": ReloadAnswer,
            "description": "refused: the catalog has errors; the last good one stays",
        },
    },
)
async def reload(
    request: Request,
    caller: Annotated[Caller, Depends(require("write"))],
    force: Annotated[
        bool, Query(description="go ahead with a held plan (needs the admin scope)")
    ] = False,
) -> ReloadAnswer | JSONResponse:
    if force and not caller.token.allows("admin"):
        raise HTTPException(
            403,
            f"token {caller.token.name!r} lacks the 'admin' scope that confirming a held "
            "reload needs; ask an admin to look at GET /api/v1/catalog/plan",
        )
    outcome = await _state(request).reload(
        trigger="api", confirmed_by=caller.actor if force else None
    )
    address = request.client.host if request.client else None
    db = request.app.state.db
    await audit(
        db,
        at=utcnow(),
        actor=caller.actor,
        action="catalog.reload",
        detail={"accepted": outcome.accepted, "held": outcome.held, **outcome.diff},
        remote_addr=address,
    )
    if outcome.confirmed_by == caller.actor and outcome.plan is not None:
        # the plan went ahead because this caller said so: the audit log names them
        await audit(
            db,
            at=utcnow(),
            actor=caller.actor,
            action="catalog.reload.confirm",
            detail=outcome.plan.to_dict(),
            remote_addr=address,
        )
    answer = ReloadAnswer(
        accepted=outcome.accepted,
        held=outcome.held,
        errors=[p for p in outcome.problems if p.severity == "error"],
        diff=outcome.diff,
        plan=outcome.plan.record() if outcome.plan is not None else None,
    )
    if outcome.held:
        return JSONResponse(answer.to_json(), status_code=409)
    # refused is an error status, so `curl -f` in a deploy hook fails as it should
    return answer if outcome.accepted else JSONResponse(answer.to_json(), status_code=422)
