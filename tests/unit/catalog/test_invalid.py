"""Every kind of error the catalog format defines, one small fixture catalog each
(``tests/fixtures/invalid/<case>/``), plus the cases that need a temporary directory.

Expected lines and columns are counted by hand from the fixture files (1-based).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from infradex.catalog import LoadedCatalog
from infradex.catalog.problems import Problem
from infradex.catalog.yaml_reader import read_yaml_text
from infradex.lint import load

INVALID = Path(__file__).resolve().parents[2] / "fixtures" / "invalid"


@dataclass(frozen=True)
class Expected:
    case: str
    code: str
    file: str
    line: int | None
    column: int | None  # None: not checked
    entity: str | None
    field: str | None
    text: str  # must appear in the message or the hint


CASES = [
    Expected(
        "yaml-syntax",
        "yaml-syntax",
        "providers.yaml",
        6,
        12,  # the second colon of `  type: cdn: donated`
        None,
        None,
        "mapping values are not allowed",
    ),
    Expected(
        "non-utf8",
        "encoding",
        "maintainers.yaml",
        5,
        19,  # `  title: Marc-Andr` is 18 bytes, then the Latin-1 é (0xe9)
        None,
        None,
        "byte 0xe9 is not valid UTF-8",
    ),
    Expected(
        "nul-byte",
        "yaml-character",
        "people.yaml",
        5,
        15,  # `  title: "Ann ` is 14 characters, then the NUL
        None,
        None,
        "character U+0000 is not allowed in YAML",
    ),
    Expected(
        "unknown-kind",
        "unknown-kind",
        "services.yaml",
        3,  # line 1 is a comment
        1,
        None,
        "kind",
        "did you mean Service?",
    ),
    Expected(
        "unknown-field",
        "unknown-field",
        "services.yaml",
        7,
        3,
        "service:docs",
        "spec.hostedon",
        "did you mean `hostedOn`?",
    ),
    Expected(
        "bad-slug",
        "invalid-value",
        "services.yaml",
        4,
        3,
        None,  # the name is the broken part, so the label is not checked
        "metadata.name",
        "'Docs Python' is not a valid name",
    ),
    Expected(
        "dangling-reference",
        "dangling-reference",
        "services.yaml",
        9,
        None,
        "service:docs",
        "spec.hostedOn[1]",
        "did you mean host:docs0-nyc1?",
    ),
    Expected(
        "wrong-kind",
        "wrong-kind",
        "hosts.yaml",
        6,
        None,
        "host:docs0-nyc1",
        "spec.datacenter",
        "provider:digitalocean is a Provider, but this field takes Datacenter",
    ),
    Expected(
        "dependson-cycle",
        "cycle",
        "gamma.yaml",
        7,
        None,
        "service:gamma",
        "spec.dependsOn",
        "service:alpha --dependsOn--> service:beta --dependsOn--> service:gamma"
        " --dependsOn--> service:alpha",
    ),
    Expected(
        "invalid-check-url",
        "invalid-value",
        "services.yaml",
        9,
        7,
        "service:docs",
        "spec.checks[0].url",
        "'ftp://docs.python.org/3/': the scheme picks the probe",
    ),
    Expected(
        "invalid-duration",
        "invalid-value",
        "services.yaml",
        10,
        7,
        "service:docs",
        "spec.checks[0].interval",
        "'5 minutes' is not a duration",
    ),
    Expected(
        "invalid-condition",
        "invalid-value",
        "services.yaml",
        12,
        11,
        "service:docs",
        "spec.checks[0].conditions[1]",
        "unknown placeholder [STATSU]; did you mean [STATUS]?",
    ),
    Expected(
        "invalid-timezone",
        "invalid-value",
        "people.yaml",
        14,
        3,
        "person:bob",
        "spec.timezone",
        "'Europe/Amsterdm' is not an IANA time zone",
    ),
    Expected(
        "invalid-enum",
        "invalid-value",
        "services.yaml",
        6,
        3,
        "service:docs",
        "spec.lifecycle",
        "did you mean production?",
    ),
    Expected(
        "invalid-dependency-effect",
        "invalid-value",
        "services.yaml",
        7,
        None,
        "service:speed",
        "spec.dependsOn[0].effect",
        "write one of down, degraded",
    ),
    Expected(
        "zone-file-missing",
        "zone-file",
        "zones.yaml",
        7,
        None,
        "zone:example.org",
        "spec.file",
        "zone file 'zones/example.org.yaml' does not exist",
    ),
    Expected(
        "zone-file-unsorted",
        "zone-record",
        "zones/example.org.yaml",
        8,  # `api:` comes after `www:`
        None,
        "zone:example.org",
        "spec.file",
        "record 'api': comes after 'www'",
    ),
    Expected(
        "zone-file-bad-record",
        "zone-record",
        "zones/example.org.yaml",
        9,
        None,
        "zone:example.org",
        "spec.file",
        'invalid IPv4 address "192.0.2.300"',
    ),
    Expected(
        "zone-file-cname-no-dot",
        "zone-record",
        "zones/example.org.yaml",
        4,
        None,
        "zone:example.org",
        "spec.file",
        "CNAME target 'example.org.cdn.example.net' does not end with a dot",
    ),
    Expected(
        "zone-file-yaml-syntax",  # reported once, though the zone file is read for its Zone too
        "yaml-syntax",
        "zones/example.org.yaml",
        4,
        None,
        None,
        None,
        "did not find expected ',' or ']'",
    ),
    Expected(
        "missing-api-version",
        "api-version",
        "services.yaml",
        9,  # the second document starts after `---` and a comment
        1,
        "service:docs",
        "apiVersion",
        "write `apiVersion: infradex/v1`",
    ),
    Expected(
        "missing-kind",
        "missing-kind",
        "zones/example.org.yaml",  # a stray octoDNS file that no Zone references
        2,
        1,
        None,
        None,
        "reference it from a Zone's spec.file",
    ),
    Expected(
        "duplicate-key",
        "duplicate-key",
        "services.yaml",
        9,
        3,
        None,
        None,
        "key 'lifecycle' appears twice in one mapping (first on line 7)",
    ),
]


def _describe(problems: list[Problem]) -> list[str]:
    return [f"{p.code} {p}" for p in problems]


def _check(result: LoadedCatalog, expected: Expected) -> None:
    assert result.catalog is None
    errors = result.errors
    assert len(errors) == 1, _describe(errors)
    error = errors[0]
    assert error.severity == "error"
    assert error.code == expected.code
    assert error.file == expected.file
    assert error.line == expected.line
    if expected.column is not None:
        assert error.column == expected.column
    if expected.entity is not None:
        assert error.entity == expected.entity
    assert error.field == expected.field
    assert expected.text in f"{error.message} {error.hint}"
    # the printed form leads with file:line, as an editor wants it
    assert str(error).startswith(f"{expected.file}:{expected.line}")


@pytest.mark.parametrize("expected", [pytest.param(c, id=c.case) for c in CASES])
def test_invalid_fixture(expected: Expected) -> None:
    _check(load(INVALID / expected.case), expected)


def test_every_fixture_directory_has_a_case() -> None:
    cases = {c.case for c in CASES} | {"duplicate-name"}
    assert {d.name for d in INVALID.iterdir() if d.is_dir()} == cases


def test_duplicate_name_reports_both_places() -> None:
    result = load(INVALID / "duplicate-name")
    assert result.catalog is None
    errors = result.errors
    assert [(e.code, e.file, e.line, e.entity, e.field) for e in errors] == [
        ("duplicate-name", "more-services.yaml", 6, "service:docs", "metadata.name"),
        ("duplicate-name", "services.yaml", 11, "service:docs", "metadata.name"),
    ]
    # each one points at the other place
    assert "here and at services.yaml:" in errors[0].message
    assert "here and at more-services.yaml:" in errors[1].message
    assert errors[0].hint == "rename one of them or delete the copy"


def test_error_hints_are_not_empty_where_a_fix_is_known() -> None:
    for case in ("unknown-kind", "unknown-field", "dangling-reference", "missing-kind"):
        (error,) = load(INVALID / case).errors
        assert error.hint, case


# --------------------------------------------------------------------------- tmp_path cases
def test_empty_directory(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    root.mkdir()
    result = load(root)
    assert result.catalog is None
    (error,) = result.errors
    assert error.code == "empty-catalog"
    assert error.file == str(root)
    assert error.line is None
    assert "no *.yaml or *.yml files" in error.message
    assert "docs/catalog.md" in error.hint


def test_directory_without_yaml_files_is_empty(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# not a catalog\n")
    (tmp_path / ".hidden.yaml").write_text("kind: Service\n")  # hidden files are skipped
    (error,) = load(tmp_path).errors
    assert error.code == "empty-catalog"


def test_missing_directory(tmp_path: Path) -> None:
    root = tmp_path / "nowhere"
    (error,) = load(root).errors
    assert error.code == "missing-catalog"
    assert error.file == str(root)
    assert "directory of *.yaml files" in error.hint


def test_symlink_loop(tmp_path: Path, write_catalog) -> None:
    root = write_catalog(
        tmp_path / "catalog",
        {
            "people.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec: {email: ann@example.org}
            """
        },
    )
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "loop")  # sub/loop -> catalog/
    result = load(root)
    assert result.catalog is None
    (error,) = result.errors
    assert error.code == "symlink-loop"
    assert error.file == "sub/loop"
    assert error.line is None
    assert "leads back to a directory already read" in error.message
    assert "symbolic link" in error.hint


