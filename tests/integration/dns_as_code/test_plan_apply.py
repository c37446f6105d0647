"""`infradex dns plan`, `apply` and `drift` against a real BIND: what the plan says, what
`dig` sees after apply, and every refusal leaving the live zone as it was."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from .conftest import RECORDS, Bind, checksum_in, hand_edit, run, write_catalog


def test_plan_annotates_each_change_with_the_catalog(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    result = run(root, "dns", "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    by_name = {c["fqdn"]: c for c in plan["changes"]}
    assert {k: c["action"] for k, c in by_name.items()} == {
        "docs.example.test": "create",
        "old.example.test": "delete",
        "www.example.test": "update",
    }
    www = by_name["www.example.test"]
    assert www["before"] == {"ttl": 300, "values": ["192.0.2.10"]}
    assert www["after"] == {"ttl": 300, "values": ["192.0.2.11"]}
    assert www["risk"]["grade"] == "high"
    assert "repoints production service Website" in www["risk"]["reasons"]
    [service] = www["services"]
    assert service["owners"] == ["Infrastructure"]
    assert service["onCall"] == ["Ann Admin"]
    assert service["frontedBy"] == ["provider:fastly"]
    assert by_name["docs.example.test"]["risk"]["grade"] == "low"
    # the same plan, the same checksum, whatever the format
    text = run(root, "dns", "plan")
    markdown = run(root, "dns", "plan", "--format", "markdown")
    assert checksum_in(text.stdout) == checksum_in(markdown.stdout) == plan["checksum"]
    rows = [line for line in markdown.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 3  # the header and one row per change
    # planning changed nothing
    assert bind.query("www.example.test") == ["192.0.2.10"]


def test_apply_serves_exactly_the_reviewed_plan(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    checksum = checksum_in(run(root, "dns", "plan").stdout)
    result = run(root, "dns", "apply", "--checksum", checksum)
    assert result.exit_code == 0, result.output
    assert "applied 3 change(s) to example.test" in result.stdout
    assert bind.query("www.example.test") == ["192.0.2.11"]
    assert bind.query("docs.example.test", "CNAME") == ["www.example.test."]
    assert bind.query("old.example.test") == []
    in_sync = run(root, "dns", "drift")
    assert in_sync.exit_code == 0, in_sync.output
    # the audit log says who applied which plan
    [store] = (tmp_path / "data").glob("*.db")
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT actor, action, target, detail FROM audit_log").fetchall()
    [(actor, action, target, detail)] = rows
    assert (action, target) == ("dns.apply", "example.test")
    assert actor.startswith("cli:")
    assert json.loads(detail)["checksum"] == checksum


def test_a_plan_older_than_the_live_zone_is_refused(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    checksum = checksum_in(run(root, "dns", "plan").stdout)
    hand_edit(bind, "www", "192.0.2.50")
    result = run(root, "dns", "apply", "--checksum", checksum)
    assert result.exit_code == 1
    assert "changed since it was reviewed; nothing was applied" in result.output
    assert "infradex dns plan" in result.output
    assert bind.query("www.example.test") == ["192.0.2.50"]
    assert bind.query("old.example.test") == ["192.0.2.99"]


def test_a_wrong_checksum_applies_nothing(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    result = run(root, "dns", "apply", "--checksum", "0" * 20)
    assert result.exit_code == 1
    assert "nothing was applied" in result.output
    assert bind.query("www.example.test") == ["192.0.2.10"]


def test_drift_finds_ahand_edit(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    run(root, "dns", "apply", "--checksum", checksum_in(run(root, "dns", "plan").stdout))
    hand_edit(bind, "www", "192.0.2.66")
    result = run(root, "dns", "drift", "--format", "json")
    assert result.exit_code == 3, result.output
    [change] = json.loads(result.stdout)["changes"]
    assert change["fqdn"] == "www.example.test"
    assert change["before"]["values"] == ["192.0.2.66"]
    assert "drift in example.test" in result.stderr


def test_octodns_safety_thresholds_hold_unless_forced(tmp_path: Path) -> None:
    from .conftest import start_bind

    many = "\n".join(f"h{i:02d} IN A 192.0.2.{i + 1}" for i in range(20))
    zone = "@ IN SOA ns1.example.test. h.example.test. 1 3600 600 86400 300\n"
    zone += "@ IN NS ns1.example.test.\nns1 IN A 127.0.0.1\n" + many + "\n"
    directory = tmp_path / "bind"
    directory.mkdir()
    for bind in start_bind(directory, {"example.test": zone}, {"example.test"}):
        kept = {f"h{i:02d}": {"type": "A", "value": f"192.0.2.{i + 1}"} for i in range(5)}
        records = {"ns1": {"type": "A", "value": "127.0.0.1", "ttl": 300}, **kept}
        root = write_catalog(tmp_path / "catalog", bind.port, records=records)
        plan = run(root, "dns", "plan")
        assert "example.test is unsafe" in plan.stdout, plan.output
        checksum = checksum_in(plan.stdout)
        refused = run(root, "dns", "apply", "--checksum", checksum)
        assert refused.exit_code == 1
        assert "unsafe by octoDNS's thresholds" in refused.output
        assert "--force" in refused.output
        assert bind.query("h19.example.test") == ["192.0.2.20"]
        forced = run(root, "dns", "apply", "--checksum", checksum, "--force")
        assert forced.exit_code == 0, forced.output
        assert bind.query("h19.example.test") == []
        assert bind.query("h04.example.test") == ["192.0.2.5"]


def test_a_failing_zone_names_what_was_applied_and_what_was_not(tmp_path: Path) -> None:
    from .conftest import start_bind

    soa = "@ IN SOA ns1.{z}. h.{z}. 1 3600 600 86400 300\n@ IN NS ns1.{z}.\nns1 IN A 127.0.0.1\n"
    zones = {z: soa.format(z=z) for z in ("a.test", "b.test", "c.test")}
    directory = tmp_path / "bind"
    directory.mkdir()
    # b.test refuses updates: its apply fails after a.test's succeeded
    for bind in start_bind(directory, zones, writable={"a.test", "c.test"}):
        new = {"ns1": {"type": "A", "value": "127.0.0.1", "ttl": 300}}
        catalog_zones = {
            z: {**new, "www": {"type": "A", "value": "192.0.2.7", "ttl": 300}} for z in zones
        }
        root = write_catalog(tmp_path / "catalog", bind.port, zones=catalog_zones)
        result = run(
            root, "dns", "apply", "--checksum", checksum_in(run(root, "dns", "plan").stdout)
        )
        assert result.exit_code == 1
        assert "applying b.test failed" in result.output
        assert "Applied before it: a.test; not touched: c.test" in " ".join(result.output.split())
        assert bind.query("www.a.test") == ["192.0.2.7"]
        assert bind.query("www.b.test") == []
        assert bind.query("www.c.test") == []


def test_records_unchanged_plan_is_empty(bind: Bind, tmp_path: Path) -> None:
    live = {
        "ns1": {"type": "A", "value": "127.0.0.1", "ttl": 300},
        "old": {"type": "A", "value": "192.0.2.99", "ttl": 300},
        "www": {"type": "A", "value": "192.0.2.10", "ttl": 300},
    }
    root = write_catalog(tmp_path / "catalog", bind.port, records=live)
    result = run(root, "dns", "plan")
    assert result.exit_code == 0, result.output
    assert "No changes" in result.stdout
    assert run(root, "dns", "drift").exit_code == 0
    assert live != RECORDS


def test_apply_can_put_the_touched_services_in_maintenance(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    checksum = checksum_in(run(root, "dns", "plan").stdout)
    result = run(root, "dns", "apply", "--checksum", checksum, "--maintenance")
    assert result.exit_code == 0, result.output
    assert "maintenance for service:www until" in result.stdout
    [store] = (tmp_path / "data").glob("*.db")
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT target_ref, starts_at, ends_at, reason FROM maintenance_windows"
        ).fetchall()
    [(target, starts, ends, reason)] = rows
    assert target == "service:www"
    assert checksum in reason
    length = datetime.fromisoformat(ends) - datetime.fromisoformat(starts)
    assert length == timedelta(minutes=2, seconds=300)  # the allowance and www's old TTL


def test_a_refused_apply_opens_no_maintenance(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    result = run(root, "dns", "apply", "--checksum", "0" * 20, "--maintenance")
    assert result.exit_code == 1
    stores = list((tmp_path / "data").glob("*.db"))
    if stores:
        with sqlite3.connect(stores[0]) as db:
            assert db.execute("SELECT count(*) FROM maintenance_windows").fetchone() == (0,)
