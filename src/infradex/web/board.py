"""``/board``: every check in one dense grid, grouped by who owns it, worst first: its state,
its last results as small bars (the heartbeat strip), its latency and its uptime over 24 hours.
Filters by state, team and provider are a plain GET form; with "reload" ticked the page reloads
itself (meta refresh), so a wall screen stays current without scripts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from infradex.catalog import Catalog, Ref
from infradex.catalog.impact import impact
from infradex.catalog.models import ServiceSpec
from infradex.catalog.refs import RefError, parse_ref
from infradex.clock import utcnow
from infradex.docs.blocks import Page
from infradex.docs.content import page_id
from infradex.docs.html import CheckedBody, checked, state_class
from infradex.monitor import history
from infradex.monitor.checks import CheckDef, checks_of
from infradex.monitor.evaluate import CheckState
from infradex.monitor.report import DEGRADED_STATES, STATE_ORDER, shown_state, state_rank
from infradex.netpolicy import AddressPolicy
from infradex.web.glance import glance_states, kept
from infradex.web.health import not_monitored_notice
from infradex.web.render import page_response

__all__ = ["heartbeat_strip", "router"]

router = APIRouter(include_in_schema=False)

#: seconds between the page's own reloads
REFRESH_SECONDS = 30
#: checks on one page of the board (the worst come first, so page 1 is the one to watch)
CHECKS_PER_PAGE = 200
#: the 24-hour uptimes move slowly: read them at most this often
UPTIME_SECONDS = 60.0
#: the state filter's choices: a shown state, or "degraded" (flapping or unknown)
STATE_CHOICES = ("down", "degraded", "maintenance", "pending", "up")
NO_OWNER = "No owner listed"


@dataclass(frozen=True, slots=True)
class Owners:
    """Who owns each checked entity: the group it is shown in, and every owner's ref."""

    group: dict[str, str]  # entity ref -> the title of the group it is shown in
    refs: dict[str, frozenset[str]]  # entity ref -> refs of its owners (team:x, person:y)


@functools.lru_cache(maxsize=4)
def _owners(catalog: Catalog) -> Owners:
    """A service is shown under its first owner; a provider under "Providers" (cached per
    catalog: a catalog never changes)."""
    group: dict[str, str] = {}
    refs: dict[str, frozenset[str]] = {}
    for service in catalog.of_kind("service"):
        found: list[Ref] = []
        for owner in catalog.typed(service.ref, ServiceSpec).spec.owners:
            try:
                ref = parse_ref(owner.ref, ("person", "team"))
            except RefError:
                continue
            if ref in catalog:
                found.append(ref)
        group[str(service.ref)] = catalog.title(found[0]) if found else NO_OWNER
        refs[str(service.ref)] = frozenset(str(r) for r in found)
    for provider in catalog.of_kind("provider"):
        group[str(provider.ref)] = "Providers"
    return Owners(group, refs)


@functools.lru_cache(maxsize=4)
def _in_group_order(
    catalog: Catalog, ca_file: str | None, policy: AddressPolicy
) -> tuple[tuple[str, CheckDef], ...]:
    """Every check with the group it is shown in, by group then check (cached per catalog)."""
    group = _owners(catalog).group
    paired = [(group.get(c.owner, NO_OWNER), c) for c in checks_of(catalog, ca_file, policy)]
    return tuple(sorted(paired, key=lambda p: (p[0].lower(), p[1].id)))


@functools.lru_cache(maxsize=4096)  # a few histories (all up) are most of a board
def heartbeat_strip(outcomes: str) -> Markup:
    """The last results as small bars, oldest left: green up, red down (``history`` holds a
    "u" or "d" per result). One path per colour keeps a strip under half a kilobyte (a board
    page draws hundreds). Only our own digits and classes: nothing to escape."""
    width, gap, height = 5, 2, 18
    paths = []
    for outcome, css in (("u", "bar-up"), ("d", "bar-down")):
        bars = "".join(
            f"M{i * (width + gap)} 0h{width}v{height}h-{width}z"
            for i, seen in enumerate(outcomes)
            if (seen == "u") == (outcome == "u")
        )
        if bars:
            paths.append(f'<path class="{css}" d="{bars}"/>')
    total = max(1, len(outcomes)) * (width + gap)
    ups = outcomes.count("u")
    label = f"last {len(outcomes)} results: {ups} up, {len(outcomes) - ups} down"
    return Markup(
        f'<svg class="heartbeat" viewBox="0 0 {total} {height}" width="{total}" '
        f'height="{height}" role="img" aria-label="{label}">{"".join(paths)}</svg>'
    )


