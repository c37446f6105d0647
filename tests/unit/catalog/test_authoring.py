"""Small things catalog authors run into: friendly spellings accepted, mistakes caught once."""

from __future__ import annotations

from pathlib import Path

from infradex.lint import load

SERVICE = """\
apiVersion: infradex/v1
kind: Service
metadata: {{name: web}}
spec:
  lifecycle: experimental
  checks:
{checks}
"""


def _load(tmp_path: Path, text: str) -> list[tuple[str, int | None, str]]:
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    return [(p.code, p.line, p.message) for p in load(tmp_path).problems]


def test_a_bare_number_interval_means_seconds(tmp_path: Path) -> None:
    checks = "    - {name: home, url: 'http://127.0.0.1:8080/', interval: 30, timeout: 5}"
    (tmp_path / "c.yaml").write_text(SERVICE.format(checks=checks), encoding="utf-8")
    loaded = load(tmp_path)
    assert loaded.catalog is not None
    check = loaded.catalog.entities[next(iter(loaded.catalog.entities))].spec.checks[0]
    assert (check.interval, check.timeout) == ("30s", "5s")


def test_two_checks_with_one_name_are_refused(tmp_path: Path) -> None:
    checks = (
        "    - {name: home, url: 'http://127.0.0.1:8080/'}\n"
        "    - {name: home, url: 'http://127.0.0.1:8081/'}"
    )
    problems = _load(tmp_path, SERVICE.format(checks=checks))
    assert ("invalid-value", 4, "two checks are named 'home'; give each check its own name") in (
        problems
    )


def test_no_warning_about_what_is_left_of_a_broken_document(tmp_path: Path) -> None:
    text = """\
apiVersion: infradex/v1
kind: Schedule
metadata: {name: oncall}
spec:
  layers:
    - {name: day, members: [], start: "2024-01-01",
       restrictions: [{start: "17:00", end: "09:00"}]}
"""
    problems = _load(tmp_path, text)
    codes = [code for code, _, _ in problems]
    assert codes == ["invalid-value"]  # not also "the schedule has no layers"


def test_inline_zone_record_problem_points_at_the_record(tmp_path: Path) -> None:
    text = """\
apiVersion: infradex/v1
kind: Provider
metadata: {name: dns}
spec: {type: dns}
---
apiVersion: infradex/v1
kind: Zone
metadata: {name: example.org}
spec:
  provider: dns
  records:
    api: {type: A, value: 192.0.2.1}
    www: {type: CNAME, value: api.example.org}
"""
    problems = _load(tmp_path, text)
    assert (
        "zone-record",
        13,
        "record 'www': CNAME target 'api.example.org' does not end with a dot",
    ) in problems
