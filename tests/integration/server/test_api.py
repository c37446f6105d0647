"""The REST API answers the CLI's questions; writes need a token with the right scope."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from infradex.clock import utcnow
from infradex.lint import load
from infradex.settings import embedded_example
from infradex.store import Database
from infradex.store.tables import audit_log
from infradex.store.tokens import create_token


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "alive"}
    ready = await client.get("/readyz")
    example = load(embedded_example()).catalog
    assert example is not None
    expected = {"status": "ready", "entities": len(example.entities)}
    assert ready.status_code == 200 and ready.json() == expected


async def test_entities_are_paginated(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/v1/entities", params={"kind": "service", "limit": 5})).json()
    example = load(embedded_example()).catalog
    assert example is not None
    services = len(example.of_kind("service"))
    assert first["total"] == services and len(first["items"]) == 5 and first["offset"] == 0
    second = (
        await client.get("/api/v1/entities", params={"kind": "service", "limit": 5, "offset": 5})
    ).json()
    refs = [i["ref"] for i in first["items"]] + [i["ref"] for i in second["items"]]
    assert len(set(refs)) == 10


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"kind": "service", "provider": "fastly"},
            {"service:docs", "service:downloads", "service:pypi", "service:www"},
        ),
        (
            {"kind": "service", "owner": "team:infrastructure"},
            {"service:downloads", "service:jython-web", "service:www"},
        ),
        ({"kind": "service", "tag": "pypi"}, {"service:pypi"}),
    ],
)
async def test_entity_filters(
    client: httpx.AsyncClient, params: dict[str, str], expected: set[str]
) -> None:
    items = (await client.get("/api/v1/entities", params={**params, "limit": 500})).json()
    assert {i["ref"] for i in items["items"]} == expected


async def test_one_entity_with_relations(client: httpx.AsyncClient) -> None:
    docs = (await client.get("/api/v1/entities/service:docs")).json()
    assert docs["metadata"]["title"] == "docs.python.org"
    assert docs["relations"]["frontedBy"] == ["provider:fastly"]
    by_domain = (await client.get("/api/v1/entities/docs.python.org")).json()
    assert by_domain["ref"] == "service:docs"


async def test_errors_are_json_that_say_what_to_do(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/entities/service:dcos")
    assert missing.status_code == 404 and "did you mean docs" in missing.json()["error"]
    bad_kind = await client.get("/api/v1/entities", params={"kind": "gizmo"})
    assert bad_kind.status_code == 400 and "not a kind" in bad_kind.json()["error"]
    bad_limit = await client.get("/api/v1/entities", params={"limit": 0})
    assert bad_limit.status_code == 422


async def test_who_impact_graph_search(client: httpx.AsyncClient) -> None:
    who = (await client.get("/api/v1/who", params={"target": "docs.python.org"})).json()
    assert [c["ref"] for c in who["contacts"]] == ["person:julien-palard", "team:infrastructure"]
    impact = (await client.get("/api/v1/impact", params={"ref": "provider:fastly"})).json()
    assert {a["ref"] for a in impact["affected"]} == {
        "service:docs",
        "service:downloads",
        "service:pypi",
        "service:www",
    }
    graph = (await client.get("/api/v1/graph", params={"focus": "service:docs"})).json()
    assert "host:docs1-nyc1" in {n["ref"] for n in graph["nodes"]}
    found = (await client.get("/api/v1/search", params={"q": "palard"})).json()
    assert found["results"][0]["ref"] == "person:julien-palard"
    words = (await client.get("/api/v1/search", params={"q": "python docs"})).json()
    assert words["results"][0]["ref"] == "service:docs"


async def test_reload_needs_a_write_token(
    client: httpx.AsyncClient, read_token: str, write_token: str, db: Database
) -> None:
    anonymous = await client.post("/api/v1/catalog/reload")
    assert anonymous.status_code == 401 and "infradex token create" in anonymous.json()["error"]
    reader = await client.post(
        "/api/v1/catalog/reload", headers={"Authorization": f"Bearer {read_token}"}
    )
    assert reader.status_code == 403 and "write" in reader.json()["error"]
    forged = await client.post(
        "/api/v1/catalog/reload", headers={"Authorization": "Bearer idx_forged"}
    )
    assert forged.status_code == 403
    writer = await client.post(
        "/api/v1/catalog/reload", headers={"Authorization": f"Bearer {write_token}"}
    )
    assert writer.status_code == 200 and writer.json()["accepted"] is True
    async with db.begin() as connection:
        rows = (await connection.execute(select(audit_log))).all()
    assert [(r.actor, r.action) for r in rows] == [("token:writer", "catalog.reload")]


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A copy of the PSF example that the test may break."""
    target = tmp_path / "catalog"
    shutil.copytree(embedded_example(), target)
    return target


async def test_an_invalid_reload_is_refused_and_the_last_good_catalog_stays(
    client: httpx.AsyncClient, catalog_dir: Path, write_token: str, db: Database
) -> None:
    services = catalog_dir / "services.yaml"
    services.write_text(
        services.read_text().replace(
            "frontedBy: [provider:fastly]", "frontedBy: [provider:akamai]", 1
        )
    )
    answer = await client.post(
        "/api/v1/catalog/reload", headers={"Authorization": f"Bearer {write_token}"}
    )
    assert answer.status_code == 422  # so `curl -f` in a deploy hook fails
    body = answer.json()
    assert body["accepted"] is False
    assert any("provider:akamai does not exist" in e["message"] for e in body["errors"])
    still = (await client.get("/api/v1/entities/service:www")).json()
    assert still["spec"]["frontedBy"] == ["provider:fastly"]
    problems = (await client.get("/api/v1/catalog/problems")).json()
    assert problems["accepted"] is False and problems["errors"]
    loads = (await client.get("/api/v1/catalog/loads")).json()
    assert [item["accepted"] for item in loads["items"]] == [False, True]
    # the catalog's path on the server is for admins only
    assert all(item["source"] is None for item in loads["items"])
    admin = await create_token(db, "root", ["admin"], utcnow())
    as_admin = await client.get(
        "/api/v1/catalog/loads", headers={"Authorization": f"Bearer {admin}"}
    )
    assert as_admin.json()["items"][0]["source"] == str(catalog_dir)


async def test_openapi_describes_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/api/v1/entities", "/api/v1/who", "/api/v1/impact", "/api/v1/catalog/reload"} <= set(
        spec["paths"]
    )


async def test_invalid_requests_and_unknown_paths_are_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/who")
    assert missing.status_code == 422 and "target" in missing.json()["error"]
    wrong_type = await client.get("/api/v1/entities", params={"limit": "abc"})
    assert wrong_type.status_code == 422 and "limit" in wrong_type.json()["error"]
    nowhere = await client.get("/api/v1/nothing")
    assert nowhere.status_code == 404 and "/api/docs" in nowhere.json()["error"]


async def test_api_reference_page_works_offline(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert "GET /api/v1/who" in page.text and "POST /api/v1/catalog/reload" in page.text
    assert "<script" not in page.text


async def test_a_revoked_token_is_refused(
    client: httpx.AsyncClient, write_token: str, db: Database
) -> None:
    from infradex.clock import utcnow
    from infradex.store.tokens import revoke_token

    headers = {"Authorization": f"Bearer {write_token}"}
    assert (await client.post("/api/v1/catalog/reload", headers=headers)).status_code == 200
    await revoke_token(db, "writer", utcnow())
    refused = await client.post("/api/v1/catalog/reload", headers=headers)
    assert refused.status_code == 403 and "revoked" in refused.json()["error"]
