"""The loaded catalog: entities, their relations both ways, and lookup indexes.

A :class:`Catalog` is immutable once built (by :func:`infradex.catalog.loading.build`), so
queries are pure functions of it.

An :class:`Entity` is generic over its spec model so that ``mypy --strict`` checks every
``.spec`` access: ``catalog.of_kind("service")`` gives ``Entity[ServiceSpec]``,
``catalog.typed(ref, PersonSpec)`` an ``Entity[PersonSpec]`` (or a clear error), and a bare
``Entity`` holds any kind's spec (the union :data:`~infradex.catalog.models.Spec`), to be
narrowed with :func:`has_spec` or read through the accessors in
:mod:`infradex.catalog.specs`. The Catalog refuses an entity whose spec is not its kind's
model, which is what makes those types true.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, overload

from typing_extensions import TypeIs, TypeVar

from infradex.catalog.models import (
    API_VERSION,
    SPEC_MODELS,
    DatacenterSpec,
    EscalationPolicySpec,
    HostSpec,
    Metadata,
    PersonSpec,
    ProviderSpec,
    ScheduleSpec,
    ServiceSpec,
    Spec,
    TeamSpec,
    ZoneSpec,
)
from infradex.catalog.problems import Problem, Severity, dotted
from infradex.catalog.refs import KINDS, Ref, RefError, parse_ref
from infradex.catalog.relations import RELATIONS
from infradex.catalog.yaml_reader import Positions
from infradex.errors import NotFoundError, UsageError

__all__ = ["KIND_ORDER", "Catalog", "Entity", "SpecMismatch", "has_spec"]

#: the order kinds are listed in everywhere (outputs are deterministic)
KIND_ORDER = tuple(KINDS)

# covariant: an Entity[ServiceSpec] is an Entity (of any spec); the default makes a bare
# ``Entity`` mean "any kind", which is what most code that walks the catalog holds
SpecT = TypeVar("SpecT", bound=Spec, default=Spec, covariant=True)
# the spec model a caller asks for (typed, has_spec)
Wanted = TypeVar("Wanted", bound=Spec)


class SpecMismatch(UsageError):
    """An entity is not of the kind a caller needs (``catalog.typed``), or was built with a
    spec model that is not its kind's (the Catalog refuses it)."""


@dataclass(frozen=True, slots=True, eq=False)
class Entity(Generic[SpecT]):
    """One validated catalog document."""

    ref: Ref
    metadata: Metadata
    spec: SpecT  # the kind's model: SPEC_MODELS[ref.kind]
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


def has_spec(entity: Entity, model: type[Wanted]) -> TypeIs[Entity[Wanted]]:
    """Whether ``entity``'s spec is a ``model`` (narrows the entity's type)."""
    return isinstance(entity.spec, model)


def _kind_of(model: type[object]) -> str:
    return next(kind for kind, known in SPEC_MODELS.items() if known is model)


def _sort_key(ref: Ref) -> tuple[int, str]:
    return KIND_ORDER.index(ref.kind), ref.name


def _spec_fits_kind(entity: Entity) -> Entity:
    """The entity, if its spec is its kind's model: what makes ``of_kind``'s types true."""
    model = SPEC_MODELS.get(entity.kind)
    if model is None or not isinstance(entity.spec, model):
        expected = f"a {entity.kind}'s spec is a {model.__name__}" if model else "no such kind"
        raise SpecMismatch(
            f"{entity.ref} ({entity.file}:{entity.line}) holds a {type(entity.spec).__name__}, "
            f"but {expected}; build entities with infradex.catalog.load, which picks the "
            "model from the document's kind"
        )
    return entity


class Catalog:
    """Entities plus relations (each with its inverse) and the indexes queries need."""

    def __init__(
        self,
        entities: Iterable[Entity],
        edges: Iterable[tuple[Ref, str, Ref]],
        zone_records: dict[str, dict[str, Any]] | None = None,
        root: Path | None = None,
        record_places: dict[str, dict[str, tuple[str, int]]] | None = None,
    ) -> None:
        self.root = root
        # zone → record key → (file, line) the record is written at, for warnings about it
        self.record_places = record_places or {}
        self.entities: dict[Ref, Entity] = {
            e.ref: _spec_fits_kind(e) for e in sorted(entities, key=lambda e: _sort_key(e.ref))
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
            if has_spec(entity, ServiceSpec):
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

    def typed(self, ref: Ref, model: type[Wanted]) -> Entity[Wanted]:
        """The entity at ``ref`` typed by its spec ``model``, for a reference that must name
        one kind (a team's members are people). Another kind is refused with a message that
        says which was expected; a missing entity is a ``NotFoundError``."""
        entity = self.get(ref)
        if not has_spec(entity, model):
            wanted = _kind_of(model)
            raise SpecMismatch(
                f"{ref} is a {entity.kind}, not a {wanted}; name a {wanted} here, "
                f"e.g. {wanted}:{ref.name}"
            )
        return entity

    def find(self, ref: Ref, model: type[Wanted]) -> Entity[Wanted] | None:
        """The entity at ``ref`` if it is there and its spec is a ``model``; else None."""
        entity = self.entities.get(ref)
        return entity if entity is not None and has_spec(entity, model) else None

    @overload
    def of_kind(self, kind: Literal["provider"]) -> list[Entity[ProviderSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["datacenter"]) -> list[Entity[DatacenterSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["host"]) -> list[Entity[HostSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["person"]) -> list[Entity[PersonSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["team"]) -> list[Entity[TeamSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["service"]) -> list[Entity[ServiceSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["zone"]) -> list[Entity[ZoneSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["schedule"]) -> list[Entity[ScheduleSpec]]: ...
    @overload
    def of_kind(self, kind: Literal["escalationpolicy"]) -> list[Entity[EscalationPolicySpec]]: ...
    @overload
    def of_kind(self, kind: str) -> list[Entity]: ...
    def of_kind(self, kind: str) -> Sequence[Entity]:
        """The entities of ``kind`` in name order; a literal kind gives its spec's type."""
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
