"""From an SMS survey to the measures store, and out again through the admin API."""

from __future__ import annotations

import csv
import io
import json

from bot.core.response import validate
from bot.service import delivery

from .conftest import Bot

ADMIN = {"Authorization": "Bearer admin-token"}


async def survey(bot: Bot, number: str, tid: str, replies: list[str], **kw: str) -> None:
    body = {"transaction_id": tid, "service": "benefits-application", "channel": "sms",
            "to": number, **kw}  # fmt: skip
    assert (await bot.transactions(body)).status == 202
    await delivery.deliver_due(bot.rt)
    for text in replies:
        await bot.text(number, text)


async def forward(bot: Bot) -> None:
    outbox = bot.rt.outbox
    assert outbox is not None
    await outbox.ensure_group()
    while await outbox.step():
        pass


async def test_ended_surveys_reach_the_store_redacted_scored_and_valid(bot: Bot) -> None:
    await survey(bot, "+12025550123", "a", ["yes", "1 3", "Very helpful, my SSN is 123-45-6789"])
    await survey(bot, "+12025550124", "b", ["no", "2", "STOP"])
    await survey(bot, "+12025550125", "c", ["sí", "1", "Muy amables"], language="es")
    bot.fake.failures["+12025550126"] = (400, 21211)
    await survey(bot, "+12025550126", "d", [])
    await survey(bot, "+12025550127", "e", ["no", "2", "on hold 2 hrs about my rent"])
    await forward(bot)
    assert bot.rt.store is not None
    records = {r["transaction_id"]: r for r in await bot.rt.store.responses()}
    assert set(records) == {"a", "b", "c", "d", "e"}
    for record in records.values():
        validate(record)
        assert "+1202555" not in json.dumps(record)
    a = records["a"]
    assert a["disposition"] == "completed" and a["reported_channel"] == "sms_text_messages"
    assert a["free_text"] == "Very helpful, my SSN is [SSN]"
    assert a["a11"]["question_4"] == "Very helpful, my SSN is [SSN]"
    assert a["sentiment"]["label"] == "positive" and a["themes"] == ["staff"]
    # tagged with the service's own taxonomy: the default themes and its "housing"
    assert records["e"]["themes"] == ["housing", "phone", "wait_time"]
    assert records["b"]["themes"] == [] and records["d"]["themes"] == []
    assert a["timestamps"]["invited"] and a["timestamps"]["first_reply"]
    assert records["b"]["disposition"] == "opted_out"
    assert records["b"]["a11"]["negative_ease"] == 1  # partial answers kept
    assert records["c"]["language"] == "es" and records["c"]["sentiment"]["label"] == "positive"
    assert records["d"]["disposition"] == "undeliverable" and records["d"]["reason"] == (
        "invalid_address"
    )


async def test_responses_api_filters_and_pages(bot: Bot) -> None:
    for i in range(5):
        await survey(bot, f"+1202555013{i}", f"t{i}", ["yes", "1", "skip"])
        bot.clock.advance(minutes=1)
    await forward(bot)
    assert (await bot.client.get("/v1/responses")).status == 401
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/responses?limit=2&service=benefits-application&disposition=completed"
        response = await bot.client.get(url + (f"&cursor={cursor}" if cursor else ""),
                                        headers=ADMIN)  # fmt: skip
        body = await response.json()
        seen += [r["transaction_id"] for r in body["responses"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ["t0", "t1", "t2", "t3", "t4"]
    bad = await bot.client.get("/v1/responses?cursor=%%%", headers=ADMIN)
    assert bad.status == 400
    naive = await bot.client.get("/v1/responses?from=2026-11-03T00:00:00", headers=ADMIN)
    assert naive.status == 400


async def test_report_api_json_and_csv(bot: Bot) -> None:
    await survey(bot, "+12025550140", "r1", ["yes", "1 3", "Great"])
    await survey(bot, "+12025550141", "r2", ["no", "2", "Too slow"])
    await forward(bot)
    url = "/v1/reports/a11?fiscal_year=2027&quarter=1"
    assert (await bot.client.get(url)).status == 401
    assert (await bot.client.get("/v1/reports/a11?quarter=5", headers=ADMIN)).status == 400
    report = await (await bot.client.get(url, headers=ADMIN)).json()
    [detail] = report["collection_detail"]
    assert detail["volume_of_customers"] == 2 and detail["volume_of_respondents"] == 2
    assert detail["omb_control_number"] == "1234-5678"
    response = await bot.client.get(url + "&format=csv&service=benefits-application",
                                    headers=ADMIN)  # fmt: skip
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert len(rows[0]) == 17 and len(rows) == 3
    by_q1 = {row[1]: row for row in rows[1:]}
    assert by_q1["1"][2:5] == ["1", "0", "1"]  # effectiveness, ease, efficiency
    assert by_q1["0"][10] == "1" and by_q1["0"][-1] == "Too slow"
    assert response.headers["Content-Disposition"].endswith('.csv"')
    collection = await bot.client.get(url + "&format=collection-csv", headers=ADMIN)
    assert collection.headers["Content-Disposition"].endswith('-collection.csv"')
    [row] = list(csv.DictReader(io.StringIO(await collection.text())))
    assert row["survey_type"] == "thumbs_up_down" and row["channel"] == "sms_text_messages"
    assert (row["volume_of_customers"], row["volume_of_respondents"]) == ("2", "2")
    assert (await bot.client.get(url + "&format=xml", headers=ADMIN)).status == 400
    other = await bot.client.get(url.replace("2027", "2026"), headers=ADMIN)
    assert (await other.json())["collection_detail"] == []
    # the figures an agency may publish: two respondents are too few to show any
    public = await (await bot.client.get(url + "&format=public", headers=ADMIN)).json()
    [service] = public["services"]
    assert public["schema"] == "a11-feedback-bot/public-report/v1"
    assert service["suppressed"] and service["trust_positive"] is None
    assert "Too slow" not in json.dumps(public) and service["participation"] == []
    [goal, *_] = service["goals"]
    assert (goal["measure"], goal["status"]) == ("trust_positive", "not yet measurable")
    # the JSON report carries the measures, each cell suppressed for now
    [scores] = report["scores"]
    assert {p["dimension"] for p in scores["participation"]} == {"all", "language", "channel",
                                                                  "region"}  # fmt: skip
    assert all(p["suppressed"] for p in scores["participation"])
    assert scores["effort"]["completed"] == 2 and scores["sentiment_by_language"]["en"]
