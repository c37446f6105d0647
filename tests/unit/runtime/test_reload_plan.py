"""The reload plan: a reload is held when it removes more than the share allowed of the
entities or of the checks, or when it would close an open incident by removing the checks
that hold it open; below the threshold, and on the first load, it goes ahead."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.catalog import Catalog, load
from infradex.runtime.reload_plan import OpenIncident, ReloadPlan, plan_reload


def catalog_of(root: Path, services: list[str], checks_per_service: int = 1) -> Catalog:
    """One service per name, each with ``checks_per_service`` checks (on 127.0.0.1: nothing
    here runs them)."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.yaml"):
        old.unlink()
    for name in services:
        checks = "".join(
            f'    - {{name: c{n}, url: "http://127.0.0.1:9/{name}/{n}"}}\n'
            for n in range(checks_per_service)
        )
        (root / f"{name}.yaml").write_text(
            "apiVersion: infradex/v1\nkind: Service\n"
            f"metadata: {{name: {name}}}\nspec:\n  checks:\n{checks}",
            encoding="utf-8",
        )
    loaded = load(root)
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


NAMES = [f"s{n}" for n in range(10)]


def test_the_first_load_is_never_held(tmp_path: Path) -> None:
    plan = plan_reload(None, catalog_of(tmp_path, NAMES), [], 0.3)
    assert not plan.held and plan.removed_entities == () and plan.entities_before == 0


@pytest.mark.parametrize(("kept", "held"), [(10, False), (7, False), (6, True), (0, True)])
def test_removing_more_than_the_share_is_held(tmp_path: Path, kept: int, held: bool) -> None:
    old = catalog_of(tmp_path / "old", NAMES)
    new = catalog_of(tmp_path / "new", [*NAMES[:kept], "added"])
    plan = plan_reload(old, new, [], 0.3)
    assert plan.held is held
    assert plan.removed_entities == tuple(sorted(f"service:{n}" for n in NAMES[kept:]))
    assert plan.removed_checks == tuple(sorted(f"service:{n}/c0" for n in NAMES[kept:]))
    if held:  # both entities and checks are over the share, and each says so
        assert [r.split(" (")[0] for r in plan.reasons] == [
            f"it removes {10 - kept} of 10 entities",
            f"it removes {10 - kept} of 10 checks",
        ]
        assert "more than 30% (INFRADEX_RELOAD_MAX_REMOVED)" in plan.reasons[0]


def test_checks_alone_over_the_share_are_held(tmp_path: Path) -> None:
    old = catalog_of(tmp_path / "old", ["web"], checks_per_service=4)
    new = catalog_of(tmp_path / "new", ["web"], checks_per_service=2)
    plan = plan_reload(old, new, [], 0.3)
    assert plan.removed_entities == () and plan.removed_checks == (
        "service:web/c2",
        "service:web/c3",
    )
    assert plan.held and plan.reasons[0].startswith("it removes 2 of 4 checks (50%)")


def test_a_share_of_one_never_holds_for_size_and_zero_holds_any_removal(tmp_path: Path) -> None:
    old = catalog_of(tmp_path / "old", NAMES)
    empty_ish = catalog_of(tmp_path / "new", ["s0"])
    assert not plan_reload(old, empty_ish, [], 1.0).held
    one_less = catalog_of(tmp_path / "less", NAMES[:-1])
    assert plan_reload(old, one_less, [], 0.0).held
    assert not plan_reload(old, old, [], 0.0).held


def test_closing_an_open_incident_is_held_even_below_the_share(tmp_path: Path) -> None:
    old = catalog_of(tmp_path / "old", NAMES)
    new = catalog_of(tmp_path / "new", NAMES[1:])  # removes 10 %: under the share
    down = OpenIncident(7, "s0 is down", ("service:s0/c0",))
    elsewhere = OpenIncident(8, "s1 is down", ("service:s1/c0",))
    # an incident whose root checks are partly kept stays open: not counted
    partly = OpenIncident(9, "two checks", ("service:s0/c0", "service:s2/c0"))
    plan = plan_reload(old, new, [down, elsewhere, partly], 0.3)
    assert plan.held and plan.closes == (down,)
    assert plan.reasons == ("it would close 1 open incident(s) by removing their checks: #7",)
    assert not plan_reload(old, new, [elsewhere, partly], 0.3).held


def test_the_fingerprint_names_the_change_and_the_plan_round_trips(tmp_path: Path) -> None:
    old = catalog_of(tmp_path / "old", NAMES)
    new = catalog_of(tmp_path / "new", NAMES[:5])
    again = catalog_of(tmp_path / "again", NAMES[:5])  # the same files, loaded again
    plan = plan_reload(old, new, [OpenIncident(1, "t", ("service:s9/c0",))], 0.3)
    assert plan.fingerprint == plan_reload(old, again, [], 0.3).fingerprint
    assert plan.fingerprint != plan_reload(new, old, [], 0.3).fingerprint
    assert plan.fingerprint != plan_reload(None, new, [], 0.3).fingerprint
    assert ReloadPlan.from_dict(plan.to_dict()) == plan
