"""The public report's words (pure): the headline says what the trust question meant, the
period and the date in words, who publishes it (settings, else the catalog), and a contact."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core.public import headline, public_report, third_person
from bot.service.publish import (
    Site,
    all_hidden,
    contact_html,
    driver_tables,
    group_name,
    period,
    render,
)
from bot.settings import Settings

from . import reference
from .records import FLOWS, response_record
from .test_measures import SERVICES, regional


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        ("This interaction increased my trust in Example Benefits Agency.",
         "this interaction increased their trust in Example Benefits Agency"),
        ("I trust the IRS to deliver on its mission.",
         "they trust the IRS to deliver on its mission"),
        ("I was treated with respect by my caseworker.",
         "they were treated with respect by their caseworker"),
        ("I'm satisfied with the help I got.", "they're satisfied with the help they got"),
        ("My need was met.", "their need was met"),
        ("It was easy for me.", "it was easy for them"),  # "was" changes only after "I"
        ("SSA helped me.", "SSA helped them"),  # an acronym keeps its capitals
    ],
)  # fmt: skip
def test_the_trust_statement_is_said_of_the_people_who_made_it(statement: str, said: str) -> None:
    assert third_person(statement) == said


def test_the_headline_has_the_question_s_meaning_and_its_scale_s_verb() -> None:
    q = "This interaction increased my trust in the agency."
    assert headline(0.534, q, "thumbs_up_down") == (
        "53% said this interaction increased their trust in the agency."
    )
    assert headline(0.5, q, "likert_scale") == (
        "50% agreed that this interaction increased their trust in the agency."
    )
    assert headline(0.61, "Do you trust the agency?", "thumbs_up_down") == (
        "61% answered yes to “Do you trust the agency?”"
    )
    assert headline(None, q, "thumbs_up_down") is None


def test_the_public_report_carries_each_service_s_question_and_headline() -> None:
    report = reference.quarterly_report(regional("north", 0, 14), SERVICES, FLOWS, 2027, 1)
    [service] = public_report(report, SERVICES)["services"]
    assert service["trust_question"] == (
        "This interaction increased my trust in Example Benefits Agency."
    )
    assert service["headline"] == (
        "100% said this interaction increased their trust in Example Benefits Agency."
    )
    assert service["contact"].startswith("Questions? Call 1-800-555-0100")


def test_period_date_group_names_and_contacts_in_words() -> None:
    assert period(2027, 1) == "October to December 2026"
    assert period(2027, 2) == "January to March 2027"
    assert period(2027, 4) == "July to September 2027"
    assert group_name("language", "es") == "Spanish"
    assert group_name("channel", "sms") == "Text message"
    assert group_name("channel", "webchat") == "Web chat"
    assert group_name("region", "Midwest") == "Midwest"
    assert group_name("region", "other") == "Other"
    assert contact_html("cx@agency.gov") == '<a href="mailto:cx@agency.gov">cx@agency.gov</a>'
    assert contact_html("https://agency.gov/cx") == (
        '<a href="https://agency.gov/cx">https://agency.gov/cx</a>'
    )
    assert contact_html("Call <1-800>") == "Call &lt;1-800&gt;"


def test_a_breakdown_all_hidden_says_why() -> None:
    small = {"hidden": "small"}
    assert all_hidden([small, small], 10) == (
        "Fewer than 10 people answered in each group, so no group's figures are shown."
    )
    assert "cannot be worked out" in (all_hidden([small, {"hidden": "complement"}], 10) or "")
    assert all_hidden([small, {"hidden": None}], 10) is None


def test_the_site_is_described_by_the_settings(tmp_path: Path) -> None:
    logo = tmp_path / "seal.PNG"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    settings = Settings(public_base_url="https://feedback.example.gov", agency_logo=logo,
                        public_contact="cx@example.gov")  # fmt: skip
    site = Site.of(settings, SERVICES, date(2027, 1, 20))
    # no AGENCY_NAME and three agencies in the catalog: no name is guessed
    assert site == Site(agency="", contact="cx@example.gov", official=True,
                        published=date(2027, 1, 20), logo=logo, logo_href="logo.png")  # fmt: skip
    one = {"benefits-application": SERVICES["benefits-application"]}
    named = Site.of(Settings(public_base_url="https://bot.example.com"), one, date(2027, 1, 20))
    assert named.agency == "Example Benefits Agency" and not named.official
    assert named.logo is None and named.logo_href is None
    assert Site.of(Settings(agency_name="Dept of Examples"), SERVICES, date(2027, 1, 1)).agency \
        == "Dept of Examples"  # fmt: skip
    assert Site.of(Settings(agency_logo=tmp_path / "missing.svg"), one, date(2027, 1, 1)).logo \
        is None  # fmt: skip


def test_published_date_and_contact_reach_the_page_and_the_data(tmp_path: Path) -> None:
    report = reference.quarterly_report(regional("north", 0, 14), SERVICES, FLOWS, 2027, 1)
    public = public_report(report, SERVICES)
    files = render(public, Site(agency="Example Benefits Agency", published=date(2027, 1, 20)))
    assert '"published": "2027-01-20"' in files["data.json"]
    page = files["index.html"]
    assert "Published January 20, 2027" in page and "Official website" not in page
    # no site-wide contact: each service's own from the catalog
    assert "Questions? Call 1-800-555-0100 or visit example.gov/help" in page
    with_contact = render(public, Site(contact="cx@example.gov", official=True))["index.html"]
    assert "Questions? Call 1-800-555-0100" not in with_contact
    assert 'href="mailto:cx@example.gov"' in with_contact and "Official website" in with_contact


def test_a_driver_not_offered_has_no_row_and_a_flow_without_drivers_no_table() -> None:
    tables = driver_tables({"positive": {"ease": 0.2, "employee": None, "effectiveness": 0.5},
                            "negative": None})  # fmt: skip
    assert [(branch, rows) for branch, _, _, rows in tables] == [
        ("positive", [("effectiveness", 0.5), ("ease", 0.2)]), ("negative", None)
    ]  # fmt: skip
    # the A-11 v1 help desk survey asks ratings, not drivers: no sides, no tables
    records = [response_record(500 + i, ["5", "5", "4", "4", "4", "4", "Fine"],
                               service="helpdesk-call", flow_id="a11-v1")
               for i in range(12)]  # fmt: skip
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1, "helpdesk-call")
    [service] = public_report(report, SERVICES)["services"]
    assert service["respondents"] == 12 and service["drivers"] == {}
    page = render(public_report(report, SERVICES))["index.html"]
    assert "What went well" not in page
    assert "100% agreed that this interaction increased their trust in Example Tax Service." in page
