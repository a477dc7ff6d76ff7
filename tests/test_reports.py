"""Quarterly reports: the OMB CSV byte-exact, quarters cut per time zone, volumes and scores."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import reports
from bot.core.a11 import V2_COLUMNS
from bot.core.catalog import load_catalog
from bot.core.response import validate
from bot.registry import kinds
from flows import FLOWS_DIR

from . import reference
from .records import FLOWS, response_record

SERVICES = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, kinds())
EXPECTED_CSV = Path(__file__).parent / "data" / "a11-fy2027-q1.csv"
EXPECTED_COLLECTION_CSV = Path(__file__).parent / "data" / "a11-fy2027-q1-collection.csv"


BENEFITS_DRIVERS = SERVICES["benefits-application"].drivers  # every driver but employee


def fixed_records() -> list[dict[str, object]]:
    """One of each case the OMB data must get right (rows 1-5 and 9 are responses)."""
    benefits = {"offered_drivers": BENEFITS_DRIVERS}
    scale = {"flow_id": "a11-v2-scale", "service": "permit-renewal"}
    return [
        # thumbs up, drivers 1 and 3, a comment with a phone number (redacted)
        response_record(1, ["yes", "1 3", "Fast, call me at 202-555-0123"], **benefits),
        # thumbs down, negative branch, comment with a comma and quotes
        response_record(2, ["no", "2", 'Form was "confusing", honestly'], **benefits),
        # scale 5, all drivers, skipped comment
        response_record(3, ["5", "all", "skip"], **scale),
        # scale neutral 3 goes negative, no drivers chosen
        response_record(4, ["3", "none", "ok"], **scale),
        # partial: trust answered, then the survey expired before the drivers
        response_record(5, ["yes"], **benefits),
        # trust skipped, comment only: not a response (no trust item)
        response_record(6, ["skip", "Just a comment"], **benefits),
        # expired without any answer: not a response
        response_record(7, [], **benefits),
        # a v1 survey: a response, but never in the v2 CSV
        response_record(
            8, ["5", "4", "3", "2", "1", "4", "fine"], flow_id="a11-v1", service="helpdesk-call"
        ),
        # thumbs up, the drivers question skipped: nothing picked
        response_record(9, ["1", "skip", "skip"], **benefits),
    ]


def test_records_are_schema_valid() -> None:
    for record in fixed_records():
        validate(record)


def test_per_response_csv_is_byte_exact() -> None:
    """The expected file is written from Touchpoints' rules (GSA/touchpoints
    app/models/form.rb ``to_a11_v2_csv``): ``external_id`` is the submission's id; each
    ``positive_*`` / ``negative_*`` cell is 1 when the driver was chosen on that branch, 0 when
    the form offers it and it was not chosen (the branch not shown, and when nothing was
    picked: ``answer_02``/``answer_03`` nil), ``null`` only for a driver the form does not
    offer (benefits-application does not offer ``employee``); ``question_4`` the (redacted)
    comment, empty when none. Only responses whose trust item was answered are rows (6, 7: no;
    8: an A-11 v1 survey). Ruby's CSV writes "\n" between rows and quotes as RFC 4180 does."""
    kept = reference.in_quarter(fixed_records(), SERVICES, 2027, 1)
    produced = reference.per_response_csv(kept).encode("utf-8")
    assert produced == EXPECTED_CSV.read_bytes()
    header = produced.splitlines()[0].decode().split(",")
    assert len(header) == 17


def test_collection_detail_csv_is_byte_exact() -> None:
    """The expected file uses Touchpoints' CxCollectionDetail field names
    (app/models/cx_collection_detail.rb ``to_csv``): per service and channel, the catalog's
    provider, transaction point and Federal Register URL; ``survey_type`` thumbs_up_down or
    likert_scale (the trust item's scale); ``trust_question_text`` the trust item verbatim
    (A-11 v1: q2, not the satisfaction item q1); ``volume_of_customers`` from the catalog's
    count (permit-renewal), its multiplier (helpdesk-call: 2.5 x 1 transaction, half up), or the
    transactions reported (benefits-application); offered = invitations delivered;
    respondents = responses with the trust item answered."""
    report = reference.quarterly_report(fixed_records(), SERVICES, FLOWS, 2027, 1)
    produced = reports.collection_csv(report["collection_detail"]).encode("utf-8")
    assert produced == EXPECTED_COLLECTION_CSV.read_bytes()


