"""The assembler hands the alerter the status page's hook, with links to the page's
configured public address only (docs/status-page.md, "What happens by itself")."""

from __future__ import annotations

from pathlib import Path

from infradex.runtime.assembly import alerter_for
from infradex.settings import Settings
from infradex.statuspage.automatic import PublicIncidentAutomation
from infradex.store import Database


def settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(catalog=Path("."), catalog_is_embedded=False, data_dir=tmp_path,
                    database_url="sqlite://", secret_key="k", public_read=True,
                    **changes)  # type: ignore[arg-type]  # fmt: skip


def test_the_alerter_runs_the_status_page_hook_with_the_configured_links(tmp_path: Path) -> None:
    db = Database("sqlite://")
    (hook,) = alerter_for(settings(tmp_path, status_url="https://status.example.org"), db).hooks
    assert isinstance(hook, PublicIncidentAutomation)
    assert hook.links is not None and hook.links.page == "https://status.example.org/status"
    assert hook.links.secret_key == "k"
    (bare,) = alerter_for(settings(tmp_path), db).hooks
    assert isinstance(bare, PublicIncidentAutomation) and bare.links is None
