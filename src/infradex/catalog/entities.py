"""The loaded catalog: entities, their relations both ways, and lookup indexes.

A :class:`Catalog` is immutable once built (by :func:`infradex.catalog.loading.build`), so
queries are pure functions of it.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infradex.catalog.models import API_VERSION, Metadata
from infradex.catalog.problems import Problem, Severity, dotted
from infradex.catalog.refs import KINDS, Ref, RefError, parse_ref
from infradex.catalog.relations import RELATIONS
from infradex.catalog.yaml_reader import Positions
from infradex.errors import NotFoundError, UsageError

__all__ = ["KIND_ORDER", "Catalog", "Entity"]

#: the order kinds are listed in everywhere (outputs are deterministic)
KIND_ORDER = tuple(KINDS)


@dataclass(frozen=True, slots=True, eq=False)
class Entity:
    """One validated catalog document."""

    ref: Ref
    metadata: Metadata
    spec: Any  # the kind's spec model from infradex.catalog.models
    file: str
    line: int
    positions: Positions = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return self.ref.kind

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def title(self) -> str:
        return self.metadata.title or self.ref.name

    def where(self, path: tuple[str | int, ...]) -> tuple[int, int | None]:
        """Line and column a field was written at (the document's line if it was not)."""
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.line, None

    def problem(
        self,
        severity: Severity,
        code: str,
        message: str,
        hint: str,
        path: tuple[str | int, ...] = (),
    ) -> Problem:
        """A problem about this entity, located at the field ``path``."""
        line, column = self.where(path)
        return Problem(
            severity,
            code,
            message,
            hint,
            self.file,
            line,
            column,
            str(self.ref),
            dotted(path) or None,
        )

    def document(self) -> dict[str, Any]:
        """The catalog document as it would be written (defaults filled in)."""
        return {
            "apiVersion": API_VERSION,
            "kind": KINDS[self.kind],
            "metadata": self.metadata.model_dump(by_alias=True, exclude_none=True),
            "spec": self.spec.model_dump(by_alias=True, exclude_none=True),
        }


def _sort_key(ref: Ref) -> tuple[int, str]:
    return KIND_ORDER.index(ref.kind), ref.name


class Catalog:
    """Entities plus relations (each with its inverse) and the indexes queries need."""

    def __init__(
        self,
        entities: Iterable[Entity],
        edges: Iterable[tuple[Ref, str, Ref]],
        zone_records: dict[str, dict[str, Any]] | None = None,
        root: Path | None = None,
    ) -> None:
        self.root = root
        self.entities: dict[Ref, Entity] = {
            e.ref: e for e in sorted(entities, key=lambda e: _sort_key(e.ref))
        }
        self.zone_records = zone_records or {}
        links: dict[Ref, dict[str, list[Ref]]] = defaultdict(lambda: defaultdict(list))
        known: set[tuple[Ref, str, Ref]] = set()
        for edge in edges:
            if edge in known:
                continue
            known.add(edge)
            source, relation, target = edge
            links[source][relation].append(target)
            links[target][RELATIONS[relation]].append(source)
        self._links = {
            ref: {rel: list(refs) for rel, refs in rels.items()} for ref, rels in links.items()
        }
        self._by_kind: dict[str, list[Entity]] = {kind: [] for kind in KIND_ORDER}
        for entity in self.entities.values():
            self._by_kind[entity.kind].append(entity)
        self._by_domain: dict[str, Ref] = {}
        self._by_title: dict[str, list[Ref]] = defaultdict(list)
        self._by_name: dict[str, list[Ref]] = defaultdict(list)
        for entity in self.entities.values():
            self._by_name[entity.name].append(entity.ref)
            if entity.metadata.title:
                self._by_title[entity.metadata.title.lower()].append(entity.ref)
            if entity.kind == "service":
                for domain in entity.spec.domains:
                    self._by_domain.setdefault(domain.lower().rstrip("."), entity.ref)

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self.entities)

    def __contains__(self, ref: object) -> bool:
        return ref in self.entities

    def get(self, ref: Ref) -> Entity:
        try:
            return self.entities[ref]
        except KeyError:
            raise NotFoundError(f"{ref} is not in the catalog{self._suggest(ref.name)}") from None

    def of_kind(self, kind: str) -> list[Entity]:
        return self._by_kind[kind]

    def related(self, ref: Ref, relation: str) -> list[Ref]:
        """Targets of ``relation`` (or of an inverse relation) from ``ref``, in written order."""
        return self._links.get(ref, {}).get(relation, [])

    def relations_of(self, ref: Ref) -> dict[str, list[Ref]]:
        """Every relation of ``ref`` both ways, sorted by relation name."""
        return {rel: refs for rel, refs in sorted(self._links.get(ref, {}).items())}

    def entity_json(self, entity: Entity, relations: bool = True) -> dict[str, Any]:
        """An entity as JSON (CLI and API): the catalog document plus ``ref``, ``source``
        (file:line) and, unless told not to, its relations both ways."""
        data: dict[str, Any] = {"ref": str(entity.ref), **entity.document()}
        data["source"] = f"{entity.file}:{entity.line}"
        if relations:
            data["relations"] = {
                name: [str(r) for r in refs] for name, refs in self.relations_of(entity.ref).items()
            }
        return data

    def service_for_domain(self, domain: str) -> Ref | None:
        return self._by_domain.get(domain.lower().rstrip("."))

    def domains(self) -> dict[str, Ref]:
        return dict(self._by_domain)

    def title(self, ref: Ref) -> str:
        entity = self.entities.get(ref)
        return entity.title if entity else ref.name

    def resolve(self, text: str) -> Ref:
        """What a user typed → one entity: ``kind:name``, a service's domain (or a URL on it),
        a title such as a host's FQDN, or a bare name that only one kind uses."""
        text = text.strip()
        if not text:
            raise UsageError("name what to look up: a reference such as service:docs or a domain")
        host_and_port = re.match(r"^[^:/]+\.[^:/]+:[0-9]+$", text)
        if ":" in text and "//" not in text and not host_and_port:
            try:
                ref = parse_ref(text)
            except RefError as exc:
                raise UsageError(str(exc)) from None
            return self.get(ref).ref
        host = text.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower().rstrip(".")
        if host in self._by_domain:
            return self._by_domain[host]
        for candidates in (self._by_title.get(text.lower(), []), self._by_name.get(text, [])):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                raise UsageError(
                    f"{text!r} names several entities; write one of "
                    + ", ".join(str(r) for r in candidates)
                )
        raise NotFoundError(f"nothing in the catalog is called {text!r}{self._suggest(text)}")

    def _suggest(self, text: str) -> str:
        words = [*self._by_domain, *self._by_name]
        close = difflib.get_close_matches(text.lower(), words, n=3, cutoff=0.6)
        if close:
            return "; did you mean " + " or ".join(close) + "?"
        return "; `infradex list KIND` shows what there is"
