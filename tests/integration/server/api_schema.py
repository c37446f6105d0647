"""Checking answers against the server's own OpenAPI document: the schema a client reads is
the one each response must satisfy. Objects are closed while checking (a key the schema does
not name fails), unless the schema says extra keys are allowed."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator


def closed(node: Any) -> Any:
    """``node`` with every object schema that names its properties closed to other keys."""
    if isinstance(node, dict):
        out = {key: closed(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [closed(item) for item in node]
    return node


def response_schema(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    """The JSON schema ``spec`` declares for that answer (an empty dict: none)."""
    responses = spec["paths"][path][method]["responses"]
    declared = responses.get(str(status), {})
    found: dict[str, Any] = declared.get("content", {}).get("application/json", {}).get("schema")
    return found or {}


def problems(spec: dict[str, Any], schema: dict[str, Any], body: Any) -> list[str]:
    """What in ``body`` does not satisfy ``schema`` (refs resolved in ``spec``), as text."""
    root = {**closed(copy.deepcopy(schema)), "components": closed(spec.get("components", {}))}
    validator = Draft202012Validator(root)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in validator.iter_errors(body)
    ]
