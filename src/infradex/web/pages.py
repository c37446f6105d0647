"""HTML pages: the generated overview, live, plus search and the catalog-problems page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from infradex.catalog.search import search
from infradex.docs import html
from infradex.docs.blocks import (
    Block,
    Bullets,
    Heading,
    Inline,
    Link,
    Page,
    Para,
    Strong,
    Table,
    Text,
)
from infradex.docs.content import build_page, page_id
from infradex.docs.html import CheckedBody
from infradex.runtime.live_catalog import LiveCatalog
from infradex.store.reload_plans import PlanRecord
from infradex.web.glance import Glance, glance
from infradex.web.health import with_health
from infradex.web.live_health import fill_health, has_slots
from infradex.web.render import page_response

__all__ = ["rendered_page", "router"]

router = APIRouter(include_in_schema=False)


def _state(request: Request) -> LiveCatalog:
    state: LiveCatalog = request.app.state.catalog
    return state


def rendered_page(request: Request, page: str) -> tuple[Page, Markup] | None:
    """A page's content depends only on the catalog: rendered once per loaded catalog (the
    cache lives on the app, tied to the catalog it was rendered from, and starts empty when
    a reload brings another)."""
    state = _state(request)
    catalog = state.catalog
    held: tuple[object, dict[str, tuple[Page, Markup] | None]] | None = getattr(
        request.app.state, "rendered_pages", None
    )
    if held is None or held[0] is not catalog:
        held = (catalog, {})
        request.app.state.rendered_pages = held
    cache = held[1]
    if page not in cache:
        if len(cache) >= 2048:
            cache.pop(next(iter(cache)))
        built = build_page(catalog, page, state.problems, live=True)
        cache[page] = (built, html.render_body(built, suffix="")) if built else None
    return cache[page]


def _not_found(request: Request, path: str) -> HTMLResponse:
    page = Page(path, "Not found").add(
        Heading(1, "Not found"),
        Para(
            [
                Text(f"Nothing in the catalog lives at /{path}. "),
                Link("Search the catalog", page="search"),
                Text(" or go to the "),
                Link("overview", page="index"),
                Text("."),
            ]
        ),
    )
    return page_response(request, page, status=404)


@router.get("/search")
async def search_page(
    request: Request, q: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    catalog = _state(request).catalog
    result = Page("search", f"Search: {q}" if q else "Search")
    result.add(Heading(1, "Search"))
    if not q.strip():
        result.add(Para([Text("Type a service, a domain, a person or a provider above.")]))
    else:
        hits = search(catalog, q, 100)
        result.add(Para([Text(f"{len(hits)} result(s) for "), Strong(q), Text(".")]))
        rows: list[list[list[Inline]]] = []
        for hit in hits:
            target = page_id(hit.ref)
            name: Inline = Link(hit.title, page=target) if target else Text(hit.title)
            rows.append([[name], [Text(str(hit.ref))], [Text(hit.matched)]])
        if rows:
            result.add(Table(["Result", "Reference", "Matched on"], rows))
    return page_response(request, result, query=q)


def _held_plan_blocks(plan: PlanRecord) -> list[Block]:
    """The reload waiting for confirmation: why, what it removes, which incidents it closes,
    and how to confirm it."""
    blocks: list[Block] = [
        Heading(2, "Reload held for confirmation", "held-plan"),
        Bullets([[Text(reason)] for reason in plan.reasons]),
    ]
    removed = [
        ("Entities removed", plan.removed_entities),
        ("Checks removed", plan.removed_checks),
        ("Incidents it would close", [f"#{i.id} {i.title}" for i in plan.closes_incidents]),
    ]
    for title, items in removed:
        if items:
            blocks.append(Para([Strong(f"{title} ({len(items)}): "), Text(", ".join(items))]))
    blocks.append(
        Para(
            [
                Text(
                    "If this is what you meant, confirm it with `infradex reload --force` "
                    "(an admin token) or POST /api/v1/catalog/reload?force=true; else fix the "
                    "catalog and reload."
                )
            ]
        )
    )
    return blocks


@router.get("/problems")
async def problems_page(request: Request) -> HTMLResponse:
    state = _state(request)
    last = state.last
    result = Page("problems", "Catalog problems")
    result.add(Heading(1, "Catalog problems"))
    if last is None:
        result.add(Para([Text("The catalog has not been loaded yet.")]))
    else:
        if last.accepted:
            result.add(
                Para([Text(f"The catalog loaded at {last.at:%Y-%m-%d %H:%M} UTC is being served.")])
            )
        elif last.held:
            result.add(
                Para(
                    [
                        Strong("The last reload is held"),
                        Text(
                            f" ({last.at:%Y-%m-%d %H:%M} UTC): the new catalog has no errors "
                            "but removes too much to take without a confirmation. The server "
                            f"keeps serving the catalog loaded at {state.good_at:%Y-%m-%d %H:%M} "
                            "UTC."
                        ),
                    ]
                )
            )
        else:
            result.add(
                Para(
                    [
                        Strong("The last reload was refused"),
                        Text(
                            f" ({last.at:%Y-%m-%d %H:%M} UTC): the server keeps serving the "
                            f"catalog loaded at {state.good_at:%Y-%m-%d %H:%M} UTC. Fix these "
                            "errors and reload."
                        ),
                    ]
                )
            )
        plan = await state.held_plan()
        if plan is not None:
            result.add(*_held_plan_blocks(plan))
        for severity in ("error", "warning"):
            found = [p for p in last.problems if p.severity == severity]
            result.add(Heading(2, f"{severity.capitalize()}s ({len(found)})", severity + "s"))
            if found:
                result.add(
                    Table(
                        ["Where", "Entity", "Problem", "What to do"],
                        [
                            [
                                [Text(p.location)],
                                [Text(p.entity or "")],
                                [Text(p.message)],
                                [Text(p.hint)],
                            ]
                            for p in found
                        ],
                    )
                )
            else:
                result.add(Bullets([[Text("None.")]]))
    return page_response(request, result)


@router.get("/api/docs")
async def api_reference(request: Request) -> HTMLResponse:
    """The API described from its own OpenAPI schema, as a page (no scripts, works offline)."""
    spec = request.app.openapi()
    result = Page("api/docs", "REST API").add(
        Heading(1, "REST API"),
        Para(
            [
                Text(
                    'Every answer is JSON; errors are {"error": ...} saying what to do. '
                    "Writes need a bearer token (infradex token create). The machine-readable "
                    "description: "
                ),
                Link("/openapi.json", url="/openapi.json"),
                Text("."),
            ]
        ),
    )
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            result.add(Heading(2, f"{method.upper()} {path}"))
            if operation.get("summary"):
                result.add(Para([Text(operation["summary"])]))
            rows: list[list[list[Inline]]] = []
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kind = schema.get("type") or " or ".join(
                    str(s.get("type")) for s in schema.get("anyOf", []) if s.get("type")
                )
                rows.append(
                    [
                        [Strong(parameter["name"])],
                        [Text(parameter["in"])],
                        [Text("yes" if parameter.get("required") else "no")],
                        [Text(kind or "")],
                        [Text(parameter.get("description", ""))],
                    ]
                )
            if rows:
                result.add(Table(["Parameter", "In", "Required", "Type", "Meaning"], rows))
            if "security" in operation:
                result.add(Para([Text("Needs a bearer token.")]))
    return page_response(request, result)


@router.get("/index")
async def index_alias() -> RedirectResponse:
    return RedirectResponse("/", status_code=308)


@router.get("/{path:path}")
async def page(request: Request, path: str) -> Response:
    if path.startswith("api/"):
        return JSONResponse({"error": f"no API at /{path}; see /api/docs"}, status_code=404)
    found = rendered_page(request, path.strip("/") or "index")
    if found is None:
        return _not_found(request, path)
    body = await with_health(request, found[0].id, found[1])
    if not has_slots(body):
        return page_response(request, found[0], body=body)
    # impact tables and diagrams: each entity's health now, filled (and the result cleaned)
    # once per page and glance, while neither the glance nor the health section changes
    seen = await glance(request)
    filled: dict[str, tuple[Glance, str, CheckedBody]] = request.app.state.__dict__.setdefault(
        "filled_pages", {}
    )
    held = filled.get(found[0].id)
    if held is None or held[0] is not seen or held[1] != body:
        if len(filled) >= 2048 and found[0].id not in filled:
            filled.pop(next(iter(filled)))
        held = (seen, str(body), html.checked(fill_health(body, seen)))
        filled[found[0].id] = held
    return page_response(request, found[0], body=held[2])
