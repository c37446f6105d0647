"""Full-text search over the catalog: names, titles, descriptions, domains, tags, people's
handles and contact addresses. Pure and indexed once per catalog."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.refs import Ref

__all__ = ["Hit", "search"]


@dataclass(frozen=True, slots=True)
class Hit:
    ref: Ref
    title: str
    score: int
    matched: str  # the field that matched best: name, title, domain, description, ...


def _fields(entity: Entity) -> list[tuple[str, str, int]]:
    """(field, lower-cased text, weight) for everything worth finding an entity by."""
    meta, spec = entity.metadata, entity.spec
    fields = [("name", entity.name, 5), ("title", meta.title or "", 5)]
    fields += [("domain", d, 5) for d in getattr(spec, "domains", [])]
    fields += [("tag", t, 3) for t in meta.tags]
    fields.append(("description", meta.description or "", 1))
    if entity.kind == "person":
        fields += [("email", spec.email or "", 4)]
        fields += [(f"handle:{k}", v, 4) for k, v in spec.handles.items()]
    fields += [("contact", c.address, 3) for c in getattr(spec, "contacts", [])]
    software = getattr(spec, "software", None)
    if software:
        fields.append(("software", software, 2))
    return [(name, text.lower(), weight) for name, text, weight in fields if text]


_INDEX: weakref.WeakKeyDictionary[Catalog, list[tuple[Ref, str, list[tuple[str, str, int]]]]]
_INDEX = weakref.WeakKeyDictionary()


def search(catalog: Catalog, query: str, limit: int = 50) -> list[Hit]:
    """Entities matching every word of ``query``, best first (exact beats prefix beats
    substring; names, titles and domains beat descriptions)."""
    words = [w for w in query.lower().split() if w]
    if not words:
        return []
    if catalog not in _INDEX:
        _INDEX[catalog] = [(e.ref, e.title, _fields(e)) for e in catalog.entities.values()]
    hits = []
    for ref, title, fields in _INDEX[catalog]:
        total, best, best_field = 0, 0, ""
        for word in words:
            word_score = 0
            for field, text, weight in fields:
                if text == word:
                    score = 100 * weight
                elif text.startswith(word):
                    score = 40 * weight
                elif word in text:
                    score = 10 * weight
                else:
                    continue
                if score > word_score:
                    word_score = score
                if score > best:
                    best, best_field = score, field
            if not word_score:
                break
            total += word_score
        else:
            hits.append(Hit(ref, title, total, best_field))
    hits.sort(key=lambda h: (-h.score, h.ref.kind, h.ref.name))
    return hits[:limit]
