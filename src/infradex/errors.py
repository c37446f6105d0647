"""The errors infradex raises on purpose.

Every user-facing error says what went wrong and what to do next. Foreign exceptions (YAML,
pydantic, OS errors) are translated into these at the boundary where they happen::

    InfradexError                 base; ``str(err)`` is a complete message for the user
     ├── UsageError               the command line or a query was malformed (exit 2)
     ├── NotFoundError            a reference, domain or name matches nothing
     └── CatalogInvalid           the catalog has errors; ``problems`` lists every one
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infradex.catalog.problems import Problem

__all__ = ["CatalogInvalid", "InfradexError", "NotFoundError", "UsageError"]


class InfradexError(Exception):
    """Base of every error infradex raises on purpose."""

    exit_code = 1


class UsageError(InfradexError):
    """The request itself is malformed; retrying it unchanged cannot help."""

    exit_code = 2


class NotFoundError(InfradexError):
    """A reference, domain or name that matches nothing in the catalog."""


class CatalogInvalid(InfradexError):
    """The catalog has at least one error; ``problems`` holds all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(
            f"the catalog has {len(errors)} error(s); run `infradex validate` to list them"
        )
