"""The home as a console: the status strip counts the checks by state and links the open
incidents, the services carry their health worst first; with nothing monitored it says so once.

Check states are written to the store as a separate `infradex monitor` would write them (the
server under test runs no monitor, so it reads them from there)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from infradex.alerting import records
from infradex.alerting.incidents import Event, Incident, Member
from infradex.clock import utcnow
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.history import _state_row
from infradex.store import Database
from infradex.store.tables import check_states

SERVICE = (
    "apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: {name}, title: {title}}}\n"
    "spec:\n  checks:\n    - {{name: home, url: 'http://127.0.0.1:9/{name}'}}\n"
)


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    root.mkdir()
    for name, title in (("alpha", "Alpha"), ("bravo", "Bravo"), ("charlie", "Charlie")):
        (root / f"{name}.yaml").write_text(SERVICE.format(name=name, title=title))
    return root


async def _states(db: Database, shown: dict[str, Shown]) -> None:
    now = utcnow()
    async with db.begin() as connection:
        await connection.execute(
            check_states.insert(),
            [
                _state_row(CheckState(f"service:{n}/home", s, s, since=now))
                for n, s in shown.items()
            ],
        )


async def _incident(db: Database, title: str) -> int:
    now = utcnow()
    incident = Incident("service:charlie", title, now)
    incident.members["service:charlie/home"] = Member(
        "service:charlie/home", "service:charlie", "root", now, None, "refused"
    )
    incident.events.append(Event(now, "opened", {"check": "service:charlie/home"}))
    async with db.begin() as connection:
        return await records.save(connection, incident, now, None)


def _rows(text: str) -> list[str]:
    services = text[text.index('id="services"') : text.index('id="providers"')]
    return re.findall(r'<td data-label="Service"><a href="services/(\w+)"', services)


async def test_the_strip_counts_states_and_links_open_incidents(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _states(db, {"alpha": Shown.UP, "bravo": Shown.FLAPPING, "charlie": Shown.DOWN})
    number = await _incident(db, "Charlie <b>refuses</b>")
    text = (await client.get("/")).text
    strip = text[text.index('<section class="strip"') : text.index("</section>")]
    assert '<span class="count">1</span> down' in strip
    assert '<span class="count">1</span> degraded' in strip
    assert '<span class="count">1</span> up' in strip and "all up" not in strip
    assert f'href="incidents/{number}"' in strip
    assert "Charlie &lt;b&gt;refuses&lt;/b&gt;" in strip  # catalog and incident text stay inert
    assert _rows(text) == ["charlie", "bravo", "alpha"]  # worst first
    assert '<span class="health state-down">down</span>' in text
    assert text.index("strip") < text.index('id="services"') < text.index('id="providers"')


async def test_all_up_and_no_incidents(client: httpx.AsyncClient, db: Database) -> None:
    await _states(db, {"alpha": Shown.UP, "bravo": Shown.UP, "charlie": Shown.MAINTENANCE})
    text = (await client.get("/")).text
    assert '<span class="count">2</span> up: all up' in text
    assert '<span class="count">1</span> in maintenance' in text
    assert "No open incidents." in text
    assert _rows(text) == ["charlie", "alpha", "bravo"]
