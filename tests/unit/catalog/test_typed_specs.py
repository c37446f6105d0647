"""Typed specs: every entity's spec is its kind's model, the Catalog hands them out typed, and
``mypy --strict`` refuses a ``.spec`` read that the entity's type does not allow."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from infradex.catalog import KINDS, Catalog, Entity, Ref, load
from infradex.catalog.entities import SpecMismatch, has_spec
from infradex.catalog.models import (
    SPEC_MODELS,
    Check,
    Metadata,
    PersonSpec,
    ScheduleSpec,
    ServiceSpec,
    TeamSpec,
)
from infradex.catalog.specs import (
    WITH_CHECKS,
    WITH_CONTACTS,
    WITH_ESCALATION,
    WITH_MAINTENANCE,
    spec_checks,
    spec_contacts,
    spec_escalation,
    spec_maintenance,
)
from infradex.errors import NotFoundError, UsageError

SRC = Path(__file__).resolve().parents[3] / "src"

CATALOG = """\
apiVersion: infradex/v1
kind: Provider
metadata: {name: cdn}
spec:
  type: cdn
  escalation: escalationpolicy:pager
  checks: [{name: edge, url: "https://cdn.example.org/"}]
---
apiVersion: infradex/v1
kind: Datacenter
metadata: {name: dc1}
spec: {provider: provider:cdn}
---
apiVersion: infradex/v1
kind: Host
metadata: {name: box}
spec:
  datacenter: datacenter:dc1
  maintenance: [{start: "2026-01-01T02:00", duration: 1h, reason: kernel}]
---
apiVersion: infradex/v1
kind: Person
metadata: {name: ann}
spec: {email: ann@example.org, memberOf: [team:ops]}
---
apiVersion: infradex/v1
kind: Team
metadata: {name: ops}
spec:
  contacts: [{type: email, address: ops@example.org}]
  escalation: escalationpolicy:pager
---
apiVersion: infradex/v1
kind: Service
metadata: {name: web}
spec:
  domains: [web.example.org]
  hostedOn: [host:box]
  owners: [{ref: team:ops}]
  checks: [{name: home, url: "https://web.example.org/"}]
