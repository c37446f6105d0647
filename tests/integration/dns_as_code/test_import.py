"""`infradex dns import`: the live zone as a catalog zone file that validates and plans to
nothing."""

from __future__ import annotations

from pathlib import Path

import yaml

from .conftest import Bind, run, write_catalog


def test_import_writes_a_zone_file_the_catalog_accepts(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    result = run(root, "dns", "import", "--provider", "bind", "--zone", "example.test")
    assert result.exit_code == 0, result.output
    written = root / "zones" / "example.test.yaml"
    records = yaml.safe_load(written.read_text())
    assert list(records) == ["", "ns1", "old", "www"]  # octoDNS's order
    assert records["www"] == {"ttl": 300, "type": "A", "value": "192.0.2.10"}
    assert "file: zones/example.test.yaml" in result.stdout
    # point the catalog's zone at the file: it validates, and the plan is empty
    text = (root / "catalog.yaml").read_text()
    start = text.index("  records:")
    end = text.index("---", start) if "---" in text[start:] else len(text)
    (root / "catalog.yaml").write_text(
        text[:start] + "  file: zones/example.test.yaml\n" + text[end:]
    )
    assert run(root, "validate").exit_code == 0
    plan = run(root, "dns", "plan")
    assert "No changes" in plan.stdout, plan.output
    # a second import does not overwrite unasked
    again = run(root, "dns", "import", "--provider", "bind", "--zone", "example.test")
    assert again.exit_code == 1
    assert "--replace" in again.output
