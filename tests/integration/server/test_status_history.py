"""An incident's page, the history and the feeds on a server: a published incident's
shortlink in the v2 JSON leads to its page (public on the status host of a private server),
the history lists it by month, the Atom and RSS feeds parse with a real feed parser and
carry its words as text; an unknown incident is a 404; a static export writes the same
bytes at paths a static host serves."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import httpx
from sqlalchemy import insert

from infradex.statuspage.automatic import PublicIncidentAutomation
from infradex.statuspage.export import export_files
from infradex.store import Database
from infradex.store.tables import incidents
from infradex.web.app import create_app

from .conftest import settings_for
from .test_status_api import catalog_dir

__all__ = ["catalog_dir"]  # fixtures

HOSTILE = "<script>alert(1)</script> & ]]> uploads"


async def test_an_incident_page_the_history_and_the_feeds(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str, write_token: str
) -> None:
    settings = replace(
        settings_for(catalog_dir, tmp_path, database_url),
        public_read=False,
        status_host="status.example.org",
    )
    app = create_app(settings, db)
    now = datetime.now(UTC)
    async with db.begin(writes=True) as connection:
        await connection.execute(
            insert(incidents).values(
                key="service:uploads", title="SECRET db7.internal disk full", status="open",
                root_ref="service:uploads", opened_at=now, updated_at=now,
            )
        )  # fmt: skip
    writer = {"Authorization": f"Bearer {write_token}"}
    public = {"Host": "status.example.org"}
    async with app.router.lifespan_context(app):
        app.state.status_board.interval = 0.0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            overridden = await c.put(
                "/api/v1/status/overrides/service:uploads",
                json={"status": "major_outage", "reason": "r",
                      "expiresAt": (now + timedelta(days=1)).isoformat()},
                headers=writer,
            )  # fmt: skip
            assert overridden.status_code == 200, overridden.text
            # the alerter's turn drafts it (statuspage.automatic), as the assembler runs it
            await PublicIncidentAutomation(None).after_correlation(
                lambda _: db.begin(writes=True), app.state.catalog.catalog, datetime.now(UTC),
                changed=True,
            )  # fmt: skip
            (draft,) = (await c.get("/api/v1/status/incidents", headers=writer)).json()["items"]
            path = f"/api/v1/status/incidents/{draft['id']}"
            published = await c.post(
                f"{path}/publish", json={"name": HOSTILE, "body": "Uploads fail."}, headers=writer
            )
            assert published.status_code == 200, published.text
            resolved = {"status": "resolved", "body": "Fixed.\nAll good."}
            await c.post(f"{path}/updates", json=resolved, headers=writer)

            (incident,) = (await c.get("/api/v2/incidents.json", headers=public)).json()[
                "incidents"
            ]
            shortlink = incident["shortlink"]
            assert shortlink == f"https://status.example.org/status/incidents/{incident['id']}"
            page = await c.get(shortlink.removeprefix("https://status.example.org"), headers=public)
            assert page.status_code == 200, page.text
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert page.headers["content-security-policy"].startswith("default-src 'self'")
            text = page.text
            assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
            assert text.index("Fixed.") < text.index("Uploads fail.")  # newest first
            assert "Uploads" in text and "SECRET" not in text and "db7" not in text
            assert (
                await c.get(f"/status/incidents/{incident['id']}/", headers=public)
            ).text == text
            missing = await c.get("/status/incidents/000000000000", headers=public)
            assert missing.status_code == 404 and "Not found" in missing.text
            # a private server's own host asks for sign-in
            private = await c.get(f"/status/incidents/{incident['id']}")
            assert private.status_code in (303, 401)

            history = await c.get("/status/history", headers=public)
            assert history.status_code == 200
            assert now.strftime("%B %Y") in history.text
            assert f'href="/status/incidents/{incident["id"]}"' in history.text
            assert "Edge upgrade" in history.text  # the public window running now
            assert history.text.count("<h1>") == 1

            for feed, version, kind in (
                ("/status/history.atom", "atom10", "application/atom+xml"),
                ("/status/history.rss", "rss20", "application/rss+xml"),
            ):
                answer = await c.get(feed, headers=public)
                assert answer.status_code == 200 and answer.headers["content-type"] == kind
                assert answer.headers["access-control-allow-origin"] == "*"
                assert b"<script" not in answer.content
                parsed = feedparser.parse(answer.content)
                assert not parsed.bozo and parsed.version == version
                titles = [e.title for e in parsed.entries]
                assert HOSTILE in titles and "Edge upgrade (in progress)" in titles
                (entry,) = [e for e in parsed.entries if e.title == HOSTILE]
                assert entry.link == shortlink
                assert "SECRET" not in answer.text

            files = export_files(await app.state.status_board.current())
    assert files[f"status/incidents/{incident['id']}/index.html"] == page.content
    assert files["status/history/index.html"] == history.content
    assert feedparser.parse(files["status/history.atom"]).entries
    assert feedparser.parse(files["status/history.rss"]).entries
    assert all(not name.startswith("/") and ".." not in name for name in files)


async def test_the_public_lane_answers_only_where_the_page_is_public(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> None:
    """Once a copy exists, the page's documents are answered before the session and
    sign-in middleware: on the status host of a private server with every header the
    routes give, and never on that server's own host."""
    settings = replace(
        settings_for(catalog_dir, tmp_path, database_url),
        public_read=False,
        status_host="status.example.org",
    )
    app = create_app(settings, db)
    public = {"Host": "status.example.org"}
    async with app.router.lifespan_context(app):
        assert app.state.status_board.interval > 0  # the server's own setting
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            first = await c.get("/api/v2/summary.json", headers=public)  # renders the copy
            assert app.state.status_board.has_copy
            for path in ("/api/v2/summary.json", "/", "/status/history", "/status/history.rss"):
                answer = await c.get(path, headers=public)
                assert answer.status_code == 200, path
                assert answer.headers["content-security-policy"].startswith("default-src")
                assert answer.headers["x-content-type-options"] == "nosniff"
            again = await c.get("/api/v2/summary.json", headers=public)
            assert again.content == first.content
            assert again.headers["access-control-allow-origin"] == "*"
            assert again.headers["cache-control"] == "public, max-age=10"
            assert (await c.head("/api/v2/status.json", headers=public)).status_code == 200
            # the server's own host stays private, copy or not
            assert (await c.get("/api/v2/summary.json")).status_code == 401
            assert (await c.get("/status/history")).status_code == 303
            assert (await c.post("/api/v2/status.json", headers=public)).status_code == 404


