"""An incident's timeline events in words, for the pages and the command line alike (the
kinds are :class:`~infradex.alerting.model.EventKind`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infradex.alerting.model import EventKind as K

__all__ = ["describe"]


def _when(text: str | None) -> str:
    if not text:
        return ""
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe(kind: str, data: dict[str, Any]) -> str:
    """One timeline event in words (the incident page and ``infradex incidents show``)."""
    if kind in (K.OPENED, K.REOPENED):
        message = data.get("message")
        return f"{kind} by {data.get('check')}" + (f": {message}" if message else "")
    if kind in (K.CHECK_DOWN, K.CHECK_UP):
        detail = data.get("message") or data.get("reason")
        return f"{data.get('check')} {'down' if kind == K.CHECK_DOWN else 'up'}" + (
            f": {detail}" if detail else ""
        )
    if kind == K.UPSTREAM_CONFIRMED:
        detail = data.get("message")
        return f"confirmed upstream: {data.get('entity')}'s own status page reports a problem" + (
            f" ({detail})" if detail else ""
        )
    if kind == K.MERGED:
        return f"merged into {data.get('into')}'s incident: its root failed too"
    if kind == K.CAUGHT_UP:
        skipped = ", ".join(str(step) for step in data.get("skipped", []))
        return f"alerting was not running: overdue step(s) {skipped} skipped, the latest sent"
    if kind == K.DETACHED:
        return f"{data.get('entity')} still down after the root recovered: its own incident now"
    if kind == K.IMPACTED:
        return f"{data.get('entity')} impacted ({data.get('check')} failing)"
    if kind == K.ESCALATED:
        who = ", ".join(r["title"] for r in data.get("recipients", [])) or "nobody"
        problems = "; ".join(data.get("problems", []))
        return f"step {data.get('step')} (round {data.get('round')}): {who}" + (
            f" ({problems})" if problems else ""
        )
    if kind == K.NOTIFIED:
        return f"{data.get('kind')} to {data.get('recipient')} by {data.get('channel')}: " + str(
            data.get("answer", "")
        )
    if kind in (K.NOTIFY_RETRY, K.NOTIFY_FAILED):
        return f"{data.get('kind')} to {data.get('recipient')} by {data.get('channel')}: " + str(
            data.get("error", "")
        )
    if kind == K.NOTE:
        return str(data.get("text", ""))
    if kind == K.RESOLVED:
        how = "by hand" if data.get("by") == "hand" else "its checks recovered"
        return how + (f"; {data['note']}" if data.get("note") else "")
    if kind == K.SNOOZED:
        return f"until {_when(data.get('until'))}"
    extra = data.get("reason") or data.get("note") or data.get("by") or ""
    return str(extra)