def test_per_response_csv_passes_touchpoints_upload_check(tmp_path: Path) -> None:
    kept = reference.in_quarter(fixed_records(), SERVICES, 2027, 1)
    upload = tmp_path / "a11-fy2027-q1.csv"
    upload.write_bytes(reference.per_response_csv(kept).encode("utf-8"))
    assert touchpoints_upload_problems(upload) == []
    # The check itself refuses what Touchpoints refuses.
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff" + upload.read_bytes())
    assert touchpoints_upload_problems(bad) == [
        "File has a file extension of .txt, but it should be .csv.",
        "The uploaded file must be encoded as UTF-8",
    ]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(upload.read_text().replace("positive_other", "positive_others"))
    assert touchpoints_upload_problems(wrong)[0].startswith("CSV headers do not match")
    odd = tmp_path / "odd.csv"
    odd.write_text(upload.read_text().replace(",null,", ",2,", 1))
    assert touchpoints_upload_problems(odd) == ["row 2 positive_employee: '2' not in 0, 1, null"]


def touchpoints_upload_problems(path: Path) -> list[str]:
    """Touchpoints' upload check (app/controllers/admin/cx_collection_details_controller.rb
    ``upload_csv``: a ``.csv`` extension, valid UTF-8, headers equal to the 17 as a set), with
    the value domains its CxResponse columns hold (docs/models/cx_responses.md;
    ``Form#to_a11_v2_csv`` writes question_1 as the answer, drivers 1, 0 or null)."""
    problems = []
    if path.suffix.lower() != ".csv":
        problems.append(f"File has a file extension of {path.suffix}, but it should be .csv.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [*problems, "The uploaded file must be encoded as UTF-8"]
    rows = list(csv.DictReader(io.StringIO(text)))
    headers = list(rows[0]) if rows else text.splitlines()[0].split(",")
    if sorted(headers) != sorted(V2_COLUMNS):
        return [*problems, f"CSV headers do not match. Headers received were: {headers}"]
    seen = set()
    for n, row in enumerate(rows, start=2):
        if not row["external_id"] or row["external_id"] in seen:
            problems.append(f"row {n} external_id: missing or repeated")
        seen.add(row["external_id"])
        if row["question_1"] not in ("0", "1", "2", "3", "4", "5"):
            problems.append(f"row {n} question_1: {row['question_1']!r} not an answer")
        for column in V2_COLUMNS[2:-1]:
            if row[column] not in ("0", "1", "null"):
                problems.append(f"row {n} {column}: {row[column]!r} not in 0, 1, null")
    return problems


def test_quarter_is_cut_by_when_the_response_was_received() -> None:
    # Both transactions fall on Dec 31 (Eastern). The response arrived on Jan 2 (FY 2027 Q2);
    # the survey that ended unanswered stays in the quarter of its transaction (Q1).
    edge = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    answered = response_record(1, ["yes"], completed_at=edge, ended_after=timedelta(days=2))
    silent = response_record(2, [], completed_at=edge, ended_after=timedelta(days=2))
    q1 = reference.quarterly_report([answered, silent], SERVICES, FLOWS, 2027, 1)
    q2 = reference.quarterly_report([answered, silent], SERVICES, FLOWS, 2027, 2)
    assert [r["volume_of_respondents"] for r in q1["collection_detail"]] == [0]
    assert [r["volume_of_customers"] for r in q1["collection_detail"]] == [1]
    assert [r["volume_of_respondents"] for r in q2["collection_detail"]] == [1]
    assert (q1["per_response_rows"], q2["per_response_rows"]) == (0, 1)
    assert q2["per_response_csv_url"] == "/v1/reports/a11?fiscal_year=2027&quarter=2&format=csv"
    assert q1["quarter_cut"]["time_zones"] == ["America/New_York"]
    assert "service's time zone" in q1["quarter_cut"]["by"]


def test_malformed_record_is_refused_with_a_clear_error() -> None:
    from bot.core.response import MalformedRecord

    record = response_record(1, ["yes"])
    record["disposition"] = "vanished"
    del record["respondent"]
    with pytest.raises(MalformedRecord) as caught:
        validate(record)
    message = str(caught.value)
    assert '"respondent" is a required property' in message
    assert 'disposition: "vanished" is not one of' in message


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
    q1 = reference.in_quarter([ny, denver], SERVICES, 2027, 1)
    q4 = reference.in_quarter([ny, denver], SERVICES, 2026, 4)
    assert [r["service_id"] for r in q1] == ["benefits-application"]
    assert [r["service_id"] for r in q4] == ["permit-renewal"]


def test_volumes_scores_and_v1_counts() -> None:
    records = fixed_records()
    records.append(response_record(10, [], channel="whatsapp"))
    suppressed = response_record(11, [])
    suppressed.update(disposition="suppressed", reason="opted_out")
    suppressed["timestamps"]["invited"] = None
    records.append(suppressed)
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    detail = {(r["service_id"], r["channel"]): r for r in report["collection_detail"]}
    sms = detail[("benefits-application", "sms_text_messages")]
    assert sms["volume_of_customers"] == 7  # 1, 2, 5, 6, 7, 9 and the suppressed one
    assert sms["volume_of_customers_source"] == "transactions"
    assert sms["volume_of_customers_provided_survey_opportunity"] == 6
    assert sms["volume_of_respondents"] == 4  # 1, 2, 5, 9: 6 and 7 never answered the trust item
    assert sms["survey_type"] == "thumbs_up_down"
    assert sms["transaction_point"] == "post_interaction"
    assert sms["trust_question_text"] == (
        "This interaction increased my trust in Example Benefits Agency."
    )
    assert detail[("benefits-application", "chatbot")]["volume_of_respondents"] == 0
    permits = detail[("permit-renewal", "sms_text_messages")]
    assert permits["survey_type"] == "likert_scale"
    assert (permits["volume_of_customers"], permits["volume_of_customers_source"]) == (
        4200,
        "catalog",
    )
    helpdesk = detail[("helpdesk-call", "sms_text_messages")]
    assert helpdesk["trust_question_text"] == (
        "This interaction increased my trust in Example Tax Service."
    )
    assert (helpdesk["volume_of_customers"], helpdesk["volume_of_customers_source"]) == (
        3,
        "multiplier",
    )
    scores = {s["service_id"]: s for s in report["scores"]}
    benefits = scores["benefits-application"]
    assert benefits["percent_positive"] == 75.0  # 1, 5, 9 up; 2 down
    # Among the three on the positive branch, one chose effectiveness (5 never reached the
    # drivers, 9 skipped them: nothing picked counts as not chosen, as in Touchpoints).
    assert benefits["drivers"]["positive"]["effectiveness"] == pytest.approx(1 / 3, abs=1e-4)
    assert benefits["drivers"]["positive"]["ease"] == 0.0
    assert benefits["drivers"]["positive"]["employee"] is None  # not offered
    assert benefits["drivers"]["negative"]["ease"] == 1.0
    assert benefits["response_rate"] == pytest.approx(4 / 7, abs=1e-4)  # WhatsApp too
    assert scores["permit-renewal"]["percent_positive"] == 50.0
    counts = report["v1_counts"]["helpdesk-call"]
    assert (counts["q1_5"], counts["q2_4"], counts["q5_1"], counts["q6_4"]) == (1, 1, 1, 1)
    assert counts["q7_5"] == 0 and counts["q11_1"] == 0 and len(counts) == 55
    table = reports.as_table(report)
    assert "A-11 report, fiscal year 2027 Q1" in table
    assert "A-11 v1 answers, helpdesk-call" in table
    assert "  q2       0     0     0     1     0" in table
    # the per-response CSV's rows are its A-11 v2 responses (not the v1 one): counted, not held
    uploads = len(list(csv.reader(io.StringIO(reference.per_response_csv(records))))) - 1
    assert report["per_response_rows"] == uploads == 6
    assert f"OMB per-response CSV: {uploads} rows (--format csv" in table
