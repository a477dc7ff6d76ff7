"""Hostile input through the real routes: no request draws a 500, no accepted record is lost.

Each test holds a finding of the outside fuzzing run (issue 13) and failed on the code before
its fix.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from adapters.sql import SqlStore
from bot.service import delivery
from bot.store.state import State

from .conftest import PUBLIC, Bot
from .test_sms import PHONE, invite, txn

MESSAGES = "/webhooks/twilio/messages"
STATUS = "/webhooks/twilio/status"


async def raw(bot: Bot, head: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> int:
    """Send exactly these bytes (headers a client library would refuse) and return the status."""
    lines = [head.encode(), b"Host: localhost", b"Connection: close",
             b"Content-Length: " + str(len(body)).encode()]  # fmt: skip
    lines += [name + b": " + value for name, value in headers]
    reader, writer = await asyncio.open_connection(bot.client.host, bot.client.port)
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return int(answer.split(b" ", 2)[1])


async def test_credentials_that_are_not_utf8_are_refused(bot: Bot) -> None:
    bearer = [(b"Authorization", b"Bearer \xff")]
    for route in ("GET /v1/services", "GET /v1/responses", "GET /v1/reports/a11?quarter=1"):
        assert await raw(bot, f"{route} HTTP/1.1", bearer) == 401, route
    assert await raw(bot, "POST /v1/transactions HTTP/1.1", bearer, b"{}") == 401
    form = [(b"Content-Type", b"application/x-www-form-urlencoded")]
    signed_badly = [*form, (b"X-Twilio-Signature", b"\xff\xfe")]
    for path in (MESSAGES, STATUS):
        assert await raw(bot, f"POST {path} HTTP/1.1", signed_badly, b"MessageSid=SM1") == 403


async def test_unsigned_twilio_requests_never_reach_the_form_parser(bot: Bot) -> None:
    bodies = [b"no-equals-sign", b"%%%=&&==", b"\xff\xfe=x", b"a=%ZZ", b"", b"Body=hi"]
    headers = [[], [(b"X-Twilio-Signature", b"x")], [(b"X-Twilio-Signature", b"")]]
    for path in (MESSAGES, STATUS):
        for body in bodies:
            for extra in headers:
                for content_type in (b"application/x-www-form-urlencoded", b"text/plain"):
                    status = await raw(bot, f"POST {path} HTTP/1.1",
                                       [(b"Content-Type", content_type), *extra], body)  # fmt: skip
                    assert status == 403, (path, body, extra, content_type)
    big = b"Body=" + b"x" * 70_000
    assert await raw(bot, f"POST {MESSAGES} HTTP/1.1", [], big) == 413


async def test_status_callback_error_codes_of_any_shape(bot: Bot) -> None:
    await invite(bot)
    [message] = bot.fake.sent_to(PHONE)
    for code in ("²", "1" * 5000, "-5", "21610x", ""):
        params = {"MessageSid": message.sid, "MessageStatus": "failed", "ErrorCode": code}
        assert (await bot.twilio(STATUS, params)).status == 204, code[:10]
    # none of those was read as 21610: the number is not opted out
    assert not await bot.rt.state.opted_out(bot.rt.person(PHONE), ("all", bot.rt.scope("sms")))


async def test_one_bad_item_does_not_lose_the_batch(bot: Bot, redis: Redis) -> None:
    headers = {"Authorization": "Bearer api-token", "Content-Type": "application/json"}
    good = [txn(f"ok{i}", to=f"+1202555{1200 + i:04d}") for i in range(3)]
    bad = {
        "surrogate-value": txn("s1", to="+12025551301", attributes={"note": "\ud800"}),
        "surrogate-key": txn("s2", to="+12025551302", attributes={"k\udfff": 1}),
        "huge-int": txn("s3", to="+12025551303", attributes={"n": 2**64 + 1}),
        "year-9999": txn("s4", to="+12025551304", completed_at="9999-12-31T23:59:59+00:00"),
        "year-1": txn("s5", to="+12025551305", completed_at="0001-01-01T00:00:00+23:59"),
        "nul-id": txn("s6\x00", to="+12025551306"),
        "nested": txn("s7", to="+12025551307", attributes={"a": [[[1]]]}),
    }
    body = json.dumps({"transactions": [*good, *bad.values()]})
    response = await bot.client.post("/v1/transactions", data=body.encode(), headers=headers)
    assert response.status == 422
    results = (await response.json())["results"]
    assert [r["status"] for r in results[:3]] == ["scheduled"] * 3
    for (name, _), result in zip(bad.items(), results[3:], strict=True):
        assert result["status"] == "invalid" and result["errors"], name
    assert results[3]["errors"] == {
        "attributes": "note: unpaired surrogate (not valid Unicode text)"
    }
    assert "completed_at" in results[6]["errors"] and "completed_at" in results[7]["errors"]
    # the good ones were recorded and are sent
    assert await delivery.deliver_due(bot.rt) == 3
    # NaN and Infinity are not JSON; nesting past the parser's stack is refused, not a 500
    for text in ('{"transactions": [{"attributes": {"x": NaN}}]}', "[" * 100_000 + "]" * 100_000):
        response = await bot.client.post("/v1/transactions", data=text.encode(), headers=headers)
        assert response.status == 400, text[:40]
    ended = await State(redis).ended_records()
    assert ended == []  # nothing invalid was recorded


async def test_text_with_control_characters_is_cleaned_when_received(bot: Bot) -> None:
    await invite(bot)
    await bot.text(PHONE, "yes")
    await bot.text(PHONE, "1")
    await bot.text(PHONE, "fine\x00 thanks\x07\x1b[31m")
    assert bot.rt.outbox is not None
    await bot.rt.outbox.step()
    assert bot.rt.store is not None
    [record] = await bot.rt.store.responses()
    assert record["free_text"] == "fine thanks[31m"


async def test_admin_queries_with_hostile_parameters_are_400(bot: Bot) -> None:
    admin = {"Authorization": "Bearer admin-token"}
    for query in (
        "to=9999-12-31T23:59:59-23:59",
        "from=0001-01-01T00:00:00%2B23:59",
        "disposition=completed%00",
        "disposition=vanished",
        "cursor=%00",
        "cursor=MjAyNi0xMS0wM1QxNTowMDowMCswMDowMHwA",  # a valid time, then "|" and a NUL
        "service=%00",
        "limit=" + "9" * 5000,
    ):
        response = await bot.client.get(f"/v1/responses?{query}", headers=admin)
        assert response.status == 400, query
    for query in ("fiscal_year=1&quarter=1", "fiscal_year=99999&quarter=1",
                  "fiscal_year=2027&quarter=1&format=xml"):  # fmt: skip
        response = await bot.client.get(f"/v1/reports/a11?{query}", headers=admin)
        assert response.status == 400, query


async def test_admin_queries_while_the_store_is_down_are_503(bot: Bot) -> None:
    rt = bot.rt
    working = rt.store
    # refuses connections; the store is where pages read too (no replica is set)
    rt.store = rt.reader = SqlStore("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        admin = {"Authorization": "Bearer admin-token"}
        response = await bot.client.get("/v1/responses", headers=admin)
        assert response.status == 503
        assert "measures store unavailable" in (await response.json())["error"]
        report = await bot.client.get("/v1/reports/a11?fiscal_year=2027&quarter=1", headers=admin)
        assert report.status == 503
    finally:
        assert isinstance(rt.store, SqlStore)
        await rt.store.close()
        rt.store = rt.reader = working


async def test_a_hanging_twilio_costs_one_timeout_per_batch(bot: Bot) -> None:
    for i in range(8):
        response = await bot.transactions(txn(f"h{i}", to=f"+1202555{1400 + i:04d}"))
        assert (await response.json())["status"] == "scheduled"
    bot.fake.delay = 5.0  # longer than TWILIO_SEND_TIMEOUT (2 s in the tests)
    started = time.monotonic()
    assert await delivery.deliver_due(bot.rt) == 8
    elapsed = time.monotonic() - started
    assert elapsed < 4.0, elapsed  # one at a time would take 8 x 2 s


async def test_signed_webhooks_with_odd_but_valid_forms(bot: Bot) -> None:
    # Signed, so past the signature; then refused or answered, never a 500.
    validator = RequestValidator(bot.fake.auth_token)
    for params in (
        {"MessageSid": "SModd1", "From": "+12025550123", "Body": "\x00\ud800"[:1]},
        {"MessageSid": "SModd2", "From": "not-a-number", "Body": "hi"},
        {"MessageSid": "", "From": ""},
    ):
        body = urlencode(params)
        signature = validator.compute_signature(PUBLIC + MESSAGES, params)
        response = await bot.client.post(
            MESSAGES, data=body.encode(),
            headers={"X-Twilio-Signature": signature,
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert response.status in (200, 400), params


async def test_a_reporting_dimensions_value_must_be_a_plain_label(bot: Bot) -> None:
    # benefits-application reports by region: its values become groups in the public data.csv
    headers = {"Authorization": "Bearer api-token", "Content-Type": "application/json"}
    labels = ["North", "Puerto Rico - East (2)", "65+", "Île-de-France", "3", 7, True, None]
    refused = ["=HYPERLINK(\"http://evil.example\")", "+1+cmd", "-5", -5, "@SUM(A1)", "\tWest",
               " West", "a\nb", "x" * 65, "", "<b>x</b>", "50%"]  # fmt: skip
    items = [txn(f"l{i}", to=f"+1202555{1400 + i:04d}", attributes={"region": v})
             for i, v in enumerate(labels + refused)]  # fmt: skip
    # an attribute the service does not report by is not a label: any plain value
    items.append(txn("note", to="+12025551499", attributes={"note": "=not a dimension"}))
    response = await bot.client.post("/v1/transactions", headers=headers,
                                     data=json.dumps({"transactions": items}).encode())  # fmt: skip
    assert response.status == 422
    results = (await response.json())["results"]
    statuses = [r["status"] for r in results]
    assert statuses == ["scheduled"] * len(labels) + ["invalid"] * len(refused) + ["scheduled"]
    for result in results[len(labels) : -1]:
        assert set(result["errors"]) == {"attributes"}
        assert result["errors"]["attributes"].startswith("region: a reporting dimension's value")
