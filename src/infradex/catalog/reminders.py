"""How long before public maintenance starts its status-page subscribers are reminded
(docs/status-page.md, "Scheduled maintenance"): a window's own ``remindBefore`` (catalog),
``remindBefore`` (API) or ``--remind-before`` (CLI), else one hour; zero sends none. Pure:
the catalog validator, the API and the CLI check the same rule here.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = ["DEFAULT_REMIND_BEFORE", "LONGEST_REMIND_BEFORE", "check_remind_before"]

#: without a time of its own, a window's subscribers are reminded this long before it starts
DEFAULT_REMIND_BEFORE = timedelta(hours=1)
#: the longest a reminder may come ahead (a longer one is the announcement itself)
LONGEST_REMIND_BEFORE = timedelta(days=7)


def check_remind_before(value: timedelta, *, public: bool, name: str = "remindBefore") -> None:
    """A window's reminder time: on a public window (only its subscribers are reminded),
    from 0 (no reminder) to 7 days. ``ValueError`` saying what to write (``name``: the
    field as the person wrote it)."""
    if not public:
        raise ValueError(
            f"{name} reminds the subscribers of a public window: make the window public, or "
            "leave it out"
        )
    if value < timedelta(0) or value > LONGEST_REMIND_BEFORE:
        raise ValueError(
            f"{name} is between 0 (no reminder) and 7d (the default is 1h), e.g. 2h or 1d"
        )
