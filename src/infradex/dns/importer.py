"""``dns import``: a live zone written as an octoDNS YAML zone file for the catalog, sorted
the way octoDNS (and ``infradex validate``) require, with a report of what did not map."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infradex.dns.providers import DnsProviderError, error_text

__all__ = ["Imported", "import_zone"]


@dataclass(frozen=True, slots=True)
class Imported:
    path: Path
    records: int
    skipped: tuple[str, ...]  # what octoDNS could not read, one line each


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def import_zone(provider: Any, provider_ref: str, zone: str, out: Path) -> Imported:
    """Read ``zone`` from ``provider`` and write ``out`` (``<zone>.yaml``), replacing it only
    once the whole file is written."""
    from octodns.provider.yaml import YamlProvider
    from octodns.zone import Zone

    name = zone.rstrip(".") + "."
    live = Zone(name, [])
    collect = _Collect()
    octodns_log = logging.getLogger()
    octodns_log.addHandler(collect)
    try:
        provider.populate(live, lenient=True)
    except Exception as exc:  # each provider raises its own errors
        raise DnsProviderError(
            f"cannot read the live zone {zone} from {provider_ref}: {error_text(exc)};"
            " check its octodns settings and that the zone exists there"
        ) from None
    finally:
        octodns_log.removeHandler(collect)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        writer = YamlProvider(
            "import", scratch, enforce_order=True, supports_root_ns=True, escaped_semicolons=True
        )
        plan = writer.plan(live)
        if plan is not None:
            writer.apply(plan)
        written = Path(scratch) / f"{name}yaml"
        if not written.exists():
            written.write_text("--- {}\n", encoding="utf-8")
        os.replace(written, out)
    skipped = tuple(line for line in collect.lines if "root NS" not in line)
    return Imported(out, len(live.records), skipped)
