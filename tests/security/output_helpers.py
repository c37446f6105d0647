"""Shared by the output tests: a catalog built from Python values (so text YAML cannot carry,
such as lone surrogates, reaches the renderers), docutils with Sphinx's roles, and the checks
each output format must pass."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import roles

from infradex.catalog import Catalog
from infradex.catalog.loading import build
from infradex.catalog.yaml_reader import RawDocument


def catalog_of(*documents: dict[str, Any]) -> Catalog:
    """A validated catalog of ``documents`` (``apiVersion`` added), or the test fails."""
    raw = [
        RawDocument(f"doc{n}.yaml", Path(f"doc{n}.yaml"), 1, 1, {"apiVersion": "infradex/v1", **d})
        for n, d in enumerate(documents)
    ]
    loaded = build(raw, None)
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


def _sphinx_role(name: str, rawtext: str, text: str, lineno: int, *args: Any, **kw: Any) -> Any:
    """Sphinx's :doc: and :ref: as docutils sees them: a reference node (infradex emits
    these; Sphinx itself is too slow for a property test)."""
    return [nodes.reference(rawtext, text, refuri=f"{name}:{text}")], []


roles.register_local_role("doc", _sphinx_role)
roles.register_local_role("ref", _sphinx_role)


def rst_doctree(source: str) -> nodes.document:
    """``source`` parsed by docutils with file insertion and raw enabled, as Sphinx allows."""
    return publish_doctree(
        source,
        settings_overrides={
            "report_level": 5,
            "halt_level": 5,
            "file_insertion_enabled": True,
            "raw_enabled": True,
            "warning_stream": False,
        },
    )


def _duplicate_title_note(node: nodes.Node) -> bool:
    """docutils' INFO note that two sections share a title: what equal catalog titles cause,
    harmless because every section has its own explicit target."""
    return (
        isinstance(node, nodes.system_message)
        and node.get("level") == 1
        and "Duplicate implicit target name" in node.astext()
    )


def node_kinds(tree: nodes.Node) -> list[str]:
    """The doctree's node classes in document order (text nodes and duplicate-title notes
    left out)."""
    notes = [n for n in tree.findall(_duplicate_title_note)]
    inside = {id(d) for note in notes for d in note.findall()}
    return [
        type(n).__name__
        for n in tree.findall()
        if not isinstance(n, nodes.Text) and id(n) not in inside
    ]


class _Shape(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.shape.append((tag, tuple(sorted(name for name, _ in attrs))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def html_shape(document: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every element, with its attribute names, in document order."""
    parser = _Shape()
    parser.feed(document)
    parser.close()
    return parser.shape


def hrefs(document: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', document)


def parse_svg(document: str) -> ET.Element:
    """Fails the test if ``document`` is not well-formed XML."""
    return ET.fromstring(document.encode("utf-8"))


def dot_accepts(dot: str, text: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [dot, "-Tsvg"], input=text.encode("utf-8"), capture_output=True, timeout=60, check=False
    )


# The Mermaid infradex writes, line by line: a strict grammar of that subset (no Mermaid
# parser runs here without downloading one). A label is letters, digits, harmless punctuation
# and entity codes; nothing else may appear.
_MERMAID_LINE = re.compile(
    r"flowchart LR"
    r'|  [A-Za-z0-9_]+\["(?:[^\W_]|[ .,\-_/:()\'@+?!=]|#\d+;)*"\]:::[a-z]+'
    r"|  [A-Za-z0-9_]+ (?:-->|-\.->)\|[A-Za-z]+\| [A-Za-z0-9_]+"
    r"|  classDef [a-z]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}"
)


def mermaid_problems(text: str) -> Iterator[str]:
    """Lines of ``text`` outside the Mermaid subset infradex emits."""
    assert text.endswith("\n")
    for line in text[:-1].split("\n"):
        if not _MERMAID_LINE.fullmatch(line):
            yield line


#: ESC, CSI and OSC in 7- and 8-bit form, other C0/C1 controls but newline, bidi overrides
TERMINAL_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
