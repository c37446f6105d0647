"""An annotated DNS plan as JSON, as Markdown (for a pull-request comment) and as table rows
for the terminal. Pure; every catalog text passes through the format's escaping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infradex.dns.annotate import AnnotatedChange
from infradex.dns.plan import DnsPlan, RecordData
from infradex.docs import markdown
from infradex.docs.blocks import Cell, Code, Heading, Page, Para, Strong, Table, Text

__all__ = ["plan_json", "plan_markdown", "plan_page", "record_text", "services_text"]

_SIGN = {"create": "+", "update": "~", "delete": "-"}


def record_text(data: RecordData | None) -> str:
    if data is None:
        return ""
    return f"{', '.join(data.values)} (ttl {data.ttl})"


def services_text(item: AnnotatedChange) -> str:
    """One line per touched service: title, owners, on call now, CDN."""
    lines = []
    for s in item.services:
        parts = [s.title]
        if s.owners:
            parts.append(f"owned by {', '.join(s.owners)}")
        parts.append(f"on call: {', '.join(s.on_call) or 'nobody'}")
        parts.append(f"behind {', '.join(s.fronted_by)}" if s.fronted_by else "no CDN")
        lines.append("; ".join(parts))
    return "\n".join(lines) or "no service"


def plan_json(plan: DnsPlan, annotated: Sequence[AnnotatedChange]) -> dict[str, Any]:
    return {
        "checksum": plan.checksum,
        "zones": [
            {"zone": z.zone, "provider": z.provider, "changes": len(z.changes), "unsafe": z.unsafe}
            for z in plan.zones
        ],
        "changes": [a.to_dict() for a in annotated],
    }


def plan_page(plan: DnsPlan, annotated: Sequence[AnnotatedChange]) -> Page:
    """The plan in the docs' page model: one heading, the unsafe zones, one table row per
    change, the command that applies exactly this plan."""
    high = sum(1 for a in annotated if a.risk.grade == "high")
    title = f"DNS plan: {len(annotated)} change(s) in {len(plan.zones)} zone(s)" + (
        f", {high} high risk" if high else ""
    )
    page = Page("dns-plan", title, [Heading(1, title)])
    for zone in plan.zones:
        if zone.unsafe:
            page.add(Para([Strong(f"{zone.zone} is unsafe: "), Text(zone.unsafe)]))
    if annotated:
        rows: list[list[Cell]] = []
        for a in annotated:
            c = a.change
            rows.append(
                [
                    [Text(_SIGN[c.action])],
                    [Text(f"{c.fqdn} {c.type}")],
                    [Text(record_text(c.before))],
                    [Text(record_text(c.after))],
                    [Text(services_text(a).replace("\n", " · "))],
                    [Strong(a.risk.grade), Text(": " + "; ".join(a.risk.reasons))],
                ]
            )
        page.add(Table(["", "record", "before", "after", "services", "risk"], rows))
    else:
        page.add(Para([Text("No changes: the live zones match the catalog.")]))
    page.add(Para([Text("Apply with:")]), Code(f"infradex dns apply --checksum {plan.checksum}"))
    return page


def plan_markdown(plan: DnsPlan, annotated: Sequence[AnnotatedChange]) -> str:
    """The plan as Markdown, e.g. for a pull-request comment."""
    return markdown.render(plan_page(plan, annotated))