---
apiVersion: infradex/v1
kind: Zone
metadata: {name: example.org}
spec: {provider: provider:cdn, records: {}}
---
apiVersion: infradex/v1
kind: Schedule
metadata: {name: rota}
spec:
  layers: [{name: all, members: [person:ann], start: "2026-01-05T09:00"}]
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {name: pager}
spec: {steps: [{notify: [schedule:rota]}]}
"""


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = tmp_path_factory.mktemp("typed")
    (root / "c.yaml").write_text(CATALOG, encoding="utf-8")
    loaded = load(root)
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


# ----------------------------------------------------------------------------- of_kind / typed
def test_every_kind_is_in_the_test_catalog_and_of_kind_gives_its_model(catalog: Catalog) -> None:
    for kind in KINDS:
        entities = catalog.of_kind(kind)
        assert entities, f"the test catalog has no {kind}"
        assert all(type(e.spec) is SPEC_MODELS[kind] for e in entities), kind


def test_typed_gives_the_entity_with_its_model(catalog: Catalog) -> None:
    ann = catalog.typed(Ref("person", "ann"), PersonSpec)
    assert ann.spec.email == "ann@example.org"
    assert catalog.typed(Ref("service", "web"), ServiceSpec).spec.domains == ["web.example.org"]


def test_typed_refuses_another_kind_saying_what_was_expected(catalog: Catalog) -> None:
    with pytest.raises(SpecMismatch) as caught:
        catalog.typed(Ref("team", "ops"), PersonSpec)
    assert (
        str(caught.value) == "team:ops is a team, not a person; name a person here, e.g. person:ops"
    )
    assert isinstance(caught.value, UsageError)  # the CLI exits 2, the API answers 400


def test_typed_says_not_found_for_a_missing_entity(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError, match="person:bob is not in the catalog"):
        catalog.typed(Ref("person", "bob"), PersonSpec)


def test_find_is_none_for_a_missing_entity_or_another_kind(catalog: Catalog) -> None:
    assert catalog.find(Ref("schedule", "rota"), ScheduleSpec) is catalog.get(
        Ref("schedule", "rota")
    )
    assert catalog.find(Ref("schedule", "rota"), PersonSpec) is None
    assert catalog.find(Ref("schedule", "nope"), ScheduleSpec) is None


def test_has_spec_tells_the_model(catalog: Catalog) -> None:
    web = catalog.get(Ref("service", "web"))
    assert has_spec(web, ServiceSpec)
    assert not has_spec(web, TeamSpec)


# ----------------------------------------------------------------------------- the Catalog's guard
def test_the_catalog_refuses_an_entity_whose_spec_is_another_kinds() -> None:
    wrong = Entity(Ref("service", "web"), Metadata(name="web"), PersonSpec(), "c.yaml", 7)
    with pytest.raises(SpecMismatch) as caught:
        Catalog([wrong], [])
    message = str(caught.value)
    assert message.startswith(
        "service:web (c.yaml:7) holds a PersonSpec, but a service's spec is a ServiceSpec;"
    )
    assert "infradex.catalog.load" in message


def test_the_catalog_takes_an_entity_whose_spec_is_its_kinds() -> None:
    right = Entity(Ref("service", "web"), Metadata(name="web"), ServiceSpec(), "c.yaml", 7)
    assert Catalog([right], []).get(Ref("service", "web")) is right


# ----------------------------------------------------------------------------- accessors
def test_accessors_read_the_field_where_the_kind_has_it(catalog: Catalog) -> None:
    cdn, box = catalog.get(Ref("provider", "cdn")), catalog.get(Ref("host", "box"))
    ops, web = catalog.get(Ref("team", "ops")), catalog.get(Ref("service", "web"))
    assert [c.name for c in spec_checks(cdn)] == ["edge"]
    assert [c.name for c in spec_checks(web)] == ["home"]
    assert [m.reason for m in spec_maintenance(box)] == ["kernel"]
    assert [c.address for c in spec_contacts(ops)] == ["ops@example.org"]
    assert spec_escalation(ops) == spec_escalation(cdn) == "escalationpolicy:pager"
    assert spec_escalation(web) is None  # a service may name one; this one does not


def test_accessors_give_nothing_for_a_kind_without_the_field(catalog: Catalog) -> None:
    ann = catalog.get(Ref("person", "ann"))
    assert spec_checks(ann) == [] and spec_maintenance(ann) == [] and spec_contacts(ann) == []
    assert spec_escalation(ann) is None


@pytest.mark.parametrize(
    ("field", "table"),
    [
        ("checks", WITH_CHECKS),
        ("maintenance", WITH_MAINTENANCE),
        ("contacts", WITH_CONTACTS),
        ("escalation", WITH_ESCALATION),
    ],
)
def test_each_accessor_table_lists_exactly_the_models_with_that_field(
    field: str, table: tuple[type, ...]
) -> None:
    """A kind that gains the field must be added to the table, or its values go unread."""
    having = {model for model in SPEC_MODELS.values() if field in model.model_fields}
    assert set(table) == having


# ----------------------------------------------------------------------------- what mypy sees
STATIC = """\
from infradex.catalog import Catalog, Entity, Ref
from infradex.catalog.models import PersonSpec

def reads(catalog: Catalog, any_entity: Entity, ref: Ref) -> None:
    catalog.of_kind("service")[0].spec.domains
    catalog.typed(ref, PersonSpec).spec.email
    any_entity.spec.domains
    catalog.of_kind("person")[0].spec.domains
    catalog.typed(ref, PersonSpec).spec.checks
"""


def test_mypy_strict_refuses_spec_reads_the_entity_type_does_not_allow(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(STATIC, encoding="utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text(
        textwrap.dedent(f"""\
            [mypy]
            strict = True
            mypy_path = {SRC}
            follow_imports = silent
            cache_dir = {tmp_path / "cache"}
            """),
        encoding="utf-8",
    )
    out, err, status = api.run(["--config-file", str(config), str(snippet)])
    lines = [line for line in out.splitlines() if line.startswith(str(snippet))]
    flagged = sorted({int(line.split(":")[1]) for line in lines})
    # the first two reads are allowed; a bare Entity may be any kind, a person has no domains
    # and no checks
    assert flagged == [7, 8, 9], out + err
    assert status == 1


def _spec_guesses(tree: ast.AST) -> list[int]:
    """Lines that call ``getattr(<something>.spec, ...)``: a field guessed, not typed."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and node.args
        and isinstance(node.args[0], ast.Attribute)
        and node.args[0].attr == "spec"
    ]


def test_the_guess_finder_finds_a_guess() -> None:
    assert _spec_guesses(ast.parse('x = getattr(entity.spec, "checks", ())')) == [1]


def test_no_module_guesses_a_spec_field_with_getattr() -> None:
    found = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := _spec_guesses(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {}, "read the field through infradex.catalog.specs or narrow with has_spec"


@pytest.mark.parametrize(
    "url",
    ["statuspage://", "statuspage://status.example.org?x=1", "statuspage://status.example.org#a"],
)
def test_a_statuspage_check_names_the_page_by_its_host(url: str) -> None:
    with pytest.raises(ValueError, match="names a provider's status page by its host"):
        Check(name="own-status", url=url)
    assert Check(name="own-status", url="statuspage://status.example.org/prefix").url
