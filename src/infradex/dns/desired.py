"""A catalog zone's records as octoDNS's model of the zone: what the provider should serve."""

from __future__ import annotations

import logging
from typing import Any

from infradex.catalog.zones import DEFAULT_TTL

__all__ = ["desired_zone"]


def desired_zone(name: str, records: dict[str, Any]) -> Any:
    """An ``octodns.zone.Zone`` named ``name`` (with the trailing dot) holding ``records``
    (an octoDNS YAML zone's mapping, already checked by ``infradex validate``)."""
    logging.getLogger("Record").setLevel(logging.ERROR)
    from octodns.record import Record
    from octodns.zone import Zone

    zone = Zone(name, [])
    for key, value in records.items():
        for item in value if isinstance(value, list) else [value]:
            zone.add_record(Record.new(zone, str(key), {"ttl": DEFAULT_TTL, **item}))
    return zone
