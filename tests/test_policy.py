"""Policy tables: quiet hours across zones, DST and holidays; caps; consent; sampling."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.core.catalog import load_catalog
from bot.core.flowfile import load_flows
from bot.core.policy import Limits, Person, decide, sampled
from bot.core.quiet_hours import NATIONAL_ZONES, next_allowed, state_for_number, zones_for_number
from bot.core.transactions import Transaction
from bot.registry import kinds
from flows import FLOWS_DIR

SERVICE = load_catalog(FLOWS_DIR / "services.yaml", load_flows(), kinds())["benefits-application"]
SENDER = "+12025550100"
DC, FL, CHI, AZ, HI, PR, TOLL_FREE = (
    "+12025550123", "+13055550123", "+13125550123", "+16025550123", "+18085550123",
    "+17875550123", "+18005550123",
)  # fmt: skip


KINDS = kinds()


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(now: str, to: str = DC, **kw: Any) -> tuple[str, str, str | None]:
    service = replace(SERVICE, **kw.pop("service", {}))
    txn = Transaction(
        transaction_id=kw.pop("tid", "t-1"),
        service=service.id,
        channel=kw.pop("channel", "sms"),
        to=to,
        timezone=kw.pop("tz", None),
        completed_at=z(kw["completed"]) if "completed" in kw else None,
        attributes=kw.pop("attributes", {}),
    )
    kw.pop("completed", None)
    person = kw.pop("person", Person())
    texting = KINDS[txn.channel].texting
    decision = decide(txn, service, z(now), person, sender=SENDER, texting=texting,
                      limits=Limits())  # fmt: skip
    send_at = (
        decision.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if decision.send_at else None
    )
    return decision.status, decision.reason, send_at


QUIET_HOURS = [
    # now (UTC), number, extra, expected (status, reason, send_at UTC)
    ("2026-11-03T15:00Z", DC, {}, ("scheduled", "eligible", "2026-11-03T15:00Z")),
    ("2026-11-03T01:30Z", DC, {}, ("scheduled", "eligible", "2026-11-03T01:30Z")),  # 20:30 EST
    ("2026-11-03T01:59Z", DC, {}, ("scheduled", "eligible", "2026-11-03T01:59Z")),
    ("2026-11-03T02:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T13:00Z")),
    ("2026-11-03T06:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T13:00Z")),
    ("2026-11-03T12:59Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T13:00Z")),
    ("2026-11-03T13:00Z", DC, {}, ("scheduled", "eligible", "2026-11-03T13:00Z")),
    # Florida: 8:00-20:00
    ("2026-11-03T00:59Z", FL, {}, ("scheduled", "eligible", "2026-11-03T00:59Z")),
    ("2026-11-03T01:00Z", FL, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T13:00Z")),
    # Chicago (Central)
    ("2026-11-03T02:30Z", CHI, {}, ("scheduled", "eligible", "2026-11-03T02:30Z")),
    ("2026-11-03T03:00Z", CHI, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T14:00Z")),
    ("2026-11-03T13:30Z", CHI, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T14:00Z")),
    # Arizona: no daylight saving, MST all year
    ("2026-11-03T04:00Z", AZ, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T15:00Z")),
    ("2026-07-15T03:30Z", AZ, {}, ("scheduled", "eligible", "2026-07-15T03:30Z")),
    ("2026-07-15T04:00Z", AZ, {}, ("scheduled", "deferred_quiet_hours", "2026-07-15T15:00Z")),
    ("2026-07-15T14:59Z", AZ, {}, ("scheduled", "deferred_quiet_hours", "2026-07-15T15:00Z")),
    # Hawaii: no daylight saving, UTC-10
    ("2026-11-03T07:00Z", HI, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T18:00Z")),
    ("2026-11-03T17:59Z", HI, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T18:00Z")),
    ("2026-07-15T18:00Z", HI, {}, ("scheduled", "eligible", "2026-07-15T18:00Z")),
    # Puerto Rico: Atlantic time, no daylight saving
    ("2026-11-03T01:00Z", PR, {}, ("scheduled", "deferred_quiet_hours", "2026-11-03T12:00Z")),
    ("2026-07-15T00:59Z", PR, {}, ("scheduled", "eligible", "2026-07-15T00:59Z")),
    # daylight saving ends Sunday 2026-11-01 at 2:00 EDT (06:00Z)
    ("2026-10-31T12:30Z", DC, {}, ("scheduled", "eligible", "2026-10-31T12:30Z")),  # 8:30 EDT
    ("2026-11-01T12:30Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-01T13:00Z")),
    ("2026-11-01T05:30Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-01T13:00Z")),
    # daylight saving starts Sunday 2026-03-08 at 2:00 EST (07:00Z)
    ("2026-03-07T12:30Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-03-07T13:00Z")),
    ("2026-03-08T11:30Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-03-08T12:00Z")),
    ("2026-03-08T12:30Z", DC, {}, ("scheduled", "eligible", "2026-03-08T12:30Z")),
    ("2026-03-08T00:59Z", DC, {}, ("scheduled", "eligible", "2026-03-08T00:59Z")),
    # federal holidays: deferred to the next ordinary day
    ("2026-11-26T15:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-27T13:00Z")),
    ("2026-11-25T02:30Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-25T13:00Z")),
    ("2026-12-25T15:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-12-26T13:00Z")),
    ("2026-07-03T15:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-07-05T12:00Z")),
    ("2027-01-01T15:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2027-01-02T13:00Z")),
    ("2026-11-11T15:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-11-12T13:00Z")),
    ("2026-01-19T15:00Z", DC, {}, ("scheduled", "deferred_quiet_hours", "2026-01-20T13:00Z")),
    ("2026-11-10T15:00Z", DC, {}, ("scheduled", "eligible", "2026-11-10T15:00Z")),
    # a toll-free number has no place: it must be allowed in every US zone at once
    ("2026-11-03T15:00Z", TOLL_FREE, {}, ("scheduled", "deferred_quiet_hours",
                                          "2026-11-03T18:00Z")),
    ("2026-11-03T20:00Z", TOLL_FREE, {}, ("scheduled", "eligible", "2026-11-03T20:00Z")),
    ("2026-11-04T02:30Z", TOLL_FREE, {}, ("scheduled", "deferred_quiet_hours",
                                          "2026-11-04T18:00Z")),
    # the transaction's zone beats the number's
    ("2026-11-03T15:30Z", DC, {"tz": "America/Los_Angeles"},
     ("scheduled", "deferred_quiet_hours", "2026-11-03T16:00Z")),
    ("2026-11-03T03:30Z", DC, {"tz": "America/Los_Angeles"},
     ("scheduled", "eligible", "2026-11-03T03:30Z")),
    # a state given with the transaction beats the number's
    ("2026-11-03T01:30Z", DC, {"attributes": {"state": "FL"}},
     ("scheduled", "deferred_quiet_hours", "2026-11-03T13:00Z")),
    ("2026-11-03T13:30Z", DC, {"attributes": {"state": "CT"}},
     ("scheduled", "deferred_quiet_hours", "2026-11-03T14:00Z")),
    # a service may narrow the window, never widen it
    ("2026-11-03T13:30Z", DC, {"service": {"quiet_hours": (9, 17)}},
     ("scheduled", "deferred_quiet_hours", "2026-11-03T14:00Z")),
    ("2026-11-03T22:30Z", DC, {"service": {"quiet_hours": (9, 17)}},
     ("scheduled", "deferred_quiet_hours", "2026-11-04T14:00Z")),
    ("2026-11-03T12:00Z", DC, {"service": {"quiet_hours": (6, 23)}},
     ("scheduled", "deferred_quiet_hours", "2026-11-03T13:00Z")),
    # a delay after the transaction, and a delay that runs into the night
    ("2026-11-03T15:00Z", DC, {"service": {"delay": timedelta(minutes=30)}},
     ("scheduled", "eligible", "2026-11-03T15:30Z")),
    ("2026-11-03T01:30Z", DC, {"service": {"delay": timedelta(hours=1)}},
     ("scheduled", "deferred_quiet_hours", "2026-11-03T13:00Z")),
    # chat channels have no carrier quiet hours
    ("2026-11-03T03:00Z", "U012AB3CD", {"channel": "slack"},
     ("scheduled", "eligible", "2026-11-03T03:00Z")),
]  # fmt: skip


@pytest.mark.parametrize(("now", "to", "extra", "expected"), QUIET_HOURS)
def test_quiet_hours(now: str, to: str, extra: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert run(now, to, **extra) == expected


STALENESS = [
    ("2026-11-03T15:00Z", {"completed": "2026-11-03T13:00Z"}, ("scheduled", "eligible")),
    ("2026-11-03T15:00Z", {"completed": "2026-10-31T16:00Z"}, ("scheduled", "eligible")),  # 71h
    ("2026-11-03T15:00Z", {"completed": "2026-10-31T15:00Z"}, ("suppressed", "stale")),  # 72h
    ("2026-11-03T15:00Z", {"completed": "2026-10-30T15:00Z"}, ("suppressed", "stale")),
    # a deferral that would carry it past freshness: stale, not late
    ("2026-11-03T02:30Z", {"completed": "2026-11-03T01:00Z",
                           "service": {"stale_after": timedelta(hours=2)}},
     ("suppressed", "stale")),
    ("2026-11-03T02:30Z", {"completed": "2026-11-03T01:00Z",
                           "service": {"stale_after": timedelta(hours=13)}},
     ("scheduled", "deferred_quiet_hours")),
    ("2026-11-03T02:30Z", {"completed": "2026-11-03T01:00Z",
                           "service": {"stale_after": timedelta(hours=12)}},
     ("suppressed", "stale")),
]  # fmt: skip


@pytest.mark.parametrize(("now", "extra", "expected"), STALENESS)
def test_staleness(now: str, extra: dict[str, Any], expected: tuple[str, str]) -> None:
    assert run(now, **extra)[:2] == expected


NOW = "2026-11-03T15:00Z"


def days_ago(n: float) -> datetime:
    return z(NOW) - timedelta(days=n)


PEOPLE = [
    (Person(), "eligible"),
    (Person(last_invited=days_ago(1)), "frequency_cap"),
    (Person(last_invited=days_ago(29.99)), "frequency_cap"),
    (Person(last_invited=days_ago(30)), "eligible"),
    (Person(last_invited=days_ago(31)), "eligible"),
    (Person(last_invited=z(NOW) + timedelta(hours=2)), "frequency_cap"),  # already scheduled
    (Person(last_responded=days_ago(89.9)), "frequency_cap"),
    (Person(last_responded=days_ago(90)), "eligible"),
    (Person(last_responded=days_ago(200), last_invited=days_ago(40)), "eligible"),
    (Person(opted_out=frozenset({f"sender:{SENDER}"})), "opted_out"),
    (Person(opted_out=frozenset({"all"})), "opted_out"),
    (Person(opted_out=frozenset({"agency:Example Benefits Agency"})), "opted_out"),
    (Person(opted_out=frozenset({"agency:Another Agency"})), "eligible"),
    (Person(opted_out=frozenset({"sender:+19995550100"})), "eligible"),
    (Person(open_survey_service="benefits-application"), "duplicate"),
    (Person(open_survey_service="permit-renewal"), "survey_open"),
    # precedence: an opt-out is reported before a cap or an open survey
    (Person(opted_out=frozenset({"all"}), open_survey_service="permit-renewal",
            last_invited=days_ago(1)), "opted_out"),
    (Person(open_survey_service="permit-renewal", last_invited=days_ago(1)), "survey_open"),
]  # fmt: skip


@pytest.mark.parametrize(("person", "reason"), PEOPLE)
def test_consent_open_surveys_and_caps(person: Person, reason: str) -> None:
    assert run(NOW, person=person)[1] == reason


SERVICE_STATES = [
    ({"paused": True}, "service_paused"),
    ({"omb_expires": date(2026, 11, 2)}, "omb_control_expired"),
    ({"omb_expires": date(2026, 11, 3)}, "eligible"),
    ({"omb_expires": None}, "eligible"),
    ({"sample_rate": 0.0}, "not_sampled"),
    ({"sample_rate": 1.0}, "eligible"),
    ({"paused": True, "omb_expires": date(2020, 1, 1)}, "service_paused"),
]


@pytest.mark.parametrize(("changes", "reason"), SERVICE_STATES)
def test_service_states(changes: dict[str, Any], reason: str) -> None:
    assert run(NOW, service=changes, person=Person(opted_out=frozenset({"x"})))[1] == reason


def test_omb_expiry_is_read_in_the_services_zone() -> None:
    # 03:00Z on Nov 4 is still Nov 3 in New York: a control number good through Nov 3 holds.
    expires = {"omb_expires": date(2026, 11, 3)}
    assert run("2026-11-04T03:00Z", service=expires)[1] != "omb_control_expired"
    assert run("2026-11-04T05:00Z", service=expires)[1] == "omb_control_expired"


def test_sampling_is_stable_and_proportional() -> None:
    assert sampled("abc", 0.5) == sampled("abc", 0.5)
    share = sum(sampled(f"t-{i}", 0.25) for i in range(20_000)) / 20_000
    assert 0.24 < share < 0.26
    assert run(NOW, service={"sample_rate": 0.5}, tid="x-1")[1] == (
        "eligible" if sampled("x-1", 0.5) else "not_sampled"
    )


NUMBERS = [
    (DC, ("America/New_York",), "DC"),
    (FL, ("America/New_York",), "FL"),
    (CHI, ("America/Chicago",), "IL"),
    (AZ, ("America/Phoenix",), "AZ"),
    (HI, ("Pacific/Honolulu",), "HI"),
    (PR, ("America/Puerto_Rico",), "PR"),
    (TOLL_FREE, NATIONAL_ZONES, None),
]


@pytest.mark.parametrize(("number", "zones", "state"), NUMBERS)
def test_zone_and_state_from_number(number: str, zones: tuple[str, ...], state: str | None) -> None:
    assert zones_for_number(number) == zones
    assert state_for_number(number) == state


def test_next_allowed_never_goes_backwards() -> None:
    start = z("2026-11-03T15:00Z")
    for minutes in range(0, 60 * 48, 37):
        moment = start + timedelta(minutes=minutes)
        assert next_allowed(moment, NATIONAL_ZONES, (8, 21)) >= moment


def test_at_least_80_policy_cases() -> None:
    total = len(QUIET_HOURS) + len(STALENESS) + len(PEOPLE) + len(SERVICE_STATES) + len(NUMBERS)
    assert total >= 80
