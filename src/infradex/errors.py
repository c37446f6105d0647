"""The errors infradex raises on purpose.

Every user-facing error says what went wrong and what to do next. Foreign exceptions (YAML,
pydantic, OS errors) are translated into these at the boundary where they happen::

    InfradexError                 base; ``str(err)`` is a complete message for the user
     ├── UsageError               the command line or a query was malformed (exit 2)
     ├── NotFoundError            a reference, domain or name matches nothing
     └── CatalogInvalid           the catalog has errors; ``problems`` lists every one
                                  (in ``infradex.catalog.problems``, beside ``Problem``)
"""

from __future__ import annotations

__all__ = ["InfradexError", "NotFoundError", "UsageError"]


class InfradexError(Exception):
    """Base of every error infradex raises on purpose."""

    exit_code = 1


class UsageError(InfradexError):
    """The request itself is malformed; retrying it unchanged cannot help."""

    exit_code = 2


class NotFoundError(InfradexError):
    """A reference, domain or name that matches nothing in the catalog."""
