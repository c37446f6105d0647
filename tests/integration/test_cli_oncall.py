"""`infradex oncall now` and `infradex oncall show`, end to end: the PSF example and a small
catalog with restrictions, overrides and DST changes, always at fixed instants (`--at`)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infradex.cli.main import app

runner = CliRunner()

SMALL = """\
apiVersion: infradex/v1
kind: Person
metadata: {name: ann, title: Ann Example}
spec: {email: ann@example.org, handles: {github: ann-gh}}
---
apiVersion: infradex/v1
kind: Person
metadata: {name: bob, title: Bob Example}
spec: {email: bob@example.org}
---
apiVersion: infradex/v1
kind: Schedule
metadata: {name: office, title: Office hours}
spec:
  timezone: Europe/Amsterdam
  layers:
    - name: weekdays
      members: [person:ann, person:bob]
      rotation: daily
      handoff: "09:00"
      start: "2026-01-01T09:00"
      restrictions: [{days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}]
  overrides:
    - {person: person:ann, start: "2026-03-27T12:00", end: "2026-03-27T14:00"}
---
apiVersion: infradex/v1
kind: Schedule
metadata: {name: daily, title: Round the clock}
spec:
  timezone: America/New_York
  layers:
    - name: everyone
      members: [person:ann, person:bob]
      rotation: daily
      handoff: "09:00"
      start: "2026-01-01T09:00"
