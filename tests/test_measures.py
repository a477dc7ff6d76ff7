"""Equity, effort, goals and what is published: intervals against published values,
suppression (with its complement) on crafted data, effort on scripted surveys with known
timings, goals across quarters, identifying dimensions refused, and a public site without
free text, identifiers or suppressed cells."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.catalog import Service, load_catalog
from bot.core.errors import FlowValidationError
from bot.core.goals import Goal
from bot.core.measures import MIN_CELL, wilson
from bot.core.public import public_report
from bot.core.sinks import ResponseRecord
from bot.registry import kinds
from bot.service.publish import write_site
from flows import FLOWS_DIR

from . import reference
from .records import FLOWS, T0, response_record
from .reference import participation

SERVICES = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, kinds())
COMPLETE = ["yes", "1 3", "Quick and easy"]
NEGATIVE = ["no", "2", "skip"]


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [  # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson)
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
    ],
)
def test_wilson_intervals_match_published_values(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    assert wilson(successes, trials) == expected


def test_no_trials_no_interval() -> None:
    assert wilson(0, 0) is None


def people(start: int, count: int, replies: list[str], **kw: Any) -> list[ResponseRecord]:
    return [response_record(start + i, replies, **kw) for i in range(count)]


def regional(region: str, start: int, respondents: int, silent: int = 0) -> list[ResponseRecord]:
    attrs = {"region": region}
    return people(start, respondents, COMPLETE, attributes=attrs) + people(
        start + respondents, silent, [], attributes=attrs
    )


def rows_of(rows: list[dict[str, Any]], dimension: str) -> dict[str, dict[str, Any]]:
    return {r["group"]: r for r in rows if r["dimension"] == dimension}


def test_a_small_cell_and_its_complement_are_suppressed() -> None:
    records = regional("north", 0, 14) + regional("south", 100, 11) + regional("west", 200, 3)
    rows = participation(records, FLOWS, ["region"])
    region = rows_of(rows, "region")
    assert region["west"]["suppressed"] and region["west"]["respondents"] is None
    assert region["west"]["response_rate"] is None and region["west"]["trust_positive"] is None
    # Alone, west's 3 would be the total (28) minus north (14) minus south (11): the next
    # smallest cell is hidden with it.
    assert region["south"]["suppressed"] and region["south"]["respondents"] is None
    assert not region["north"]["suppressed"] and region["north"]["respondents"] == 14
    assert region["north"]["response_rate"] == 1.0
    assert region["north"]["response_rate_ci"] == wilson(14, 14)
    [total] = [r for r in rows if r["dimension"] == "all"]
    assert total["respondents"] == 28 and not total["suppressed"]
    # transactions and deliveries are not about respondents and stay
    assert region["west"]["transactions"] == 3


def test_two_small_cells_hide_each_other_and_nothing_more() -> None:
    records = regional("north", 0, 12) + regional("south", 100, 11)
    records += regional("west", 200, 3) + regional("east", 300, 4)
    region = rows_of(participation(records, FLOWS, ["region"]), "region")
    assert [g for g, r in sorted(region.items()) if r["suppressed"]] == ["east", "west"]


def test_everything_is_suppressed_when_the_service_has_too_few_respondents() -> None:
    rows = participation(regional("north", 0, MIN_CELL - 1), FLOWS, ["region"])
    assert all(r["suppressed"] for r in rows)


def test_a_group_that_answers_less_is_flagged() -> None:
    records = regional("north", 0, 36, silent=4) + regional("rural", 100, 12, silent=28)
    region = rows_of(participation(records, FLOWS, ["region"]), "region")
    assert region["rural"]["flag"] == "lower_response"
    assert region["north"]["flag"] == "higher_response"
    assert region["rural"]["response_rate"] == 0.3
    assert region["rural"]["response_rate_gap"] == round(0.3 - 48 / 80, 4)


def test_no_flag_when_groups_answer_alike() -> None:
    records = regional("north", 0, 15, silent=5) + regional("south", 100, 15, silent=5)
    region = rows_of(participation(records, FLOWS, ["region"]), "region")
    assert region["north"]["flag"] is None and region["south"]["flag"] is None


def test_language_and_channel_are_always_broken_down() -> None:
    records = people(0, 12, COMPLETE) + people(100, 11, ["sí", "1", "Muy amables"], language="es")
    rows = participation(records, FLOWS, [])
    assert set(rows_of(rows, "language")) == {"en", "es"}
    assert set(rows_of(rows, "channel")) == {"sms"}
    assert rows_of(rows, "language")["es"]["trust_positive"] == 1.0


def test_effort_on_scripted_surveys_with_known_timings() -> None:
    records = [
        response_record(
            n,
            COMPLETE,
            first_reply_after=timedelta(minutes=m),
            ended_after=timedelta(minutes=2 * m),
        )
        for n, m in enumerate([2, 4, 6, 8, 10])
    ]
    records.append(response_record(10, ["maybe", "yes", "1", "skip"]))  # one reprompt
    records.append(response_record(11, ["yes"], expire=True))  # gave up at the drivers
    records.append(response_record(12, [], expire=True))  # never answered
    effort = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1)["scores"][0]["effort"]
    # first replies 2, 4, 6, 8, 10, 5, 5 minutes; completions 4, 8, 12, 16, 20, 10
    assert effort["first_reply_minutes_p50"] == 5.0
    assert effort["first_reply_minutes_p90"] == 8.8  # 8 + 0.4 x (10 - 8)
    assert effort["completion_minutes_p50"] == 11.0
    assert effort["completion_minutes_p90"] == 18.0
    assert effort["completed"] == 6 and effort["reprompts_per_completed"] == round(1 / 6, 2)
    assert effort["questions"] == [
        {"id": "question_1", "reached": 8, "answered": 7},
        {"id": "drivers", "reached": 7, "answered": 6},
        {"id": "question_4", "reached": 6, "answered": 5},
    ]


def service_with(goals: tuple[Goal, ...]) -> dict[str, Service]:
    return {**SERVICES, "benefits-application": replace(SERVICES["benefits-application"],
                                                        goals=goals)}  # fmt: skip


def quarter_of(start: int, positive: int, negative: int, at: Any) -> list[ResponseRecord]:
    return people(start, positive, COMPLETE, completed_at=at) + people(
        start + positive, negative, NEGATIVE, completed_at=at
    )


def test_goals_across_quarters() -> None:
    q1 = T0  # FY2027 Q1
    q4 = T0 - timedelta(days=90)  # FY2026 Q4
    q3 = T0 - timedelta(days=180)  # FY2026 Q3
    records = quarter_of(0, 9, 3, q1) + quarter_of(100, 6, 6, q4) + quarter_of(200, 2, 1, q3)
    services = service_with((
        Goal("trust_positive", 0.7),
        Goal("completion_minutes_p50", 5),
        Goal("response_rate", 0.5, since=(2027, 2)),
    ))  # fmt: skip
    report = reference.quarterly_report(records, services, FLOWS, 2027, 1)
    [row] = [r for r in report["scores"] if r["service_id"] == "benefits-application"]
    trust, minutes, rate = row["goals"]
    assert trust["value"] == 0.75 and trust["status"] == "met" and trust["met"] is True
    assert trust["ci"] == list(wilson(9, 12) or ())
    # oldest first; FY2026 Q3 had 3 respondents, too few to measure; FY2026 Q4 half positive
    assert [h["value"] for h in trust["history"]] == [None, None, None, 0.5]
    assert [(h["fiscal_year"], h["quarter"]) for h in trust["history"]] == [
        (2026, 1), (2026, 2), (2026, 3), (2026, 4)
    ]  # fmt: skip
    assert minutes["value"] == 10.0 and minutes["status"] == "not met" and minutes["met"] is False
    assert rate["status"] == "not started" and rate["met"] is None
    earlier = reference.quarterly_report(records, services, FLOWS, 2026, 3)
    [old] = [r for r in earlier["scores"] if r["service_id"] == "benefits-application"]
    assert old["goals"][0]["status"] == "not yet measurable"


def test_a_service_with_goals_and_no_responses_still_shows_them() -> None:
    report = reference.quarterly_report([], service_with((Goal("trust_positive", 0.8),)), FLOWS,
                                      2027, 1)  # fmt: skip
    [row] = report["scores"]
    assert row["goals"][0]["status"] == "not yet measurable"


@pytest.mark.parametrize("name", ["case_id", "firstName", "phone_number", "email", "zip"])
def test_identifying_attributes_are_refused_as_dimensions(tmp_path: Path, name: str) -> None:
    text = (FLOWS_DIR / "services.yaml").read_text(encoding="utf-8")
    catalog = tmp_path / "services.yaml"
    catalog.write_text(text.replace("reporting_dimensions: [region]",
                                    f"reporting_dimensions: [region, {name}]"))  # fmt: skip
    with pytest.raises(FlowValidationError) as raised:
        load_catalog(catalog, FLOWS, kinds())
    assert f"{name!r} could identify a person" in str(raised.value)
    assert "reporting_dimensions[1]" in str(raised.value)


def test_the_demo_catalog_declares_a_dimension_and_goals() -> None:
    service = SERVICES["benefits-application"]
    assert service.reporting_dimensions == ("region",)
    assert {g.measure for g in service.goals} == {
        "trust_positive", "response_rate", "completion_minutes_p50"
    }  # fmt: skip


def published(tmp_path: Path) -> tuple[list[ResponseRecord], dict[str, str]]:
    comment = ["no", "2", "Agent Smith at 202-555-0199 was rude and my case is 88812"]
    records = regional("north", 0, 14) + regional("south", 100, 11) + regional("west", 200, 3)
    records += [response_record(300 + i, comment, attributes={"region": "north"})
                for i in range(3)]  # fmt: skip
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    write_site(public_report(report, SERVICES), tmp_path)
    files = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    return records, files


def test_the_published_site_holds_no_free_text_identifier_or_suppressed_cell(
    tmp_path: Path,
) -> None:
    records, files = published(tmp_path)
    assert set(files) == {"index.html", "data.csv", "data.json", "dictionary.csv"}
    everything = "\n".join(files.values())
    for record in records:
        for value in (record["response_id"], record["transaction_id"], record["respondent"]):
            assert value not in everything
        if record["free_text"]:
            assert record["free_text"] not in everything
    for fragment in ("rude", "Quick and easy", "202-555", "88812", "[PHONE]"):
        assert fragment not in everything
    data = json.loads(files["data.json"])
    [service] = data["services"]
    groups = {(p["dimension"], p["group"]): p for p in service["participation"]}
    assert groups[("region", "north")]["respondents"] == 17
    # a hidden group is listed (the page says why) with every figure null
    for hidden, why in (("west", "small"), ("south", "complement")):
        row = groups[("region", hidden)]
        assert row["hidden"] == why
        assert all(row[k] is None for k in row if k not in ("dimension", "group", "hidden"))
    assert "west" not in files["data.csv"] and "south" not in files["data.csv"]
    assert set(data["methods"]) >= {"intervals", "suppression", "quarter", "sampling"}
    assert service["respondents"] == 31


def test_the_data_csv_says_what_the_json_says(tmp_path: Path) -> None:
    _, files = published(tmp_path)
    data = json.loads(files["data.json"])
    lines = files["data.csv"].splitlines()
    assert lines[0].startswith("fiscal_year,quarter,service_id")
    trust = next(line for line in lines if ",trust_positive,all,all," in line)
    assert str(data["services"][0]["trust_positive"]) in trust
    dictionary = files["dictionary.csv"].splitlines()[1:]
    assert {line.split(",")[0] for line in dictionary} == set(lines[0].split(","))


def test_min_cell_is_a_setting_and_a_report_uses_it() -> None:
    from bot.settings import ConfigError, Settings

    records = regional("north", 0, 14) + regional("south", 100, 11) + regional("west", 200, 3)
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1, min_cell=3)
    [row] = report["scores"]
    region = rows_of(row["participation"], "region")
    assert not region["west"]["suppressed"] and region["west"]["respondents"] == 3
    assert "fewer than 3 respondents" in report["methods"]["suppression"]
    public = public_report(report, SERVICES)
    assert ("region", "west") in {(p["dimension"], p["group"])
                                  for p in public["services"][0]["participation"]}  # fmt: skip
    assert Settings.from_env({"MIN_CELL": "20"}).min_cell == 20
    with pytest.raises(ConfigError, match="MIN_CELL must be at least 3"):
        Settings.from_env({"MIN_CELL": "2", "API_TOKEN": "a", "ADMIN_TOKEN": "b",
                           "PSEUDONYM_KEY": "c", "CHANNELS": ""}).check()  # fmt: skip


def test_a_records_progress_key_is_the_standard_librarys_text() -> None:
    # The key is stored and grouped on: orjson's quicker text must be exactly json's, and
    # for a question id that is not ASCII json's own escapes are kept.
    from bot.core.measures import progress_key

    for answers, last in [({"q1": {"status": "answered"}, "q2": {"status": "skipped"}}, "q3"),
                          ({"b": None, "a": {"status": "answered"}}, None),
                          ({"pregunta_ñ": {"status": "answered"}, "q\t1": {}}, "é")]:  # fmt: skip
        record: Any = {"answers": answers, "last_question": last}
        reached = {k: int(a.get("status") == "answered")
                   for k, a in answers.items() if a is not None}  # fmt: skip
        if last is not None:
            reached.setdefault(last, 0)
        assert progress_key(record) == json.dumps(reached, sort_keys=True, separators=(",", ":"))
