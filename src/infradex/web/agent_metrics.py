"""``/metrics`` for probe agents: each located check as seen from each location (a
``location`` label), each agent's contact and counts, and refused agent requests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from fastapi import Request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from infradex.clock import utcnow
from infradex.monitor.agent_records import AgentRecord, list_agents
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.ingest import location_states_of
from infradex.monitor.locations import LocatedCheck, located_checks
from infradex.monitor.quorum import LocationHealth, location_health

__all__ = ["AgentsCollector", "agents_collector"]


async def agents_collector(request: Request) -> AgentsCollector:
    """The collector with what the store holds now (any server's ingest)."""
    db = request.app.state.db
    checks = located_checks(request.app.state.catalog.catalog)
    async with db.begin() as connection:
        states = await location_states_of(connection, list(checks))
    return AgentsCollector(
        checks, states, await list_agents(db), dict(request.app.state.agent_refusals), utcnow()
    )


class AgentsCollector(Collector):
    def __init__(
        self,
        checks: Mapping[str, LocatedCheck],
        states: Mapping[str, Mapping[str, CheckState]],
        agents: list[AgentRecord],
        refusals: Mapping[str, int],
        now: datetime,
    ) -> None:
        self.checks, self.states, self.agents = checks, states, agents
        self.refusals, self.now = refusals, now

    def collect(self) -> Iterator[Metric]:
        labels = ["check", "owner", "location"]
        up = GaugeMetricFamily(
            "infradex_location_check_up",
            "1 if the check is up as seen from this location (its hard state), 0 otherwise",
            labels=labels,
        )
        stale = GaugeMetricFamily(
            "infradex_location_check_stale",
            "1 if this location has not reported the check recently (its agent is silent)",
            labels=labels,
        )
        duration = GaugeMetricFamily(
            "infradex_location_probe_duration_seconds",
            "Seconds the location's last probe of the check took",
            labels=labels,
        )
        for check in self.checks.values():
            seen = self.states.get(check.id, {})
            for location in check.locations:
                state = seen.get(location)
                if state is None:
                    continue
                values = [check.id, check.owner, location]
                health = location_health(state, self.now, check.stale_after)
                up.add_metric(values, 1.0 if state.hard_state is Shown.UP else 0.0)
                stale.add_metric(values, 1.0 if health == LocationHealth.STALE else 0.0)
                if state.last_duration_ms is not None:
                    duration.add_metric(values, state.last_duration_ms / 1000)
        yield from (up, stale, duration)
        seen_at = GaugeMetricFamily(
            "infradex_agent_last_seen_timestamp_seconds",
            "Unix time the server last heard from the location's agent",
            labels=["location"],
        )
        offset = GaugeMetricFamily(
            "infradex_agent_clock_offset_seconds",
            "The server's clock minus the agent's, at its last heartbeat",
            labels=["location"],
        )
        results = CounterMetricFamily(
            "infradex_agent_results", "Results stored from the agent", labels=["location"]
        )
        refused = CounterMetricFamily(
            "infradex_agent_refused_results",
            "Results from the agent the server refused (docs/agents.md)",
            labels=["location"],
        )
        dropped = CounterMetricFamily(
            "infradex_agent_dropped_results",
            "Results the agent's buffer dropped while it could not reach the server",
            labels=["location"],
        )
        for agent in self.agents:
            where = [agent.location]
            seen_at.add_metric(where, agent.last_seen_at.timestamp())
            if agent.clock_offset_ms is not None:
                offset.add_metric(where, agent.clock_offset_ms / 1000)
            results.add_metric(where, float(agent.results_total))
            refused.add_metric(where, float(agent.refused_total))
            dropped.add_metric(where, float(agent.dropped_total))
        requests = CounterMetricFamily(
            "infradex_agent_refused_requests",
            "Agent API requests refused before anything was stored, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(self.refusals.items()):
            requests.add_metric([reason], float(count))
        yield from (seen_at, offset, results, refused, dropped, requests)
