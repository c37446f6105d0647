"""``statuspage://HOST[:PORT][/PREFIX]``: what an upstream provider says about itself on its
Statuspage-compatible status page (``https://status.fastly.com/api/v2/summary.json``).

The probe fetches ``https://HOST[:PORT][/PREFIX]/api/v2/summary.json`` with the HTTP probe (so
the address policy, timeouts, the body limit and ``ca_file`` apply as to any https check) and
turns the answer into two placeholders for the conditions (docs/monitor.md):

* ``[UPSTREAM]``: the page's overall indicator, ``none``, ``minor``, ``major``, ``critical``
  or ``maintenance``;
* ``[UPSTREAM_COMPONENT:name]``: one component's state (``operational``,
  ``degraded_performance``, ``partial_outage``, ``major_outage``, ``under_maintenance``), by
  its name on that page, case-insensitive.

Both are normalised to those words (anything else reads ``unknown``): the provider's page is
foreign text, and only its description and the names of its unresolved incidents are kept, as
``details``, cut short. The probe never judges: the default conditions say down on a
``major`` or ``critical`` indicator (``infradex.conditions``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from infradex.probes import http
from infradex.probes.base import ErrorKind, Observation, ProbeRequest

__all__ = ["COMPONENT_STATES", "INDICATORS", "probe", "summary_url"]

INDICATORS = frozenset({"none", "minor", "major", "critical", "maintenance"})
COMPONENT_STATES = frozenset(
    {
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    }
)
_SHOWN = 200  # characters of the provider's own words kept in details
_INCIDENTS_SHOWN = 5


def summary_url(url: str) -> str:
    """The https address of the summary a ``statuspage://`` URL names."""
    parts = urlsplit(url)
    prefix = parts.path.rstrip("/")
    return f"https://{parts.netloc}{prefix}/api/v2/summary.json"


def _word(value: Any, allowed: frozenset[str]) -> str:
    return value if isinstance(value, str) and value in allowed else "unknown"


def _short(value: Any) -> str:
    text = " ".join(str(value).split()) if isinstance(value, str) else ""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _read(observation: Observation, summary: Any) -> str | None:
    """Fill the placeholders from a decoded summary; what is wrong with it, if anything."""
    if not isinstance(summary, dict) or not isinstance(summary.get("status"), dict):
        return "the answer has no status object: is this a Statuspage summary.json?"
    status = summary["status"]
    values = observation.values
    values["UPSTREAM"] = _word(status.get("indicator"), INDICATORS)
    components = summary.get("components")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and isinstance(component.get("name"), str):
            name = " ".join(component["name"].split()).lower()
            values[f"UPSTREAM_COMPONENT:{name}"] = _word(component.get("status"), COMPONENT_STATES)
    incidents = summary.get("incidents")
    names = [
        _short(incident.get("name"))
        for incident in (incidents if isinstance(incidents, list) else [])
        if isinstance(incident, dict)
    ]
    observation.details["upstream"] = {
        "indicator": values["UPSTREAM"],
        "description": _short(status.get("description")),
        "incidents": names[:_INCIDENTS_SHOWN],
        "more_incidents": max(0, len(names) - _INCIDENTS_SHOWN),
    }
    return None


async def probe(request: ProbeRequest) -> Observation:
    """Fetch and read the provider's summary; a failure to reach or read it is the probe's
    (``error_kind``), the provider's own state is for the conditions."""
    address = summary_url(request.url)
    fetched = await http.probe(replace(request, url=address, method="GET", body=None))
    observation = Observation(phases=fetched.phases, details={"summary_url": address})
    for name in ("STATUS", "RESPONSE_TIME", "IP", "CONNECTED"):
        if name in fetched.values:
            observation.values[name] = fetched.values[name]
    if not fetched.ok:
        return observation.fail(
            fetched.error_kind or ErrorKind.ERROR, f"{address}: {fetched.error}"
        )
    status = fetched.values.get("STATUS")
    if status != 200:
        return observation.fail(
            ErrorKind.PROTOCOL, f"{address} answered {status}, not 200 with a summary"
        )
    try:
        summary = json.loads(str(fetched.values.get("BODY", "")))
    except ValueError as exc:
        return observation.fail(ErrorKind.PROTOCOL, f"{address} did not answer JSON: {exc}")
    problem = _read(observation, summary)
    if problem is not None:
        return observation.fail(ErrorKind.PROTOCOL, f"{address}: {problem}")
    return observation
