"""One incident's page, for 3 a.m. on a phone: its state and how long, large and coloured; big
Acknowledge / Snooze / Resolve buttons; who is on call now for its policy, who was paged when,
whom to contact about what it touches; what it impacts with their health; the timeline last.
Also the one-click link page's big button. The routes are in ``incidents``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from jinja2 import Template
from markupsafe import Markup

from infradex.alerting.messages import IncidentView
from infradex.alerting.read_models import IncidentDetail
from infradex.alerting.timeline import describe
from infradex.catalog import Catalog, Ref
from infradex.catalog.models import EscalationPolicySpec
from infradex.catalog.refs import RefError, parse_ref
from infradex.clock import utcnow
from infradex.docs import html
from infradex.docs.blocks import (
    Bullets,
    Cell,
    Heading,
    Inline,
    Link,
    Page,
    Para,
    State,
    Strong,
    Table,
    Text,
)
from infradex.docs.content import page_id, who_rows
from infradex.durations import format_age, format_duration, parse_duration
from infradex.monitor.report import shown_state
from infradex.oncall.escalation import recipients
from infradex.web.glance import glance, glance_states
from infradex.web.incident_public import public_section
from infradex.web.sessions import Session

__all__ = ["confirm_body", "incident_body", "when"]

#: contacts listed for the impacted services (the root's always come first)
CONTACT_ENTITIES = 6


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at is not None else ""


def _short(at: datetime | None, now: datetime) -> str:
    """A time as a phone reads it: ``14:02 UTC`` today, else with the date."""
    if at is None:
        return ""
    return at.strftime("%H:%M UTC" if at.date() == now.date() else "%d %b %H:%M UTC")


_HERO = Template(
    """<section class="incident-hero status-{{ status }}" aria-label="State">
<p class="big-state">{{ status }}</p>
<p class="duration">{{ "lasted" if status == "resolved" else "for" }} {{ lasted }}</p>
<ul class="facts">
<li>Opened {{ opened }}</li>
{% if acknowledged_by %}<li>Acknowledged by {{ acknowledged_by }}</li>{% endif %}
{% if snoozed %}<li>Snoozed until {{ snoozed }}</li>{% endif %}
{% if next_step %}<li>Next escalation step {{ next_step }}</li>{% endif %}
{% if resolved %}<li>Resolved {{ resolved }}</li>{% endif %}
</ul>
</section>""",
    autoescape=True,
)

_ACTIONS = Template(
    """<section class="incident-actions" aria-label="Act on this incident">
{% if status != "resolved" %}
<form method="post" action="{{ id }}/act" class="big-actions">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  {% if status == "acknowledged" %}
  <button class="big" name="action" value="unacknowledge">Un-acknowledge</button>
  {% else %}
  <button class="big primary" name="action" value="acknowledge">Acknowledge</button>
  {% endif %}
  <button class="big resolve" name="action" value="resolve">Resolve</button>
</form>
<form method="post" action="{{ id }}/act" class="snooze">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <input type="hidden" name="action" value="snooze">
  <label for="duration">Snooze for</label>
  <select id="duration" name="duration">
    <option>30m</option><option selected>1h</option><option>4h</option><option>24h</option>
  </select>
  <button class="big">Snooze</button>
</form>
{% else %}<p>Resolved: nothing left to do. Add a note below for the record.</p>{% endif %}
</section>""",
    autoescape=True,
)

_NOTE = Template(
    """<form method="post" action="{{ id }}/act" class="note">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <input type="hidden" name="action" value="note">
  <label for="note">Add a note to the timeline</label>
  <textarea id="note" name="note" rows="3" maxlength="5000" required></textarea>
  <button>Add note</button>
