"""The ``infradex`` console script: the root command with every command group registered."""

from __future__ import annotations

from infradex.cli import agent as _agent  # noqa: F401  (registers its commands)
from infradex.cli import catalog as _catalog  # noqa: F401
from infradex.cli import dns as _dns  # noqa: F401
from infradex.cli import docs as _docs  # noqa: F401
from infradex.cli import incidents as _incidents  # noqa: F401
from infradex.cli import monitor as _monitor  # noqa: F401
from infradex.cli import oncall as _oncall  # noqa: F401
from infradex.cli import server as _server  # noqa: F401
from infradex.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