def test_broken_symlink(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone.yaml", tmp_path / "services.yaml")
    (error,) = load(tmp_path).errors
    assert error.code == "broken-symlink"
    assert error.file == "services.yaml"


def test_a_single_file_can_be_loaded(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "one.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec: {email: ann@example.org}
            ---
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: Bob}
            spec: {}
            """
        },
    )
    (error,) = load(tmp_path / "one.yaml").errors
    assert (error.code, error.file, error.line, error.field) == (
        "invalid-value",
        "one.yaml",
        8,
        "metadata.name",
    )


def test_not_a_mapping(tmp_path: Path, write_catalog) -> None:
    write_catalog(tmp_path, {"list.yaml": "# a list is no document\n- a\n- b\n"})
    (error,) = load(tmp_path).errors
    assert (error.code, error.file, error.line) == ("not-a-mapping", "list.yaml", 2)
    assert "apiVersion, kind, metadata and spec" in error.message


def test_missing_required_field(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "providers.yaml": """\
            apiVersion: infradex/v1
            kind: Provider
            metadata:
              name: fastly
            spec:
              donated: true
            """
        },
    )
    (error,) = load(tmp_path).errors
    assert error.code == "missing-field"
    assert (error.file, error.line, error.field) == ("providers.yaml", 5, "spec.type")
    assert error.message == "required field `type` is missing"
    assert error.hint == "add `type:`"


def test_wrong_type_says_what_it_got(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "people.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec:
              memberOf: team:infrastructure
            """
        },
    )
    (error,) = load(tmp_path).errors
    assert (error.code, error.line, error.field) == ("invalid-type", 5, "spec.memberOf")
    assert error.message.endswith("got text")


