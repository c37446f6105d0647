"""Every JSON route under /api declares its answer: ``/openapi.json`` describes each response
with a schema that names its fields, so the next route cannot slip in untyped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from infradex.settings import Settings, embedded_example
from infradex.web.app import create_app


def _app(tmp_path: Path) -> Any:
    settings = Settings(
        catalog=embedded_example(),
        catalog_is_embedded=True,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        secret_key="test-secret",
        public_read=True,
        monitor=False,
    )
    return create_app(settings)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = spec["components"]["schemas"][name]
    return schema


def _names_its_fields(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A schema with named properties (each alternative of a union too): not just "object"."""
    schema = _resolve(spec, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return all(_names_its_fields(spec, alternative) for alternative in alternatives)
    return bool(schema.get("properties"))


#: Statuspage's public API (the status page): its shape is Statuspage's, served as pre-rendered
#: bytes and checked key by key against recorded Statuspage answers
#: (tests/integration/server/test_status_api.py, tests/fixtures/statuspage/)
STATUSPAGE = "/api/v2/"


def test_every_api_route_answers_with_a_declared_schema(tmp_path: Path) -> None:
    spec = _app(tmp_path).openapi()
    operations = [
        (method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        if path.startswith("/api/") and not path.startswith(STATUSPAGE)
        for method, operation in methods.items()
    ]
    assert len(operations) >= 25, "the API's routes are missing from /openapi.json"
    untyped = []
    for method, path, operation in operations:
        answers = {
            status: response.get("content", {}).get("application/json", {}).get("schema")
            for status, response in operation["responses"].items()
            if status.startswith("2")
        }
        if not answers or not all(
            schema and _names_its_fields(spec, schema) for schema in answers.values()
        ):
            untyped.append(f"{method} {path}")
    assert untyped == [], "declare a response_model (web/schemas.py) for: " + ", ".join(untyped)


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every route of the application, those of included routers too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
            yield from _api_routes(route.original_router.routes)


def test_no_api_route_is_hidden_from_the_schema(tmp_path: Path) -> None:
    routes = list(_api_routes(_app(tmp_path).routes))
    assert len(routes) >= 40, "the walk missed the included routers"
    hidden = [
        route.path
        for route in routes
        if route.path.startswith("/api/") and not route.include_in_schema
    ]
    # /api/docs is the HTML page that shows the schema, not a JSON route
    assert hidden == ["/api/docs"]


def test_the_reload_declares_its_refused_and_held_answers(tmp_path: Path) -> None:
    spec = _app(tmp_path).openapi()
    responses = spec["paths"]["/api/v1/catalog/reload"]["post"]["responses"]
    for status in ("200", "409", "422"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert _resolve(spec, schema)["title"] == "ReloadAnswer"