async def test_large_documents_are_gzipped_for_clients_that_take_it(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> None:
    import gzip

    from infradex.web.status_documents import accepts_gzip

    app = create_app(settings_for(catalog_dir, tmp_path, database_url), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            plain = await c.get("/status", headers={"Accept-Encoding": "identity"})
            assert "content-encoding" not in plain.headers
            assert plain.headers["vary"] == "Accept-Encoding"
            for _ in range(2):  # the same bytes each time
                packed = await c.send(
                    c.build_request("GET", "/status", headers={"Accept-Encoding": "gzip"}),
                    stream=True,
                )
                raw = await packed.aread()  # decoded by httpx: the bytes as sent are below
                assert packed.headers["content-encoding"] == "gzip"
                assert raw == plain.content
            summary = await c.get("/api/v2/summary.json", headers={"Accept-Encoding": "gzip"})
            assert summary.headers["content-encoding"] == "gzip"
            assert summary.headers["content-type"] == "application/json"
            assert summary.json()["page"]["name"]
            files = (await app.state.status_board.current()).gzipped
            assert gzip.decompress(files["/status"]) == plain.content
    assert accepts_gzip("gzip, deflate, br") and accepts_gzip("br;q=1.0, GZIP;q=0.5")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("identity")
    assert not accepts_gzip("") and not accepts_gzip("gzip;q=zero")
