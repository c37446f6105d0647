"""Full-text search over the catalog: names, titles, descriptions, domains, tags, people's
handles and contact addresses. Pure and indexed once per catalog."""

from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass

from infradex.catalog.entities import Catalog, Entity, has_spec
from infradex.catalog.models import PersonSpec, ServiceSpec
from infradex.catalog.refs import Ref
from infradex.catalog.specs import spec_contacts

__all__ = ["Hit", "search"]


@dataclass(frozen=True, slots=True)
class Hit:
    ref: Ref
    title: str
    score: int
    matched: str  # the field that matched best: name, title, domain, description, ...


def _fields(entity: Entity) -> list[tuple[str, str, int]]:
    """(field, lower-cased text, weight) for everything worth finding an entity by."""
    meta = entity.metadata
    service = entity.spec if has_spec(entity, ServiceSpec) else None
    fields = [("name", entity.name, 5), ("title", meta.title or "", 5)]
    fields += [("domain", d, 5) for d in (service.domains if service else [])]
    fields += [("tag", t, 3) for t in meta.tags]
    fields.append(("description", meta.description or "", 1))
    if has_spec(entity, PersonSpec):
        fields += [("email", entity.spec.email or "", 4)]
        fields += [(f"handle:{k}", v, 4) for k, v in entity.spec.handles.items()]
    fields += [("contact", c.address, 3) for c in spec_contacts(entity)]
    if service and service.software:
        fields.append(("software", service.software, 2))
    return [(name, text.lower(), weight) for name, text, weight in fields if text]


_Entry = tuple[Ref, str, list[tuple[str, str, int]]]


class _Index:
    """Every entity's searchable text in one string, so that finding which entities contain a
    word is a run of ``str.find`` (in C), not a loop over all entities."""

    def __init__(self, catalog: Catalog) -> None:
        self.entries: list[_Entry] = []
        texts, self.starts, offset = [], [], 0
        for entity in catalog.entities.values():
            fields = _fields(entity)
            self.entries.append((entity.ref, entity.title, fields))
            text = "\x00".join(f for _, f, _ in fields) + "\x01"
            texts.append(text)
            self.starts.append(offset)
            offset += len(text)
        self.text = "".join(texts)

    def containing(self, word: str) -> set[int]:
        found: set[int] = set()
        position = self.text.find(word)
        while position != -1:
            index = bisect.bisect_right(self.starts, position) - 1
            found.add(index)
            next_start = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
            position = self.text.find(word, next_start)  # on to the next entity
        return found


_INDEX: weakref.WeakKeyDictionary[Catalog, _Index] = weakref.WeakKeyDictionary()


def search(catalog: Catalog, query: str, limit: int = 50) -> list[Hit]:
    """Entities matching every word of ``query``, best first (exact beats prefix beats
    substring; names, titles and domains beat descriptions)."""
    words = [w for w in query.lower().split() if w and "\x00" not in w and "\x01" not in w]
    if not words:
        return []
    index = _INDEX.get(catalog) or _INDEX.setdefault(catalog, _Index(catalog))
    candidates = index.containing(words[0])
    for word in words[1:]:
        candidates &= index.containing(word)
    hits = []
    for position in sorted(candidates):
        ref, title, fields = index.entries[position]
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