</form>""",
    autoescape=True,
)


def _hero(detail: IncidentDetail, now: datetime) -> Markup:
    opened = detail.opened_at
    end = detail.resolved_at or now
    return Markup(
        _HERO.render(
            status=detail.status,
            lasted=format_age(end - opened),
            opened=_short(detail.opened_at, now),
            acknowledged_by=detail.acknowledged_by,
            snoozed=_short(detail.snoozed_until, now),
            next_step=_short(detail.next_escalation_at, now),
            resolved=_short(detail.resolved_at, now),
        )
    )


def _entity_link(catalog: Catalog, ref: Ref) -> Inline:
    target = page_id(ref)
    title = catalog.title(ref) if ref in catalog else str(ref)
    return Link(title, page=target) if target and ref in catalog else Text(title)


def _impact(catalog: Catalog, detail: IncidentDetail, health: dict[str, str]) -> list[list[Any]]:
    """What the catalog says the root takes down, each with its health now, failing first."""
    view = IncidentView(detail.id, detail.key, detail.title, detail.status,
                        detail.opened_at)  # fmt: skip
    failing = {m.entity for m in detail.members if m.role == "impacted" and not m.up_at}
    items = []
    for ref, effect, why in sorted(view.impacted(catalog), key=lambda p: str(p[0]) not in failing):
        state = health.get(str(ref))
        mark: list[Any] = [State(state), Text(" ")] if state else []
        item = [*mark, _entity_link(catalog, ref)]
        if effect == "degraded":
            item.append(Text(" (degraded)"))
        if str(ref) in failing:
            item.append(Strong(" failing now"))
        items.append([*item, Text(f": {why}")])
    return items


def _on_call(catalog: Catalog, policy_text: str | None, now: datetime) -> list[list[Inline]]:
    """Each step of the incident's policy: when it pages and whom it would page now."""
    try:
        ref = parse_ref(policy_text or "", ("escalationpolicy",))
    except RefError:
        return []
    policy = catalog.find(ref, EscalationPolicySpec)
    if policy is None:
        return []
    steps: list[list[Inline]] = []
    for number, step in enumerate(policy.spec.steps, 1):
        after = parse_duration(step.after)
        at = "at once" if not after else f"after {format_duration(after)}"
        found = recipients(catalog, tuple(step.notify), now)
        line: list[Inline] = [Strong(f"Step {number}, {at}: ")]
        for index, person in enumerate(found.recipients):
            if index:
                line.append(Text("; "))
            how = ", ".join(f"{c.type} {c.address}" for c in person.channels)
            line.append(_entity_link(catalog, parse_ref(person.ref)))
            line.append(Text(f" (via {person.via}" + (f": {how})" if how else ")")))
        for problem in found.problems:
            line.append(Strong(f" {problem}."))
        steps.append(line)
    return steps


def _contacts(catalog: Catalog, detail: IncidentDetail) -> list[list[Cell]]:
    """Whom to contact about the root, then about each impacted service (each person once)."""
    about: list[Ref] = []
    for text in [detail.root, *(m.entity for m in detail.members)]:
        try:
            ref = parse_ref(text)
        except RefError:
            continue
        if ref in catalog and ref not in about:
            about.append(ref)
    rows: list[list[Cell]] = []
    seen: set[Ref] = set()
    for ref in about[:CONTACT_ENTITIES]:
        for who_ref, channels, reason in who_rows(catalog, ref):
            if who_ref in seen:
                continue
            seen.add(who_ref)
            rows.append([[_entity_link(catalog, who_ref)], channels, [Text(reason)]])
    return rows


def _paged(detail: IncidentDetail, now: datetime) -> list[list[Cell]]:
    return [
        [
            [Text(_short(n.sent_at, now) or "not yet")],
            [Text(n.recipient or n.target or "")],
            [Text(f"{n.kind} by {n.channel}")],
            [Text(n.status + (f" after {n.attempts} attempts" if n.attempts > 1 else ""))],
            [Text(n.last_error or "")],
        ]
        for n in detail.notifications
    ]


def _upstream_confirmed(catalog: Catalog, detail: IncidentDetail, now: datetime) -> Page | None:
    """ "Confirmed upstream" when a provider's own status page reported a problem during the
    incident: the first thing to know at 3 a.m. is that it is not ours to fix."""
    confirmed = [e for e in detail.timeline if e.kind == "upstream_confirmed"]
    if not confirmed:
        return None
    first = confirmed[0]
    try:
        ref: Ref | None = parse_ref(str(first.data.get("entity", "")))
    except RefError:
        ref = None
    who: Inline = (
        _entity_link(catalog, ref)
        if ref is not None and ref in catalog
        else Text(str(first.data.get("entity", "the provider")))
    )
    line: list[Inline] = [
        Strong("Confirmed upstream: "),
        who,
        Text("'s own status page reports a problem"),
    ]
    message = first.data.get("message")
    if message:
        line.append(Text(f" ({message})"))
    line.append(Text(f", since {_short(first.at, now)}."))
    return Page(f"incidents/{detail.id}", "").add(Para(line))


def _render(page: Page) -> Markup:
    return html.render_body(page, suffix="")


