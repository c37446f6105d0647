"""Property: arbitrary text in every catalog text field leaves every output's structure as it
is for plain text. HTML has the same elements and attributes, Markdown the same lines, the RST
doctree the same nodes, SVG stays well-formed XML, DOT parses with Graphviz, Mermaid stays in
the subset infradex writes, and the terminal gets no escape sequence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from infradex.catalog import Catalog
from infradex.catalog.queries import graph
from infradex.cli.main import app
from infradex.docs.diagram import to_dot, to_mermaid, to_svg
from infradex.docs.site import render_site
from system_tools import require_tool

from .output_helpers import (
    TERMINAL_UNSAFE,
    catalog_of,
    dot_accepts,
    html_shape,
    mermaid_problems,
    node_kinds,
    parse_svg,
    rst_doctree,
)

ATTACKS = [
    "\n\n.. include:: /etc/hostname\n\n",
    ".. raw:: html\n\n   <script>alert(1)</script>",
    ":field: x",
    "|sub| [1]_ x_ `t`_ :ref:`x` **b** *e*",
    "javascript:alert(1)",
    "a | b\n| c |",
    "](<javascript:1>) [x](y) >) ] <",
    "<img src=x onerror=alert(1)><b>",
    "`code` ``lit``",
    "&amp; &#60;",
    "trailing backslash \\",
    '" quote \\N \\l',
    "\x00\x07\x1b[2J\x1b]8;;https://evil/\x07link\x1b]8;;\x07\x9b31m",
    "\u202eevil\u2066x\u2069 \u200f",
    "[bold]b[/bold] [link=https://evil/]x[/link]",
    "[/x] [/] [bold",
    "\r\n- item\n1. one\n# h\n> q\n    code\n====",
    "#35; #quot; click x href",
    "\ud800 lone \udfff",
    "\ufffe\uffff \x85 \u2028 \u2029",
    "🐍 語",
]
_pieces = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(st.characters(exclude_categories=[]), max_size=12),
)
hostile = (
    st.lists(_pieces, min_size=1, max_size=4)
    .map("".join)
    # text of control characters alone renders as nothing, which changes the page's shape
    # without being markup: every generated text has something to show
    .filter(lambda text: any(c.isprintable() and not c.isspace() for c in text))
)

#: every catalog text field the generated outputs show, by a short name
FIELDS = [
    "provider_title",
    "description",
    "region",
    "dc_title",
    "host_title",
    "role",
    "os",
    "team_title",
    "person_title",
    "service_title",
    "software",
    "tag",
    "link_title",
    "link_path",
    "contact",
    "irc_network",
    "other_title",
]


def _documents(text: Callable[[str], str]) -> list[dict[str, Any]]:
    t = text
    return [
        {
            "kind": "Provider",
            "metadata": {
                "name": "p",
                "title": t("provider_title"),
                "description": t("description"),
            },
            "spec": {"type": "iaas"},
        },
        {
            "kind": "Datacenter",
            "metadata": {"name": "dc", "title": t("dc_title")},
            "spec": {"provider": "provider:p", "region": t("region")},
        },
        {
            "kind": "Host",
            "metadata": {"name": "h", "title": t("host_title")},
            "spec": {"datacenter": "datacenter:dc", "role": t("role"), "os": t("os")},
        },
        {
            "kind": "Person",
            "metadata": {
                "name": "ann",
                "title": t("person_title"),
                "description": t("description"),
            },
            "spec": {"memberOf": ["team:t"]},
        },
        {
            "kind": "Team",
            "metadata": {"name": "t", "title": t("team_title")},
            "spec": {
                "contacts": [
                    {"type": "irc", "address": t("contact"), "network": t("irc_network")},
                    {
                        "type": "url",
                        "address": "https://example.org/" + quote(t("link_path"), errors="replace"),
                    },
                ]
            },
        },
        {
            "kind": "Service",
            "metadata": {
                "name": "web",
                "title": t("service_title"),
                "description": t("description"),
                "tags": [t("tag")],
                "links": [
                    {
                        "url": "https://example.org/" + quote(t("link_path"), errors="replace"),
                        "title": t("link_title"),
                    }
                ],
            },
            "spec": {
                "software": t("software"),
                "hostedOn": ["host:h"],
                "dependsOn": ["service:other"],
                "owners": [{"ref": "person:ann"}, {"ref": "team:t"}],
                "contacts": [{"type": "matrix", "address": t("contact")}],
            },
        },
        {"kind": "Service", "metadata": {"name": "other", "title": t("other_title")}, "spec": {}},
    ]


def _clean(field: str) -> str:
    return field.replace("_", " ")  # distinct per field: equal titles would change the RST


def _check_docs(clean: Catalog, dirty: Catalog) -> None:
    plain_html, html = render_site(clean, "html"), render_site(dirty, "html")
    for name, document in html.items():
        if name.endswith(".html"):
            # backticks in text become <code> spans (as hints write them): inert, not compared
            shape = [e for e in html_shape(document) if e[0] != "code"]
            # sorted: services are listed by title, so rows may change places
            assert sorted(shape) == sorted(html_shape(plain_html[name])), name
    plain_md, md = render_site(clean, "markdown"), render_site(dirty, "markdown")
    for name, text in md.items():
        if name.endswith(".md"):
            assert len(text.split("\n")) == len(plain_md[name].split("\n")), name
            tables = [line for line in text.split("\n") if line.startswith("| ")]
            assert [len(row.replace("\\|", "").split("|")) for row in tables] == [
                len(row.split("|")) for row in plain_md[name].split("\n") if row.startswith("| ")
            ], name
        else:
            parse_svg(text)
    plain_rst, rst = render_site(clean, "rst"), render_site(dirty, "rst")
    for name, text in rst.items():
        if name.endswith(".rst"):
            kinds = sorted(node_kinds(rst_doctree(text)))
            assert kinds == sorted(node_kinds(rst_doctree(plain_rst[name]))), name


@pytest.fixture(scope="module")
def dot() -> str:
    return require_tool("dot")


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(texts=st.fixed_dictionaries({field: hostile for field in FIELDS}))
def test_any_catalog_text_is_inert_in_every_output(
    texts: dict[str, str], dot: str, tmp_path: Path
) -> None:
    clean = catalog_of(*_documents(_clean))
    dirty = catalog_of(*_documents(texts.__getitem__))
    _check_docs(clean, dirty)
    picture = graph(dirty)
    parse_svg(to_svg(dirty, picture))
    parse_svg(to_svg(dirty, picture, live=True))  # with the server's health slots
    assert list(mermaid_problems(to_mermaid(dirty, picture))) == []
    result = dot_accepts(dot, to_dot(dirty, picture))
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    parse_svg(result.stdout.decode())


def _terminal_outputs_are_inert(text: Callable[[str], str], root: Path) -> None:
    documents = [{"apiVersion": "infradex/v1", **d} for d in _documents(text)]
    (root / "all.yaml").write_text(yaml.safe_dump_all(documents), encoding="utf-8")
    env = {"INFRADEX_CATALOG": str(root), "COLUMNS": "200"}
    runner = CliRunner()
    for args in (
        ["list", "services"],
        ["list", "hosts"],
        ["show", "service:web"],
        ["show", "provider:p"],
        ["who", "service:web"],
        ["impact", "provider:p"],
        ["ownership"],
        ["list", "services", "--format", "json"],
    ):
        result = runner.invoke(app, args, env=env)
        # an exception (rich's MarkupError on "[/x]", say) is a failure too, not only a code
        assert result.exit_code == 0 and result.exception is None, (args, result.output)
        assert not TERMINAL_UNSAFE.search(result.stdout), (args, result.stdout)


def _yaml_text(raw: str) -> str:
    # YAML cannot carry lone surrogates; everything else goes through the real loader
    return raw.encode("utf-8", "replace").decode("utf-8")


@pytest.mark.parametrize("attack", ATTACKS, ids=range(len(ATTACKS)))
def test_each_known_attack_reaches_the_terminal_inert(attack: str, tmp_path: Path) -> None:
    # every field at once holds the attack: the property test below samples these only
    # sometimes, and an unbalanced "[/x]" once crashed `show` with a markup error
    _terminal_outputs_are_inert(lambda _field: _yaml_text(attack), tmp_path)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(texts=st.fixed_dictionaries({field: hostile for field in FIELDS}))
def test_any_catalog_text_reaches_the_terminal_without_escapes(
    texts: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    _terminal_outputs_are_inert(
        lambda field: _yaml_text(texts[field]), tmp_path_factory.mktemp("catalog")
    )
