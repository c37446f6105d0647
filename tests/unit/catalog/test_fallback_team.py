"""`who`'s fallback team: the one marked `fallback: true`, else `team:infrastructure`."""

from __future__ import annotations

from pathlib import Path

from infradex.catalog import Catalog, Ref
from infradex.catalog.queries import who
from infradex.lint import load

HEAD = "apiVersion: infradex/v1\n"


def team(name: str, extra: str = "") -> str:
    return (
        f"{HEAD}kind: Team\nmetadata: {{name: {name}, title: {name.title()} Crew}}\n"
        f"spec: {{contacts: [{{type: email, address: {name}@example.org}}]{extra}}}\n---\n"
    )


SERVICE = f"{HEAD}kind: Service\nmetadata: {{name: app}}\nspec: {{}}\n"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def catalog(tmp_path: Path, text: str) -> Catalog:
    loaded = load(write(tmp_path, text))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


def test_a_team_marked_fallback_answers_for_everything(tmp_path: Path) -> None:
    org = catalog(tmp_path, team("ops", ", fallback: true") + team("infrastructure") + SERVICE)
    [entry] = who(org, Ref("service", "app")).contacts
    assert entry.ref == Ref("team", "ops")
    assert entry.reason == "nobody else is listed: Ops Crew answers for everything"


def test_infrastructure_stays_the_fallback_when_nothing_is_marked(tmp_path: Path) -> None:
    org = catalog(tmp_path, team("ops") + team("infrastructure") + SERVICE)
    [entry] = who(org, Ref("service", "app")).contacts
    assert entry.ref == Ref("team", "infrastructure")
    assert entry.reason == "nobody else is listed: the infrastructure team answers for everything"


def test_two_fallback_teams_are_an_error(tmp_path: Path) -> None:
    loaded = load(write(tmp_path, team("ops", ", fallback: true") + team("web", ", fallback: true")
                        + SERVICE))  # fmt: skip
    [error] = [p for p in loaded.errors if p.code == "two-fallbacks"]
    assert error.entity == "team:web" and "ops, web" in error.message
    assert "keep `fallback: true` on one team only" in error.hint
