"""Search: every word must match somewhere; exact beats prefix beats substring."""

from __future__ import annotations

from infradex.catalog import Catalog
from infradex.catalog.search import search


def test_exact_name_beats_substring(psf: Catalog) -> None:
    hits = search(psf, "docs")
    assert str(hits[0].ref) == "service:docs"
    assert {str(h.ref) for h in hits} >= {"host:docs0-nyc1", "host:docs1-nyc1"}


def test_every_word_must_match(psf: Catalog) -> None:
    assert [str(h.ref) for h in search(psf, "fastly cdn")] == ["provider:fastly"]
    assert search(psf, "fastly nonsense-word") == []


def test_people_by_handle_and_contacts_by_address(psf: Catalog) -> None:
    assert str(search(psf, "JulienPalard")[0].ref) == "person:julien-palard"
    hits = search(psf, "infrastructure-staff@python.org")
    assert {str(h.ref) for h in hits} == {"team:infrastructure", "service:jython-web"}
    assert {h.matched for h in hits} == {"contact"}


def test_empty_and_separator_queries_find_nothing(psf: Catalog) -> None:
    assert search(psf, "   ") == []
    assert search(psf, "\x00") == []


def test_limit(psf: Catalog) -> None:
    assert len(search(psf, "python", limit=3)) == 3
