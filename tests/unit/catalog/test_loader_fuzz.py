"""Property tests: reading and validating never raise, whatever the input; they only report
problems.

Explicit tags (``!!int``), anchors and aliases are left out of the generated text on purpose:
the cases known to break are pinned by the targeted tests in ``test_invalid.py``, so a run of
this module stays deterministic (``derandomize=True``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infradex.catalog import LoadedCatalog
from infradex.catalog.loading import build
from infradex.catalog.models import SPEC_MODELS
from infradex.catalog.problems import Problem
from infradex.catalog.yaml_reader import ReadResult, read_yaml_text
from infradex.lint import load, with_warnings

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

#: every field name a spec can have, as written in YAML, plus nested ones
FIELDS = sorted(
    {
        info.alias or name
        for model in SPEC_MODELS.values()
        for name, info in model.model_fields.items()
    }
    | {"name", "url", "interval", "timeout", "conditions", "ref", "role", "members", "start"}
    | {"end", "person", "rotation", "handoff", "days", "after", "notify", "type", "address"}
)
KIND_TEXT = [
    "Provider",
    "Datacenter",
    "Host",
    "Person",
    "Team",
    "Service",
    "Zone",
    "Schedule",
    "EscalationPolicy",
    "service",
    "SERVICE",
    "Servce",
    "",
]
#: values that pass or nearly pass the field validators, so the later passes run too
PLAUSIBLE = [
    "infradex/v1",
    "docs",
    "web1",
    "nyc1",
    "ann",
    "service:docs",
    "host:web1",
    "datacenter:nyc1",
    "provider:fastly",
    "person:ann",
    "team:infrastructure",
    "schedule:s",
    "docs.python.org",
    "60s",
    "5 minutes",
    "[STATUS] == 200",
    "[BODY] contains 'x'",
    "https://example.org/",
    "tcp://example.org:443",
    "ftp://example.org/",
    "Europe/Amsterdam",
    "Mars/Base",
    "2024-01-01",
    "2024-03-31T02:30",
    "Mon 09:00",
    "09:00",
    "24:00",
    "weekly",
    "3d",
    "production",
    "zones/example.org.yaml",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(PLAUSIBLE),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
yamlish = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=16,
)
documents = st.fixed_dictionaries(
    {
        "apiVersion": st.one_of(st.just("infradex/v1"), scalars),
        "kind": st.one_of(st.sampled_from(KIND_TEXT), scalars),
        "metadata": st.one_of(
            st.fixed_dictionaries(
                {"name": st.one_of(st.sampled_from(["docs", "web1", "nyc1", "ann", "s"]), scalars)}
            ),
            yamlish,
        ),
        "spec": st.one_of(st.dictionaries(st.sampled_from(FIELDS), yamlish, max_size=5), yamlish),
    },
    optional={"extra": yamlish},
)

#: text that looks like YAML more often than uniform random text does
yaml_tokens = st.lists(
    st.sampled_from(
        [
            *(": ", ":", "- ", "-", "\n", "  ", "    ", "[", "]", "{", "}", ",", "'", '"', "#"),
            *("---\n", "...\n", "? ", "|", ">", "kind", "apiVersion", "spec", "metadata"),
            *("name", "docs", "\t", "\\", "%YAML 1.1\n", "09:00", "2024-01-01", "0x1F", "~"),
            *("null", "yes"),
        ]
    ),
    max_size=40,
).map("".join)


def _check_problems(problems: list[Problem]) -> None:
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.severity in ("error", "warning")
        assert problem.code
        assert problem.message
        assert problem.line is None or problem.line >= 1
        assert str(problem)  # printable


def _read(text: str) -> ReadResult:
    result = read_yaml_text(text, "fuzz.yaml")
    _check_problems(result.problems)
    for document in result.documents:
        assert document.file == "fuzz.yaml"
        assert document.line >= 1
    return result


def _build(text: str, root: Path | None = None) -> LoadedCatalog:
    read = _read(text)
    loaded = with_warnings(build(read.documents, root, read.problems))
    _check_problems(loaded.problems)
    # the catalog is there exactly when there are no errors
    assert (loaded.catalog is None) == bool(loaded.errors)
    return loaded


@FUZZ
@given(st.text(max_size=200))
def test_read_yaml_text_never_raises_on_random_text(text: str) -> None:
    _read(text)


@FUZZ
@given(yaml_tokens)
def test_read_and_build_never_raise_on_yaml_looking_text(text: str) -> None:
    _build(text)


@FUZZ
@given(st.lists(yamlish, min_size=1, max_size=3))
def test_build_never_raises_on_arbitrary_structures(values: list[Any]) -> None:
    loaded = _build(yaml.safe_dump_all(values, sort_keys=False))
    if any(v is not None and not isinstance(v, dict) for v in values):
        # a list or a scalar is never a catalog document
        assert "not-a-mapping" in {p.code for p in loaded.errors}
        assert loaded.catalog is None


@FUZZ
@given(st.lists(documents, min_size=1, max_size=4))
def test_build_never_raises_on_catalog_shaped_documents(values: list[dict[str, Any]]) -> None:
    _build(yaml.safe_dump_all(values, sort_keys=False, allow_unicode=True))


@settings(FUZZ, max_examples=60)
@given(st.lists(documents, min_size=1, max_size=3), st.binary(max_size=40))
def test_load_never_raises_on_a_directory(values: list[dict[str, Any]], junk: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "catalog.yaml").write_text(
            yaml.safe_dump_all(values, sort_keys=False), encoding="utf-8"
        )
        (root / "zones").mkdir()
        (root / "zones" / "example.org.yaml").write_bytes(junk)
        loaded = load(root)
        _check_problems(loaded.problems)
        assert (loaded.catalog is None) == bool(loaded.errors)


def test_valid_documents_survive_the_round_trip() -> None:
    """A control for the properties above: a dumped valid document does load."""
    document = {
        "apiVersion": "infradex/v1",
        "kind": "Person",
        "metadata": {"name": "ann"},
        "spec": {"email": "ann@example.org", "timezone": "Europe/Amsterdam"},
    }
    loaded = _build(yaml.safe_dump(document))
    assert loaded.problems == []
    assert loaded.catalog is not None
    assert [str(r) for r in loaded.catalog.entities] == ["person:ann"]
