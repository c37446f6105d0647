"""Which of an agent's results the server takes, and why the others are refused. Pure.

A batch comes from one location (its token's). Refused are: a batch over :data:`MAX_BATCH`
results (all of it), and each result for a check not assigned to that location, observed in
the future beyond :data:`MAX_FUTURE_SKEW`, observed longer ago than :data:`HORIZON` (the agent
buffer's horizon), or not newer than the last result stored for its check and location (a
replayed batch whose answer was lost, or out of order). docs/agents.md has the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from infradex.errors import UsageError
from infradex.monitor.locations import LocatedCheck

__all__ = [
    "HORIZON",
    "MAX_BATCH",
    "MAX_FUTURE_SKEW",
    "AgentResult",
    "BatchTooLarge",
    "Refusal",
    "Screened",
    "check_batch_size",
    "screen",
]

MAX_BATCH = 1_000  # results in one request (the agent sends at most 500)
MAX_FUTURE_SKEW = timedelta(minutes=2)  # an agent's clock may run this far ahead
HORIZON = timedelta(hours=24)  # results older than this are refused: the buffer's horizon


class BatchTooLarge(UsageError):
    """More results in one request than :data:`MAX_BATCH`; nothing of it is stored."""


@dataclass(frozen=True, slots=True)
class AgentResult:
    """One probe run as an agent reports it (the server computes its status)."""

    check_id: str
    observed_at: datetime  # when the agent started the probe, by its clock
    success: bool
    duration_ms: float | None = None
    error_kind: str | None = None
    message: str = ""
    observed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refusal:
    check_id: str
    observed_at: datetime
    reason: str  # one of the REASONS keys
    detail: str  # what limit, in words


#: reason → the sentence an operator reads (the log, the answer)
REASONS = {
    "not-assigned": "the check is not assigned to this location (unknown, or not in its locations)",
    "future": f"observed more than {int(MAX_FUTURE_SKEW.total_seconds())} s in the future: "
    "check the agent's clock (NTP)",
    "too-old": f"observed more than {int(HORIZON.total_seconds() // 3600)} h ago, beyond the "
    "agent buffer's horizon",
    "replayed": "not newer than the last result stored for this check and location "
    "(already stored, or out of order)",
}


@dataclass(slots=True)
class Screened:
    """Accepted results by check, each in observed order; refusals in the batch's order."""

    accepted: dict[str, list[AgentResult]] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return sum(len(results) for results in self.accepted.values())

    def refused_counts(self) -> dict[str, int]:
        return dict(Counter(r.reason for r in self.refused))


def check_batch_size(count: int) -> None:
    """Refuse a batch over :data:`MAX_BATCH` results (raises :class:`BatchTooLarge`)."""
    if count > MAX_BATCH:
        raise BatchTooLarge(
            f"{count} results in one batch; send at most {MAX_BATCH} per request "
            "(the agent splits its buffer into batches of 500)"
        )


def screen(
    results: Iterable[AgentResult],
    *,
    location: str,
    checks: Mapping[str, LocatedCheck],
    last_at: Mapping[str, datetime | None],
    now: datetime,
) -> Screened:
    """Judge each result (``checks``: the catalog's checks with locations, by id;
    ``last_at``: the newest stored result per check at this location)."""
    screened = Screened()
    newest = dict(last_at)
    for result in sorted(results, key=lambda r: r.observed_at):
        reason = _refusal(result, location, checks, newest.get(result.check_id), now)
        if reason is not None:
            screened.refused.append(
                Refusal(result.check_id, result.observed_at, reason, REASONS[reason])
            )
            continue
        screened.accepted.setdefault(result.check_id, []).append(result)
        newest[result.check_id] = result.observed_at
    return screened


def _refusal(
    result: AgentResult,
    location: str,
    checks: Mapping[str, LocatedCheck],
    last: datetime | None,
    now: datetime,
) -> str | None:
    check = checks.get(result.check_id)
    if check is None or location not in check.locations:
        return "not-assigned"
    if result.observed_at > now + MAX_FUTURE_SKEW:
        return "future"
    if result.observed_at < now - HORIZON:
        return "too-old"
    if last is not None and result.observed_at <= last:
        return "replayed"
    return None