def _matches_state(shown: str, wanted: str | None) -> bool:
    if not wanted:
        return True
    return shown in DEGRADED_STATES if wanted == "degraded" else shown == wanted


def _provider_scope(catalog: Catalog, name: str) -> frozenset[str] | None:
    """The provider's own ref and everything that breaks with it; None if there is none."""
    ref = Ref("provider", name)
    if ref not in catalog:
        return None
    return frozenset([str(ref), *(str(a.ref) for a in impact(catalog, ref).affected)])


async def _uptimes(request: Request) -> dict[str, float | None]:
    async def read() -> dict[str, float | None]:
        return await history.uptime_24h_all(request.app.state.db, utcnow())

    return await kept(request, "uptimes-24h", read, UPTIME_SECONDS)


def _options(choices: list[tuple[str, str]], chosen: str | None, every: str) -> Markup:
    out = [Markup('<option value="">{}</option>').format(every)]
    out += [
        Markup('<option value="{}"{}>{}</option>').format(
            value, Markup(" selected") if value == chosen else Markup(""), label
        )
        for value, label in choices
    ]
    return Markup("").join(out)


def _filters(
    catalog: Catalog, state: str | None, team: str | None, provider: str | None, auto: bool
) -> Markup:
    teams = [(t.name, t.title) for t in catalog.of_kind("team")]
    providers = [(p.name, p.title) for p in catalog.of_kind("provider")]
    return Markup(
        '<form class="board-filters" method="get" action="board">'
        '<label for="f-state">State</label><select id="f-state" name="state">{}</select>'
        '<label for="f-team">Team</label><select id="f-team" name="team">{}</select>'
        '<label for="f-provider">Provider</label>'
        '<select id="f-provider" name="provider">{}</select>'
        '<span class="auto"><input type="checkbox" id="f-auto" name="auto" value="1"{}>'
        '<label for="f-auto">Reload every {} s</label></span>'
        '<button type="submit">Filter</button></form>'
    ).format(
        _options([(s, s) for s in STATE_CHOICES], state, "any state"),
        _options(teams, team, "every team"),
        _options(providers, provider, "every provider"),
        Markup(" checked") if auto else Markup(""),
        REFRESH_SECONDS,
    )


def _pager(number: int, pages: int, filters: dict[str, str | None]) -> Markup:
    """``Page 2 of 20 · previous · next``, keeping the filters."""

    def href(to: int) -> str:
        return "board?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": to})

    links = [Markup("Page {} of {}").format(number, pages)]
    if number > 1:
        links.append(Markup('<a href="{}">previous</a>').format(href(number - 1)))
    if number < pages:
        links.append(Markup('<a href="{}">next</a>').format(href(number + 1)))
    return Markup('<p class="pager">{}</p>').format(Markup(" · ").join(links))


def _latency(state: CheckState | None) -> str:
    if state is None or state.last_duration_ms is None:
        return "–"
    return f"{state.last_duration_ms:.0f} ms"


def _uptime(value: float | None) -> str:
    return "–" if value is None else f"{int(value * 100) / 100:g}%"


def _row(
    catalog: Catalog, check: CheckDef, shown: str, state: CheckState | None, uptime: float | None
) -> Markup:
    target = page_id(parse_ref(check.owner))
    entity = catalog.title(parse_ref(check.owner))
    return Markup(
        '<tr><td data-label="State"><span class="health {}">{}</span></td>'
        '<td data-label="Check"><a href="{}#check-{}">{}</a> '
        '<span class="check-name">{}</span></td>'
        '<td data-label="Last results">{}</td><td data-label="Latency">{}</td>'
        '<td data-label="Uptime 24 h">{}</td></tr>'
    ).format(
        state_class(shown), shown, target or "", check.name, entity, check.name,
        heartbeat_strip(state.history if state else ""), _latency(state), _uptime(uptime),
    )  # fmt: skip


