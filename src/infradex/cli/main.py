"""The ``infradex`` console script: the root command with its command groups registered.

A command group is imported only when it may be needed: ``infradex dns plan`` imports the
``dns`` commands alone (not the store, alerting or incidents, which it does not use),
while ``infradex --help``, or a command name this cannot tell, registers every group."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

from infradex.cli import app as root

# `app` comes through __getattr__ below, with every command registered
__all__ = ["app", "main", "register"]  # noqa: F822

#: the modules that register commands, in the order `infradex --help` lists them
MODULES = (
    "infradex.cli.agent",
    "infradex.cli.catalog",
    "infradex.cli.dns",
    "infradex.cli.docs",
    "infradex.cli.incidents",
    "infradex.cli.monitor",
    "infradex.cli.oncall",
    "infradex.cli.server",
    "infradex.cli.status",
)
#: command groups that live in one module of their own, by the name they are called with
GROUPS = {
    "agent": "infradex.cli.agent",
    "dns": "infradex.cli.dns",
    "status": "infradex.cli.status",
}
#: the root's options that take a value (the next argument is not a command)
_VALUED = ("--catalog", "-c")


def command_name(argv: Sequence[str]) -> str | None:
    """The command the arguments call (``dns`` for ``-c cat dns plan``), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def register(argv: Sequence[str] = ()) -> None:
    """Import the command modules the arguments need (each registers its commands)."""
    group = GROUPS.get(command_name(argv) or "")
    for module in (group,) if group else MODULES:
        importlib.import_module(module)


def main() -> None:
    register(sys.argv[1:])
    root.app()


def __getattr__(name: str) -> Any:
    """``from infradex.cli.main import app`` (tests, other tools) gets the whole command line,
    every group registered; only :func:`main` picks by the arguments."""
    if name == "app":
        register()
        return root.app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
