"""`infradex dns …` imports the dns commands alone; anything else gets every command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infradex.cli.main import command_name


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["dns", "plan"], "dns"),
        (["--catalog", "dns", "validate"], "validate"),  # a catalog directory named dns
        (["-c", "cat", "dns", "drift"], "dns"),
        (["--catalog=cat", "dns"], "dns"),
        (["--version"], None),
        ([], None),
    ],
)
def test_command_name(argv: list[str], name: str | None) -> None:
    assert command_name(argv) == name


def _modules_after(*args: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``infradex ARGS`` (exit 0)."""
    code = (
        "import sys\n"
        f"sys.argv = ['infradex', *{list(args)!r}]\n"
        "from infradex.cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_dns_commands_leave_the_store_alerting_and_the_site_builder_unimported() -> None:
    loaded = _modules_after("dns", "--help")
    assert "infradex.cli.dns" in loaded
    for heavy in ("sqlalchemy", "infradex.store", "infradex.alerting", "infradex.docs.site",
                  "jinja2", "infradex.cli.incidents", "infradex.cli.server"):  # fmt: skip
        assert heavy not in loaded, heavy


def test_other_commands_register_every_group() -> None:
    loaded = _modules_after("--help")
    assert {"infradex.cli.dns", "infradex.cli.incidents", "infradex.cli.server"} <= loaded


def test_importing_app_gives_every_command() -> None:
    from infradex.cli.main import app

    names = {group.name for group in app.registered_groups}
    assert {"dns", "incidents", "oncall"} <= names
