"""One YAML document → one :class:`Entity`: its kind and apiVersion, then its kind's model
(fields, slugs, URLs, durations, conditions). Every problem is reported with its line; a
document with faulty fields still yields what is left of it, so the cross-reference pass can
check the rest."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from pydantic import ValidationError

from infradex.catalog.entities import Entity
from infradex.catalog.explain import explain, problem_code
from infradex.catalog.models import API_VERSION, DOCUMENT_MODELS
from infradex.catalog.problems import Problem, dotted
from infradex.catalog.refs import KINDS, Ref, canonical_kind
from infradex.catalog.yaml_reader import RawDocument

__all__ = ["read_entity"]


def read_entity(doc: RawDocument, problems: list[Problem]) -> Entity | None:
    """The entity ``doc`` describes, appending its problems; ``None`` when nothing is left."""
    data = doc.data

    def report(
        code: str,
        message: str,
        hint: str,
        path: tuple[str | int, ...] = (),
        entity: str | None = None,
    ) -> None:
        line, column = doc.where(path)
        problems.append(
            Problem(
                "error", code, message, hint, doc.file, line, column, entity, dotted(path) or None
            )
        )

    if not isinstance(data, dict):
        report(
            "not-a-mapping",
            "a catalog document is a mapping with apiVersion, kind, metadata and spec",
            "see docs/catalog.md for an example document",
        )
        return None
    if "kind" not in data:
        report(
            "missing-kind",
            "this document has no `kind`",
            "add `kind:` (one of " + ", ".join(KINDS.values()) + "); if this is an octoDNS "
            "zone file, reference it from a Zone's spec.file",
        )
        return None
    kind = canonical_kind(str(data["kind"]))
    if kind is None:
        close = difflib.get_close_matches(str(data["kind"]), KINDS.values(), n=1, cutoff=0.5)
        report(
            "unknown-kind",
            f"unknown kind {data['kind']!r}",
            f"did you mean {close[0]}?" if close else "kinds are " + ", ".join(KINDS.values()),
            ("kind",),
        )
        return None
    name = data.get("metadata", {}).get("name") if isinstance(data.get("metadata"), dict) else None
    label = f"{kind}:{name}" if isinstance(name, str) else kind
    if data.get("apiVersion") != API_VERSION:
        report(
            "api-version",
            "this document has no `apiVersion`"
            if data.get("apiVersion") is None
            else f"apiVersion is {data.get('apiVersion')!r}, not {API_VERSION}",
            f"write `apiVersion: {API_VERSION}`",
            ("apiVersion",),
            label,
        )
        return None
    data = {**data, "kind": KINDS[kind]}
    data.setdefault("spec", {})
    if data["spec"] is None:
        data["spec"] = {}
    model = DOCUMENT_MODELS[kind]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            message, hint = explain(model, error, data)
            report(problem_code(error["type"]), message, hint, loc, label)
        # Without its faulty fields the document may still be checkable against the rest of the
        # catalog (references, duplicates); the load has failed either way.
        # First drop only the faulty fields, so a bad condition does not hide a dangling
        # location in the same check; if that leaves a required field missing, drop the lists
        # that hold them.
        locs = [tuple(e["loc"]) for e in exc.errors()]
        for fine in (True, False):
            try:
                parsed = model.model_validate(_without(data, locs, fine))
                break
            except ValidationError:
                continue
        else:
            return None
    metadata, spec = getattr(parsed, "metadata"), getattr(parsed, "spec")  # noqa: B009
    return Entity(
        Ref(kind, metadata.name),
        metadata,
        spec,
        doc.file,
        doc.line,
        doc.positions,
    )


def _without(data: dict[str, Any], locs: list[tuple[Any, ...]], fine: bool) -> dict[str, Any]:
    """A copy of ``data`` without the fields at ``locs``. A list never loses an item, so the
    positions of the values after it stay right: ``fine`` drops the field nearest the error
    that is not a list item (``conditions`` of ``checks[0]``), else the outermost list
    (``checks``)."""
    pruned = copy.deepcopy(data)
    for loc in locs:
        if fine:
            cut = len(loc)
            while cut and isinstance(loc[cut - 1], int):
                cut -= 1
        else:
            cut = next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))
        path = loc[:cut]
        parent: Any = pruned
        for part in path[:-1]:
            if isinstance(parent, dict):
                parent = parent.get(part)
            elif isinstance(parent, list) and isinstance(part, int) and part < len(parent):
                parent = parent[part]
            else:
                parent = None
        if isinstance(parent, dict) and path:
            parent.pop(path[-1], None)
    return pruned
