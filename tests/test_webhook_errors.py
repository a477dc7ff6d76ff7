"""What a webhook answers when something goes wrong, and that nothing is lost or done twice."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.store.surveys import AlreadyHandled
from bot.web.app import create_app
from bot.web.deadlines import Deadlines

from .conftest import PUBLIC, Bot, Clock, make_settings
from .test_sms import PHONE, invite

MESSAGES = "/webhooks/twilio/messages"


@pytest.fixture
async def hasty(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot with a request deadline of a third of a second."""
    clock = Clock()
    settings = make_settings(fake_twilio, tmp_path, request_deadline=0.3)
    app = create_app(settings, channels=[TwilioChannel(settings)], clock=clock)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    yield Bot(client, fake_twilio, clock, settings)
    await client.close()


def params(body: str, sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "From": PHONE, "To": "+12025550100", "Body": body}


async def test_a_reply_over_the_deadline_is_a_503_and_its_retry_is_answered(
    hasty: Bot, redis: Redis
) -> None:
    await invite(hasty)
    await redis.execute_command("CLIENT", "PAUSE", 1500, "ALL")
    started = time.monotonic()
    try:
        response = await hasty.twilio(MESSAGES, params("yes", "SMslow"))
        elapsed = time.monotonic() - started
    finally:
        await redis.execute_command("CLIENT", "UNPAUSE")
    assert response.status == 503
    assert (await response.json()) == {"error": "timed out, retry later"}
    assert 0.3 <= elapsed < 1.4  # the deadline and at most a tick more, not Redis's pause
    # The commands the timed-out request left queued have run by now; Twilio's retry of the
    # same message is answered, not dropped as a duplicate.
    retry = await hasty.twilio(MESSAGES, params("yes", "SMslow"))
    assert retry.status == 200
    assert "What went well?" in await retry.text()


async def test_an_error_log_names_the_route_never_the_path_with_its_number(
    hasty: Bot, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Authorization": "Bearer admin-token"}
    await redis.execute_command("CLIENT", "PAUSE", 1000, "ALL")
    try:
        with caplog.at_level(logging.INFO):
            response = await hasty.client.delete(f"/v1/people/{PHONE}", headers=headers)
    finally:
        await redis.execute_command("CLIENT", "UNPAUSE")
    assert response.status == 503
    # the bot's own lines (the test server's access log is aiohttp's; production uses ours)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))
    assert "over its deadline route=/v1/people/{address}" in ours
    assert PHONE.lstrip("+") not in ours


async def test_redis_refusing_a_command_is_a_503_without_details(
    bot: Bot, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    await invite(bot)
    # The consent ledger's key holding the wrong type: Redis answers WRONGTYPE to the script.
    state = bot.rt.state
    await redis.set(state.k_optouts(state.shard_of(bot.rt.person(PHONE))), "not a set")
    with caplog.at_level(logging.INFO):
        response = await bot.twilio(MESSAGES, params("yes", "SMwrongtype"))
    assert response.status == 503
    assert (await response.json()) == {"error": "temporarily unavailable, retry later"}
    assert "ResponseError" in caplog.text and "Traceback" not in caplog.text
    assert PHONE not in caplog.text and "WRONGTYPE" not in await response.text()


async def test_a_survey_whose_flow_is_gone_is_a_500_without_a_traceback(
    bot: Bot, redis: Redis
) -> None:
    await invite(bot)
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(PHONE))
    await bot.rt.state.update_survey(ref, lambda r: {**r, "flow_id": "withdrawn"})
    response = await bot.twilio(MESSAGES, params("yes", "SMgone"))
    assert response.status == 500
    assert (await response.json()) == {"error": "internal error"}


async def test_two_copies_of_a_message_at_once_are_answered_once(bot: Bot) -> None:
    await invite(bot)
    copy = params("yes", "SMtwice")
    first, second = await asyncio.gather(bot.twilio(MESSAGES, copy), bot.twilio(MESSAGES, copy))
    texts = [await first.text(), await second.text()]
    assert first.status == second.status == 200
    # the copy is answered with the question the survey now asks, not a second answer
    assert all("What went well?" in text for text in texts)
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(PHONE))
    record = await bot.rt.state.survey(ref)
    assert record is not None
    assert record["session"]["answers"]["question_1"]["attempts"] == 1
    assert record["session"]["question"] == "drivers"


async def test_an_answer_and_its_message_mark_are_written_together(bot: Bot) -> None:
    await invite(bot)
    state, person = bot.rt.state, bot.rt.person(PHONE)
    [ref] = await state.open_surveys(person)
    mark = (person, "sms:SMmark")
    updated = await state.update_survey(ref, lambda r: {**r, "note": 1}, message=mark)
    assert updated is not None and updated["note"] == 1
    with pytest.raises(AlreadyHandled):
        await state.update_survey(ref, lambda r: {**r, "note": 2}, message=mark)
    record = await state.survey(ref)
    assert record is not None and record["note"] == 1 and record["rev"] == updated["rev"]
    # A keyword or a message to a closed survey is marked on its own, once.
    assert not await state.mark_inbound(*mark)
    assert await state.mark_inbound(person, "sms:SMother")
    assert not await state.mark_inbound(person, "sms:SMother")


async def test_deadlines_cancel_only_the_late() -> None:
    deadlines = Deadlines(0.2, tick=0.05)
    sweep = asyncio.create_task(deadlines.sweep())

    async def request(seconds: float) -> tuple[bool, int]:
        task = deadlines.start()
        try:
            try:
                await asyncio.sleep(seconds)
            finally:
                timed_out = deadlines.finish(task)
        except asyncio.CancelledError:
            if not timed_out:
                raise
        return timed_out, task.cancelling()

    try:
        quick, late = await asyncio.gather(request(0.01), request(5))
    finally:
        sweep.cancel()
    assert quick == (False, 0)
    assert late == (True, 0)  # cancelled by the deadline, the cancellation withdrawn


async def test_a_released_deadline_lets_a_stream_run_on() -> None:
    deadlines = Deadlines(0.1, tick=0.02)
    sweep = asyncio.create_task(deadlines.sweep())

    async def download() -> bool:
        task = deadlines.start()
        deadlines.release()  # its first bytes are out
        await asyncio.sleep(0.3)  # three deadlines long
        return deadlines.finish(task)

    try:
        assert await download() is False  # never cancelled
    finally:
        sweep.cancel()


async def test_a_body_arriving_in_pieces_is_read_whole(bot: Bot) -> None:
    await invite(bot)
    body = urlencode(params("yes", "SMpieces")).encode()
    signature = RequestValidator(bot.fake.auth_token).compute_signature(
        PUBLIC + MESSAGES, params("yes", "SMpieces")
    )
    head = (
        f"POST {MESSAGES} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        f"X-Twilio-Signature: {signature}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(bot.client.host, bot.client.port)
    writer.write(head + body[:20])
    await writer.drain()
    await asyncio.sleep(0.2)  # the rest of the body comes in a later packet
    writer.write(body[20:])
    await writer.drain()
    answer = (await reader.read()).decode()
    writer.close()
    assert answer.startswith("HTTP/1.1 200"), answer
    assert "What went well?" in answer
