"""Who is on call, as read models: what ``infradex oncall now`` prints (``--format json``:
camelCase, ``infradex.wire``) and reads back by attribute for its table."""

from __future__ import annotations

from pydantic import Field

from infradex.catalog.answers import ChannelRecord
from infradex.wire import Instant, ReadModel

__all__ = ["OnCallNow", "OnCallPerson"]


class OnCallPerson(ReadModel):
    ref: str
    name: str
    channels: list[ChannelRecord]
    contact: list[str] = Field(description="each channel in words, e.g. 'email: a@b.org'")


class OnCallNow(ReadModel):
    """One schedule's answer at a moment: who, from which layer, until when, who is next."""

    schedule: str
    title: str
    timezone: str
    at: Instant
    on_call: OnCallPerson | None
    source: str | None = Field(description="the layer's name, or override; null: a gap")
    until: Instant | None = Field(description="the next change; null: none within the horizon")
    next: OnCallPerson | None
    next_until: Instant | None
