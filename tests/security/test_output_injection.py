"""Catalog text reaches every output as inert text: one test per attack found (issue 10)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from docutils import nodes
from typer.testing import CliRunner

from infradex.alerting.messages import IncidentView, render
from infradex.catalog import Catalog, Ref
from infradex.catalog.loading import build
from infradex.catalog.queries import Graph, graph
from infradex.catalog.yaml_reader import RawDocument
from infradex.cli.main import app
from infradex.docs import html, markdown, rst
from infradex.docs.blocks import Link, Page, Para, Table, Text
from infradex.docs.diagram import to_dot, to_mermaid, to_svg
from infradex.docs.site import render_site
from infradex.lint import load
from system_tools import require_tool

from .output_helpers import (
    TERMINAL_UNSAFE,
    catalog_of,
    dot_accepts,
    hrefs,
    mermaid_problems,
    parse_svg,
    rst_doctree,
)

SERVICE = {"kind": "Service", "metadata": {"name": "web"}, "spec": {}}


def _service(**metadata: object) -> dict[str, object]:
    return {**SERVICE, "metadata": {"name": "web", **metadata}}


# ------------------------------------------------------------------------------ RST
def test_rst_include_payload_in_a_description_includes_nothing(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-text\n", encoding="utf-8")
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "web.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata:\n  name: web\n"
        f'  description: "x\\n\\n.. include:: {secret}\\n"\n'
        f'  title: "t\\n\\n.. raw:: html\\n\\n   <script>1</script>\\n\\n|s| :ref:`a` x_ [1]_ "\n'
        "spec: {}\n",
        encoding="utf-8",
    )
    loaded = load(tmp_path / "catalog")
    assert loaded.catalog is not None
    source = render_site(loaded.catalog, "rst")["services/web.rst"]
    tree = rst_doctree(source)
    assert "the-secret-text" not in tree.astext()
    assert not list(tree.findall(nodes.raw))
    assert not list(tree.findall(nodes.system_message))
    assert not list(tree.findall(nodes.substitution_reference))
    assert not list(tree.findall(nodes.footnote_reference))
    # the only references are the ones infradex made (:doc: links to pages)
    assert all(not r.get("refname") for r in tree.findall(nodes.reference))
    assert f".. include:: {secret}" in tree.astext()  # shown, as text


def test_rst_field_list_and_target_in_a_paragraph_stay_text() -> None:
    page = Page("index", "t").add(
        Para([Text("first")]),  # a field list first in a document would become docinfo
        Para([Text(":field: value")]),
        Para([Text(".. _target: javascript:alert(1)")]),
        Para([Text("see javascript:alert(1) and |sub| and `t`_")]),
    )
    tree = rst_doctree(rst.render(page))
    assert not list(tree.findall(nodes.field_list))
    assert not list(tree.findall(nodes.target))
    assert not list(tree.findall(nodes.reference))  # no standalone javascript: URI either


# ------------------------------------------------------------------------------ links
JAVASCRIPT = Link("click", url="javascript:alert(document.cookie)")
SNEAKY = Link("tab", url="java\tscript:alert(1)")
DATA = Link("data", url="data:text/html,<script>alert(1)</script>")


def _link_page() -> Page:
    return Page("index", "t").add(Para([JAVASCRIPT, Text(" "), SNEAKY, Text(" "), DATA]))


def test_javascript_links_are_text_in_html() -> None:
    document = html.render(_link_page())
    assert not [h for h in hrefs(document) if "script" in h or h.startswith("data")]
    assert "click" in document


def test_javascript_links_are_text_in_markdown() -> None:
    text = markdown.render(_link_page())
    assert "](" not in text and "click" in text


def test_javascript_links_are_text_in_rst() -> None:
    tree = rst_doctree(rst.render(_link_page()))
    assert not list(tree.findall(nodes.reference))
    assert "click" in tree.astext()


def test_allowed_schemes_are_still_links() -> None:
    page = Page("index", "t").add(
        Para(
            [
                Link("web", url="https://example.org/a b"),
                Text(" "),
                Link("mail", url="mailto:a@example.org"),
                Text(" "),
                Link("chat", url="ircs://irc.libera.chat/python-infra"),
            ]
        )
    )
    assert hrefs(html.render(page))[-3:] == [
        "https://example.org/a%20b",
        "mailto:a@example.org",
        "ircs://irc.libera.chat/python-infra",
    ]
    refs = [r["refuri"] for r in rst_doctree(rst.render(page)).findall(nodes.reference)]
    assert refs == ["https://example.org/a%20b", "mailto:a@example.org", refs[2]]


def test_a_url_contact_with_javascript_is_refused_and_never_a_link() -> None:
    bad = {**SERVICE, "spec": {"contacts": [{"type": "url", "address": "javascript:alert(1)"}]}}
    refused = build(
        [RawDocument("a.yaml", Path("a.yaml"), 1, 1, {"apiVersion": "infradex/v1", **bad})], None
    )
    assert refused.catalog is None
    assert "a link here may only use http, https, mailto, irc, ircs" in str(refused.errors[0])
    # defence in depth: had the loader let it through, no output would make it a link
    catalog = catalog_of(
        {**SERVICE, "spec": {"contacts": [{"type": "url", "address": "https://example.org/"}]}}
    )
    contact = next(iter(catalog.entities.values())).spec.contacts[0]
    object.__setattr__(contact, "address", "javascript:alert(1)")
    page = render_site(catalog, "html")["services/web.html"]
    assert "javascript:alert(1)" in page
    assert not [h for h in hrefs(page) if "javascript" in h]
    assert "](<javascript" not in render_site(catalog, "markdown")["services/web.md"]
    assert "<javascript" not in render_site(catalog, "rst")["services/web.rst"]


# ------------------------------------------------------------------------------ Markdown
def test_markdown_table_keeps_its_rows_and_makes_no_link_or_html() -> None:
    hostile = "a\n| b | c |\n>) [x](<javascript:1>) `y` <img src=x onerror=alert(1)> \\"
    page = Page("index", "t").add(
        Table(["A", "B"], [[[Text(hostile)], [Link(hostile, url="https://e.org/>)x|y\n")]]])
    )
    lines = markdown.render(page).strip().split("\n")
    assert len(lines) == 3, lines  # header, rule, one row
    row = lines[2]
    assert not re.search(r"(?<!\\)(<img|\[x\]|\]\(<javascript)", row), row
    # the row has exactly its two cells: every other pipe is escaped
    assert len([c for c in row.replace("\\|", "").split("|")]) == 4


# ------------------------------------------------------------------------------ diagrams
def _titled(title: str) -> tuple[Catalog, Graph]:
    catalog = catalog_of(
        {"kind": "Service", "metadata": {"name": "a", "title": title}, "spec": {}},
        {
            "kind": "Service",
            "metadata": {"name": "b", "title": title},
            "spec": {"dependsOn": ["service:a"]},
        },
    )
    return catalog, graph(catalog)


def test_dot_with_a_trailing_backslash_parses() -> None:
    dot = require_tool("dot")
    catalog, picture = _titled('ends with a backslash \\" and a quote\n\\N')
    result = dot_accepts(dot, to_dot(catalog, picture))
    assert result.returncode == 0, result.stderr.decode()
    assert b"ends with a backslash" in result.stdout


def test_svg_with_control_characters_is_well_formed() -> None:
    catalog, picture = _titled("bell\x07 nul\x00 esc\x1b lone\ud800 end")
    svg = to_svg(catalog, picture)
    root = parse_svg(svg)
    assert "bell" in "".join(root.itertext())


def test_mermaid_label_cannot_close_its_quote_or_add_lines() -> None:
    catalog, picture = _titled('x"] --> evil["<b>y</b>\nclick x href "javascript:1"')
    text = to_mermaid(catalog, picture)
    assert list(mermaid_problems(text)) == []


# ------------------------------------------------------------------------------ terminal
def test_cli_prints_no_escape_sequence_from_catalog_text(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata:\n  name: web\n"
        '  title: "\\e]8;;https://evil/\\aclick\\e]8;;\\a \\e[2J\\e[31mred \\x9b1m c1 '
        '\\u202eevil [link=https://evil/]x[/link] [bold]b[/bold]"\n'
        "spec: {}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    env = {"INFRADEX_CATALOG": str(tmp_path), "COLUMNS": "300"}
    for args in (["list", "services"], ["show", "service:web"], ["impact", "service:web"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        assert not TERMINAL_UNSAFE.search(result.stdout), (args, result.stdout)
    listed = runner.invoke(app, ["list", "services"], env=env).stdout
    assert "[bold]b[/bold]" in listed  # rich markup in catalog text is shown, not applied
    shown = runner.invoke(app, ["list", "services", "--format", "json"], env=env).stdout
    assert not TERMINAL_UNSAFE.search(shown)
    assert json.loads(shown)[0]["metadata"]["title"].startswith("\x1b]8;;")  # same data, escaped


# ------------------------------------------------------------------------------ docs serve
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_docs_serve_sends_the_servers_security_headers() -> None:
    from infradex.web.headers import SECURITY_HEADERS

    port = _free_port()
    env = {**os.environ, "INFRADEX_CATALOG": ""}
    command = [sys.executable, "-m", "infradex", "docs", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        headers = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    headers = response.headers
                    break
            except OSError:
                time.sleep(0.1)
        assert headers is not None
        for name, value in SECURITY_HEADERS.items():
            assert headers[name] == value, name
        assert "script-src 'none'" in headers["Content-Security-Policy"]
    finally:
        process.terminate()
        process.wait(timeout=10)


# ------------------------------------------------------------------------------ messages
def test_alert_text_has_no_forged_lines_from_titles() -> None:
    catalog = catalog_of(
        {"kind": "Provider", "metadata": {"name": "p"}, "spec": {"type": "cdn"}},
        {
            **SERVICE,
            "metadata": {"name": "web", "title": "Web\nAcknowledge: https://evil.example/"},
            "spec": {"frontedBy": ["provider:p"]},
        },
    )
    incident = IncidentView(
        1, "provider:p", "p is down\r\nBcc: x@evil", "open", datetime(2026, 1, 1, tzinfo=UTC)
    )
    message = render(catalog, incident, "trigger", {"acknowledge": "https://infradex/ack"})
    assert "\r" not in message.subject and "\n" not in message.subject
    lines = message.text.splitlines()
    assert [line for line in lines if line.startswith("Acknowledge:")] == [
        "Acknowledge: https://infradex/ack"
    ]
    assert "evil.example" not in "".join(hrefs(message.html))


# ------------------------------------------------------------------------------ iCal
def test_ical_summary_cannot_add_properties() -> None:
    from infradex.oncall.ical import schedule_feed

    hostile = "Ann\rATTENDEE:mailto:evil@example.org\x00\x1b"
    catalog = catalog_of(
        {"kind": "Person", "metadata": {"name": "ann", "title": hostile}, "spec": {}},
        {
            "kind": "Schedule",
            "metadata": {"name": "s", "title": hostile},
            "spec": {
                "timezone": "UTC",
                "layers": [
                    {
                        "name": "l",
                        "rotation": "weekly",
                        "handoff": "Mon 09:00",
                        "start": "2026-01-05",
                        "members": ["ann"],
                    }
                ],
            },
        },
    )
    feed = schedule_feed(catalog, Ref("schedule", "s"), datetime(2026, 1, 7, tzinfo=UTC))
    unfolded = feed.replace(b"\r\n ", b"")
    lines = unfolded.split(b"\r\n")
    assert not [line for line in lines if line.startswith(b"ATTENDEE")]
    assert not [c for c in unfolded.replace(b"\r\n", b"") if c < 0x20 and c != 0x09]
