"""Drafts of public incidents from internal ones (public components only, public names
only, impact from the worst) and the lifecycle rules of updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from infradex.catalog import Catalog
from infradex.errors import UsageError
from infradex.monitor.evaluate import CheckState, Shown
from infradex.statuspage.components import layout
from infradex.statuspage.derive import derive
from infradex.statuspage.incidents import (
    IMPACTS,
    auto_publish_after,
    check_component_states,
    check_impact,
    check_postmortem,
    check_update,
    draft_for,
    resolved_words,
    upstream_words,
)

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def down(*check_ids: str) -> dict[str, CheckState]:
    return {c: CheckState(c, Shown.DOWN, Shown.DOWN) for c in check_ids}


def test_a_cdn_incident_drafts_every_public_component_it_reaches(catalog: Catalog) -> None:
    states = derive(catalog, layout(catalog), down("provider:fastly/edge"), (), (), NOW)
    draft = draft_for(catalog, "provider:fastly", states)
    assert draft is not None
    assert draft.name == (
        "Problems with pypi.org, files.pythonhosted.org and Content Delivery Network"
    )
    assert draft.body.startswith("We are investigating problems with pypi.org")
    assert draft.impact == "critical"
    assert draft.components == {
        "service:pypi": "major_outage",
        "service:files": "major_outage",
        "provider:fastly": "major_outage",
    }


def test_a_private_component_and_internal_names_stay_out(catalog: Catalog) -> None:
    states = derive(catalog, layout(catalog), down("service:search/query"), (), (), NOW)
    draft = draft_for(catalog, "service:search", states)
    assert draft is not None  # docs is public and degrades without search
    assert draft.components == {"service:docs": "degraded_performance"}
    assert draft.impact == "minor"
    assert "Search" not in draft.name and "search" not in draft.body


def test_no_public_component_reached_no_draft(catalog: Catalog) -> None:
    states = derive(catalog, layout(catalog), {}, (), (), NOW)
    assert draft_for(catalog, "host:web2", states) is not None  # docs, pypi are on it
    assert draft_for(catalog, "provider:do", states) is not None
    assert draft_for(catalog, "service:nothing", states) is None
    assert draft_for(catalog, "not a ref", states) is None


@pytest.mark.parametrize(
    ("current", "status", "body", "message"),
    [
        ("monitoring", "investigating", "x", "cannot go back"),
        ("resolved", "monitoring", "x", "cannot go back"),
        ("postmortem", "resolved", "x", "no other update"),
        ("investigating", "fixed", "x", "not an incident status"),
        ("investigating", "identified", "  ", "needs words"),
        ("resolved", "postmortem", "what happened", "not an update"),
        ("postmortem", "postmortem", "again", "not an update"),
    ],
)
def test_updates_that_break_the_lifecycle_are_refused(
    current: str, status: str, body: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        check_update(current, status, body)


def test_updates_that_follow_it_are_accepted() -> None:
    check_update("investigating", "identified", "found it")
    check_update("investigating", "resolved", "gone by itself")
    check_update("monitoring", "monitoring", "still watching")
    check_update("resolved", "resolved", "one more word after it ended")


def test_a_person_gives_the_components_of_the_incident_one_of_the_five_states() -> None:
    affected = ["service:pypi", "service:docs"]
    names = {"service:pypi": "pypi.org"}
    given = {"service:pypi": "partial_outage"}
    assert check_component_states(affected, given, names) == given
    assert check_component_states(affected, {}) == {}
    with pytest.raises(UsageError, match=r"service:www is not a component of this incident; "
                       r"its components are: pypi.org \(service:pypi\), service:docs"):  # fmt: skip
        check_component_states(affected, {"service:www": "major_outage"}, names)
    with pytest.raises(UsageError, match=r"'down' is not a component state for pypi\.org"):
        check_component_states(affected, {"service:pypi": "down"}, names)


def test_impacts_are_statuspages_four() -> None:
    assert [check_impact(i) for i in IMPACTS] == ["none", "minor", "major", "critical"]
    with pytest.raises(UsageError, match=r"'huge' is not an impact; use one of none, minor"):
        check_impact("huge")


@pytest.mark.parametrize(
    ("status", "published", "body", "message"),
    [
        ("resolved", False, "x", "publish it first"),
        ("monitoring", True, "x", "resolve it first"),
        ("resolved", True, " \n ", "needs words"),
    ],
)
def test_a_postmortem_follows_a_published_resolved_incident(
    status: str, published: bool, body: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        check_postmortem(status, published, body)
    check_postmortem("resolved", True, "what happened")
    check_postmortem("postmortem", True, "corrected words")


def test_the_draft_says_which_provider_confirms_by_its_public_name(catalog: Catalog) -> None:
    states = derive(catalog, layout(catalog), down("provider:fastly/edge"), (), (), NOW)
    named = draft_for(catalog, "provider:fastly", states, ["provider:fastly"])
    assert named is not None and named.body.endswith(
        " Our upstream provider (Content Delivery Network) confirms a problem on its own "
        "status page."
    )
    # a provider that is no public component is not named
    unnamed = draft_for(catalog, "provider:fastly", states, ["provider:do"])
    assert unnamed is not None and unnamed.body.endswith(
        " Our upstream provider confirms a problem on its own status page."
    )
    assert "DigitalOcean" not in unnamed.body and "provider:" not in unnamed.body
    plain = draft_for(catalog, "provider:fastly", states)
    assert plain is not None and "upstream" not in plain.body


def test_the_shortest_auto_publish_of_public_components_wins(catalog: Catalog) -> None:
    states = derive(catalog, layout(catalog), down("provider:fastly/edge"), (), (), NOW)
    asks = {"service:pypi": timedelta(minutes=15), "service:files": timedelta(minutes=5),
            "service:search": timedelta(minutes=1)}  # fmt: skip
    changed = [
        replace(s, component=replace(s.component, auto_publish_after=asks[str(s.component.ref)]))
        if str(s.component.ref) in asks
        else s
        for s in states
    ]
    draft = draft_for(catalog, "provider:fastly", changed)
    assert draft is not None and draft.auto_publish_after == timedelta(minutes=5)
    # search is not public: its minute does not count
    assert auto_publish_after(changed, ["service:search", "service:pypi"]) == timedelta(minutes=15)
    assert auto_publish_after(states, ["service:pypi"]) is None


def test_the_automatic_words() -> None:
    assert resolved_words([]) == "This incident has been resolved."
    assert resolved_words(["pypi.org", "Content Delivery Network"]) == (
        "This incident has been resolved: pypi.org and Content Delivery Network operating "
        "normally again."
    )
    assert upstream_words(["A", "B", "C"]) == (
        "Our upstream provider (A, B and C) confirms a problem on its own status page."
    )


def test_auto_publish_after_is_a_duration_in_the_catalog() -> None:
    from pydantic import ValidationError

    from infradex.catalog.models import ServiceStatus

    assert ServiceStatus.model_validate({"autoPublishAfter": "15m"}).auto_publish_after == "15m"
    assert ServiceStatus.model_validate({"autoPublishAfter": 600}).auto_publish_after == "600s"
    with pytest.raises(ValidationError, match="duration"):
        ServiceStatus.model_validate({"autoPublishAfter": "soon"})
