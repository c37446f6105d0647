"""``/impact?target=…``: what breaks if something fails, for anything in the catalog (not only
the provider pages): each affected entity down or degraded, the path that carries it, and its
health now. The target is a ref (``provider:fastly``), a name or a title."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from infradex.catalog import Catalog, Ref
from infradex.catalog.refs import RefError, parse_ref
from infradex.docs.blocks import Heading, Inline, Link, Page, Para, Text
from infradex.docs.content import impact_section, page_id
from infradex.docs.html import render_body
from infradex.web.glance import glance
from infradex.web.render import page_response

__all__ = ["find_targets", "router"]

router = APIRouter(include_in_schema=False)

#: kinds whose failure takes others down, offered as examples under the form
EXAMPLE_KINDS = ("provider", "datacenter", "host")
EXAMPLES = 12


def find_targets(catalog: Catalog, text: str) -> list[Ref]:
    """The entities ``text`` names: a ref, else every entity whose name or title is it
    (ignoring case)."""
    text = text.strip()
    try:
        ref = parse_ref(text)
    except RefError:
        ref = None
    if ref is not None and ref in catalog:
        return [ref]
    folded = text.casefold()
    return [
        entity.ref
        for entity in catalog.entities.values()
        if entity.name.casefold() == folded or entity.title.casefold() == folded
    ]


def _form(target: str) -> Markup:
    return Markup(
        '<form class="impact-form" method="get" action="impact">'
        '<label for="target">What fails?</label>'
        '<input id="target" name="target" value="{}" '
        'placeholder="provider:fastly, a host, a service"'
        ' required maxlength="200">'
        '<button type="submit">Show the impact</button></form>'
    ).format(target)


def _examples(catalog: Catalog, page: Page) -> None:
    links: list[Inline] = []
    for kind in EXAMPLE_KINDS:
        for entity in catalog.of_kind(kind):
            if len(links) >= 2 * EXAMPLES:
                break
            if links:
                links.append(Text(" · "))
            links.append(Link(entity.title, url=f"?target={quote(str(entity.ref))}"))
    if links:
        page.add(Para([Text("For example: "), *links]))


@router.get("/impact")
async def impact_page(
    request: Request, target: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    catalog: Catalog = request.app.state.catalog.catalog
    title = f"Impact of {target}" if target.strip() else "Impact"
    top = Page("impact", title).add(Heading(1, "What breaks if it fails?"))
    result = Page("impact", title)
    status = 200
    if not target.strip():
        _examples(catalog, result)
    else:
        found = find_targets(catalog, target)
        if len(found) == 1:
            seen = await glance(request)
            health = seen.health if seen.on else None
            ref = found[0]
            name: Inline = (
                Link(catalog.title(ref), page=page_id(ref)) if page_id(ref) else Text(str(ref))
            )
            result.add(Para([Text("Target: "), name, Text(f" ({ref})")]))
            result.add(*impact_section(catalog, ref, health))
        elif found:
            result.add(
                Para([Text(f"{len(found)} entities are called {target.strip()}: pick one.")])
            )
            choices: list[Inline] = []
            for ref in found:
                if choices:
                    choices.append(Text(" · "))
                choices.append(Link(str(ref), url=f"?target={quote(str(ref))}"))
            result.add(Para(choices))
        else:
            status = 404
            result.add(
                Para(
                    [
                        Text(f"Nothing in the catalog is called {target.strip()}. Write a ref "
                             "such as provider:fastly, a name or a title, or "),
                        Link("search the catalog", url=f"./search?q={quote(target.strip())}"),
                        Text("."),
                    ]
                )
            )  # fmt: skip
            _examples(catalog, result)
    body = render_body(top, "") + _form(target) + render_body(result, "")
    return page_response(request, top, body=Markup(body), status=status)
