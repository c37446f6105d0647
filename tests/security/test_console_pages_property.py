"""Property: arbitrary text in every catalog text field, and in an incident's title, leaves the
live console pages (home, board, impact, an incident, the one-click link page) with the same
HTML elements and attributes as plain text does. The pages come from a real app on a store of
its own, with check states and an incident stored as a monitor and an alerter would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infradex.alerting import records
from infradex.alerting.incidents import Event, Incident, Member
from infradex.clock import utcnow
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.history import state_row
from infradex.settings import Settings
from infradex.store import Database
from infradex.store.tables import check_states
from infradex.web.app import create_app

from .output_helpers import html_shape
from .test_output_property import FIELDS, _documents, _yaml_text, hostile

#: checks the monitor "ran": one per state the pages colour differently
STATES = {
    "service:web/home": Shown.DOWN,
    "service:web/api": Shown.FLAPPING,
    "service:other/home": Shown.UP,
    "provider:p/edge": Shown.MAINTENANCE,
}
PAGES = ("/", "/board", "/board?team=t&state=down", "/impact?target=provider:p", "/incidents/1")


def _catalog(text: Callable[[str], str]) -> list[dict[str, Any]]:
    documents = _documents(text)
    for document in documents:
        owner = f"{document['kind'].lower()}:{document['metadata']['name']}"
        checks = [ref.rsplit("/", 1)[1] for ref in STATES if ref.rsplit("/", 1)[0] == owner]
        if checks:
            document["spec"]["checks"] = [
                {"name": name, "url": f"http://127.0.0.1:9/{name}"} for name in checks
            ]
    return [{"apiVersion": "infradex/v1", **d} for d in documents]


async def _pages(root: Path, title: str) -> dict[str, str]:
    database = f"sqlite:///{root / 'store.db'}"
    db = Database(database)
    app = create_app(
        Settings(catalog=root / "catalog", catalog_is_embedded=False, data_dir=root,
                 database_url=database, secret_key="test", public_read=True, monitor=False),
        db,
    )  # fmt: skip
    now = utcnow()
    try:
        async with app.router.lifespan_context(app):
            async with db.begin() as connection:
                await connection.execute(
                    check_states.insert(),
                    [state_row(CheckState(c, s, s, history="uud", since=now))
                     for c, s in STATES.items()],
                )  # fmt: skip
                incident = Incident("service:web", title, now)
                incident.members["service:web/home"] = Member(
                    "service:web/home", "service:web", "root", now, None, title
                )
                incident.events.append(Event(now, "opened", {"check": "service:web/home"}))
                await records.save(connection, incident, now, None)
                token = await records.create_link(connection, 1, "acknowledge", "person:ann", now)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                out = {}
                for path in (*PAGES, f"/act/{token}"):
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.text[:500])
                    out[path.split("/act/")[0] or "act"] = response.text
                return out
    finally:
        await db.close()


def _render(text: Callable[[str], str], root: Path, title: str) -> dict[str, str]:
    (root / "catalog").mkdir(parents=True)
    (root / "catalog" / "all.yaml").write_text(yaml.safe_dump_all(_catalog(text)), encoding="utf-8")
    return asyncio.run(_pages(root, title))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(texts=st.fixed_dictionaries({field: hostile for field in [*FIELDS, "incident"]}))
def test_any_text_is_inert_in_the_console_pages(
    texts: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    clean = _render(lambda f: f.replace("_", " "), tmp_path_factory.mktemp("clean"), "incident")
    dirty = _render(
        lambda f: _yaml_text(texts[f]),
        tmp_path_factory.mktemp("dirty"),
        _yaml_text(texts["incident"]),
    )
    for path, document in dirty.items():
        # backticks in text become <code> spans (as hints write them): inert, not compared
        shape = [e for e in html_shape(document) if e[0] != "code"]
        plain = [e for e in html_shape(clean[path]) if e[0] != "code"]
        assert sorted(shape) == sorted(plain), path
