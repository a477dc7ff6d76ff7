"""Quarterly reports: the OMB CSV byte-exact, quarters cut per time zone, volumes and scores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import reports
from bot.catalog import load_catalog
from bot.response import validate
from flows import FLOWS_DIR

from .records import FLOWS, response_record

SERVICES = load_catalog(FLOWS_DIR / "services.yaml", FLOWS)
EXPECTED_CSV = Path(__file__).parent / "data" / "a11-fy2027-q1.csv"


def fixed_records() -> list[dict[str, object]]:
    return [
        # thumbs up, drivers 1 and 3, a comment with a phone number (redacted)
        response_record(1, ["yes", "1 3", "Fast, call me at 202-555-0123"]),
        # thumbs down, negative branch, comment with a comma and quotes
        response_record(2, ["no", "2", 'Form was "confusing", honestly']),
        # scale 5, all drivers, skipped comment
        response_record(3, ["5", "all", "skip"], flow_id="a11-v2-scale", service="permit-renewal"),
        # scale neutral 3 goes negative, no drivers chosen
        response_record(4, ["3", "none", "ok"], flow_id="a11-v2-scale", service="permit-renewal"),
        # partial: trust answered, then the survey expired
        response_record(5, ["yes"]),
        # trust skipped, comment only
        response_record(6, ["skip", "Just a comment"]),
        # expired without any answer: not a respondent, not in the CSV
        response_record(7, []),
        # a v1 survey: never in the v2 CSV
        response_record(
            8, ["5", "4", "3", "2", "1", "4", "fine"], flow_id="a11-v1", service="helpdesk-call"
        ),
    ]


def test_records_are_schema_valid() -> None:
    for record in fixed_records():
        validate(record)


def test_per_response_csv_is_byte_exact() -> None:
    kept = reports.in_quarter(fixed_records(), SERVICES, 2027, 1)
    produced = reports.per_response_csv(kept).encode("utf-8")
    assert produced == EXPECTED_CSV.read_bytes()
    header = produced.splitlines()[0].decode().split(",")
    assert len(header) == 17


def test_malformed_record_is_refused_with_a_clear_error() -> None:
    from bot.response import MalformedRecord

    record = response_record(1, ["yes"])
    record["disposition"] = "vanished"
    del record["respondent"]
    with pytest.raises(MalformedRecord) as caught:
        validate(record)
    message = str(caught.value)
    assert "'respondent' is a required property" in message
    assert "disposition: 'vanished' is not one of" in message


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        ("2026-10-01T03:30:00+00:00", "America/New_York", (2026, 4)),  # still Sep 30 there
        ("2026-10-01T04:00:00+00:00", "America/New_York", (2027, 1)),  # midnight EDT
        ("2026-10-01T06:59:00+00:00", "America/Los_Angeles", (2026, 4)),
        ("2026-10-01T07:00:00+00:00", "America/Los_Angeles", (2027, 1)),
        ("2026-10-01T09:59:00+00:00", "Pacific/Honolulu", (2026, 4)),
        ("2026-10-01T10:00:00+00:00", "Pacific/Honolulu", (2027, 1)),
        ("2027-01-01T04:59:00+00:00", "America/New_York", (2027, 1)),  # Dec 31 EST
        ("2027-01-01T05:00:00+00:00", "America/New_York", (2027, 2)),
        ("2027-04-01T03:59:00+00:00", "America/Puerto_Rico", (2027, 2)),
        ("2027-04-01T04:00:00+00:00", "America/Puerto_Rico", (2027, 3)),
        ("2027-07-01T06:59:00+00:00", "America/Phoenix", (2027, 3)),
        ("2027-07-01T07:00:00+00:00", "America/Phoenix", (2027, 4)),
        ("2026-12-31T23:00:00+00:00", "UTC", (2027, 1)),
    ],
)
def test_fiscal_quarter_in_time_zone(moment: str, zone: str, expected: tuple[int, int]) -> None:
    assert reports.fiscal_quarter(datetime.fromisoformat(moment), zone) == expected
    start, end = reports.quarter_bounds(*expected, zone)
    assert start <= datetime.fromisoformat(moment) < end


def test_quarter_cut_uses_each_services_zone() -> None:
    # 05:30Z on Oct 1 is 01:30 Oct 1 in New York (benefits) but 23:30 Sep 30 in Denver
    # (permits): the same instant falls in FY 2027 Q1 for one and FY 2026 Q4 for the other.
    edge = datetime(2026, 10, 1, 5, 30, tzinfo=UTC)
    ny = response_record(1, ["yes"], completed_at=edge)
    denver = response_record(2, ["5"], flow_id="a11-v2-scale", service="permit-renewal",
                             completed_at=edge)  # fmt: skip
    q1 = reports.in_quarter([ny, denver], SERVICES, 2027, 1)
    q4 = reports.in_quarter([ny, denver], SERVICES, 2026, 4)
    assert [r["service_id"] for r in q1] == ["benefits-application"]
    assert [r["service_id"] for r in q4] == ["permit-renewal"]


def test_volumes_scores_and_v1_counts() -> None:
    records = fixed_records()
    records.append(response_record(9, [], channel="whatsapp"))
    suppressed = response_record(10, [])
    suppressed.update(disposition="suppressed", reason="opted_out")
    suppressed["timestamps"]["invited"] = None
    records.append(suppressed)
    report = reports.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    detail = {(r["service_id"], r["channel"]): r for r in report["collection_detail"]}
    sms = detail[("benefits-application", "sms_text_messages")]
    assert sms["volume_of_customers"] == 6  # 1, 2, 5, 6, 7 and the suppressed one
    assert sms["volume_of_customers_provided_survey_opportunity"] == 5
    assert sms["volume_of_respondents"] == 4
    assert sms["scale_type"] == "thumbs_up_down"
    assert (
        sms["trust_question"] == "This interaction increased my trust in Example Benefits Agency."
    )
    assert detail[("benefits-application", "chatbot")]["volume_of_respondents"] == 0
    assert detail[("permit-renewal", "sms_text_messages")]["scale_type"] == "likert_scale"
    scores = {s["service_id"]: s for s in report["scores"]}
    benefits = scores["benefits-application"]
    assert benefits["percent_positive"] == pytest.approx(100 * 2 / 3, abs=0.01)
    assert benefits["drivers"]["positive"]["effectiveness"] == 1.0
    assert benefits["drivers"]["positive"]["ease"] == 0.0
    assert benefits["drivers"]["negative"]["ease"] == 1.0
    assert benefits["response_rate"] == pytest.approx(4 / 6, abs=1e-4)
    permits = scores["permit-renewal"]
    assert permits["percent_positive"] == 50.0
    counts = report["v1_counts"]["helpdesk-call"]
    assert (counts["q1_5"], counts["q2_4"], counts["q5_1"], counts["q6_4"]) == (1, 1, 1, 1)
    assert counts["q7_5"] == 0 and counts["q11_1"] == 0 and len(counts) == 55
    assert "A-11 report, fiscal year 2027 Q1" in reports.as_table(report)
