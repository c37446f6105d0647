"""The incident page, the history by month and the Atom and RSS feeds, from public words
only: read back with a real feed parser (feedparser), hostile text inert everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser

from infradex.catalog.refs import parse_ref
from infradex.statuspage.components import Component
from infradex.statuspage.feeds import atom, feed_entries, rss
from infradex.statuspage.history_html import by_month, render_history, render_incident
from infradex.statuspage.incidents import PublicIncident, PublicUpdate
from infradex.statuspage.maintenance import PublicMaintenance
from infradex.statuspage.paths import incident_key
from infradex.statuspage.v2 import PageInfo

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script> & "quotes" ]]> \x00\x07\x1b end'
INFO = PageInfo("abcdefabcdef", "Example <b>Status</b>", "https://status.example.org")
WEB = Component(parse_ref("service:web"), "c0ffee000001", "<img src=x onerror=alert(2)>",
                None, None, True, False, 1)  # fmt: skip


def incident(
    number: int, at: datetime, name: str = "Website down", body: str = "Fixed."
) -> PublicIncident:
    return PublicIncident(
        id=number,
        name=name,
        status="resolved",
        impact="major",
        components=("service:web",),
        created_at=at,
        updated_at=at + timedelta(hours=1),
        published_at=at,
        monitoring_at=None,
        resolved_at=at + timedelta(hours=1),
        updates=(
            PublicUpdate(1, "investigating", "Looking.", {"service:web": "major_outage"}, at),
            PublicUpdate(
                2, "resolved", body, {"service:web": "operational"}, at + timedelta(hours=1)
            ),
        ),
    )


def maintenance(at: datetime, status: str = "completed") -> PublicMaintenance:
    return PublicMaintenance(
        "0123456789ab", "Database upgrade", at, at + timedelta(hours=2),
        status, (WEB,),  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_incident_page_shows_its_timeline_newest_first_and_escapes() -> None:
    shown = render_incident(
        INFO, incident(7, NOW, name=HOSTILE, body=HOSTILE), {"service:web": WEB}
    )
    assert "<script" not in shown and "<img" not in shown and "<b>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in shown
    assert shown.count("<h1>") == 1
    assert shown.index("Resolved") < shown.index("Investigating")  # newest first
    assert "Major impact" in shown and "&lt;img src=x" in shown  # the component, by name


def test_history_lists_months_back_to_the_oldest_entry_and_empty_ones_say_so() -> None:
    old = incident(1, datetime(2026, 8, 20, tzinfo=UTC))
    new = incident(2, datetime(2026, 12, 1, tzinfo=UTC))
    done = maintenance(datetime(2026, 11, 3, tzinfo=UTC))
    upcoming = maintenance(NOW + timedelta(days=3), "scheduled")
    months = by_month([new, old], [done, upcoming], NOW)
    assert [m.label for m in months] == [
        "December 2026", "November 2026", "October 2026", "September 2026", "August 2026",
    ]  # fmt: skip
    assert [len(m.incidents) for m in months] == [1, 0, 0, 0, 1]
    assert [len(m.maintenances) for m in months] == [0, 1, 0, 0, 0]  # upcoming: not history
    page = render_history(INFO, months)
    assert page.count("No incidents reported this month.") == 2
    assert f'href="/status/incidents/{incident_key(2)}"' in page
    quiet = by_month([], [], NOW)
    assert len(quiet) == 3


def test_the_feeds_parse_with_a_real_parser_and_carry_hostile_text_as_text() -> None:
    items = [incident(3, NOW - timedelta(days=1), name=HOSTILE, body=HOSTILE)]
    entries = feed_entries(INFO, items, [maintenance(NOW - timedelta(days=2))], NOW)
    for body in (atom(INFO, entries, NOW), rss(INFO, entries, NOW)):
        assert b"<script" not in body and b"\x00" not in body
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.feed.title == "Example <b>Status</b>: incident history"
        first, second = parsed.entries
        assert first.title == HOSTILE.replace("\x00", "").replace("\x07", "").replace("\x1b", "")
        assert first.link == f"https://status.example.org/status/incidents/{incident_key(3)}"
        assert "Resolved" in first.summary and "<script" not in first.summary
        assert second.title == "Database upgrade (completed)"
        assert second.link.startswith("https://status.example.org/status/history#maintenance-")
    parsed = feedparser.parse(atom(INFO, entries, NOW))
    assert parsed.version == "atom10"
    assert parsed.entries[0].id == parsed.entries[0].link
    assert feedparser.parse(rss(INFO, entries, NOW)).version == "rss20"


def test_a_feed_keeps_the_newest_fifty() -> None:
    many = [incident(i, NOW - timedelta(hours=i)) for i in range(1, 80)]
    entries = feed_entries(INFO, many, [], NOW)
    assert len(entries) == 50
    assert entries[0].link.endswith(incident_key(1))


def test_a_maintenance_links_to_where_it_is_listed() -> None:
    upcoming = feed_entries(INFO, [], [maintenance(NOW + timedelta(days=1), "scheduled")], NOW)
    assert upcoming[0].link == "https://status.example.org/status#maintenance-0123456789ab"
    done = feed_entries(INFO, [], [maintenance(NOW - timedelta(days=1))], NOW)
    assert done[0].link == "https://status.example.org/status/history#maintenance-0123456789ab"