async def _board_body(
    request: Request, catalog: Catalog, state: str | None, team: str | None,
    provider: str | None, page: int, auto: bool,
) -> Markup:  # fmt: skip
    """The board below the header: summary, filters, notes, the groups of checks."""
    states, on = await glance_states(request)
    owners = _owners(catalog)
    scope = _provider_scope(catalog, provider) if provider else None
    notes: list[Markup] = []
    if state and state not in STATE_CHOICES:
        notes.append(Markup("No state {}: pick one of {}.").format(state, ", ".join(STATE_CHOICES)))
        state = None
    if team and Ref("team", team) not in catalog:
        notes.append(Markup("No team {} in the catalog: showing every team.").format(team))
        team = None
    if provider and scope is None:
        notes.append(Markup("No provider {} in the catalog: showing all.").format(provider))
        provider = None
    team_ref = f"team:{team}" if team else None
    settings = request.app.state.settings
    # worst first, then by group and check: the second order is fixed per catalog, so a
    # bucket per state keeps each render linear (10,000 checks)
    buckets: dict[str, list[tuple[int, str, str, CheckDef]]] = {}
    for group, check in _in_group_order(catalog, settings.ca_file, settings.monitor_policy):
        shown = shown_state(states.get(check.id), on)
        if not _matches_state(shown, state):
            continue
        if team_ref and team_ref not in owners.refs.get(check.owner, frozenset()):
            continue
        if scope is not None and check.owner not in scope:
            continue
        buckets.setdefault(shown, []).append((0, group, shown, check))
    rows = [
        (state_rank(shown), group, shown, check)
        for bucket in sorted(buckets, key=state_rank)
        for _, group, shown, check in buckets[bucket]
    ]
    pages = max(1, -(-len(rows) // CHECKS_PER_PAGE))
    number = min(page, pages)
    shown_rows = rows[(number - 1) * CHECKS_PER_PAGE : number * CHECKS_PER_PAGE]
    uptimes = await _uptimes(request) if on else {}
    groups: dict[str, list[Markup]] = {}
    worst: dict[str, int] = {}
    for rank, group, shown, check in shown_rows:
        groups.setdefault(group, []).append(
            _row(catalog, check, shown, states.get(check.id), uptimes.get(check.id))
        )
        worst[group] = min(worst.get(group, rank), rank)
    counts = {s: sum(1 for r in rows if r[2] == s) for s in STATE_ORDER}
    summary = " · ".join(f"{n} {s}" for s, n in counts.items() if n) or "no checks"
    parts = [
        Markup('<h1>Board</h1><p class="board-summary">{} checks: {}.{}</p>').format(
            len(rows), summary,
            Markup(" Reloads every {} s.").format(REFRESH_SECONDS) if auto else Markup(""),
        ),
        _filters(catalog, state, team, provider, auto),
    ]  # fmt: skip
    parts += [Markup('<p class="notice">{}</p>').format(n) for n in notes]
    if not on:
        parts.append(Markup('<p class="quiet">{}</p>').format(not_monitored_notice(request)))
    if pages > 1:
        filters = {
            "state": state,
            "team": team,
            "provider": provider,
            "auto": "1" if auto else None,
        }
        parts.append(_pager(number, pages, filters))
    head = Markup(
        '<thead><tr><th scope="col">State</th><th scope="col">Check</th>'
        '<th scope="col">Last results</th><th scope="col">Latency</th>'
        '<th scope="col">Uptime 24 h</th></tr></thead>'
    )
    for group in sorted(groups, key=lambda g: (worst[g], g.lower())):
        parts.append(
            Markup(
                '<section class="board-group"><h2>{} <span class="count">({})</span></h2>'
                '<div class="table cards"><table class="board">{}<tbody>{}</tbody></table>'
                "</div>"
                "</section>"
            ).format(group, len(groups[group]), head, Markup("").join(groups[group]))
        )
    if not rows:
        parts.append(Markup('<p class="quiet">No checks match.</p>'))
    return Markup("\n").join(parts)


@router.get("/board")
async def board(
    request: Request,
    state: Annotated[str | None, Query(max_length=20)] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
    provider: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    auto: bool = False,
) -> HTMLResponse:
    catalog: Catalog = request.app.state.catalog.catalog
    state, team, provider = state or None, team or None, provider or None

    async def render() -> CheckedBody:
        return checked(await _board_body(request, catalog, state, team, provider, page, auto))

    key = f"board:{id(catalog)}:{state}:{team}:{provider}:{page}:{auto}"
    body = await kept(request, key, render)
    # reloading is the reader's choice (a wall screen's): WCAG 2.2.1, no page changing under
    # someone who did not ask for it
    return page_response(
        request, Page("board", "Board"), body=body, refresh=REFRESH_SECONDS if auto else None
    )
