"""What else the alerter's turn does once it has correlated: a :class:`TurnHook` (the status
page's drafts and automatic publications, :mod:`infradex.statuspage.automatic`) is handed to
the :class:`~infradex.alerting.service.Alerter` by the runtime's assembler, so alerting does
not import the parts that build on it.

A hook writes through ``write``: a transaction of the turn, fenced by the leader's lease like
the turn's own, so a server that stopped leading writes nothing. It runs after the
correlation's transaction has committed and reads what it needs from the store; a hook that
fails is logged and tried again next turn, and never holds back a page.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.catalog.entities import Catalog

__all__ = ["TurnHook", "TurnWrite"]

#: opens a fenced write transaction of the turn at ``now``
TurnWrite = Callable[[datetime], AbstractAsyncContextManager[AsyncConnection]]


class TurnHook(Protocol):
    async def after_correlation(
        self, write: TurnWrite, catalog: Catalog, now: datetime, *, changed: bool
    ) -> int:
        """Act on the incidents as the store has them now. ``changed``: incidents may have
        changed since the last call that returned (state changes were handled, people acted,
        or the alerter (re)loaded); without it, a hook only does what has come due. Returns
        how many notifications it queued (the dispatcher is woken for them)."""
        ...
