"""A postmortem in the public output (pure): nothing of it while it is only saved; once
published, on the incident's page above the updates and first in its feed entry, as text
whatever it says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser

from infradex.catalog.refs import parse_ref
from infradex.statuspage.components import Component
from infradex.statuspage.feeds import atom, feed_entries, rss
from infradex.statuspage.history_html import render_incident
from infradex.statuspage.incidents import Postmortem, PublicIncident, PublicUpdate
from infradex.statuspage.v2 import PageInfo

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
INFO = PageInfo("abcdefabcdef", "Example Status", "https://status.example.org")
WEB = Component(parse_ref("service:web"), "c0ffee000001", "Website", None, None, True, False, 1)
WORDS = "At 14:02 a disk filled.\nWe alert at 80 % now. <script>alert(1)</script> & more"


def incident(number: int, at: datetime) -> PublicIncident:
    return PublicIncident(
        id=number, name="Website down", status="resolved", impact="major",
        components=("service:web",), created_at=at, updated_at=at + timedelta(hours=1),
        published_at=at, monitoring_at=None, resolved_at=at + timedelta(hours=1),
        updates=(PublicUpdate(1, "resolved", "Fixed.", {"service:web": "operational"}, at),),
    )  # fmt: skip


def test_a_saved_postmortem_is_not_public() -> None:
    saved = replace(
        incident(4, NOW - timedelta(days=1)),
        status="resolved",
        postmortem=Postmortem(WORDS, NOW, None, "user:ann"),
    )
    assert saved.public_postmortem is None
    page = render_incident(INFO, saved, {"service:web": WEB})
    assert "Postmortem" not in page and "14:02" not in page
    entries = feed_entries(INFO, [saved], [], NOW)
    assert b"14:02" not in atom(INFO, entries, NOW)


def test_a_published_postmortem_is_shown_first_and_inert() -> None:
    published = replace(
        incident(5, NOW - timedelta(days=1)),
        status="postmortem",
        postmortem=Postmortem(WORDS, NOW, NOW, "user:ann"),
    )
    page = render_incident(INFO, published, {"service:web": WEB})
    assert '<h2 id="postmortem">Postmortem</h2>' in page
    assert page.index("Postmortem</h2>") < page.index("Updates</h2>")
    assert "We alert at 80 % now. &lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    assert "<script" not in page and "user:ann" not in page  # who wrote it is internal
    entries = feed_entries(INFO, [published], [], NOW)
    for body in (atom(INFO, entries, NOW), rss(INFO, entries, NOW)):
        assert b"<script" not in body and b"user:ann" not in body
        (entry,) = feedparser.parse(body).entries
        assert entry.summary.index("Postmortem") < entry.summary.index("Resolved")
        assert "We alert at 80 % now." in entry.summary and "<script" not in entry.summary
