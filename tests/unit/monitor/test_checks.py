"""Checks as the monitor runs them, built from the catalog (nothing is probed here: the PSF
example's checks aim at real sites)."""

from __future__ import annotations

import pytest

from infradex.catalog.entities import Catalog
from infradex.monitor.checks import adhoc_check, checks_of, judge
from infradex.probes.base import ErrorKind, Observation


def test_every_check_in_the_psf_example_is_ready_to_run(psf: Catalog) -> None:
    declared = sum(
        len(entity.spec.checks) for kind in ("service", "provider") for entity in psf.of_kind(kind)
    )
    checks = checks_of(psf)
    assert len(checks) == declared >= 14
    docs = next(c for c in checks if c.id == "service:docs/home")
    assert docs.request.url == "https://docs.python.org/3/"
    assert docs.interval == 60.0 and docs.timeout == 10.0
    assert [c.text for c in docs.conditions][:2] == ["[STATUS] == 200", "[RESPONSE_TIME] < 2000"]
    assert len({c.id for c in checks}) == len(checks)  # ids are unique
    assert checks_of(psf) is checks  # built once per loaded catalog


def test_judging_reports_each_condition_with_its_value() -> None:
    check = adhoc_check("http://127.0.0.1:9/", ["[STATUS] == 200", "[BODY] contains 'ok'"])
    seen = Observation(values={"STATUS": 503, "BODY": "not ok"})
    verdicts = judge(check, seen)
    assert [(v.success, v.actual) for v in verdicts] == [
        (False, "503"),
        (True, "a 6-character body"),
    ]
    failed = Observation().fail(ErrorKind.REFUSED, "connection refused")
    assert judge(check, failed) == []  # the probe's error says why; no condition is judged


def test_a_check_without_conditions_gets_its_probes_default() -> None:
    assert [c.text for c in adhoc_check("https://127.0.0.1/").conditions] == ["[STATUS] < 400"]
    assert [c.text for c in adhoc_check("tcp://127.0.0.1:25").conditions] == ["[CONNECTED] == true"]


def test_an_adhoc_check_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="scheme picks the probe"):
        adhoc_check("ftp://127.0.0.1/")
    with pytest.raises(ValueError, match="did you mean"):
        adhoc_check("http://127.0.0.1/", ["[STATSU] == 200"])
