"""The console pages. The home: the status strip counts the checks by state and links the
open incidents; the services carry their health, worst first. The board: every check grouped by
owner, worst first, with its heartbeat strip, and filters."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from infradex.alerting import records
from infradex.alerting.incidents import Event, Incident, Member
from infradex.clock import utcnow
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.history import state_row
from infradex.store import Database
from infradex.store.tables import check_states

SERVICE = (
    "apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: {name}, title: {title}}}\n"
    "spec:\n  checks:\n    - {{name: home, url: 'http://127.0.0.1:9/{name}'}}\n{extra}"
)
OTHERS = (
    "apiVersion: infradex/v1\nkind: Team\nmetadata: {name: web, title: 'Web <i>team</i>'}\n"
    "spec: {contacts: [{type: email, address: web@example.org}]}\n---\n"
    "apiVersion: infradex/v1\nkind: Provider\nmetadata: {name: cdn, title: CDN}\n"
    "spec: {type: cdn}\n"
)


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "others.yaml").write_text(OTHERS)
    for name, title, extra in (
        ("alpha", "Alpha", "  owners: [{ref: team:web}]\n"),
        ("bravo", "Bravo", "  frontedBy: [provider:cdn]\n"),
        ("charlie", "Charlie", ""),
    ):
        (root / f"{name}.yaml").write_text(SERVICE.format(name=name, title=title, extra=extra))
    return root


async def _states(db: Database, shown: dict[str, Shown], history: str = "") -> None:
    now = utcnow()
    rows = [
        state_row(CheckState(f"service:{n}/home", s, s, history=history, since=now))
        for n, s in shown.items()
    ]
    async with db.begin() as connection:
        await connection.execute(check_states.insert(), rows)


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


def _board_rows(text: str) -> list[tuple[str, str]]:
    """(group, service) in the order the board shows them."""
    found = []
    for group, body in re.findall(r"<h2>(.*?) <span class=\"count\">.*?<tbody>(.*?)</tbody>", text):
        found += [(group, name) for name in re.findall(r'href="services/(\w+)#check-home"', body)]
    return found


async def test_board_groups_by_owner_worst_first(client: httpx.AsyncClient, db: Database) -> None:
    await _states(db, {"alpha": Shown.DOWN, "bravo": Shown.UP, "charlie": Shown.FLAPPING}, "uudd")
    text = (await client.get("/board")).text
    assert 'http-equiv="refresh"' not in text  # reloading is asked for, never imposed
    wall = (await client.get("/board", params={"auto": "1"})).text
    assert '<meta http-equiv="refresh" content="30">' in wall and "Reloads every 30 s." in wall
    assert '<input type="checkbox" id="f-auto" name="auto" value="1" checked>' in wall
    assert _board_rows(text) == [
        ("Web &lt;i&gt;team&lt;/i&gt;", "alpha"),  # catalog text stays inert
        ("No owner listed", "charlie"),
        ("No owner listed", "bravo"),
    ]
    strip = re.search(r'<svg class="heartbeat".*?</svg>', text)
    assert strip is not None and "2 up, 2 down" in strip[0]
    # oldest left: two green bars, then two red ones
    assert re.findall(r'class="(bar-\w+)" d="([^"]*)"', strip[0]) == [
        ("bar-up", "M0 0h5v18h-5zM7 0h5v18h-5z"),
        ("bar-down", "M14 0h5v18h-5zM21 0h5v18h-5z"),
    ]


async def test_board_filters(client: httpx.AsyncClient, db: Database) -> None:
    await _states(db, {"alpha": Shown.DOWN, "bravo": Shown.UP, "charlie": Shown.FLAPPING})
    by_state = (await client.get("/board", params={"state": "degraded"})).text
    assert [n for _, n in _board_rows(by_state)] == ["charlie"]
    assert '<option value="degraded" selected>' in by_state
    by_team = (await client.get("/board", params={"team": "web"})).text
    assert [n for _, n in _board_rows(by_team)] == ["alpha"]
    by_provider = (await client.get("/board", params={"provider": "cdn"})).text
    assert [n for _, n in _board_rows(by_provider)] == ["bravo"]
    wrong = (await client.get("/board", params={"team": "<nope>", "state": "sideways"})).text
    assert "No team &lt;nope&gt; in the catalog" in wrong and "No state sideways" in wrong
    assert len(_board_rows(wrong)) == 3


async def test_impact_page_by_ref_or_title_with_health(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _states(db, {"alpha": Shown.UP, "bravo": Shown.DOWN})
    for target in ("provider:cdn", "CDN", "cdn"):
        page = await client.get("/impact", params={"target": target})
        assert page.status_code == 200
        section = page.text[page.text.index('id="impact"') :]
        assert "What breaks if CDN fails" in section and "1 down, 0 degraded." in section
        assert '<span class="health state-down">down</span>' in section
        assert 'href="services/bravo"' in section
    empty = await client.get("/impact")
    assert (
        '<form class="impact-form"' in empty.text and 'href="?target=provider%3Acdn"' in empty.text
    )


async def test_impact_page_says_what_to_do_with_an_unknown_target(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/impact", params={"target": "<nowhere>"})
    assert page.status_code == 404
    assert "Nothing in the catalog is called &lt;nowhere&gt;" in page.text
    assert 'href="./search?q=%3Cnowhere%3E"' in page.text