"""


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"INFRADEX_CATALOG": "", "COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> Any:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def small(tmp_path: Path) -> str:
    (tmp_path / "catalog.yaml").write_text(textwrap.dedent(SMALL), encoding="utf-8")
    return str(tmp_path)


# ------------------------------------------------------------------------------ now, PSF
def test_now_for_every_psf_schedule() -> None:
    answers = run_json("oncall", "now", "--at", "2026-03-28T12:00Z")
    by_schedule = {a["schedule"]: a for a in answers}
    assert set(by_schedule) == {"schedule:infra-staff", "schedule:infra-volunteers"}
    staff = by_schedule["schedule:infra-staff"]
    assert staff["onCall"]["ref"] == "person:ee-durbin" and staff["onCall"]["name"] == "Ee Durbin"
    assert staff["onCall"]["contact"] == ["github: ewdurbin"]
    assert staff["until"] is None and staff["next"] is None  # the only member: no change
    volunteers = by_schedule["schedule:infra-volunteers"]
    assert volunteers["onCall"]["ref"] == "person:donald-stufft"
    assert volunteers["source"] == "volunteers"
    assert volunteers["until"] == "2026-03-30T09:00:00+00:00"
    assert volunteers["next"]["ref"] == "person:noah-kantrowitz"
    assert volunteers["nextUntil"] == "2026-04-06T09:00:00+00:00"


def test_now_text_names_people_and_contacts() -> None:
    code, out, _ = run("oncall", "now", "--at", "2026-03-28T12:00Z")
    assert code == 0
    assert "Ee Durbin" in out and "github: ewdurbin" in out and "no change within" in out
    assert "Donald Stufft" in out and "Noah Kantrowitz" in out
    assert "Mon 2026-03-30 09:00 UTC" in out and "in 1 d 21 h" in out


def test_now_for_one_schedule_by_reference() -> None:
    (answer,) = run_json("oncall", "now", "schedule:infra-volunteers", "--at", "2026-04-01T00:00Z")
    assert answer["onCall"]["ref"] == "person:noah-kantrowitz"


# ------------------------------------------------------------------------------ now, small
def test_now_in_a_gap_and_next(small: str) -> None:
    # Friday 27 March 2026, 18:00 in Amsterdam: office hours are over until Monday 09:00
    (answer,) = run_json("--catalog", small, "oncall", "now", "office", "--at", "2026-03-27T18:00")
    assert answer["at"] == "2026-03-27T18:00:00+01:00"  # no offset: the schedule's zone
    assert answer["onCall"] is None and answer["source"] is None
    assert answer["until"] == "2026-03-30T09:00:00+02:00"  # after the change to CEST
    assert answer["next"]["ref"] == "person:ann"  # 88 days after 1 January: Ann's turn
    assert answer["nextUntil"] == "2026-03-30T17:00:00+02:00"
    code, out, _ = run("--catalog", small, "oncall", "now", "office", "--at", "2026-03-27T18:00")
    assert code == 0 and "nobody on call" in out


def test_now_during_an_override(small: str) -> None:
    at = "2026-03-27T12:30+01:00"
    (answer,) = run_json("--catalog", small, "oncall", "now", "office", "--at", at)
    assert answer["onCall"]["ref"] == "person:ann" and answer["source"] == "override"
    assert answer["onCall"]["contact"] == ["email: ann@example.org", "github: ann-gh"]
    assert answer["until"] == "2026-03-27T14:00:00+01:00"
    assert answer["next"]["ref"] == "person:bob"  # 27 March is Bob's day (85 days on)
    assert answer["nextUntil"] == "2026-03-27T17:00:00+01:00"


# ------------------------------------------------------------------------------ show
def test_show_lists_shifts_and_gaps(small: str) -> None:
    data = run_json(
        "--catalog", small, "oncall", "show", "office", "--at", "2026-03-27T00:00", "--days", "4"
    )
    assert data["schedule"] == "schedule:office" and data["timezone"] == "Europe/Amsterdam"
    rows = [
        (s["start"], s["end"], s["person"] and s["person"]["ref"], s["source"])
        for s in data["shifts"]
    ]
    assert rows == [
        ("2026-03-27T00:00:00+01:00", "2026-03-27T09:00:00+01:00", None, None),
        ("2026-03-27T09:00:00+01:00", "2026-03-27T12:00:00+01:00", "person:bob", "weekdays"),
        ("2026-03-27T12:00:00+01:00", "2026-03-27T14:00:00+01:00", "person:ann", "override"),
        ("2026-03-27T14:00:00+01:00", "2026-03-27T17:00:00+01:00", "person:bob", "weekdays"),
        ("2026-03-27T17:00:00+01:00", "2026-03-30T09:00:00+02:00", None, None),
        ("2026-03-30T09:00:00+02:00", "2026-03-30T17:00:00+02:00", "person:ann", "weekdays"),
        ("2026-03-30T17:00:00+02:00", "2026-03-31T00:00:00+02:00", None, None),
    ]
    weekend = data["shifts"][4]
    assert (weekend["startUtc"], weekend["endUtc"]) == (
        "2026-03-27T16:00:00Z",
        "2026-03-30T07:00:00Z",
    )
    assert weekend["hours"] == 63  # 64 on the wall clock, one hour lost on Sunday


def test_show_text_has_both_zones_and_gap_rows(small: str) -> None:
    code, out, _ = run(
        "--catalog", small, "oncall", "show", "office", "--at", "2026-03-27T00:00", "--days", "4"
    )
    assert code == 0
    assert "times in Europe/Amsterdam" in out and "in UTC" in out
    assert "nobody on call" in out and "override" in out and "weekdays" in out
    assert "Fri 27 Mar 17:00 CET" in out and "Mon 30 Mar 09:00 CEST" in out
    assert "27 Mar 16:00–30 Mar 07:00" in out and "2d 15h" in out


@pytest.mark.parametrize(
    ("at", "lengths"),
    [
        ("2026-03-07T09:00", [23, 24, 24]),  # Sat 09:00 → Sun 09:00: spring forward on 8 March
        ("2026-10-31T09:00", [25, 24, 24]),  # and back on Sunday 1 November
    ],
)
def test_show_across_dst_keeps_nine_local(small: str, at: str, lengths: list[int]) -> None:
    data = run_json("--catalog", small, "oncall", "show", "daily", "--at", at, "--days", "3")
    assert [s["hours"] for s in data["shifts"]] == lengths
    assert all(s["start"][11:16] == "09:00" for s in data["shifts"])


def test_show_days_default_to_fourteen() -> None:
    data = run_json("oncall", "show", "infra-volunteers", "--at", "2026-03-30T09:00Z")
    assert data["days"] == 14
    assert [s["person"]["ref"] for s in data["shifts"]] == [
        "person:noah-kantrowitz",
        "person:benjamin-w-smith",
    ]


# ------------------------------------------------------------------------------ bad input
def test_unknown_schedule_lists_the_schedules() -> None:
    code, _, err = run("oncall", "now", "infra-staf")
    assert code == 1
    assert "no schedule 'infra-staf'" in err and "did you mean infra-staff?" in err
    assert "schedules: infra-staff, infra-volunteers" in err
    code, _, err = run("oncall", "show", "nope")
    assert code == 1 and "schedules: infra-staff, infra-volunteers" in err


def test_a_reference_of_another_kind_is_refused() -> None:
    code, _, err = run("oncall", "show", "service:docs")
    assert code == 2 and "is a service, not a schedule" in err


def test_bad_at_gives_an_example() -> None:
    code, out, err = run("oncall", "now", "--at", "next tuesday")
    assert code == 2 and out == ""
    assert "--at 'next tuesday' is not an ISO 8601 time" in err and "2026-03-29T09:00+02:00" in err


def test_a_catalog_without_schedules(tmp_path: Path) -> None:
    (tmp_path / "people.yaml").write_text(SMALL.split("---")[0], encoding="utf-8")
    code, out, _ = run("--catalog", str(tmp_path), "oncall", "now")
    assert code == 0 and "no schedules" in out
    assert run_json("--catalog", str(tmp_path), "oncall", "now") == []
