"""SMS surveys end to end: real routes, real Redis, genuinely signed Twilio requests."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from datetime import date, timedelta

import pytest
from redis.asyncio import Redis

from bot.core.secret import Secret
from bot.service import delivery
from bot.settings import ConfigError, Settings
from bot.store.state import State

from .conftest import PUBLIC, Bot

PHONE = "+12025550123"
OTHER = "+12025550124"


def txn(tid: str = "t1", to: str = PHONE, **kw: object) -> dict[str, object]:
    return {"transaction_id": tid, "service": "benefits-application", "channel": "sms", "to": to,
            **kw}  # fmt: skip


async def ended_records(redis: Redis) -> list[dict[str, object]]:
    return await State(redis).ended_records()


async def invite(bot: Bot, **kw: object) -> str:
    response = await bot.transactions(txn(**kw))  # type: ignore[arg-type]
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["status"] == "scheduled"
    assert await delivery.deliver_due(bot.rt) == 1
    return str(body["survey_id"])


async def test_full_survey_and_hand_off(bot: Bot, redis: Redis) -> None:
    survey_id = await invite(bot)
    [invitation] = bot.fake.sent_to(PHONE)
    assert invitation.body.startswith("Example Benefits Agency: 3 quick questions")
    assert "Reply STOP to opt out" in invitation.body and "OMB 1234-5678" in invitation.body
    assert invitation.from_ == "+12025550100"
    # the survey's reference rides in the callback's URL: no record of the message is kept
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(PHONE))
    assert invitation.status_callback == f"{PUBLIC}/webhooks/twilio/status?s={ref}"
    assert "What went well?" in await bot.text(PHONE, "yes")
    assert "Anything else" in await bot.text(PHONE, "1 3")
    assert "Thank you!" in await bot.text(PHONE, "Quick, thanks")
    [record] = await ended_records(redis)
    assert record["survey_id"] == survey_id and record["disposition"] == "completed"
    assert "address" not in record and PHONE not in json.dumps(record)
    assert record["session"]["answers"]["question_1"]["value"] == 1  # type: ignore[index]


async def test_missing_and_bad_signature_are_refused(bot: Bot) -> None:
    await invite(bot)
    params = {"MessageSid": "SM1", "From": PHONE, "To": "+12025550100", "Body": "yes"}
    missing = await bot.client.post("/webhooks/twilio/messages", data=params)
    assert missing.status == 403
    bad = await bot.twilio("/webhooks/twilio/messages", params, signature="bm90IGEgc2lnbmF0dXJl")
    assert bad.status == 403
    # signed for another URL (what aiohttp sees behind the proxy) is refused too
    from twilio.request_validator import RequestValidator

    wrong_url = RequestValidator(bot.fake.auth_token).compute_signature(
        str(bot.client.make_url("/webhooks/twilio/messages")), params
    )
    assert (
        await bot.twilio("/webhooks/twilio/messages", params, signature=wrong_url)
    ).status == 403
    record = await bot.rt.state.survey(next(iter(await _open(bot))))
    assert record is not None and record["session"]["answers"] == {}


async def _open(bot: Bot) -> list[str]:
    ref = await bot.rt.state.open_survey(bot.rt.person(PHONE), "sms")
    return [ref] if ref else []


async def test_duplicate_message_sid_is_handled_once(bot: Bot) -> None:
    await invite(bot)
    first = await bot.text(PHONE, "maybe", sid="SMdup")
    again = await bot.text(PHONE, "maybe", sid="SMdup")
    assert "Sorry, I didn't get that" in first
    # Twilio retries only when our first answer did not reach it: the question, once more,
    # and the reply is not counted again.
    assert "Sorry" not in again and "increased my trust" in again
    record = await bot.rt.state.survey((await _open(bot))[0])
    assert record is not None and record["session"]["attempts"] == 1


async def test_stop_mid_survey_then_new_transaction_is_suppressed(bot: Bot, redis: Redis) -> None:
    await invite(bot)
    await bot.text(PHONE, "yes")
    reply = await bot.text(PHONE, "Stop.")
    assert "unsubscribed" in reply and "START" in reply
    assert "<Message>" not in await bot.text(PHONE, "STOP")  # confirmed once only
    assert "<Message>" not in await bot.text(PHONE, "1 3")  # no survey message ever again
    [record] = await ended_records(redis)
    assert record["disposition"] == "opted_out"
    assert record["session"]["answers"]["question_1"]["value"] == 1  # type: ignore[index]
    again = await (await bot.transactions(txn("t2"))).json()
    assert again["status"] == "suppressed" and again["reason"] == "opted_out"
    sent = len(bot.fake.messages)
    await delivery.deliver_due(bot.rt)
    assert len(bot.fake.messages) == sent


async def test_spanish_stop_word_confirms_in_spanish(bot: Bot) -> None:
    await invite(bot)
    assert "se ha dado de baja" in await bot.text(PHONE, "PARAR")


async def test_start_resubscribes(bot: Bot) -> None:
    await bot.text(PHONE, "stop")
    assert "resubscribed" in await bot.text(PHONE, "START")
    body = await (await bot.transactions(txn("t3"))).json()
    assert body["status"] == "scheduled"


async def test_yes_is_an_answer_unless_opted_out(bot: Bot) -> None:
    await invite(bot)
    assert "What went well?" in await bot.text(PHONE, "YES")


async def test_help_does_not_disturb_the_survey(bot: Bot) -> None:
    await invite(bot)
    reply = await bot.text(PHONE, "help")
    assert "Benefits Online: Questions? Call 1-800-555-0100" in reply
    assert "What went well?" in await bot.text(PHONE, "1")
    assert "Responda STOP" in await bot.text(OTHER, "ayuda")  # Spanish keyword, Spanish answer


async def test_number_without_survey_gets_one_answer_a_day(bot: Bot) -> None:
    first = await bot.text(OTHER, "hello?")
    assert "no open survey" in first
    assert "<Message>" not in await bot.text(OTHER, "hello??")
    bot.clock.advance(hours=25)
    await bot.rt.state.redis.delete(bot.rt.state.k_notice(bot.rt.person(OTHER)))  # TTL is real
    assert "no open survey" in await bot.text(OTHER, "still there?")


async def test_reply_after_expiry_gets_closed(bot: Bot, redis: Redis) -> None:
    await invite(bot)
    await bot.text(PHONE, "yes")
    bot.clock.advance(hours=73)
    assert await delivery.run_timers(bot.rt) >= 1
    [record] = await ended_records(redis)
    assert record["disposition"] == "partial"
    assert "This survey has closed" in await bot.text(PHONE, "1 3")


async def test_reply_after_expiry_before_the_timer_runs(bot: Bot, redis: Redis) -> None:
    await invite(bot)
    bot.clock.advance(hours=72, seconds=1)
    assert "This survey has closed" in await bot.text(PHONE, "yes")
    [record] = await ended_records(redis)
    assert record["disposition"] == "expired"


async def test_one_reminder_when_unanswered(bot: Bot) -> None:
    await invite(bot)
    bot.clock.advance(hours=24, seconds=1)
    await delivery.run_timers(bot.rt)
    messages = bot.fake.sent_to(PHONE)
    assert len(messages) == 2
    assert messages[1].body.startswith("Reminder from Example Benefits Agency")
    assert "increased my trust" in messages[1].body
    bot.clock.advance(hours=24)
    await delivery.run_timers(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 2


async def test_no_reminder_after_a_reply(bot: Bot) -> None:
    await invite(bot)
    await bot.text(PHONE, "yes")
    bot.clock.advance(hours=25)
    await delivery.run_timers(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 1


async def test_batch_with_invalid_items(bot: Bot) -> None:
    response = await bot.transactions(
        {
            "transactions": [
                txn("b1"),
                txn("b2", to="not a number"),
                {"transaction_id": "b3", "service": "nope", "channel": "sms", "to": OTHER},
                txn("b4", to=OTHER, channel="slack"),
                "nonsense",
                txn("b5", to="+12025550125", completed_at="2026-11-03T10:00:00"),
                txn("b6", to="+12025550126", language="es", attributes={"office": "DC"}),
            ]
        }
    )
    assert response.status == 422
    results = (await response.json())["results"]
    assert [r["status"] for r in results] == [
        "scheduled", "invalid", "invalid", "invalid", "invalid", "invalid", "scheduled",
    ]  # fmt: skip
    assert results[1]["errors"] == {"to": "not a valid phone number (E.164, e.g. +12025550123)"}
    assert results[2]["errors"] == {"service": "unknown service 'nope'"}
    # Slack is a channel the bot knows, not one this deployment enables: both are said.
    assert results[3]["errors"] == {
        "channel": "not enabled",
        "to": "not a Slack user id (e.g. U012AB3CD)",
    }
    assert results[4]["errors"] == {"": "each transaction must be a JSON object"}
    assert "UTC offset" in results[5]["errors"]["completed_at"]
    assert await delivery.deliver_due(bot.rt) == 2


async def test_repeated_transaction_returns_first_decision(bot: Bot) -> None:
    first = await (await bot.transactions(txn("r1"))).json()
    second = await (await bot.transactions(txn("r1"))).json()
    assert first == second
    batch = await (await bot.transactions({"transactions": [txn("r2", to=OTHER)] * 2})).json()
    assert batch["results"][0] == batch["results"][1]
    other = await (await bot.transactions(txn("r3"))).json()
    assert other["status"] == "suppressed" and other["reason"] == "duplicate"


async def test_wrong_token_and_bad_bodies(bot: Bot) -> None:
    assert (await bot.transactions(txn(), token="nope")).status == 401
    headers = {"Authorization": "Bearer api-token"}
    bad = await bot.client.post("/v1/transactions", data=b"{not json", headers=headers)
    assert bad.status == 400 and "valid JSON" in (await bad.json())["error"]
    too_many = await bot.transactions({"transactions": [txn(f"x{i}") for i in range(1001)]})
    assert too_many.status == 413


async def test_malformed_and_oversized_webhooks(bot: Bot) -> None:
    path = "/webhooks/twilio/messages"
    malformed = await bot.client.post(
        path,
        data=b"%%%=&&==",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert malformed.status == 403  # unsigned: nothing about the body is answered
    not_form = await bot.client.post(
        path, json={"Body": "yes"}, headers={"X-Twilio-Signature": "x"}
    )
    assert not_form.status == 403
    huge = {"MessageSid": "SMbig", "From": PHONE, "Body": "x" * 70_000}
    assert (await bot.twilio(path, huge)).status == 413
    missing = await bot.twilio(path, {"Body": "yes", "From": PHONE})
    assert missing.status == 400 and "MessageSid" in await missing.text()


async def test_whatsapp(bot: Bot) -> None:
    await invite(bot, tid="w1", channel="whatsapp", to=f"whatsapp:{PHONE}")
    [message] = bot.fake.sent_to(PHONE)
    assert message.to == f"whatsapp:{PHONE}" and message.from_ == "whatsapp:+12025550100"
    assert "What went well?" in await bot.text(f"whatsapp:{PHONE}", "👍")
    # the same person by SMS has no open survey: channels are kept apart
    assert "no open survey" in await bot.text(PHONE, "1")


async def test_spanish_survey(bot: Bot, redis: Redis) -> None:
    await invite(bot, language="es")
    [message] = bot.fake.sent_to(PHONE)
    assert "Responda STOP para cancelar" in message.body
    assert "¿Qué no estuvo tan bien?" in await bot.text(PHONE, "no")
    assert "¿Hay algo" in await bot.text(PHONE, "2 y 3")
    assert "¡Gracias!" in await bot.text(PHONE, "omitir")
    [record] = await ended_records(redis)
    assert record["language"] == "es" and record["disposition"] == "completed"


@pytest.mark.parametrize(
    ("failure", "disposition", "opted_out"),
    [((400, 21610), "opted_out", True), ((400, 21211), "undeliverable", False),
     ((400, 21614), "undeliverable", False)],
)  # fmt: skip
async def test_permanent_send_errors(
    bot: Bot, redis: Redis, failure: tuple[int, int], disposition: str, opted_out: bool
) -> None:
    bot.fake.failures[PHONE] = failure
    await invite(bot)
    [record] = await ended_records(redis)
    assert record["disposition"] == disposition
    scopes = bot.rt.scopes(bot.rt.services["benefits-application"], "sms")
    assert await bot.rt.state.opted_out(bot.rt.person(PHONE), scopes) is opted_out
    bot.clock.advance(hours=1)
    await delivery.deliver_due(bot.rt)
    assert bot.fake.requests == 1  # never retried


async def test_transient_send_error_is_retried_and_sent_once(bot: Bot) -> None:
    bot.fake.fail_next = [(503, 20500), (429, 20429)]
    await invite(bot)
    assert bot.fake.sent_to(PHONE) == []
    for _ in range(2):
        bot.clock.advance(hours=1)
        await delivery.deliver_due(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 1
    bot.clock.advance(hours=1)
    await delivery.deliver_due(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 1


async def test_timeout_is_resolved_by_lookup_not_by_resending(bot: Bot) -> None:
    bot.fake.delay = 2.5  # longer than the 2 s send timeout; Twilio still sends it
    await invite(bot)
    bot.fake.delay = 0
    assert len(bot.fake.sent_to(PHONE)) == 1
    [ref] = await _open(bot)
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["status"] == "sending"
    bot.clock.advance(hours=1)
    await delivery.deliver_due(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 1  # found at Twilio, not sent again
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["status"] == "active"
    assert "What went well?" in await bot.text(PHONE, "yes")


async def test_status_callbacks_never_go_backwards(bot: Bot, redis: Redis) -> None:
    await invite(bot)
    [ref] = await _open(bot)
    [message] = bot.fake.sent_to(PHONE)
    assert await bot.status(message, "delivered") == 204
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["delivered_at"]
    assert await bot.status(message, "sent") == 204
    assert await bot.status(message, "undelivered") == 204  # a report out of order
    after = await bot.rt.state.survey(ref)
    assert after is not None and after["status"] == "active" and after["rev"] == record["rev"]


async def test_undelivered_invitation_ends_as_undeliverable(bot: Bot, redis: Redis) -> None:
    await invite(bot)
    [message] = bot.fake.sent_to(PHONE)
    assert await bot.status(message, "undelivered") == 204
    [record] = await ended_records(redis)
    assert record["disposition"] == "undeliverable"


async def test_unsigned_status_callback_is_refused(bot: Bot) -> None:
    response = await bot.client.post(
        "/webhooks/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "delivered"}
    )
    assert response.status == 403


async def test_expired_omb_control_number_suppresses(bot: Bot) -> None:
    service = bot.rt.services["benefits-application"]
    bot.rt.services["benefits-application"] = dataclasses.replace(
        service, omb_expires=date(2026, 11, 2)
    )
    body = await (await bot.transactions(txn())).json()
    assert body == {**body, "status": "suppressed", "reason": "omb_control_expired"}


async def test_stale_transaction_is_suppressed(bot: Bot) -> None:
    old = (bot.clock.now - timedelta(days=4)).isoformat()
    body = await (await bot.transactions(txn(completed_at=old))).json()
    assert body["status"] == "suppressed" and body["reason"] == "stale"


async def test_services_listing(bot: Bot) -> None:
    assert (await bot.client.get("/v1/services")).status == 401
    response = await bot.client.get("/v1/services", headers={"Authorization": "Bearer admin-token"})
    services = {s["id"]: s for s in (await response.json())["services"]}
    assert set(services) == {"benefits-application", "permit-renewal", "helpdesk-call"}
    assert services["permit-renewal"]["flow"]["id"] == "a11-v2-scale"
    assert len(services["permit-renewal"]["flow"]["version"]) == 12
    assert services["benefits-application"]["channels"] == [
        "sms", "whatsapp", "slack", "webchat", "voice"]  # fmt: skip


async def test_health_and_readiness(bot: Bot) -> None:
    assert (await bot.client.get("/healthz")).status == 200
    assert (await (await bot.client.get("/readyz")).json())["redis"] == "ok"
    await bot.transactions(txn())
    metrics = await (await bot.client.get("/metrics")).text()
    assert "feedback_bot_queue_scheduled 1" in metrics


async def test_no_phone_number_text_or_secret_in_logs(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await invite(bot)
    await bot.text(PHONE, "yes")
    await bot.text(PHONE, "My SSN is 123-45-6789")
    await bot.text(PHONE, "stop")
    await bot.twilio(
        "/webhooks/twilio/messages", {"MessageSid": "SMx", "From": PHONE}, signature="x"
    )
    logged = caplog.text + repr(bot.settings) + repr(bot.rt.outbound)
    for secret in (PHONE, "2025550123", "123-45-6789", "api-token", "admin-token",
                   bot.fake.auth_token, "pseudonym-key"):  # fmt: skip
        assert secret not in logged


def test_missing_credentials_stop_start_up() -> None:
    settings = Settings(
        api_token=Secret("a"), admin_token=Secret("b"), pseudonym_key=Secret("c"),
        twilio_account_sid="AC1",
    )  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        settings.check()
    message = str(caught.value)
    assert "TWILIO_AUTH_TOKEN is not set" in message
    assert "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID" in message
    # Twilio's settings are needed only where a Twilio channel is enabled.
    slack = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_ALERT_CHANNEL": "C1"}
    Settings.from_env({"CHANNELS": "slack", "API_TOKEN": "a", "ADMIN_TOKEN": "b",
                       "PSEUDONYM_KEY": "c", **slack}).check()  # fmt: skip


def test_secret_masks_itself() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)
    assert "hunter2" not in repr(Settings(twilio_auth_token=secret))
    assert secret.reveal() == "hunter2"


async def test_carrier_opt_out_in_status_callback(bot: Bot, redis: Redis) -> None:
    await invite(bot)
    [message] = bot.fake.sent_to(PHONE)
    assert await bot.status(message, "failed", code=21610) == 204
    assert await bot.rt.state.opted_out(bot.rt.person(PHONE), ["sender:+12025550100"])
    [record] = await ended_records(redis)
    assert record["disposition"] == "opted_out"


async def test_lua_scripts_reload_after_a_script_cache_flush(bot: Bot, redis: Redis) -> None:
    await invite(bot)
    await redis.script_flush()
    assert "What went well?" in await bot.text(PHONE, "yes")


async def test_stop_start_then_a_new_transaction_is_scheduled_when_caps_allow(
    bot: Bot, redis: Redis
) -> None:
    import dataclasses

    bot.rt.settings = dataclasses.replace(bot.settings, invitation_cooldown_days=0)
    await bot.transactions(txn("a1"))
    await bot.text(PHONE, "STOP")
    await bot.text(PHONE, "START")
    response = await bot.transactions(txn("a2"))
    assert response.status == 202  # found by the consent property test: it was a 500
    assert (await response.json())["status"] == "scheduled"


async def test_the_invitation_cap_counts_a_scheduled_invitation(bot: Bot) -> None:
    await bot.transactions(txn("k1"))
    await bot.text(PHONE, "STOP")
    await bot.text(PHONE, "START")
    body = await (await bot.transactions(txn("k2"))).json()
    assert (body["status"], body["reason"]) == ("suppressed", "frequency_cap")


async def test_pipelined_scripts_reload_after_a_script_cache_flush(bot: Bot, redis: Redis) -> None:
    assert (await bot.transactions(txn("f1"))).status == 202  # loads the intake script
    await redis.script_flush()  # as after a Redis restart
    assert (await bot.transactions(txn("f2", to=OTHER))).status == 202
    await redis.script_flush()
    assert await delivery.deliver_due(bot.rt) == 2  # the pump, after another flush


async def _scheduled(bot: Bot) -> str:
    """The one invitation waiting in the schedule."""
    state = bot.rt.state
    [ref] = [str(r) for s in state.shards for r in await state.redis.zrange(state.k_due(s), 0, -1)]
    return ref


async def test_two_workers_delivering_one_invitation_at_once_send_it_once(bot: Bot) -> None:
    """A worker that takes over an entry while its first worker is still on it (a long batch
    passes the stalled-after time) must not send it too: only the worker that marked the survey
    as sending sends."""
    response = await bot.transactions(txn())
    assert response.status == 202
    ref = await _scheduled(bot)
    bot.fake.delay = 0.3  # both are on it at once
    await asyncio.gather(delivery.deliver(bot.rt, ref), delivery.deliver(bot.rt, ref))
    assert len(bot.fake.sent_to(PHONE)) == 1
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["status"] == "active"


async def test_a_send_in_flight_is_left_to_its_worker_not_looked_up_and_sent_again(
    bot: Bot,
) -> None:
    """A survey found "sending" a moment ago may still be in its worker's hands (the request
    not yet at Twilio, so a lookup finds nothing): it is looked at again once that send must
    have settled, not sent a second time now."""
    response = await bot.transactions(txn())
    assert response.status == 202
    ref = await _scheduled(bot)
    bot.fake.arrival_delay = 1.0
    first = asyncio.create_task(delivery.deliver(bot.rt, ref))
    for _ in range(100):
        record = await bot.rt.state.survey(ref)
        if record is not None and record["status"] == "sending":
            break
        await asyncio.sleep(0.02)
    await delivery.deliver(bot.rt, ref)  # another worker, taking the entry over
    await first
    bot.clock.advance(hours=1)
    await delivery.deliver_due(bot.rt)  # the look again, once the send has settled
    assert len(bot.fake.sent_to(PHONE)) == 1
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["status"] == "active"
