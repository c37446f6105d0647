"""Slots in cached pages filled with each entity's health as the page is served."""

from __future__ import annotations

from collections import Counter

from infradex.web.glance import Glance
from infradex.web.live_health import fill_health, has_slots

SEEN = Glance(True, Counter(), {"service:shop": "down", "service:www": "up"})


def test_table_slots_get_the_state_or_no_checks() -> None:
    body = "<td><!--health:service:shop--></td><td><!--health:host:h1--></td>"
    assert has_slots(body)
    assert fill_health(body, SEEN) == (
        '<td><span class="health state-down">down</span></td><td>no checks</td>'
    )


def test_node_slots_get_a_dot_when_monitored() -> None:
    body = "<g><!--node-health:service:www:200:10--></g><g><!--node-health:host:h1:5:6--></g>"
    assert fill_health(body, SEEN) == (
        '<g><circle class="node-health state-up" cx="200" cy="10" r="6"><title>up</title>'
        "</circle></g><g></g>"
    )
    quiet = Glance(False, Counter(), {"service:www": "not monitored"})
    assert fill_health(body, quiet) == "<g></g><g></g>"


def test_text_that_only_looks_like_a_slot_stays_text() -> None:
    body = "&lt;!--health:service:shop--&gt; <!--health:service:SHOP-->"
    assert fill_health(body, SEEN) == body
    assert not has_slots("plain")
