"""Turn catalog files into a :class:`Catalog`, collecting every problem in one pass.

Section by section, then one cross-reference pass, never stopping at the first problem:

1. files → YAML documents (``loader``): syntax, encoding, symlink loops, empty directory;
2. each document → an entity (``models``): kind, fields, slugs, URLs, durations, conditions;
3. the whole catalog: duplicate names, references (missing, wrong kind), dependency cycles,
   zone files (octoDNS), schedule sanity;
4. warnings (``lint``): ownership, bus factor, unserved domains, on-call gaps.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.loader import RawDocument, find_yaml_files, inside, read_yaml_file
from infradex.catalog.models import API_VERSION, DOCUMENT_MODELS
from infradex.catalog.problems import Problem, dotted, sort_problems
from infradex.catalog.references import reference_fields
from infradex.catalog.refs import KINDS, Ref, RefError, canonical_kind, parse_ref
from infradex.catalog.zones import check_records

__all__ = ["LoadedCatalog", "build", "load"]

#: relations along which one entity needs another to work; a cycle here is an error
SUPPORT_RELATIONS = ("hostedOn", "frontedBy", "dependsOn")


@dataclass(slots=True)
class LoadedCatalog:
    """The result of loading: a catalog (``None`` when there are errors) and every problem."""

    catalog: Catalog | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load(root: Path | str) -> LoadedCatalog:
    """Load and validate the catalog under ``root`` (a directory or a single file)."""
    with _no_gc_pauses():
        return _load(Path(root))


@contextlib.contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Loading allocates millions of small objects that all stay alive; the cyclic garbage
    collector would re-scan them again and again (the cost grows with the square of the
    catalog: 6 s instead of 3.5 s for 10,000 entities). Nothing loaded forms cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()  # else the first collection after loading scans it all (0.6 s at 10k)
            gc.enable()


def _load(root: Path) -> LoadedCatalog:
    files, problems = find_yaml_files(root)
    base = root if root.is_dir() else root.parent
    # a file named on the command line is read wherever it is; inside a directory, only
    # what lies inside it
    inside_of = base.resolve() if root.is_dir() else None
    documents: list[RawDocument] = []
    for path in files:
        result = read_yaml_file(path, _display(path, base), inside_of)
        documents.extend(result.documents)
        problems.extend(result.problems)
    return build(documents, base, problems)


def _display(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def build(
    documents: Sequence[RawDocument], root: Path | None, problems: list[Problem] | None = None
) -> LoadedCatalog:
    """Documents → catalog. ``root`` is where zone ``file`` paths are relative to."""
    problems = list(problems or [])
    zone_files = _zone_file_paths(documents)
    entities: list[Entity] = []
    for doc in documents:
        if doc.file in zone_files:
            continue  # an octoDNS zone file: checked with its Zone below
        entity = _entity(doc, problems)
        if entity is not None:
            entities.append(entity)
    unique = _unique(entities, problems)
    _one_default_policy(unique, problems)
    _one_fallback_team(unique, problems)
    edges = _references(unique, problems)
    _cycles(unique, edges, problems)
    read: dict[str, list[RawDocument]] = {}
    for doc in documents:
        read.setdefault(doc.file, []).append(doc)
    failed = {p.file for p in problems}
    zone_records = _zones(
        unique, root, problems, {f: read.get(f, []) for f in zone_files if f in read or f in failed}
    )
    edges.extend(_zone_edges(unique, zone_records))
    catalog = Catalog(unique.values(), edges, zone_records, root)
    from infradex.catalog.lint import lint

    broken = {p.entity for p in problems if p.severity == "error"}
    # a warning about a document that has errors would describe what is left of it after its
    # faulty fields were dropped, not what its author wrote
    problems.extend(w for w in lint(catalog) if w.entity not in broken)
    problems = sort_problems(problems)
    has_errors = any(p.severity == "error" for p in problems)
    return LoadedCatalog(None if has_errors else catalog, problems)


# --------------------------------------------------------------------------- step 2: documents
def _zone_file_paths(documents: Sequence[RawDocument]) -> set[str]:
    paths = set()
    for doc in documents:
        data = doc.data
        if isinstance(data, dict) and str(data.get("kind", "")).lower() == "zone":
            spec = data.get("spec")
            if isinstance(spec, dict) and isinstance(spec.get("file"), str):
                paths.add(_zone_key(spec["file"]))
    return paths


def _zone_key(path: str) -> str:
    """A zone ``file`` as the loader names files: relative to the root, with slashes."""
    return Path(path).as_posix().removeprefix("./")


def _entity(doc: RawDocument, problems: list[Problem]) -> Entity | None:
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
            message, hint = _explain(model, error)
            report(_code(error["type"]), message, hint, loc, label)
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
    import copy

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


def _code(pydantic_type: str) -> str:
    return {
        "extra_forbidden": "unknown-field",
        "missing": "missing-field",
        "literal_error": "invalid-value",
        "value_error": "invalid-value",
    }.get(pydantic_type, "invalid-type")


def _explain(model: type[BaseModel], error: Any) -> tuple[str, str]:
    loc = tuple(error["loc"])
    field_name = str(loc[-1]) if loc else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
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
        fields = _fields_at(model, loc)
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


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names (as written in YAML) of the model found at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        found = None
        for name, info in current.model_fields.items():
            if part in (name, info.alias):
                found = info.annotation
        current = _unwrap(found)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(info.alias or name for name, info in current.model_fields.items())
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, typing.Union, types.UnionType, typing.Annotated):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else (args[0] if args else None)
            continue
        return annotation


# --------------------------------------------------------------------------- step 3: catalog
def _unique(entities: list[Entity], problems: list[Problem]) -> dict[Ref, Entity]:
    seen: dict[Ref, Entity] = {}
    for entity in entities:
        first = seen.get(entity.ref)
        if first is None:
            seen[entity.ref] = entity
            continue
        for here, there in ((entity, first), (first, entity)):
            line = there.where(("metadata", "name"))[0]
            problems.append(
                here.problem(
                    "error",
                    "duplicate-name",
                    f"{entity.ref} is defined twice: here and at {there.file}:{line}",
                    "rename one of them or delete the copy",
                    ("metadata", "name"),
                )
            )
    return seen


def _one_fallback_team(entities: dict[Ref, Entity], problems: list[Problem]) -> None:
    marked = [e for e in entities.values() if e.kind == "team" and e.spec.fallback]
    for extra in marked[1:]:
        problems.append(
            extra.problem(
                "error",
                "two-fallbacks",
                f"{len(marked)} teams say `fallback: true` "
                f"({', '.join(e.name for e in marked)}); `who` names one fallback team",
                "keep `fallback: true` on one team only",
                ("spec", "fallback"),
            )
        )


def _one_default_policy(entities: dict[Ref, Entity], problems: list[Problem]) -> None:
    defaults = [e for e in entities.values() if e.kind == "escalationpolicy" and e.spec.default]
    for extra in defaults[1:]:
        problems.append(
            extra.problem(
                "error",
                "two-defaults",
                f"{len(defaults)} escalation policies say `default: true` "
                f"({', '.join(e.name for e in defaults)}); incidents need one default",
                "keep `default: true` on one policy only",
                ("spec", "default"),
            )
        )


def _references(entities: dict[Ref, Entity], problems: list[Problem]) -> list[tuple[Ref, str, Ref]]:
    edges: list[tuple[Ref, str, Ref]] = []
    by_name: dict[str, list[Ref]] = {}
    for ref in entities:
        by_name.setdefault(ref.name, []).append(ref)
    for entity in entities.values():
        for field_ref in reference_fields(entity.kind, entity.spec):
            try:
                target = parse_ref(field_ref.text, field_ref.allowed)
            except RefError as exc:
                problems.append(
                    entity.problem(
                        "error",
                        "bad-reference",
                        str(exc),
                        "references are kind:name",
                        field_ref.path,
                    )
                )
                continue
            if target.kind not in field_ref.allowed:
                problems.append(
                    entity.problem(
                        "error",
                        "wrong-kind",
                        f"{target} is a {KINDS[target.kind]}, but this field "
                        "takes " + " or ".join(KINDS[k] for k in field_ref.allowed),
                        "point it at an entity of an allowed kind",
                        field_ref.path,
                    )
                )
                continue
            if target not in entities:
                others = [r for r in by_name.get(target.name, []) if r.kind != target.kind]
                if others:
                    hint = f"{others[0]} exists; did you mean that kind?"
                else:
                    names = [r.name for r in entities if r.kind == target.kind]
                    close = difflib.get_close_matches(target.name, names, n=1, cutoff=0.6)
                    hint = (
                        f"did you mean {target.kind}:{close[0]}?"
                        if close
                        else f"define {KINDS[target.kind]} {target.name!r} or fix the name"
                    )
                problems.append(
                    entity.problem(
                        "error",
                        "dangling-reference",
                        f"{target} does not exist",
                        hint,
                        field_ref.path,
                    )
                )
                continue
            if field_ref.relation is not None:
                edge = (
                    (target, field_ref.relation, entity.ref)
                    if field_ref.reverse
                    else (entity.ref, field_ref.relation, target)
                )
                edges.append(edge)
    return edges


def _cycles(
    entities: dict[Ref, Entity], edges: list[tuple[Ref, str, Ref]], problems: list[Problem]
) -> None:
    """Report each cycle of needs (hostedOn, frontedBy, dependsOn) once, showing the cycle."""
    graph: dict[Ref, list[tuple[str, Ref]]] = {}
    for source, relation, target in edges:
        if relation in SUPPORT_RELATIONS:
            graph.setdefault(source, []).append((relation, target))
    white, grey, black = 0, 1, 2
    color: dict[Ref, int] = {}
    reported: set[frozenset[Ref]] = set()
    for start in sorted(graph):
        if color.get(start, white) != white:
            continue
        stack: list[tuple[Ref, int]] = [(start, 0)]
        path: list[Ref] = []
        via: list[str] = []
        color[start] = grey
        path.append(start)
        while stack:
            node, index = stack[-1]
            successors = graph.get(node, [])
            if index < len(successors):
                stack[-1] = (node, index + 1)
                relation, nxt = successors[index]
                state = color.get(nxt, white)
                if state == white:
                    color[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
                    via.append(relation)
                elif state == grey:
                    at = path.index(nxt)
                    members = path[at:]
                    if frozenset(members) not in reported:
                        reported.add(frozenset(members))
                        relations = [*via[at:], relation]
                        shown = str(members[0]) + "".join(
                            f" --{rel}--> {ref}"
                            for rel, ref in zip(relations, [*members[1:], members[0]], strict=True)
                        )
                        problems.append(
                            entities[node].problem(
                                "error",
                                "cycle",
                                f"dependency cycle: {shown}",
                                "break the cycle: one of these cannot need the other",
                                ("spec", relation),
                            )
                        )
            else:
                color[node] = black
                stack.pop()
                path.pop()
                if via:
                    via.pop()


def _zones(
    entities: dict[Ref, Entity],
    root: Path | None,
    problems: list[Problem],
    already_read: dict[str, list[RawDocument]],
) -> dict[str, dict[str, Any]]:
    records_by_zone: dict[str, dict[str, Any]] = {}
    for entity in entities.values():
        if entity.kind != "zone":
            continue
        spec = entity.spec
        records: Any = spec.records
        path: tuple[str | int, ...] = ("spec", "records")
        source = entity.file
        positions: dict[str, int] = {}
        if spec.file is not None:
            path = ("spec", "file")
            real_root = (root or Path(".")).resolve()
            found = None if Path(spec.file).is_absolute() else inside(real_root, spec.file)
            if found is None:
                # the same words whether such a file exists or not: nothing outside the
                # catalog is read, and nothing about it is told
                problems.append(
                    entity.problem(
                        "error",
                        "zone-file",
                        f"zone file {spec.file!r} is outside the catalog directory",
                        "write a path relative to the catalog's root directory that stays "
                        "inside it, e.g. zones/example.org.yaml",
                        path,
                    )
                )
                continue
            zone_path = found
            if not zone_path.exists():
                problems.append(
                    entity.problem(
                        "error",
                        "zone-file",
                        f"zone file {spec.file!r} does not exist",
                        "the path is relative to the catalog's root directory",
                        path,
                    )
                )
                continue
            key = _zone_key(spec.file)
            if key in already_read:  # read with the catalog; its problems are reported once
                documents = already_read[key]
                if not documents:
                    continue
            else:
                result = read_yaml_file(zone_path, key, real_root)
                problems.extend(result.problems)
                if result.problems:
                    continue
                documents = result.documents
            if len(documents) != 1:
                problems.append(
                    entity.problem(
                        "error",
                        "zone-file",
                        f"{spec.file} must hold exactly one YAML document",
                        "an octoDNS zone file is one mapping",
                        path,
                    )
                )
                continue
            records = documents[0].data
            source = key
            positions = {str(k[0]): v[0] for k, v in documents[0].positions.items() if len(k) == 1}
        bad = False
        for issue in check_records(entity.name, records):
            bad = True
            line: int | None
            if positions:  # a zone file: the record's line in that file
                line = positions.get(issue.name)
            else:  # inline records: the record's line inside the Zone document
                line = entity.where((*path, issue.name))[0] if issue.name else None
            problems.append(
                Problem(
                    "error",
                    "zone-record",
                    f"record {issue.name or '@'!r}: {issue.message}",
                    issue.hint,
                    source,
                    line or entity.where(path)[0],
                    None,
                    str(entity.ref),
                    dotted(path),
                )
            )
        if not bad:
            records_by_zone[entity.name] = records
    return records_by_zone


def _zone_edges(
    entities: dict[Ref, Entity], zone_records: dict[str, dict[str, Any]]
) -> list[tuple[Ref, str, Ref]]:
    """servesZone: the zone whose name is the longest suffix of a service's domain serves it."""
    zones = {e.name for e in entities.values() if e.kind == "zone"}
    edges = []
    for entity in entities.values():
        if entity.kind != "service":
            continue
        for domain in entity.spec.domains:
            labels = domain.lower().rstrip(".").split(".")
            for start in range(len(labels)):  # the longest suffix first
                zone = ".".join(labels[start:])
                if zone in zones:
                    edges.append((Ref("zone", zone), "servesZone", entity.ref))
                    break
    return edges
