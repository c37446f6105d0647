"""Pydantic's validation errors, told in the catalog's words: a problem code, a message and a
hint that names the fields that do exist (``did you mean `checks`?``)."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel

from infradex.channels.config import ChannelConfig
from infradex.channels.registry import channel_kind

__all__ = ["explain", "problem_code"]


def problem_code(pydantic_type: str) -> str:
    """The catalog's problem code for a pydantic error type."""
    return {
        "extra_forbidden": "unknown-field",
        "missing": "missing-field",
        "literal_error": "invalid-value",
        "value_error": "invalid-value",
    }.get(pydantic_type, "invalid-type")


def explain(model: type[BaseModel], error: Any, document: Any = None) -> tuple[str, str]:
    """(message, hint) for one pydantic error found while validating ``document`` with
    ``model`` (the document tells which model a channel entry has: its ``type``)."""
    loc = tuple(error["loc"])
    field_name = str(loc[-1]) if loc else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1], document)
        close = difflib.get_close_matches(field_name, allowed, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else "known fields: " + ", ".join(allowed)
        return f"unknown field `{field_name}`", hint
    if kind == "missing":
        return f"required field `{field_name}` is missing", f"add `{field_name}:`"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        close = difflib.get_close_matches(str(error["input"]), options, n=1, cutoff=0.7)
        hint = "write one of " + ", ".join(options)
        if close:
            hint = f"did you mean {close[0]}? ({hint})"
        return f"{error['input']!r} is not allowed here", hint
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return message, ""
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        fields = _fields_at(model, loc, document)
        example = f"{{{fields[0]}: ...}}" if fields else "a mapping"
        return (
            f"this must be a mapping, not {_kind_name(error.get('input'))}",
            f"write it as {example} (fields: {', '.join(fields)})" if fields else "",
        )
    return f"{error['msg'].rstrip('.').lower()}, got {_kind_name(error.get('input'))}", (
        "see docs/catalog.md for this field"
    )


def _kind_name(value: Any) -> str:
    got = type(value).__name__
    return {
        "str": "text",
        "dict": "a mapping",
        "list": "a list",
        "NoneType": "nothing",
        "int": "a number",
        "float": "a number",
        "bool": "true/false",
    }.get(got, got)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...], document: Any) -> list[str]:
    """The field names (as written in YAML) of the model found at ``loc`` inside ``model``."""
    current: Any = model
    value = previous = document
    for part in loc:
        previous, value = value, _item(value, part)
        if isinstance(part, int) or current is None:
            continue
        current = _channel_model(current, previous)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        found = None
        for name, info in current.model_fields.items():
            if part in (name, info.alias):
                found = info.annotation
        current = _unwrap(found)
    current = _channel_model(current, value)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(info.alias or name for name, info in current.model_fields.items())
    return []


def _channel_model(current: Any, value: Any) -> Any:
    """A channel entry's own model (its ``type`` names it), else ``current``."""
    if current is ChannelConfig and isinstance(value, dict) and isinstance(value.get("type"), str):
        return channel_kind(value["type"]) or current
    return current


def _item(value: Any, part: Any) -> Any:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, typing.Union, types.UnionType, typing.Annotated):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else (args[0] if args else None)
            continue
        return annotation