def test_unknown_field_without_close_match_lists_known_fields(
    tmp_path: Path, write_catalog
) -> None:
    write_catalog(
        tmp_path,
        {
            "dc.yaml": """\
            apiVersion: infradex/v1
            kind: Datacenter
            metadata: {name: nyc1}
            spec:
              provider: provider:digitalocean
              zzz: 1
            ---
            apiVersion: infradex/v1
            kind: Provider
            metadata: {name: digitalocean}
            spec: {type: iaas}
            """
        },
    )
    (error,) = load(tmp_path).errors
    assert (error.code, error.line, error.field) == ("unknown-field", 6, "spec.zzz")
    assert error.hint == "known fields: provider, region"


def test_reference_needing_a_kind(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "services.yaml": """\
            apiVersion: infradex/v1
            kind: Service
            metadata: {name: docs}
            spec:
              lifecycle: experimental
              owners:
                - ref: julien
            """
        },
    )
    (error,) = load(tmp_path).errors
    assert (error.code, error.line, error.field) == ("bad-reference", 7, "spec.owners[0].ref")
    assert "write one of person:julien, team:julien" in error.message


def test_override_that_ends_before_it_starts(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "oncall.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec: {email: ann@example.org}
            ---
            apiVersion: infradex/v1
            kind: Schedule
            metadata: {name: s}
            spec:
              layers:
                - {name: all, members: [ann], start: "2024-01-01"}
              overrides:
                - {person: ann, start: "2024-01-02", end: "2024-01-01"}
            """
        },
    )
    (error,) = load(tmp_path).errors
    assert (error.code, error.line, error.field) == ("invalid-value", 13, "spec.overrides[0]")
    assert error.message == "the override ends (2024-01-01) before it starts (2024-01-02)"


# --------------------------------------------------------------------------- one pass
MANY_ERRORS = {
    "broken.yaml": """\
    apiVersion: infradex/v1
    kind: Provider
    metadata:
      name: [unclosed
    """,
    "services.yaml": """\
    apiVersion: infradex/v1
    kind: Service
    metadata:
      name: docs
    spec:
      lifecycle: experimental
      hostedon: [provider:fastly]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata:
      name: wiki
    spec:
      lifecycle: experimental
      checks:
        - name: home
          url: https://wiki.python.org/
          interval: 1 minute
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata:
      name: alpha
    spec:
      lifecycle: experimental
      dependsOn: [service:beta, service:nope]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata:
      name: beta
    spec:
      lifecycle: experimental
      dependsOn: [service:alpha]
    """,
    "people.yaml": """\
    apiVersion: infradex/v1
    kind: Person
    metadata:
      name: ann
    spec:
      timezone: Mars/Olympus_Mons
      email: ann@example.org
      email: ann@example.net
    """,
}


def test_every_error_is_reported_in_one_load(tmp_path: Path, write_catalog) -> None:
    result = load(write_catalog(tmp_path, MANY_ERRORS))
    assert result.catalog is None
    found = sorted((e.file, e.line, e.code) for e in result.errors)
    assert found == [
        ("broken.yaml", 5, "yaml-syntax"),  # the flow sequence never closes
        ("people.yaml", 6, "invalid-value"),  # time zone
        ("people.yaml", 8, "duplicate-key"),
        ("services.yaml", 7, "unknown-field"),
        ("services.yaml", 18, "invalid-value"),  # interval
        ("services.yaml", 26, "dangling-reference"),
        ("services.yaml", 34, "cycle"),
    ]
    assert result.warnings == []
    cycle = next(e for e in result.errors if e.code == "cycle")
    assert "service:alpha --dependsOn--> service:beta --dependsOn--> service:alpha" in (
        cycle.message
    )


def test_problems_are_sorted_errors_first_then_by_file_and_line(
    tmp_path: Path, write_catalog
) -> None:
    files = dict(MANY_ERRORS)
    files["warn.yaml"] = """\
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: unowned}
    spec: {lifecycle: production}
    """
    problems = load(write_catalog(tmp_path, files)).problems
    severities = [p.severity for p in problems]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert severities[-2:] == ["warning", "warning"]
    errors = [(p.file, p.line) for p in problems if p.severity == "error"]
    assert errors == sorted(errors)


# --------------------------------------------------------------------------- never raises
def test_load_never_raises_on_the_whole_fixture_tree() -> None:
    """Every invalid and warning fixture at once: lots of problems, no exception."""
    result = load(INVALID.parent)
    assert result.catalog is None
    codes = {p.code for p in result.errors}
    assert {"yaml-syntax", "encoding", "unknown-kind", "unknown-field", "duplicate-name"} <= codes


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        pytest.param("a: !!int abc\n", "yaml-value", 4, id="int-tag"),
        pytest.param("a: !!float xyz\n", "yaml-value", 4, id="float-tag"),
        pytest.param("a: !!bool maybe\n", "yaml-value", 4, id="bool-tag"),
        pytest.param("a: !foo bar\n", "yaml-value", 4, id="unknown-tag"),
        pytest.param("a: &x [*x]\n", "yaml-alias", 1, id="recursive-alias"),
    ],
)
def test_read_yaml_text_reports_bad_tags_and_recursive_aliases(
    text: str, code: str, column: int
) -> None:
    result = read_yaml_text(text, "bad.yaml")
    (problem,) = result.problems
    assert (problem.severity, problem.code) == ("error", code)
    assert (problem.file, problem.line, problem.column) == ("bad.yaml", 1, column)


def test_unknown_tag_names_the_tag() -> None:
    result = read_yaml_text("a: 1\nb: !foo bar\n", "tags.yaml")
    (problem,) = result.problems
    assert (problem.line, problem.column) == (2, 4)
    assert "'bar'" in problem.message
    assert "foo" in problem.message


def test_alias_bomb_is_refused_quickly() -> None:
    """Nine levels of ten aliases stand for 10**9 values: refused, not expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        aliases = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    result = read_yaml_text("\n".join(lines) + "\n", "bomb.yaml")
    (problem,) = result.problems
    assert (problem.code, problem.line) == ("yaml-too-large", 1)
    assert result.documents == []


def test_aliases_within_limits_are_expanded() -> None:
    result = read_yaml_text("base: &b {type: cdn}\ncopy: *b\n", "ok.yaml")
    assert result.problems == []
    (document,) = result.documents
    assert document.data == {"base": {"type": "cdn"}, "copy": {"type": "cdn"}}


def test_override_mixing_naive_and_aware_times_is_refused(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "oncall.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec: {email: ann@example.org}
            ---
            apiVersion: infradex/v1
            kind: Schedule
            metadata: {name: s}
            spec:
              layers:
                - {name: all, members: [ann], start: "2024-01-01"}
              overrides:
                - {person: ann, start: "2024-01-01T09:00", end: "2024-01-02T09:00+00:00"}
            """
        },
    )
    (error,) = load(tmp_path).errors
    assert (error.code, error.line, error.field) == ("invalid-value", 13, "spec.overrides[0]")
    assert "give both start and end with a UTC offset, or both without one" in error.message


def test_restriction_with_single_digit_hour(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "oncall.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec: {email: ann@example.org}
            ---
            apiVersion: infradex/v1
            kind: Schedule
            metadata: {name: s}
            spec:
              layers:
                - name: days
                  members: [ann]
                  start: "2024-01-01"
                  restrictions: [{start: "9:00", end: "17:00"}]
            """
        },
    )
    result = load(tmp_path)
    assert result.errors == []


