"""One error never hides another: a catalog with several independent errors, among them
references that later passes (warnings, on-call, escalation) would resolve, reports every one
with its file and line, in text and in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infradex.cli.main import app
from infradex.lint import load

FILES = {
    "people.yaml": """\
    apiVersion: infradex/v1
    kind: Person
    metadata: {name: ann}
    spec: {email: ann@example.org}
    ---
    apiVersion: infradex/v1
    kind: Person
    metadata: {name: carol}
    spec: {email: carol@example.org, tz: UTC}
    """,
    "teams.yaml": """\
    apiVersion: infradex/v1
    kind: Team
    metadata: {name: infra}
    spec:
      members: [ann]
      escalation: paging-polcy
    """,
    "oncall.yaml": """\
    apiVersion: infradex/v1
    kind: Schedule
    metadata: {name: primary}
    spec:
      layers:
        - name: week
          members: [ann, carl, team:infra, "person:"]
          start: 2024-01-01T09:00
      overrides:
        - {person: bobby, start: 2024-02-01T09:00, end: 2024-02-02T09:00}
    ---
    apiVersion: infradex/v1
    kind: EscalationPolicy
    metadata: {name: paging}
    spec:
      steps:
        - after: 0m
          notify: [schedule:primery, person:nobody, team:infra]
    """,
    "services.yaml": """\
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: docs}
    spec:
      owners: [{ref: team:infar}]
      escalation: paging
      checks:
        - name: home
          url: https://docs.example.org/
          locations: [ams9]
          conditions: ["[STATUS] === 200"]
    """,
    "zones.yaml": """\
    apiVersion: infradex/v1
    kind: Zone
    metadata: {name: example.org}
    spec:
      provider: nowhere-dns
      records:
        www: {type: CNAME, value: docs.example.org.}
    """,
}

#: (file, line, text in the message or hint) of every error the catalog above holds
EXPECTED = [
    ("oncall.yaml", 7, "person:carl does not exist"),
    ("oncall.yaml", 7, "takes Person"),  # team:infra in a layer
    ("oncall.yaml", 7, "person:"),  # an empty name
    ("oncall.yaml", 10, "person:bobby does not exist"),
    ("oncall.yaml", 18, "schedule:primery does not exist"),
    ("oncall.yaml", 18, "person:nobody does not exist"),
    ("people.yaml", 9, "unknown field `tz`"),
    ("services.yaml", 5, "team:infar does not exist"),
    ("services.yaml", 10, "datacenter:ams9 does not exist"),
    ("services.yaml", 11, "unknown operator '==='"),
    ("teams.yaml", 6, "escalationpolicy:paging-polcy does not exist"),
    ("zones.yaml", 5, "provider:nowhere-dns does not exist"),
]


@pytest.fixture
def broken(tmp_path: Path, write_catalog) -> Path:  # type: ignore[no-untyped-def]
    return write_catalog(tmp_path / "catalog", FILES)  # type: ignore[no-any-return]


def _matches(found: list[tuple[str, int | None, str]]) -> None:
    for file, line, text in EXPECTED:
        assert any(f == file and n == line and text in t for f, n, t in found), (
            file,
            line,
            text,
            found,
        )
    assert all(line is not None for _, line, _ in found), found


def test_every_error_is_reported_with_its_line(broken: Path) -> None:
    loaded = load(broken)
    assert loaded.catalog is None
    _matches([(p.file or "", p.line, f"{p.message} {p.hint}") for p in loaded.errors])


def test_validate_prints_every_error_in_text(broken: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(broken)], env={"INFRADEX_CATALOG": ""})
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if ": error: " in line]
    found = []
    for line in lines:
        location, _, text = line.partition(": error: ")
        file, _, rest = location.partition(":")
        found.append((file, int(rest.split(":")[0]), text))
    _matches(found)
    assert f"✗ {len(lines)} error(s)" in result.stdout


def test_validate_prints_every_error_in_json(broken: Path) -> None:
    result = CliRunner().invoke(
        app, ["validate", str(broken), "--format", "json"], env={"INFRADEX_CATALOG": ""}
    )
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    _matches([(e["file"], e["line"], f"{e['message']} {e['hint']}") for e in body["errors"]])
