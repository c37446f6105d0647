"""The JSON Schema of catalog documents, generated from the models (``infradex catalog schema``)."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from infradex.catalog.models import DOCUMENT_MODELS

__all__ = ["json_schema"]


def json_schema() -> dict[str, Any]:
    """One schema accepting any catalog document; ``kind`` picks the branch."""
    models = list(DOCUMENT_MODELS.values())
    _, definitions = models_json_schema([(m, "validation") for m in models], by_alias=True)
    defs = definitions.get("$defs", {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://infradex.example/schema/catalog-v1.json",
        "title": "infradex catalog document (infradex/v1)",
        "oneOf": [{"$ref": f"#/$defs/{m.__name__}"} for m in models],
        "$defs": defs,
    }
