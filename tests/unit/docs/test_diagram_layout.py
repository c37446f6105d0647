"""The SVG diagram: layered, ordered to cross less than name order does, labels that wrap
instead of being cut, and health slots only on the server's pages."""

from __future__ import annotations

import re

import pytest

from infradex.catalog import Catalog, LoadedCatalog, Ref
from infradex.catalog.queries import graph
from infradex.docs.diagram import LINE_CHARS, _layers, _order, crossings, label_lines, to_svg
from infradex.lint import load
from infradex.settings import embedded_example


@pytest.fixture(scope="module")
def psf() -> Catalog:
    loaded: LoadedCatalog = load(embedded_example())
    assert loaded.catalog is not None
    return loaded.catalog


def test_the_ordering_crosses_less_than_name_order(psf: Catalog) -> None:
    picture = graph(psf)
    layer = _layers(picture)
    by_name: list[list[Ref]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in picture.nodes:
        by_name[layer[node]].append(node)
    edges = [(s, t) for s, _, t in picture.edges]
    ordered = _order(picture, layer)
    assert sorted(map(sorted, ordered)) == sorted(map(sorted, by_name))  # same columns
    before, after = crossings(by_name, edges, layer), crossings(ordered, edges, layer)
    assert after < before * 0.7, (before, after)


def test_labels_wrap_between_words_and_end_in_an_ellipsis_only_past_two_lines() -> None:
    assert label_lines("Buildbot") == ["Buildbot"]
    assert label_lines("Oregon State University Open Source Lab") == [
        "Oregon State University",
        "Open Source Lab",
    ]
    long = label_lines("word " * 20)
    assert len(long) == 2 and long[1].endswith("…")
    assert all(len(line) <= LINE_CHARS for line in long)


def test_health_slots_only_on_the_servers_pages(psf: Catalog) -> None:
    picture = graph(psf)
    assert "<!--node-health:" not in to_svg(psf, picture)
    live = to_svg(psf, picture, live=True)
    slots = re.findall(r"<!--node-health:([a-z]+:[a-z0-9._-]+):\d+:\d+-->", live)
    assert sorted(slots) == sorted(str(n) for n in picture.nodes)