def test_restriction_ending_before_it_starts(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "oncall.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec: {email: ann@example.org}
            ---
            apiVersion: infradex/v1
            kind: Schedule
            metadata: {name: s}
            spec:
              layers:
                - name: nights
                  members: [ann]
                  start: "2024-01-01"
                  restrictions:
                    - {start: "22:00", end: "06:00"}
            """
        },
    )
    (error,) = load(tmp_path).errors
    assert (error.code, error.line) == ("invalid-value", 15)
    assert error.field == "spec.layers[0].restrictions[0]"
    assert "the restriction ends at 06:00, not after it starts at 22:00" in error.message
    assert "to cover midnight use two restrictions" in error.message


PATHOLOGICAL = """\
apiVersion: infradex/v1
kind: Service
metadata: {name: docs}
spec:
  lifecycle: experimental
  checks:
    - name: home
      url: https://docs.python.org/
      %s
"""


@pytest.mark.parametrize(
    "field",
    [
        pytest.param("interval: 1000000000d", id="huge-duration"),
        pytest.param('conditions: ["[BODY] matches (((a{100}){100}){100})"]', id="huge-regex"),
    ],
)
def test_pathological_values_are_reported_not_raised(tmp_path: Path, field: str) -> None:
    (tmp_path / "services.yaml").write_text(PATHOLOGICAL % field, encoding="utf-8")
    (error,) = load(tmp_path).errors
    assert (error.code, error.file, error.line) == ("invalid-value", "services.yaml", 9)


def test_a_refused_character_after_non_ascii_text_is_placed_by_characters() -> None:
    # libyaml counts UTF-8 bytes; the editor wants characters
    (error,) = read_yaml_text("a: ééé\nb: ééé\x07x\n", "f.yaml").problems
    assert (error.code, error.line, error.column) == ("yaml-character", 2, 7)
    assert "U+0007" in error.message
