"""The running alerting: state changes → incidents → escalation → the outbox → notifiers.

An :class:`Alerter` reads what the monitor wrote (state changes, check states, maintenance
windows) from the store through :mod:`infradex.monitor.reads`, never from a monitor's memory, so
it can run in any process on any server that shares the store (``infradex serve`` and
``infradex monitor`` run it next to their monitor and wake it on each flush). Each turn (at
least once a second, and at once when the monitor writes a state change):

1. notice what people did since the last turn (acknowledged, resolved by hand) and tell the
   policy's channels (PagerDuty acknowledge/resolve, Slack);
2. read the state changes not yet handled, in order, and feed them to the
   :class:`~infradex.alerting.incidents.Correlator`; end the holds that are due; save what it
   changed and mark the changes handled, in one transaction;
3. escalate the incidents whose next step is due: resolve the step's schedules, teams and
   people at this instant and queue one outbox row per channel, moving the incident's
   escalation position in the same transaction (a crash repeats nothing and skips nothing);
4. let the turn's hooks act on what changed (the status page's drafts and automatic
   publications: :mod:`infradex.alerting.turn_hooks`), each in its own fenced transaction;
5. wake the dispatcher.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.alerting import incident_store, outbox, records
from infradex.alerting.dispatcher import Dispatcher
from infradex.alerting.escalate import (
    EndSnooze,
    Escalation,
    Page,
    Record,
    Reschedule,
    TellPolicyChannels,
    WaitForSnooze,
    escalation_step,
)
from infradex.alerting.incidents import (
    CORRELATION_WINDOW,
    REOPEN_WINDOW,
    Correlator,
    ref_of,
)
from infradex.alerting.location_pages import LOCATION_PROBLEMS_EVERY, page_location_problems
from infradex.alerting.messages import IncidentView, render
from infradex.alerting.model import IncidentStatus
from infradex.alerting.turn_hooks import TurnHook
from infradex.background import Loop
from infradex.catalog.entities import Catalog
from infradex.catalog.refs import Ref
from infradex.channels.base import Notifier
from infradex.channels.config import ChannelSpec
from infradex.channels.registry import acknowledges_itself
from infradex.clock import utcnow
from infradex.monitor import reads
from infradex.monitor.maintenance import ActiveCoverage, active_coverage
from infradex.oncall.escalation import (
    PolicySnapshot,
    quiet_until_of,
)
from infradex.oncall.routing import route, routing_json
from infradex.store.db import Database
from infradex.store.leases import Lease, fence
from infradex.store.tables import incidents, state_changes

__all__ = ["AlertSettings", "Alerter"]

log = logging.getLogger("infradex.alerting")

TURN = 1.0  # seconds between turns when nothing wakes the alerter
CHANGES_PER_TURN = 2000
ESCALATE_PER_TRANSACTION = 50
PRUNE_EVERY = 3600.0  # seconds between prunes of old messages and expired links


@dataclass(frozen=True, slots=True)
class AlertSettings:
    base_url: str = "http://127.0.0.1:8000"
    window: timedelta = CORRELATION_WINDOW
    reopen_window: timedelta = REOPEN_WINDOW


class Alerter:
    def __init__(
        self,
        db: Database,
        notifiers: Mapping[str, Notifier],
        *,
        settings: AlertSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        dispatcher: Dispatcher | None = None,
        leader_lease: Callable[[], Lease | None] | None = None,
        hooks: Sequence[TurnHook] = (),
    ) -> None:
        self.db = db
        #: what else a turn does once it has correlated (runtime.assembly hands them in)
        self.hooks = tuple(hooks)
        #: incidents may have changed since the hooks last ran (set until they succeed)
        self._hooks_behind = True
        #: on several servers: the lease this process leads with, or None while another
        #: server leads (runtime.leadership); unset, this process always leads
        self.leader_lease = leader_lease
        self._lease: Lease | None = None  # the lease this turn writes under
        self.following = False
        self.settings = settings or AlertSettings()
        self.clock = clock
        self.correlator = Correlator(self.settings.window, self.settings.reopen_window)
        self.dispatcher = dispatcher or Dispatcher(db, notifiers, clock=clock)
        self.catalog: Catalog | None = None
        self._check_ids: frozenset[str] = frozenset()
        self._by_owner: dict[str, list[str]] = {}
        self._loop = Loop("alerter", TURN, self._turn_and_prune, log=log)
        self._pruned_at: float | None = None
        #: the checks failing as the store said at the start of this turn's correlation
        self._unwell: frozenset[str] = frozenset()
        self._stale = False
        self.turns = 0
        self.last_good_turn: datetime | None = None
        self._location_problems_at: datetime | None = None

    # ------------------------------------------------------------------ lifecycle
    def _new_correlator(self) -> Correlator:
        correlator = Correlator(self.settings.window, self.settings.reopen_window)
        if self.catalog is not None:
            correlator.upstream_checks = frozenset(reads.upstream_check_ids(self.catalog))
        return correlator

    def set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._hooks_behind = True
        self.correlator.upstream_checks = frozenset(reads.upstream_check_ids(catalog))
        self._check_ids = frozenset(reads.catalog_check_ids(catalog))
        by_owner: dict[str, list[str]] = {}
        for check_id in self._check_ids:
            by_owner.setdefault(check_id.split("/", 1)[0], []).append(check_id)
        self._by_owner = by_owner

    async def load(self) -> None:
        """The open incidents (and the recently resolved, for reopening) from the store."""
        now = self.clock()
        for incident in await records.load_for_correlation(
            self.db, now, self.settings.reopen_window
        ):
            self.correlator.adopt(incident)

    async def start(self, catalog: Catalog) -> None:
        self.set_catalog(catalog)
        await self.load()
        self._loop.start()
        self.dispatcher.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.dispatcher.stop()

    def wake(self) -> None:
        self._loop.wake()

    def healthy(self, within: timedelta = timedelta(seconds=90)) -> bool:
        """A turn completed within the last ``within`` (the heartbeat asks)."""
        last = self.last_good_turn
        return last is not None and self.clock() - last <= within

    @contextlib.asynccontextmanager
    async def _leader_write(self, now: datetime) -> AsyncIterator[AsyncConnection]:
        """A write transaction of the turn. On several servers it first checks, in the same
        transaction, that this process still holds the leader's lease (``fence``): a leader
        paused past its lease and demoted meanwhile writes nothing, so pages nobody twice."""
        async with self.db.begin(writes=True) as connection:
            if self._lease is not None:
                await fence(connection, self._lease, now)
            yield connection

    async def _turn_and_prune(self) -> None:
        await self.turn()
        if self._pruned_at is None or time.monotonic() - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            await records.prune(self.db, self.clock())

    # ------------------------------------------------------------------ one turn
    async def turn(self, now: datetime | None = None) -> int:
        """One pass; returns how many notifications were queued."""
        assert self.catalog is not None, "set_catalog first"
        now = now or self.clock()
        self.turns += 1
        if self.leader_lease is not None:
            self._lease = self.leader_lease()
            if self._lease is None:  # another server leads: it correlates and escalates
                self.following = True
                self.last_good_turn = now
                return 0
            if self.following:  # just became the leader: the store is ahead of memory
                self.following = False
                self._stale = True
        if self._stale:  # a failed turn left memory ahead of the store: start from the store
            self.correlator = self._new_correlator()
            await self.load()
            self._stale = False
            self._hooks_behind = True
        try:
            queued = await self._notice_people(now)
            queued += await self._correlate(now)
        except BaseException:
            self._stale = True
            raise
        queued += await self._run_hooks(now)
        queued += await self._escalate(now)
        queued += await self._location_problems(now)
        if queued:
            self.dispatcher.wake()
        self.last_good_turn = now
        return queued

    async def _run_hooks(self, now: datetime) -> int:
        """Each hook after the correlation has committed; one that fails is logged and told
        again next turn (``changed`` stays set): the status page never holds back a page."""
        catalog = self.catalog
        assert catalog is not None
        queued = 0
        failed = False
        for hook in self.hooks:
            try:
                queued += await hook.after_correlation(
                    self._leader_write, catalog, now, changed=self._hooks_behind
                )
            except Exception:
                failed = True
                log.exception("alerting: %s failed; trying again next turn", type(hook).__name__)
        self._hooks_behind = failed
        return queued

    def unwell(self, ref: Ref) -> bool:
        """One of the entity's checks is failing, even if not yet past its threshold (as
        the store said when this turn's correlation began)."""
        return any(c in self._unwell for c in self._by_owner.get(str(ref), ()))

    async def _correlate(self, now: datetime) -> int:
        catalog = self.catalog
        assert catalog is not None
        c = self.correlator
        async with self._leader_write(now) as connection:
            changes = (
                await connection.execute(
                    select(state_changes)
                    .where(state_changes.c.handled_at.is_(None))
                    .order_by(state_changes.c.id)
                    .limit(CHANGES_PER_TURN)
                )
            ).all()
            checks = self._check_ids
            if changes or c.held or not c.by_check.keys() <= checks:
                # read in the transaction that handles the changes: the states are at least
                # as new as the changes (the monitor writes both in one transaction); a quiet
                # turn (nothing changed, held or removed) asks nothing of the store
                self._unwell = await reads.unwell_checks(connection)
            for change in changes:
                entity = ref_of(change.check_id)
                if change.to_state == "down":
                    c.check_down(
                        catalog,
                        change.check_id,
                        entity,
                        change.at,
                        change.reason or "",
                        self.unwell,
                    )
                elif change.to_state == "up":
                    c.check_up(catalog, change.check_id, change.at, self.unwell)
                # pending, flapping, maintenance, unknown: the incident stays as it is
            for check_id in [k for k in (*c.by_check, *c.held) if k not in checks]:
                c.check_up(catalog, check_id, now, self.unwell, "removed from the catalog")
            c.release_holds(catalog, now, self.unwell)
            c.prune_recent(now)
            queued = 0
            for incident in c.drain():
                self._hooks_behind = True
                policy = None
                if incident.id is None or incident.transition == "reopened":
                    impacted = [ref_of(m.entity) for m in incident.down_members("impacted")]
                    found = route(catalog, ref_of(incident.key), impacted)
                    policy = routing_json(catalog, found)
                notices = list(incident.notices)
                incident.notices.clear()
                await records.save(connection, incident, now, policy)
                if "resolve" in notices:
                    assert incident.id is not None
                    queued += await self._resolve_notices(connection, incident.id, now)
            if changes:
                self._hooks_behind = True
                await connection.execute(
                    update(state_changes)
                    .where(state_changes.c.id.in_([ch.id for ch in changes]))
                    .values(handled_at=now)
                )
        return queued

    async def _location_problems(self, now: datetime) -> int:
        """Every :data:`LOCATION_PROBLEMS_EVERY`, when some policy asks for them: page each
        location problem once (:mod:`infradex.alerting.location_pages`)."""
        catalog = self.catalog
        assert catalog is not None
        if not any(p.spec.location_problems for p in catalog.of_kind("escalationpolicy")):
            return 0
        last = self._location_problems_at
        if last is not None and now - last < LOCATION_PROBLEMS_EVERY:
            return 0
        async with self._leader_write(now) as connection:
            queued = await page_location_problems(connection, catalog, now)
        self._location_problems_at = now
        return queued

    # ------------------------------------------------------------------ people's actions
    async def _notice_people(self, now: datetime) -> int:
        """What people did (web, API, CLI, links), since the last turn or while alerting was
        not running (``needs_notice``): hand-resolved incidents are forgotten by the
        correlator; the policy's channels hear of acknowledgements, and everyone paged and
        the policy's channels of hand resolves."""
        async with self._leader_write(now) as connection:
            rows = (
                await connection.execute(
                    select(
                        incidents.c.id,
                        incidents.c.key,
                        incidents.c.status,
                        incidents.c.resolved_at,
                        incidents.c.policy,
                    ).where(incidents.c.needs_notice.is_(True))
                )
            ).all()
            queued = 0
            if rows:
                self._hooks_behind = True
            for row in rows:
                mine = self.correlator.by_key.get(row.key)
                if mine is not None and mine.id != row.id:
                    mine = None
                if row.status == IncidentStatus.RESOLVED:
                    if mine is not None:
                        self.correlator.forget(
                            mine, IncidentStatus.RESOLVED, row.resolved_at or now
                        )
                    queued += await self._resolve_notices(connection, row.id, now)
                else:
                    if mine is not None:
                        mine.status = IncidentStatus(row.status)
                    if row.status == IncidentStatus.ACKNOWLEDGED:
                        queued += await self._tell_paged(
                            connection, row.id, row.policy, "acknowledge", now
                        )
                await incident_store.noticed(connection, row.id, row.status)
        return queued

    # ------------------------------------------------------------------ escalation
    async def _escalate(self, now: datetime) -> int:
        catalog = self.catalog
        assert catalog is not None
        async with self.db.begin() as connection:
            due = (
                await connection.execute(
                    select(incidents.c.id)
                    .where(
                        incidents.c.escalation_at <= now,
                        incidents.c.status != IncidentStatus.RESOLVED,
                    )
                    .order_by(incidents.c.escalation_at)
                )
            ).all()
            # once a turn, not once an incident: a burst escalates thousands at once
            windows = await reads.maintenance_windows_of(connection, catalog) if due else []
        # what each active window covers (an impact query per window), also once a turn
        maintenance = active_coverage(windows, catalog, now)
        queued = 0
        # a few incidents per transaction: a burst of separate outages (not one CDN) is
        # escalated at a few hundred a second instead of paying a commit each
        for start in range(0, len(due), ESCALATE_PER_TRANSACTION):
            async with self._leader_write(now) as connection:
                for (incident_id,) in due[start : start + ESCALATE_PER_TRANSACTION]:
                    queued += await self._escalate_one(connection, incident_id, maintenance, now)
        return queued

    async def _escalate_one(
        self,
        connection: AsyncConnection,
        incident_id: int,
        maintenance: ActiveCoverage,
        now: datetime,
    ) -> int:
        """The due steps of one incident, in one transaction that first takes the incident
        (a conditional update on what was read): an acknowledgement committed meanwhile wins,
        and the step's messages are not queued. What to do is
        :func:`~infradex.alerting.escalate.escalation_step`'s; this applies it."""
        catalog = self.catalog
        assert catalog is not None
        row = (
            await connection.execute(select(incidents).where(incidents.c.id == incident_id))
        ).one()
        if (
            row.escalation_at is None
            or row.escalation_at > now
            or row.status == IncidentStatus.RESOLVED
        ):
            return 0  # someone acted since the first look
        if not await incident_store.take_for_escalation(connection, row, now):
            return 0
        view: IncidentView | None = await records.incident_view(connection, incident_id, row)
        assert view is not None
        failing = tuple(check for check, _ in view.failing)
        incident = Escalation(
            key=row.key,
            status=IncidentStatus(row.status),
            position=row.escalation_step,
            started=row.escalation_started_at or row.opened_at,
            snoozed_until=row.snoozed_until,
            policy=row.policy,
            failing=failing,
        )
        covered = maintenance.covering(failing)
        queued = 0
        for action in escalation_step(incident, catalog, now, covered):
            match action:
                case WaitForSnooze(until):
                    await incident_store.wait_for_snooze(connection, incident_id, until)
                case EndSnooze():
                    await incident_store.end_snooze(connection, incident_id, row.status)
                    mine = self.correlator.by_key.get(row.key)
                    if mine is not None and mine.id == incident_id:
                        mine.status = IncidentStatus.OPEN
                    view = None  # the row read is stale now: read again when rendering
                case Record(kind, data, once):
                    if once and await records.last_event_kind(connection, incident_id) == kind:
                        continue
                    await records.add_event(connection, incident_id, now, kind, data)
                case TellPolicyChannels(kind):
                    view = view or await records.incident_view(connection, incident_id)
                    queued += await self._policy_channels(connection, row.policy, view, kind, now)
                case Page(recipient, channel, reason):
                    view = view or await records.incident_view(connection, incident_id)
                    queued += await self._page(connection, view, recipient, channel, reason, now)
                case Reschedule(position, started, at):
                    await incident_store.reschedule(
                        connection, incident_id, position, started, at, now
                    )
        return queued

    def _links(self, incident_id: int, tokens: Mapping[str, str]) -> dict[str, str]:
        base = self.settings.base_url.rstrip("/")
        links = {"incident": f"{base}/incidents/{incident_id}"}
        for action, token in tokens.items():
            links[action] = f"{base}/act/{token}"
        return links

    async def _page(
        self,
        connection: AsyncConnection,
        view: IncidentView,
        recipient: str,
        channel: ChannelSpec,
        reason: str,
        now: datetime,
    ) -> int:
        assert self.catalog is not None
        tokens = {}
        if not acknowledges_itself(channel.type):
            for action in ("acknowledge", "resolve"):
                tokens[action] = await records.create_link(
                    connection, view.id, action, recipient, now
                )
        message = render(
            self.catalog, view, "trigger", self._links(view.id, tokens), reason=reason, now=now
        )
        await outbox.enqueue(
            connection,
            channel=channel.type,
            kind="trigger",
            recipient=recipient,
            address=channel.address,
            options=dict(channel.options),
            message=message,
            now=now,
            incident_id=view.id,
        )
        return 1

    async def _policy_channels(
        self,
        connection: AsyncConnection,
        policy: dict[str, Any] | None,
        view: IncidentView,
        kind: str,
        now: datetime,
        only: set[tuple[str, str]] | None = None,
    ) -> int:
        """The policy's own channels (PagerDuty, a team's Slack) hear of every incident:
        its trigger, acknowledgement and resolve (``only``: the channels the trigger
        reached)."""
        assert self.catalog is not None
        snapshot = PolicySnapshot.from_dict(policy)
        channels = [c for c in snapshot.channels if only is None or (c.type, c.address) in only]
        for channel in channels:
            message = render(self.catalog, view, kind, self._links(view.id, {}), now=now)
            await outbox.enqueue(
                connection,
                channel=channel.type,
                kind=kind,
                recipient=snapshot.ref,
                address=channel.address,
                options=dict(channel.options),
                message=message,
                now=now,
                incident_id=view.id,
            )
        return len(channels)

    async def _resolve_notices(
        self, connection: AsyncConnection, incident_id: int, now: datetime
    ) -> int:
        """Everyone paged about the incident, on each channel the page reached, and the
        policy's channels hear that it is resolved; quiet hours apply (not urgent). A page
        still waiting in the outbox (its channel was failing) is cancelled instead: a late
        DOWN with live links after the RESOLVED would only mislead."""
        assert self.catalog is not None
        await outbox.cancel_pages(connection, incident_id)
        row = (
            await connection.execute(
                select(incidents.c.policy).where(incidents.c.id == incident_id)
            )
        ).one()
        return await self._tell_paged(connection, incident_id, row.policy, "resolve", now)

    async def _tell_paged(
        self,
        connection: AsyncConnection,
        incident_id: int,
        policy: dict[str, Any] | None,
        kind: str,
        now: datetime,
    ) -> int:
        """Everyone paged about the incident, on each channel a page reached, hears of an
        acknowledgement or a resolve once; so do the policy's own channels (a resolve: those
        its trigger reached). A resolve waits out quiet hours; an acknowledgement does not:
        whoever it reaches was paged for this incident, and it lets them stand down now."""
        assert self.catalog is not None
        view = await records.incident_view(connection, incident_id)
        reached = await records.notified_targets(connection, incident_id)
        queued = 0
        policy_ref = (policy or {}).get("ref")
        for recipient, channel, address, options in reached:
            if recipient == policy_ref:
                continue  # the policy's channels are told below
            quiet = quiet_until_of(self.catalog, recipient, now) if kind == "resolve" else None
            message = render(self.catalog, view, kind, self._links(incident_id, {}), now=now)
            await outbox.enqueue(
                connection,
                channel=channel,
                kind=kind,
                recipient=recipient,
                address=address,
                options=options,
                message=message,
                now=now,
                incident_id=incident_id,
                not_before=quiet,
            )
            queued += 1
        told = {(channel, address) for r, channel, address, _ in reached if r == policy_ref}
        only = told if kind == "resolve" else None
        queued += await self._policy_channels(connection, policy, view, kind, now, only=only)
        return queued
