"""Zones whose records live in an octoDNS zone file: which catalog files are zone files, and
reading and checking each one. Only files inside the catalog root are read, and a path that
leaves it is refused with the same words whether the file exists or not."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infradex.catalog.entities import Entity, has_spec
from infradex.catalog.models import ZoneSpec
from infradex.catalog.problems import Problem, dotted
from infradex.catalog.refs import Ref
from infradex.catalog.yaml_reader import RawDocument, inside, read_yaml_file
from infradex.catalog.zones import check_records

__all__ = ["RecordPlaces", "zone_file_paths", "zone_key", "zone_records"]

#: zone name → record key → (file, line) where the record is written
RecordPlaces = dict[str, dict[str, tuple[str, int]]]


def zone_file_paths(documents: Sequence[RawDocument]) -> set[str]:
    """The files that Zones name as their ``spec.file``: read as zone files, not entities."""
    paths = set()
    for doc in documents:
        data = doc.data
        if isinstance(data, dict) and str(data.get("kind", "")).lower() == "zone":
            spec = data.get("spec")
            if isinstance(spec, dict) and isinstance(spec.get("file"), str):
                paths.add(zone_key(spec["file"]))
    return paths


def zone_key(path: str) -> str:
    """A zone ``file`` as the loader names files: relative to the root, with slashes."""
    return Path(path).as_posix().removeprefix("./")


def zone_records(
    entities: dict[Ref, Entity],
    root: Path | None,
    problems: list[Problem],
    already_read: dict[str, list[RawDocument]],
) -> tuple[dict[str, dict[str, Any]], RecordPlaces]:
    """Each valid zone's records by zone name, inline or read from its ``file``, and where
    each record is written, appending a problem for each bad record or unreadable file.
    ``already_read``: the zone files read with the catalog (their documents; empty when they
    could not be read)."""
    records_by_zone: dict[str, dict[str, Any]] = {}
    places: RecordPlaces = {}
    for entity in entities.values():
        if not has_spec(entity, ZoneSpec):
            continue
        spec = entity.spec
        records: Any = spec.records
        path: tuple[str | int, ...] = ("spec", "records")
        source = entity.file
        positions: dict[str, int] = {}
        if spec.file is not None:
            path = ("spec", "file")
            real_root = (root or Path(".")).resolve()
            found = None if Path(spec.file).is_absolute() else inside(real_root, spec.file)
            if found is None:
                # the same words whether such a file exists or not: nothing outside the
                # catalog is read, and nothing about it is told
                problems.append(
                    entity.problem(
                        "error",
                        "zone-file",
                        f"zone file {spec.file!r} is outside the catalog directory",
                        "write a path relative to the catalog's root directory that stays "
                        "inside it, e.g. zones/example.org.yaml",
                        path,
                    )
                )
                continue
            zone_path = found
            if not zone_path.exists():
                problems.append(
                    entity.problem(
                        "error",
                        "zone-file",
                        f"zone file {spec.file!r} does not exist",
                        "the path is relative to the catalog's root directory",
                        path,
                    )
                )
                continue
            key = zone_key(spec.file)
            if key in already_read:  # read with the catalog; its problems are reported once
                documents = already_read[key]
                if not documents:
                    continue
            else:
                result = read_yaml_file(zone_path, key, real_root)
                problems.extend(result.problems)
                if result.problems:
                    continue
                documents = result.documents
            if len(documents) != 1:
                problems.append(
                    entity.problem(
                        "error",
                        "zone-file",
                        f"{spec.file} must hold exactly one YAML document",
                        "an octoDNS zone file is one mapping",
                        path,
                    )
                )
                continue
            records = documents[0].data
            source = key
            positions = {str(k[0]): v[0] for k, v in documents[0].positions.items() if len(k) == 1}
        bad = False
        for issue in check_records(entity.name, records):
            bad = True
            line: int | None
            if positions:  # a zone file: the record's line in that file
                line = positions.get(issue.name)
            else:  # inline records: the record's line inside the Zone document
                line = entity.where((*path, issue.name))[0] if issue.name else None
            problems.append(
                Problem(
                    "error",
                    "zone-record",
                    f"record {issue.name or '@'!r}: {issue.message}",
                    issue.hint,
                    source,
                    line or entity.where(path)[0],
                    None,
                    str(entity.ref),
                    dotted(path),
                )
            )
        if not bad:
            records_by_zone[entity.name] = records
            places[entity.name] = {
                str(name): (
                    source,
                    positions.get(str(name))
                    or entity.where((*path, str(name)))[0]
                    or entity.where(path)[0],
                )
                for name in records
            }
    return records_by_zone, places