async def incident_body(request: Request, detail: IncidentDetail, session: Session) -> Markup:
    """The page's body: hero, actions, impact, on call, paged, contacts, checks, timeline."""
    catalog = request.app.state.catalog.catalog
    now = utcnow()
    number = detail.id
    page_ref = f"incidents/{number}"
    states, on = await glance_states(request)
    seen = await glance(request)
    health = seen.health if on else {}
    top = Page(page_ref, detail.title).add(Heading(1, f"#{number}: {detail.title}"))
    body = [_render(top), _hero(detail, now)]
    if detail.unrouted:  # the one thing an on-call reader must not miss
        warn = Page(page_ref, "").add(
            Para([Strong("Nobody was paged."), Text(" " + (detail.routing or ""))])
        )
        body.append(Markup('<div class="notice">{}</div>').format(_render(warn)))
    upstream = _upstream_confirmed(catalog, detail, now)
    if upstream is not None:
        body.append(Markup('<div class="notice upstream">{}</div>').format(_render(upstream)))
    if session.user:
        body.append(Markup(_ACTIONS.render(id=number, status=detail.status, csrf=session.csrf)))
    else:
        body.append(
            Markup(
                '<p class="sign-in-to-act"><a class="big-link" href="../login?next=/incidents/{0}">'
                "Sign in to act</a> (acknowledge, snooze, resolve, add a note)</p>"
            ).format(number)
        )
    body.append(await public_section(request, number, detail.status, session))
    rest = Page(page_ref, detail.title)
    try:
        root = parse_ref(detail.root)
    except RefError:
        root = None
    root_line: list[Inline] = [Text("Root: ")]
    if root is not None and root in catalog:
        state = health.get(str(root))
        root_line += [State(state), Text(" ")] if state else []
        root_line.append(_entity_link(catalog, root))
    else:
        root_line.append(Text(detail.root))
    root_line.append(Text(f" · escalation policy: {detail.policy or 'none'}"))
    rest.add(Para(root_line))
    impact = _impact(catalog, detail, health)
    if impact:
        rest.add(Heading(2, f"Impact ({len(impact)})", "impact"), Bullets(impact))
    on_call = _on_call(catalog, detail.policy, now)
    if on_call:
        rest.add(Heading(2, "On call now", "oncall"), Bullets(on_call))
    paged = _paged(detail, now)
    rest.add(Heading(2, "Paged", "paged"))
    rest.add(
        Table(["When", "To", "What", "Status", "Last error"], paged)
        if paged
        else Para([Text("Nobody has been sent anything yet.")])
    )
    contacts = _contacts(catalog, detail)
    if contacts:
        rest.add(Heading(2, "Who to contact", "contacts"))
        rest.add(Table(["Who", "How to reach", "Why"], contacts))
    rest.add(Heading(2, "Checks", "checks"))
    rest.add(
        Table(
            ["Check", "Now", "Role", "Down since", "Up since", "Last message"],
            [
                [
                    [Text(m.check)],
                    [State(shown_state(states.get(m.check), on))],
                    [Text(m.role)],
                    [Text(_short(m.down_at, now))],
                    [Text(_short(m.up_at, now))],
                    [Text(m.message or "")],
                ]
                for m in detail.members
            ],
        )
    )
    body.append(_render(rest))
    timeline = Page(page_ref, "").add(Heading(2, "Timeline", "timeline"))
    timeline.add(
        Table(
            ["When", "What", "Who", "Detail"],
            [
                [
                    [Text(_short(e.at, now))],
                    [Text(e.kind.replace("_", " "))],
                    [Text(e.actor or "")],
                    [Text(describe(e.kind, e.data))],
                ]
                for e in detail.timeline
            ],
        )
    )
    body.append(_render(timeline))
    if session.user:
        body.append(Markup(_NOTE.render(id=number, csrf=session.csrf)))
    return Markup("\n").join(body)


_CONFIRM = Template(
    """<h1>{{ verb }} incident #{{ incident.id }}?</h1>
<section class="incident-hero status-{{ incident.status }}" aria-label="State">
<p class="big-state">{{ incident.status }}</p>
<p class="duration">{{ incident.title }}</p>
<ul class="facts"><li>Opened {{ opened }}</li></ul>
</section>
<p>This link was sent to {{ recipient }}. It works once{% if incident.status != "resolved" %}; the
button below does it{% endif %}.</p>
{% if incident.status != "resolved" %}
<form method="post" class="big-actions"><button class="big primary">{{ verb }}</button></form>
{% else %}<p>The incident is already resolved: nothing to do.</p>{% endif %}
<p><a href="../incidents/{{ incident.id }}">See the incident</a></p>""",
    autoescape=True,
)


def confirm_body(action: str, incident: IncidentDetail, recipient: str) -> Markup:
    """The one-click link's page: what it will do, and one big button that does it."""
    return Markup(
        _CONFIRM.render(
            verb=action.capitalize(),
            incident=incident,
            opened=when(incident.opened_at),
            recipient=recipient,
        )
    )
