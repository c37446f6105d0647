"""A hostile pull request against the catalog: what the loader reads, and how deep it goes.

Only regular files inside the catalog root are read, each at most ``MAX_FILE_BYTES``; special
files (FIFOs, devices) are refused without blocking; a zone ``file`` outside the root is refused
with one message whether or not it exists; values nested too deep are refused with file:line.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from infradex.catalog.yaml_reader import MAX_DEPTH, MAX_FILE_BYTES
from infradex.lint import load

PERSON = """\
apiVersion: infradex/v1
kind: Person
metadata: {name: ann}
spec: {email: ann@example.org}
"""

ZONE = """\
apiVersion: infradex/v1
kind: Provider
metadata: {name: dns}
spec: {type: dns}
---
apiVersion: infradex/v1
kind: Zone
metadata: {name: example.org}
spec:
  provider: dns
  file: FILE
"""


def _catalog(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# ------------------------------------------------------------------------- special files
def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    root = _catalog(tmp_path / "catalog", {"people.yaml": PERSON})
    os.symlink("/dev/zero", root / "zero.yaml")  # read whole, this never ends
    (error,) = load(root).errors
    assert (error.code, error.file) == ("outside-catalog", "zero.yaml")
    assert "leads outside the catalog directory" in error.message


def test_a_device_named_as_the_catalog_is_not_read(tmp_path: Path) -> None:
    os.symlink("/dev/zero", tmp_path / "catalog.yaml")
    (error,) = load(tmp_path / "catalog.yaml").errors
    assert (error.code, error.message) == ("not-a-file", "not a regular file: a character device")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    root = _catalog(tmp_path / "catalog", {"people.yaml": PERSON})
    os.mkfifo(root / "pipe.yaml")
    started = time.monotonic()
    (error,) = load(root).errors
    assert time.monotonic() - started < 5
    assert (error.code, error.file) == ("not-a-file", "pipe.yaml")
    assert "FIFO" in error.message


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    root = _catalog(tmp_path / "catalog", {"people.yaml": PERSON})
    with open(root / "big.yaml", "wb") as big:
        big.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    (error,) = load(root).errors
    assert (error.code, error.file) == ("too-large", "big.yaml")
    assert "10 MiB" in error.message


def test_a_link_to_a_file_outside_the_root_is_refused(tmp_path: Path) -> None:
    outside = _catalog(tmp_path / "elsewhere", {"secret.yaml": PERSON.replace("ann", "eve")})
    root = _catalog(tmp_path / "catalog", {"people.yaml": PERSON})
    os.symlink(outside / "secret.yaml", root / "secret.yaml")
    os.symlink(outside, root / "linked-dir")
    errors = load(root).errors
    assert sorted((e.code, e.file) for e in errors) == [
        ("outside-catalog", "linked-dir"),
        ("outside-catalog", "secret.yaml"),
    ]
    assert all("eve" not in str(e) for e in errors)


def test_a_link_to_a_file_inside_the_root_is_read(tmp_path: Path) -> None:
    root = _catalog(tmp_path / "catalog", {"people/ann.yaml": PERSON})
    os.symlink("people/ann.yaml", root / "alias.yml")
    loaded = load(root)  # read twice: a duplicate name, which proves the link was followed
    assert [e.code for e in loaded.errors] == ["duplicate-name", "duplicate-name"]


# ------------------------------------------------------------------------- zone files
@pytest.mark.parametrize(
    "written", ["/etc/passwd", "/nonexistent/zone.yaml", "../outside.yaml", "../missing.yaml"]
)
def test_a_zone_file_outside_the_root_is_refused_alike(tmp_path: Path, written: str) -> None:
    (tmp_path / "outside.yaml").write_text("www: {type: A, value: 192.0.2.1}\nx: 1\ny: 2\n")
    root = _catalog(tmp_path / "catalog", {"zones.yaml": ZONE.replace("FILE", written)})
    (error,) = load(root).errors
    assert (error.code, error.file, error.line, error.field) == (
        "zone-file",
        "zones.yaml",
        11,
        "spec.file",
    )
    # the same words whether the file exists or not, and nothing read from it
    assert error.message == f"zone file {written!r} is outside the catalog directory"
    assert "relative to the catalog's root directory" in error.hint


def test_a_zone_file_linked_to_outside_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("www: {type: A, value: 192.0.2.1}\n")
    root = _catalog(tmp_path / "catalog", {"zones.yaml": ZONE.replace("FILE", "zone.yaml")})
    os.symlink(tmp_path / "outside.yaml", root / "zone.yaml")
    messages = [e.message for e in load(root).errors]
    assert "zone file 'zone.yaml' is outside the catalog directory" in messages


def test_a_zone_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    root = _catalog(tmp_path / "catalog", {"zones.yaml": ZONE.replace("FILE", "zone.txt")})
    os.mkfifo(root / "zone.txt")  # not *.yaml: read only because the Zone names it
    (error,) = load(root).errors
    assert (error.code, error.file) == ("not-a-file", "zone.txt")


# ------------------------------------------------------------------------- nesting
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 490, 989])
def test_deep_nesting_is_refused_with_its_line(tmp_path: Path, levels: int) -> None:
    deep = "[" * levels + "]" * levels
    spec = f"spec:\n  handles: {{x: {deep}}}"
    root = _catalog(
        tmp_path / "catalog",
        {"people.yaml": PERSON.replace("spec: {email: ann@example.org}", spec)},
    )
    (error,) = load(root).errors
    assert (error.code, error.file, error.line) == ("yaml-too-deep", "people.yaml", 5)
    assert f"more than {MAX_DEPTH} levels" in error.message


def test_deep_nesting_through_aliases_is_refused(tmp_path: Path) -> None:
    chain = "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 200))
    root = _catalog(tmp_path / "catalog", {"x.yaml": chain})
    (error,) = load(root).errors
    assert error.code == "yaml-too-deep" and error.line is not None


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    # metadata.x is 2 levels; the lists fill up to the limit
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    text = PERSON.replace("metadata: {name: ann}", f"metadata: {{name: ann, x: {inner}}}")
    root = _catalog(tmp_path / "catalog", {"people.yaml": text})
    codes = [e.code for e in load(root).errors]
    assert codes == ["unknown-field"]  # read to the end: the only problem is the field's name
