"""Check a Zone's records the way octoDNS's YamlProvider reads them, so that a zone that passes
``infradex validate`` is one octoDNS will accept."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RecordProblem",
    "RecordSet",
    "check_records",
    "record_name",
    "record_sets",
    "record_targets",
]

DEFAULT_TTL = 3600  # octoDNS YamlProvider's default_ttl


@dataclass(frozen=True, slots=True)
class RecordProblem:
    name: str  # the record's key in the zone ('' is the apex)
    message: str
    hint: str


def check_records(zone: str, records: Any) -> Iterator[RecordProblem]:
    """Every problem octoDNS would find in ``records`` (a zone file's mapping) for ``zone``."""
    if not isinstance(records, dict):
        yield RecordProblem(
            "",
            "a zone's records are a mapping of record names to records",
            "write e.g. `www: {type: CNAME, value: example.org.}`",
        )
        return
    logging.getLogger("Record").setLevel(logging.ERROR)
    from natsort import natsort_keygen
    from octodns.record import Record, ValidationError
    from octodns.zone import Zone

    keys = list(records)
    natural = natsort_keygen()
    for before, after in itertools.pairwise(keys):
        if natural(before) > natural(after):
            yield RecordProblem(
                after,
                f"comes after {before!r}",
                "octoDNS wants record names in sorted order; move it up",
            )
            break
    target = Zone(zone.rstrip(".") + ".", [])
    for name, value in records.items():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                yield RecordProblem(
                    str(name),
                    f"record {name!r} is not a mapping",
                    "write e.g. {type: A, value: 192.0.2.1}",
                )
                continue
            for pointed in record_targets(item):
                if not pointed.endswith("."):
                    yield RecordProblem(
                        str(name),
                        f"{item.get('type')} target {pointed!r} does not end with a dot",
                        f"write the fully qualified name: {pointed}.",
                    )
            data = {"ttl": DEFAULT_TTL, **item}
            try:
                Record.new(target, str(name), data, source=None, lenient=False)
            except ValidationError as exc:
                yield RecordProblem(
                    str(name),
                    "; ".join(str(r) for r in exc.reasons),
                    "fix the record as octoDNS describes",
                )
            except Exception as exc:  # octoDNS raises bare Exception for unknown types
                yield RecordProblem(
                    str(name),
                    str(exc),
                    "use a record type octoDNS knows (A, AAAA, CNAME, MX, TXT, ...)",
                )


#: record types whose values (or a field of them) name another host
_TARGET_FIELDS = {
    "CNAME": None,
    "ALIAS": None,
    "DNAME": None,
    "PTR": None,
    "NS": None,
    "MX": "exchange",
    "SRV": "target",
}


def record_targets(record: dict[str, Any]) -> list[str]:
    """Host names a record points at; octoDNS wants them fully qualified (ending in a dot)."""
    kind = str(record.get("type", "")).upper()
    if kind not in _TARGET_FIELDS:
        return []
    values = record.get("values", [record.get("value")])
    field = _TARGET_FIELDS[kind]
    out = []
    for value in values if isinstance(values, list) else [values]:
        target = value.get(field) if field and isinstance(value, dict) else value
        if isinstance(target, str) and target:
            out.append(target)
    return out


def record_name(zone: str, domain: str) -> str:
    """The key of ``domain``'s records in ``zone``'s file: ``''`` for the apex, else the part
    before the zone (``docs`` for docs.python.org in python.org)."""
    zone, domain = zone.rstrip("."), domain.rstrip(".")
    return "" if domain == zone else domain.removesuffix("." + zone)


@dataclass(frozen=True, slots=True)
class RecordSet:
    """One record of a zone's mapping: its key, type, values and the names it points at."""

    name: str  # '' is the apex
    type: str  # upper case: A, CNAME, MX, ...
    values: tuple[Any, ...]  # strings (A, CNAME, ...) or mappings (MX, CAA, SRV, ...)
    targets: tuple[str, ...]  # host names it points at, lower case, without the final dot


def record_sets(records: dict[str, Any]) -> list[RecordSet]:
    """Every record of a valid zone's mapping (as ``infradex validate`` accepted it)."""
    out = []
    for name, value in records.items():
        for item in value if isinstance(value, list) else [value]:
            values = item.get("values", [item.get("value")])
            out.append(
                RecordSet(
                    str(name),
                    str(item.get("type", "")).upper(),
                    tuple(values if isinstance(values, list) else [values]),
                    tuple(t.rstrip(".").lower() for t in record_targets(item)),
                )
            )
    return out
